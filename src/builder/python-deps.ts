/**
 * The spec's `python:` wheels as one layer ("python"). The image's own packages decide the
 * target: its CPython (python3.X-minimal in the closure) and its glibc (libc6). src/python
 * chooses a wheel per requirement for that target (CPython version, ABI, manylinux ≤ the
 * glibc, the architecture), checks its hashes and installs it as pip would, where Debian's pip
 * would (/usr/local/lib/python3.X/dist-packages, scripts in /usr/local/bin with the image's
 * python in their shebang). The layer is cached by the wheels' hashes and the target.
 */
import type { BinaryPackage } from "../debian/index.ts";
import {
  describeTarget,
  type FetchedWheel,
  INSTALL_VERSION,
  type InstalledDistribution,
  installWheels,
  type LockedWheel,
  type PythonTarget,
  resolvePythonDeps,
  targetFromDebian,
} from "../python/index.ts";
import type { Spec } from "../spec/index.ts";
import { info } from "../util/progress.ts";
import type { ArchContext, BuiltLayer } from "./context.ts";
import { BuildError } from "./errors.ts";
import { generatedStepLayer } from "./generated-step.ts";
import type { RootfsPlan } from "./rootfs.ts";

/** The CPython of an image: its python3.X-minimal package (the interpreter) and its version. */
export interface ImageCPython {
  /** "3.13" */
  short: string;
  /** python3.13-minimal */
  interpreter: BinaryPackage;
  /** libpython3.13-minimal (the compiler's own standard library: py_compile, importlib) */
  stdlib?: BinaryPackage;
}

/** The image's CPython, if its closure has one (the newest python3.X-minimal when several). */
export function imageCPython(packages: BinaryPackage[]): ImageCPython | undefined {
  const found = packages
    .map((p) => ({ p, m: /^python3\.(\d+)-minimal$/.exec(p.name) }))
    .filter((x): x is { p: BinaryPackage; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => Number(b.m[1]) - Number(a.m[1]))[0];
  if (!found) return undefined;
  const short = `3.${found.m[1]}`;
  return {
    short,
    interpreter: found.p,
    stdlib: packages.find((p) => p.name === `libpython${short}-minimal`),
  };
}

/** The target wheels are chosen for: the image's CPython and glibc on this architecture. */
export function pythonTarget(arch: string, packages: BinaryPackage[]): PythonTarget | undefined {
  const py = imageCPython(packages);
  const libc = packages.find((p) => p.name === "libc6");
  if (!py || !libc) return undefined;
  return targetFromDebian({ arch, pythonVersion: py.interpreter.version, libcVersion: libc.version });
}

/** Does the spec ask for wheels (not only for bytecode)? */
export function wantsWheels(spec: Spec): boolean {
  const p = spec.python;
  return !!p && (!!p.requirements || !!p.lock || p.wheels.length > 0);
}

export interface PythonDeps {
  target: PythonTarget;
  wheels: FetchedWheel[];
  installed: InstalledDistribution[];
}

/** Choose and fetch (verified) the spec's wheels for one architecture's closure. */
export async function resolveWheels(
  spec: Spec,
  arch: string,
  packages: BinaryPackage[],
  cacheDir: string,
  locked?: { file: string; wheels: LockedWheel[] },
): Promise<{ target: PythonTarget; wheels: FetchedWheel[] } | undefined> {
  if (!wantsWheels(spec)) return undefined;
  const py = spec.python!;
  const target = pythonTarget(arch, packages);
  if (!target) {
    throw new BuildError(
      "E_SPEC",
      `${py.where}: python: the ${arch} image has no CPython to install wheels for`,
      { hint: "use preset: python, or add python3 to packages.include" },
    );
  }
  info(`${arch}: python: choosing wheels for ${describeTarget(target)}`);
  const r = await resolvePythonDeps(
    {
      requirements: py.requirements,
      lock: py.lock,
      wheels: py.wheels,
      indexUrl: py.indexUrl,
      extras: py.extras,
      groups: py.groups,
    },
    { target, cacheDir, locked },
  );
  return { target, wheels: r.wheels };
}

/** The "python" layer, or undefined when the spec names no wheels. */
export async function pythonDepsLayer(
  ctx: ArchContext,
  plan: RootfsPlan,
  locked?: { file: string; wheels: LockedWheel[] },
): Promise<{ layer: BuiltLayer; deps: PythonDeps } | undefined> {
  const r = await resolveWheels(ctx.spec, ctx.arch, ctx.packages, ctx.cacheDir, locked);
  if (!r) return undefined;
  const installed = await installWheels(r.wheels, r.target);
  const content = {
    install: INSTALL_VERSION,
    target: r.target,
    wheels: r.wheels.map((w) => [w.file.filename, w.sha256]),
  };
  const { layer, cached } = await generatedStepLayer(ctx, plan, "python", content, (gen) => {
    for (const d of installed) {
      for (const dir of d.dirs) gen.dir(`/${dir}`, 0o755);
      for (const f of d.files) gen.file(`/${f.path}`, f.data, f.mode);
    }
  });
  info(
    `${ctx.arch}: python: ${installed.length} wheels installed (${installed.map((d) => `${d.displayName} ${d.version}`).join(", ")})`,
  );
  return {
    layer: {
      name: "python",
      layer,
      cached,
      comment: `Python wheels: ${r.wheels.map((w) => w.file.filename).join(" ")}`,
    },
    deps: { target: r.target, wheels: r.wheels, installed },
  };
}
