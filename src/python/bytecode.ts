/**
 * Bytecode for an image: every `.py` compiled by the image's own interpreter
 * (interpreter.ts) into PEP 552 hash-based `.pyc` files, returned in memory for the builder.
 *
 * Invalidation mode: `checked-hash` by default. A checked hash-based .pyc holds the SipHash of
 * its source; the interpreter compares it on import (reading the source, which costs far less
 * than compiling it) and recompiles in memory when they differ. It never goes stale through
 * mtimes (the layer writer clamps them) and its bytes depend only on the source, so images
 * stay reproducible; and a source replaced after the build (a `files:` entry over a packaged
 * module, a later layer) is still honoured, where an `unchecked-hash` .pyc would silently run
 * the old code. `unchecked-hash` (no source read at import) is available for images whose
 * sources are known to be final.
 *
 * Reproducible: files are compiled in sorted order in one process with PYTHONHASHSEED=0, and
 * each .pyc records the in-image path (`dfile`), never the temporary directory, so two runs
 * give identical bytes. The image's root is only read; the .pyc files are written to a
 * temporary directory and read back.
 */
import { lstat, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { PythonError } from "./errors.ts";
import { type FindOptions, findImageInterpreter, resolveInRoot, runPython } from "./interpreter.ts";
import type { PythonTarget } from "./target.ts";

export type InvalidationMode = "checked-hash" | "unchecked-hash";

export interface PycFile {
  /** in-image path, relative ("usr/lib/python3.13/__pycache__/os.cpython-313.pyc") */
  path: string;
  /** the source it was compiled from (relative) */
  source: string;
  data: Uint8Array;
}

export type BytecodeResult =
  | {
      status: "compiled";
      files: PycFile[];
      /** sources that did not compile (syntax errors, Python 2 files …), with the first line of the error */
      failed: Array<{ path: string; error: string }>;
      /** how the interpreter ran: "loader" or "qemu" (`compiler` given: the host's build through its loader), and its version */
      via: "loader" | "qemu";
      version: string;
      seconds: number;
    }
  | { status: "skipped"; reason: string };

/**
 * What the bytecode a build writes depends on beyond the sources and the interpreter: the driver
 * below, the file naming. Bump it with any change there (cached bytecode layers are keyed by it).
 */
export const BYTECODE_VERSION = 2;

export interface BytecodeOptions extends FindOptions {
  /**
   * Compile with the interpreter in `compiler.root` (built for `compiler.arch`) instead of the
   * one in `root`: the host's build of the image's exact CPython version, for an image of
   * another architecture (the caller decides when that gives the same bytes; docs/design.md).
   * The sources are still read from `root`.
   */
  compiler?: { root: string; arch: string };
  /** sources to compile (relative in-image paths); default: every regular `*.py` under `root` */
  files?: string[];
  /** default "checked-hash" */
  invalidation?: InvalidationMode;
  /** compiler processes (default 1: one process gives the same bytes whatever else is compiled) */
  jobs?: number;
  /** per-process time limit (default 20 min) */
  timeoutMs?: number;
}

/**
 * Every `*.py` under `root` (relative paths, sorted): regular files, and symlinks that resolve
 * (inside the root) to one — Python imports a module through its symlink and looks for the
 * .pyc beside the link (Debian's /usr/lib/python3.X/sitecustomize.py → /etc/python3.X/...).
 * Directories are walked without following symlinks.
 */
export async function findPythonSources(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readdir(join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (p === "proc" || p === "sys" || p === "dev" || e.name === "__pycache__") continue;
        await walk(p);
      } else if (e.name.endsWith(".py")) {
        if (e.isFile()) out.push(p);
        else if (e.isSymbolicLink()) {
          const target = resolveInRoot(root, `/${p}`);
          if (target && (await lstat(target).catch(() => null))?.isFile()) out.push(p);
        }
      }
    }
  };
  await walk("");
  return out.sort();
}

/**
 * The driver run by the image's interpreter: reads {out, mode, files: [[in-image path, host
 * path of its source]]} as JSON on stdin, compiles each with py_compile (dfile = the in-image
 * path, cfile = the image's own cache_from_source under `out`), prints {failed} as JSON.
 */
