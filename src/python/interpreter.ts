/**
 * Running THE IMAGE'S OWN CPython (never the host's) from a directory that holds the image's
 * root filesystem, without root and without a container:
 * - for the host's architecture, through the image's own ELF loader
 *   (`ROOT/lib64/ld-linux-x86-64.so.2 --inhibit-cache --library-path ROOT/usr/lib/TRIPLET:…
 *   ROOT/usr/bin/python3.X`), so the image's libc and libraries are used, not the host's;
 * - for another architecture, the same loader command run by `qemu-ARCH-static -L ROOT` (or
 *   `qemu-ARCH`) when one is on PATH;
 * - otherwise not at all: the answer says why ("install qemu-user-static").
 * Paths inside ROOT are resolved with ROOT as `/` (absolute symlinks do not escape to the host).
 * The environment is built from scratch: PYTHONHOME=ROOT/usr, PYTHONHASHSEED=0,
 * PYTHONDONTWRITEBYTECODE=1 (the interpreter never writes into ROOT on its own), UTF-8 mode.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, lstatSync, readlinkSync } from "node:fs";
import { delimiter, join } from "node:path";
import { archInfo, hostArch, type PythonTarget, pythonShort } from "./target.ts";

export interface ImageInterpreter {
  /** how it runs: "loader" (the image's ld.so) or "qemu" */
  via: "loader" | "qemu";
  /** the command and the arguments before the Python arguments */
  command: string;
  prefix: string[];
  env: Record<string, string>;
  /** the image root */
  root: string;
  /** what `sys.version` said when it was probed ("3.13.5 …") */
  version: string;
  /** sys.implementation.cache_tag: "cpython-313" */
  cacheTag: string;
}

export type InterpreterResult = { ok: true; interpreter: ImageInterpreter } | { ok: false; reason: string };

/**
 * Resolve `path` (absolute, in-image) inside `root`, following symlinks as the image would
 * (absolute targets are relative to `root`). Undefined when a component is missing or the
 * chain is too long.
 */
export function resolveInRoot(root: string, path: string): string | undefined {
  let parts = path.split("/").filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (parts.length) {
    const p = parts.shift()!;
    if (p === ".") continue;
    if (p === "..") {
      done.pop();
      continue;
    }
    const host = join(root, ...done, p);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(host);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) return undefined;
      const target = readlinkSync(host);
      const tparts = target.split("/").filter(Boolean);
      if (target.startsWith("/")) done.length = 0;
      parts = [...tparts, ...parts];
      continue;
    }
    done.push(p);
  }
  return join(root, ...done);
}

/** The first executable named `name` on PATH. */
export function which(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
  timeoutMs = 600_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"], timeout: timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e) => resolve({ code: null, stdout: "", stderr: e.message }));
    child.on("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}

/** Run the image's interpreter with `args` (and `input` on stdin). */
export function runPython(
  py: ImageInterpreter,
  args: string[],
  input?: string,
  timeoutMs?: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(py.command, [...py.prefix, ...args], py.env, input, timeoutMs);
}

export interface FindOptions {
  /** PATH to look for qemu on (default process.env.PATH) */
  path?: string;
  /** never use qemu, even when the architecture differs (for tests of the skip) */
  noQemu?: boolean;
}

/**
 * How to run the image's python3.X (the target's version) from `root`, probed by running
 * it once; or why it cannot run here.
 */
export async function findImageInterpreter(
  root: string,
  target: PythonTarget,
  opts: FindOptions = {},
): Promise<InterpreterResult> {
  const arch = archInfo(target.arch);
  const short = pythonShort(target);
  const exe = resolveInRoot(root, `/usr/bin/python${short}`);
  if (!exe) return { ok: false, reason: `the image has no /usr/bin/python${short}` };
  const env: Record<string, string> = {
    PATH: "/usr/bin:/bin",
    PYTHONHOME: join(root, "usr"),
    PYTHONHASHSEED: "0",
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONNOUSERSITE: "1",
    PYTHONUTF8: "1",
    LC_ALL: "C",
  };
  const native = target.arch === hostArch();
  const qemu =
    native || opts.noQemu
      ? undefined
      : (which(`qemu-${arch.qemu}-static`, opts.path) ?? which(`qemu-${arch.qemu}`, opts.path));
  if (!native && !qemu) {
    return {
      ok: false,
      reason: `cannot run the image's python for ${target.arch} on this ${hostArch() ?? process.arch} host (install qemu-user-static)`,
    };
  }
  // /lib64 → usr/lib64 comes from base-files on merged-/usr suites: a root without it still has usr/lib64
  const loader = resolveInRoot(root, arch.loader) ?? resolveInRoot(root, `/usr${arch.loader}`);
  if (!loader) return { ok: false, reason: `the image has no ELF loader ${arch.loader} (libc6)` };
  const libdirs = [`/usr/lib/${arch.triplet}`, `/lib/${arch.triplet}`, "/usr/lib", "/lib"]
    .map((d) => resolveInRoot(root, d))
    .filter((d): d is string => d !== undefined);
  // the image's loader, told where the image's libraries are and not to read any ld.so.cache
  const loaderArgs = ["--inhibit-cache", "--library-path", [...new Set(libdirs)].join(":"), exe];
  let via: ImageInterpreter["via"];
  let command: string;
  let prefix: string[];
  if (!qemu) {
    via = "loader";
    command = loader;
    prefix = loaderArgs;
  } else {
    via = "qemu";
    command = qemu;
    // qemu runs the image's loader as the program; -L keeps the guest's other absolute paths in the root
    prefix = ["-L", root, loader, ...loaderArgs];
    env.QEMU_LD_PREFIX = root;
  }
  const probe = await run(
    command,
    [...prefix, "-S", "-c", "import sys; print(sys.implementation.cache_tag); print(sys.version.split()[0])"],
    env,
    undefined,
    120_000,
  );
  if (probe.code !== 0) {
    const why = (probe.stderr.trim().split("\n").pop() ?? "").slice(0, 200) || `exit status ${probe.code}`;
    return { ok: false, reason: `the image's python${short} does not run via ${via}: ${why}` };
  }
  const [cacheTag, version] = probe.stdout.trim().split("\n");
  if (!version?.startsWith(`${short}.`) && version !== short) {
    return { ok: false, reason: `the image's python${short} says it is ${version}` };
  }
  return { ok: true, interpreter: { via, command, prefix, env, root, version, cacheTag } };
}
