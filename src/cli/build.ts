/**
 * `shellfree build [SPEC | -f SPEC | --preset NAME] -o TARGET`: one spec to an OCI image
 * (an image index for several architectures), SBOMs attached and beside it.
 */
import { dirname, join } from "node:path";
import { type Command, Option } from "commander";
import { BuildError, type BuildResult, build, LOCK_FILE, readLock } from "../builder/index.ts";
import { isShellfreeError } from "../errors.ts";
import { PREDICATE_CYCLONEDX, PREDICATE_SPDX } from "../oci/index.ts";
import { loadSpec, presetSpec, type Spec } from "../spec/index.ts";
import { humanBytes, warn } from "../util/progress.ts";
import { action, addTimeoutOption, collectList, output, positionalOrOption } from "./common.ts";

export function specFromOptions(opts: {
  spec?: string;
  preset?: string;
  arch?: string[];
  suite?: string;
}): Spec {
  if (opts.spec && opts.preset) {
    throw new BuildError("E_USAGE", "give either a spec (SPEC or --spec) or --preset, not both", {
      exitCode: 2,
    });
  }
  if (opts.suite && !opts.preset) {
    throw new BuildError("E_USAGE", "--suite goes with --preset (a spec file names its suite)", {
      exitCode: 2,
    });
  }
  if (opts.preset)
    return presetSpec(opts.preset, {
      architectures: opts.arch?.length ? opts.arch : undefined,
      suite: opts.suite,
    });
  return loadSpec(opts.spec ?? "shellfree.yaml");
}

/** SPEC as an argument or with -f/--spec (both only when they agree). */
export function specArgument(specArg: string | undefined, opts: { spec?: string }): string | undefined {
  return positionalOrOption("SPEC", specArg, "--spec", opts.spec, false);
}

export function lockPathFor(opts: { spec?: string; preset?: string; lockfile?: string }): string {
  if (opts.lockfile) return opts.lockfile;
  if (opts.preset) return LOCK_FILE;
  return join(dirname(opts.spec ?? "shellfree.yaml"), LOCK_FILE);
}

export function sourceDateEpochFromEnv(): number | undefined {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v)) {
    throw new BuildError(
      "E_USAGE",
      `SOURCE_DATE_EPOCH must be a number of seconds, got ${JSON.stringify(v)}`,
      {
        exitCode: 2,
      },
    );
  }
  return Number(v);
}

/** `[spec]` (also `-f/--spec`) and the flags that say where packages come from (build, lock). */
export function addSpecArchiveOptions(cmd: Command): Command {
  return addTimeoutOption(cmd)
    .argument("[spec]", "spec file (default: ./shellfree.yaml)")
    .option("-f, --spec <file>", "the same as SPEC")
    .option("--preset <name>", "build a preset (static, base, cc, node, python) without a spec file")
    .option(
      "--suite <codename>",
      "with --preset: the Debian suite (bookworm, trixie, forky, sid; default trixie)",
    )
    .option("--arch <arch>", "only these architectures (repeatable or comma-separated)", collectList, [])
    .option("--lockfile <file>", "lockfile (default: shellfree.lock beside the spec)")
    .option("--mirror <url>", "Debian archive URL (default: $SHELLFREE_MIRROR, else the host's apt sources)")
    .option("--security-mirror <url>", "Debian security archive URL (default: from the host's apt sources)")
    .option("--keyring <file>", "OpenPGP keyring the archive must be signed with")
    .option("--allow-expired", "accept a Release whose Valid-Until has passed")
    .option("--cache-dir <dir>", "cache directory (default: $XDG_CACHE_HOME/shellfree)")
    .option("--json", "machine-readable output");
}

/** The flags `addSpecArchiveOptions` defines (shared by build and lock). */
export interface SpecArchiveCliOptions {
  spec?: string;
  preset?: string;
  suite?: string;
  arch?: string[];
  lockfile?: string;
  mirror?: string;
  securityMirror?: string;
  keyring?: string;
  allowExpired?: boolean;
  cacheDir?: string;
  json?: boolean;
}

interface BuildCliOptions extends SpecArchiveCliOptions {
  output?: string;
  compression: "gzip" | "zstd";
  locked?: boolean;
  sbom: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command("build")
    .description("build an OCI image from a shellfree.yaml spec (or a preset)")
    .requiredOption(
      "-o, --output <target>",
      "oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:NAME[:TAG]]",
    )
    .addOption(new Option("--compression <c>", "layer compression").choices(["gzip", "zstd"]).default("gzip"))
    .option("--locked", "install exactly what the lockfile says; fail if spec, lock or archive disagree")
    .option(
      "--no-sbom",
      "no SBOMs: neither SPDX/CycloneDX files beside the output nor attestations attached to the image",
    );
  addSpecArchiveOptions(cmd);
  cmd.action(
    action(async (specArg: string | undefined, opts: BuildCliOptions) => {
      opts.spec = specArgument(specArg, opts);
      const spec = specFromOptions(opts);
      let lock: Parameters<typeof build>[0]["lock"];
      if (opts.locked) {
        const file = lockPathFor(opts);
        const l = await readLock(file);
        if (!l) {
          throw new BuildError("E_LOCKED", `--locked: ${file} does not exist`, {
            hint: "create it with `shellfree lock`",
          });
        }
        lock = { file, lock: l };
      } else if (!opts.preset) {
        // not used, but a corrupt one beside the spec is worth saying (lock would replace it)
        const file = lockPathFor(opts);
        await readLock(file).catch((e: unknown) => {
          if (isShellfreeError(e) && e.code === "E_LOCK")
            warn(
              `${e.message}; not used by this build (without --locked); \`shellfree lock\` writes a new one`,
            );
        });
      }
      const r = await build({
        spec,
        output: opts.output as string,
        compression: opts.compression,
        architectures: opts.preset ? undefined : opts.arch,
        lock,
        sourceDateEpoch: sourceDateEpochFromEnv(),
        mirror: opts.mirror,
        securityMirror: opts.securityMirror,
        keyring: opts.keyring,
        allowExpired: opts.allowExpired,
        cacheDir: opts.cacheDir,
        sbom: opts.sbom,
      });
      output(opts.json === true, buildResultJson(r), () => formatBuildResult(r));
    }),
  );
}

