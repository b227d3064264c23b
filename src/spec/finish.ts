/** A fully merged fragment made a Spec: defaults filled in, rules across sections checked. */
import { SpecError } from "./errors.ts";
import { uniq } from "./merge.ts";
import type { Spec, SpecFragment } from "./types.ts";

function hostArch(): string {
  return process.arch === "arm64" ? "arm64" : "amd64";
}

/**
 * The packages the spec's presets add for `suite`, in merge order (presets name some packages
 * differently per suite: presets/suites.ts). A suite no preset knows is an error naming them.
 */
function presetIncludes(frag: SpecFragment, suite: string, source: string): string[] {
  const out: string[] = [];
  for (const { preset, packages } of frag.presetPackages ?? []) {
    const names = Object.hasOwn(packages, suite) ? packages[suite] : undefined;
    if (!names) {
      throw new SpecError(
        "E_SPEC",
        `${source}: suite "${suite}": preset ${preset} knows the package names of ${Object.keys(packages).join(", ")} only`,
        {
          hint: "name the suite by its codename (an alias such as stable moves), or list the packages yourself instead of the preset",
        },
      );
    }
    out.push(...names);
  }
  return out;
}

/** Fill defaults and check cross-field rules on a fully merged fragment. */
export function finishSpec(frag: SpecFragment, source: string, baseDir: string, presets: string[]): Spec {
  const fail = (field: string, message: string): never => {
    throw new SpecError("E_SPEC", `${source}: ${field}: ${message}`);
  };
  const suite = frag.suite ?? "trixie";
  const spec: Spec = {
    source,
    baseDir,
    name: frag.name ?? (presets.length ? presets[presets.length - 1] : "image"),
    suite,
    architectures: uniq(frag.architectures ?? [hostArch()]),
    presets,
    packages: {
      include: uniq([...presetIncludes(frag, suite, source), ...(frag.packages?.include ?? [])]),
      exclude: frag.packages?.exclude ?? [],
      keep: frag.packages?.keep ?? [],
      pins: frag.packages?.pins ?? {},
      allow: frag.packages?.allow ?? [],
      dropPaths: frag.packages?.dropPaths ?? [],
    },
    sources: {
      security: frag.sources?.security ?? false,
      components: frag.sources?.components ?? ["main"],
      extraSuites: frag.sources?.extraSuites ?? [],
    },
    runtime: frag.runtime ?? {},
    accounts: {
      groups: frag.accounts?.groups ?? [],
      users: frag.accounts?.users ?? [],
      runAs: frag.accounts?.runAs,
    },
    paths: frag.paths ?? [],
    files: frag.files ?? [],
    init: frag.init,
    initWhere: frag.initWhere,
    config: {
      entrypoint: frag.config?.entrypoint,
      cmd: frag.config?.cmd,
      env: frag.config?.env ?? {},
      workdir: frag.config?.workdir,
      user: frag.config?.user,
      exposedPorts: frag.config?.exposedPorts ?? [],
      volumes: frag.config?.volumes ?? [],
      labels: frag.config?.labels ?? {},
      annotations: frag.config?.annotations ?? {},
      stopSignal: frag.config?.stopSignal,
      healthcheck: frag.config?.healthcheck,
    },
    layers: frag.layers ?? [],
    alternatives: frag.alternatives ?? {},
    python: frag.python,
  };
  if (spec.packages.include.length === 0)
    fail("packages.include", "no packages to install (add some or use a preset)");
  // accounts: unique names and ids; run-as must name a user
  const names = new Set(["root", "nobody", "nonroot"]);
  for (const user of spec.accounts.users) {
    if (names.has(user.name) && !["root", "nobody", "nonroot"].includes(user.name)) {
      fail("accounts.users", `duplicate user "${user.name}"`);
    }
    names.add(user.name);
  }
  if (spec.accounts.runAs !== undefined) {
    const who = spec.accounts.runAs.split(":")[0];
    if (!/^\d+$/.test(who) && !names.has(who)) {
      fail("accounts.run-as", `"${who}" is not a user (define it under accounts.users)`);
    }
  }
  if ("dev.shellfree.writable" in spec.config.labels) {
    fail(
      "config.labels.dev.shellfree.writable",
      "is set by the build: mark the directories `writable: true` under paths",
    );
  }
  const inLayers = new Map<string, string>();
  for (const layer of spec.layers) {
    for (const pkg of layer.packages) {
      if (inLayers.has(pkg))
        fail("layers", `"${pkg}" is in layers "${inLayers.get(pkg)}" and "${layer.name}"`);
      inLayers.set(pkg, layer.name);
    }
  }
  return spec;
}