const DRIVER = `
import sys, json, importlib.util, py_compile
job = json.load(sys.stdin)
mode = py_compile.PycInvalidationMode.CHECKED_HASH if job["mode"] == "checked-hash" else py_compile.PycInvalidationMode.UNCHECKED_HASH
failed = []
for p, source in job["files"]:
    image_path = "/" + p
    cfile = job["out"] + importlib.util.cache_from_source(image_path)
    try:
        py_compile.compile(source, cfile=cfile, dfile=image_path, doraise=True, invalidation_mode=mode)
    except Exception as e:
        lines = [l.strip() for l in str(e).strip().splitlines() if l.strip()]
        failed.append([p, type(e).__name__ + ": " + (lines[-1] if lines else "")])
json.dump({"failed": failed}, sys.stdout)
`;

/**
 * Compile the image's Python sources to hash-based .pyc with the image's interpreter, or say
 * why it was skipped (another architecture and no qemu).
 */
export async function compileBytecode(
  root: string,
  target: PythonTarget,
  opts: BytecodeOptions = {},
): Promise<BytecodeResult> {
  const found = opts.compiler
    ? await findImageInterpreter(opts.compiler.root, { ...target, arch: opts.compiler.arch }, opts)
    : await findImageInterpreter(root, target, opts);
  if (!found.ok) return { status: "skipped", reason: found.reason };
  const py = found.interpreter;
  const started = Date.now();
  const sources = [...new Set(opts.files ?? (await findPythonSources(root)))]
    .map((p) => p.replace(/^\/+/, ""))
    .sort();
  const mode = opts.invalidation ?? "checked-hash";
  const out = await mkdtemp(join(tmpdir(), "shellfree-pyc-"));
  try {
    const jobs = Math.max(1, Math.min(opts.jobs ?? 1, sources.length || 1));
    const chunks: string[][] = Array.from({ length: jobs }, () => []);
    // a fixed assignment (by position in the sorted list), so a run is repeatable
    for (const [i, s] of sources.entries()) chunks[Math.floor((i * jobs) / sources.length)].push(s);
    const failed: Array<{ path: string; error: string }> = [];
    await Promise.all(
      chunks.map(async (files) => {
        if (!files.length) return;
        // sources read where they are in the root (a symlink resolved inside it, never on the host)
        const pairs = files.map((f) => [f, resolveInRoot(root, `/${f}`) ?? join(root, f)]);
        const job = JSON.stringify({ out, mode, files: pairs });
        const r = await runPython(py, ["-S", "-c", DRIVER], job, opts.timeoutMs ?? 1_200_000);
        if (r.code !== 0) {
          const why = r.stderr.trim().split("\n").pop()?.slice(0, 300) || `exit status ${r.code}`;
          throw new PythonError(
            "E_BYTECODE",
            `compiling bytecode with the image's python (${py.via}) failed: ${why}`,
          );
        }
        let res: { failed: Array<[string, string]> };
        try {
          res = JSON.parse(r.stdout);
        } catch {
          throw new PythonError("E_BYTECODE", "the bytecode compiler's answer is not JSON");
        }
        for (const [path, error] of res.failed) failed.push({ path, error });
      }),
    );
    const files: PycFile[] = [];
    const failedSet = new Set(failed.map((f) => f.path));
    for (const src of sources) {
      if (failedSet.has(src)) continue;
      const dir = posix.join(posix.dirname(src), "__pycache__");
      const stem = posix.basename(src, ".py");
      const path = posix.join(dir, `${stem}.${py.cacheTag}.pyc`);
      const host = join(out, path);
      const st = await lstat(host).catch(() => null);
      if (!st?.isFile()) {
        throw new PythonError("E_BYTECODE", `the image's python wrote no ${path} for ${src}`);
      }
      files.push({ path, source: src, data: await readFile(host) });
    }
    failed.sort((a, b) => (a.path < b.path ? -1 : 1));
    return {
      status: "compiled",
      files,
      failed,
      via: py.via,
      version: py.version,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The PEP 552 header of a .pyc: magic number, flags (bit 0: hash-based, bit 1: checked) and the source hash. */
export function pycHeader(data: Uint8Array): {
  magic: number;
  hashBased: boolean;
  checked: boolean;
  sourceHash?: string;
} {
  if (data.length < 16) throw new PythonError("E_BYTECODE", "a .pyc shorter than its 16-byte header");
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const flags = view.readUInt32LE(4);
  const hashBased = (flags & 1) === 1;
  return {
    magic: view.readUInt16LE(0),
    hashBased,
    checked: hashBased && (flags & 2) === 2,
    sourceHash: hashBased ? view.subarray(8, 16).toString("hex") : undefined,
  };
}