/** Human-readable summary (stdout of `shellfree build`). */
export function formatBuildResult(r: BuildResult): string {
  const lines: string[] = [];
  lines.push(`${r.name}: ${r.target}`);
  lines.push(`digest ${r.digest}  (SOURCE_DATE_EPOCH=${r.sourceDateEpoch}, ${r.compression})`);
  for (const a of r.architectures) {
    lines.push(`${a.architecture}: manifest ${a.manifest}, ${a.packages.length} packages`);
    for (const l of a.layers) {
      lines.push(
        `  layer ${l.name.padEnd(8)} ${humanBytes(l.uncompressedSize).padStart(10)} → ${humanBytes(l.size).padStart(10)}  ${l.entries} entries${l.cached ? " (cached)" : ""}`,
      );
    }
    lines.push(
      `  total    ${humanBytes(a.uncompressedSize).padStart(10)} → ${humanBytes(a.size).padStart(10)} compressed`,
    );
    if (a.excluded.length) {
      lines.push(
        `  excluded (maintainer-script-only or packages.exclude): ${a.excluded.map((e) => (e.wantedBy.length ? `${e.name} (wanted by ${e.wantedBy.join(", ")})` : e.name)).join(", ")}`,
      );
    }
    for (const alt of a.alternatives)
      lines.push(`  alternative ${alt.link} → ${alt.path} (${alt.mode}, priority ${alt.priority})`);
    if (a.dropped.files)
      lines.push(
        `  dropped ${a.dropped.files} doc/man/locale and shell-only files (${humanBytes(a.dropped.bytes)})`,
      );
    const drops = a.dropPaths.filter((d) => d.paths.length > 0);
    if (drops.length) {
      const files = drops.reduce((n, d) => n + d.files, 0);
      const bytes = drops.reduce((n, d) => n + d.bytes, 0);
      lines.push(`  drop-paths: ${files} files left out (${humanBytes(bytes)})`);
      for (const d of drops) lines.push(`    ${dropLine(d)}`);
    }
    if (a.node) lines.push(`  node ${a.node.version}${a.node.stripped ? " (debug sections removed)" : ""}`);
    if (a.python) {
      lines.push(
        `  python wheels for CPython ${a.python.target.python}, glibc ${a.python.target.glibc}: ${a.python.wheels.map((w) => w.filename).join(", ")}`,
      );
    }
    const bc = a.bytecode;
    if (bc) {
      lines.push(
        bc.status === "skipped"
          ? `  bytecode left out: ${bc.reason}`
          : `  bytecode ${bc.files} .pyc (${bc.mode}${bc.status === "cached" ? ", cached" : ""}) by ${bc.compiler}${bc.failed.length ? `; ${bc.failed.length} .py did not compile` : ""}`,
      );
    }
    if (a.init)
      lines.push(
        `  shellfree-init ${a.init.version} at ${a.init.path}: ${humanBytes(a.init.size)} (${a.init.size} bytes), sha256:${a.init.sha256}`,
      );
  }
  for (const s of r.sboms) lines.push(`sbom ${s}`);
  for (const a of r.attestations) {
    const kinds = a.statements.map((x) =>
      x.predicateType === PREDICATE_SPDX
        ? "SPDX"
        : x.predicateType === PREDICATE_CYCLONEDX
          ? "CycloneDX"
          : x.predicateType,
    );
    lines.push(`sbom attached ${a.architecture}: ${kinds.join(" + ")} in ${a.digest} (about ${a.subject})`);
  }
  return lines.join("\n");
}

/** One drop-paths glob's outcome: the path itself when it is one file, else how many. */
function dropLine(d: BuildResult["architectures"][number]["dropPaths"][number]): string {
  const owners = [...new Set(d.paths.map((p) => p.package))].join(", ");
  const what =
    d.paths.length === 1 && d.paths[0].path === d.glob
      ? d.glob
      : `${d.glob} (${d.paths.length} ${d.paths.length === 1 ? "entry" : "entries"}, ${d.files} files)`;
  return `${what.padEnd(48)} ${humanBytes(d.bytes).padStart(10)}  ${owners}`;
}

/** Machine-readable summary for --json. */
export function buildResultJson(r: BuildResult): unknown {
  const { lock: _lock, ...rest } = r;
  return rest;
}
