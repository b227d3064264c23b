/**
 * Bytecode for every `.py` in the image, as the last layer ("bytecode"): PEP 552 hash-based
 * `.pyc` files (`python.bytecode`, default `checked-hash`) compiled by the image's own CPython
 * version, never the host's python. An image without CPython has no such layer.
 *
 *   1. the layers below are unpacked into a temporary directory (materialize.ts), keeping the
 *      owner and mode of every directory and .py file;
 *   2. the compiler: for the host's architecture, the image's interpreter through the image's
 *      own ELF loader; for arm64, ppc64el and riscv64 on an amd64 or arm64 host, the host's build
 *      of the exact same Debian python3.X-minimal version, fetched from the same archive (a .pyc
 *      does not depend on the architecture between 64-bit little-endian builds of one CPython:
 *      tested in test/e2e/python/bytecode-arch.test.ts, reasoning in docs/design.md); otherwise
 *      the image's interpreter under qemu-user when it is installed; otherwise none, and the
 *      build says so and leaves the bytecode out;
 *   3. each `__pycache__/NAME.cpython-3X.pyc` gets the source's owner and mode (without x bits),
 *      each `__pycache__` its parent directory's, and every directory above it repeats its
 *      metadata from the layers below (an upper layer's directory entry replaces the lower's).
 *
 * The layer is cached by the layers below it (their diff IDs), the mode and BYTECODE_VERSION:
 * a warm build unpacks and compiles nothing.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fetchDebs, readDebs } from "../debian/index.ts";
import type { TreeEntry } from "../oci/index.ts";
import {
  BYTECODE_VERSION,
  type BytecodeResult,
  compileBytecode,
  hostArch,
  type PythonTarget,
} from "../python/index.ts";
import type { BytecodeMode } from "../spec/index.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { info, warn } from "../util/progress.ts";
import { LAYER_KEY_VERSION, readCachedLayer, sha256Hex, writeCachedLayer } from "./cache.ts";
import type { ArchContext, BuiltLayer } from "./context.ts";
import { type EntryMeta, materializeDebs, materializeLayers } from "./materialize.ts";
import { type ImageCPython, imageCPython, pythonTarget } from "./python-deps.ts";
import { type ArchiveSettings, resolveArch } from "./resolve.ts";

/**
 * Architectures whose CPython writes the same .pyc bytes as another 64-bit little-endian
 * build of the same version: marshal's format is fixed little-endian, and the only
 * architecture-dependent input of the compiler — the str/bytes hash that orders frozenset
 * constants — is the same 64-bit SipHash of the same little-endian bytes there. (32-bit builds
 * have a 32-bit Py_hash_t; s390x hashes UCS-2/UCS-4 strings in big-endian byte order.)
 */
export const SAME_PYC_ARCHES = new Set(["amd64", "arm64", "ppc64el", "riscv64"]);

export interface BytecodeReport {
  mode: BytecodeMode;
  /** compiled now, taken from the cache, or left out (reason says why) */
  status: "compiled" | "cached" | "skipped";
  /** .pyc files in the layer */
  files: number;
  /** sources that did not compile (Python 2 files, syntax errors), with the error */
  failed: Array<{ path: string; error: string }>;
  /** which interpreter compiled them */
  compiler?: string;
  seconds?: number;
  reason?: string;
}

/** What the report needs of a cached bytecode layer, recorded beside it. */
interface BytecodeRecord {
  files: number;
  failed: BytecodeReport["failed"];
  compiler: string;
}

function recordFile(cacheDir: string, key: string): string {
  return join(cacheDir, "build", "bytecode", `${key}.json`);
}

async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** How the bytecode is compiled for `arch` on this host, or undefined when only qemu (or nothing) can. */
function hostBuildUsable(arch: string): boolean {
  const host = hostArch();
  return host !== undefined && host !== arch && SAME_PYC_ARCHES.has(arch) && SAME_PYC_ARCHES.has(host);
}

/**
 * The host's build of the image's CPython (python3.X-minimal and libpython3.X-minimal of the
 * image's exact version, with their closure), unpacked into `dir`; undefined (with why) when
 * the host architecture's archive lacks that version.
 */
async function hostCompiler(
  ctx: ArchContext,
  py: ImageCPython,
  archive: ArchiveSettings,
  dir: string,
): Promise<{ ok: true; arch: string } | { ok: false; reason: string }> {
  const host = hostArch() as string;
  const version = py.interpreter.version;
  const want = [`python${py.short}-minimal=${version}`];
  if (py.stdlib) want.push(`${py.stdlib.name}=${py.stdlib.version}`);
  const spec = {
    ...ctx.spec,
    architectures: [host],
    packages: { ...ctx.spec.packages, include: want, pins: {}, allow: [] },
  };
  let resolved: Awaited<ReturnType<typeof resolveArch>>;
  try {
    resolved = await resolveArch(spec, host, { ...archive, cacheDir: ctx.cacheDir });
  } catch (e) {
    return {
      ok: false,
      reason: `the ${host} archive has no python${py.short}-minimal ${version} (${(e as Error).message.split("\n")[0]})`,
    };
  }
  const debs = await fetchDebs(resolved.packages, { cacheDir: ctx.cacheDir });
  await materializeDebs(
    await readDebs(
      debs.map((d) => d.path),
      { data: true },
    ),
    dir,
  );
  return { ok: true, arch: host };
}

/** Compile with the best compiler available for the image's architecture. */
async function compile(
  ctx: ArchContext,
  py: ImageCPython,
  target: PythonTarget,
  root: string,
  tmp: string,
  mode: Exclude<BytecodeMode, "none">,
  archive: ArchiveSettings,
): Promise<{ result: BytecodeResult; compiler: string }> {
  const jobs = Math.min(4, availableParallelism());
  const opts = { invalidation: mode, jobs } as const;
  const version = `python${py.short} ${py.interpreter.version}`;
  if (hostBuildUsable(ctx.arch)) {
    const dir = join(tmp, "compiler");
    const host = await hostCompiler(ctx, py, archive, dir);
    if (host.ok) {
      const result = await compileBytecode(root, target, {
        ...opts,
        compiler: { root: dir, arch: host.arch },
      });
      if (result.status === "compiled") {
        return { result, compiler: `the ${host.arch} build of the image's ${version}` };
      }
      info(`${ctx.arch}: bytecode: the ${host.arch} build did not run (${result.reason}); trying qemu`);
    } else info(`${ctx.arch}: bytecode: ${host.reason}; trying qemu`);
  }
  const result = await compileBytecode(root, target, opts);
  const how = result.status === "compiled" && result.via === "qemu" ? " under qemu-user" : "";
  return { result, compiler: `the image's ${version}${how}` };
}

/** The entries of the bytecode layer: the .pyc files and every directory above them. */
function bytecodeEntries(
  files: Array<{ path: string; source: string; data: Uint8Array }>,
  dirs: Map<string, EntryMeta>,
  sources: Map<string, EntryMeta>,
): TreeEntry[] {
  const out = new Map<string, TreeEntry>();
  const addDir = (path: string, meta: EntryMeta) => {
    if (!out.has(path)) out.set(path, { path, type: "dir", ...meta });
  };
  for (const f of files) {
    const cache = f.path.slice(0, f.path.lastIndexOf("/"));
    const parent = cache.slice(0, cache.lastIndexOf("/"));
    const segs = parent.split("/");
    for (let i = 1; i <= segs.length; i++) {
      const p = segs.slice(0, i).join("/");
      addDir(p, dirs.get(p) ?? { mode: 0o755, uid: 0, gid: 0 });
    }
    // __pycache__: as the lower layers have it, else as its parent directory (minus set-id bits)
    const pm = dirs.get(parent) ?? { mode: 0o755, uid: 0, gid: 0 };
    addDir(cache, dirs.get(cache) ?? { ...pm, mode: pm.mode & 0o1777 & ~0o1000 });
    const src = sources.get(f.source) ?? { mode: 0o644, uid: 0, gid: 0 };
    out.set(f.path, {
      path: f.path,
      type: "file",
      mode: src.mode & 0o666,
      uid: src.uid,
      gid: src.gid,
      size: f.data.length,
      content: { kind: "bytes", data: f.data },
    });
  }
  return [...out.values()];
}

/**
 * The "bytecode" layer over `below` (every layer of the image so far), or undefined with no
 * report when the image has no CPython.
 */
export async function bytecodeLayer(
  ctx: ArchContext,
  below: BuiltLayer[],
  archive: ArchiveSettings,
): Promise<{ layer?: BuiltLayer; report: BytecodeReport } | undefined> {
  const py = imageCPython(ctx.packages);
  const target = pythonTarget(ctx.arch, ctx.packages);
  if (!py || !target) return undefined;
  const mode = ctx.spec.python?.bytecode ?? "checked-hash";
  if (mode === "none") {
    return { report: { mode, status: "skipped", files: 0, failed: [], reason: "python.bytecode is false" } };
  }
  const key = sha256Hex(
    JSON.stringify({
      v: LAYER_KEY_VERSION,
      kind: "bytecode",
      bytecode: BYTECODE_VERSION,
      mode,
      c: ctx.compression,
      sde: ctx.sourceDateEpoch,
      below: below.map((l) => l.layer.diffId),
    }),
  );
  const hit = await readCachedLayer(ctx.cacheDir, ctx.blobDir, key);
  const record = hit
    ? await readFile(recordFile(ctx.cacheDir, key), "utf8")
        .then((t) => JSON.parse(t) as BytecodeRecord)
        .catch(() => undefined)
    : undefined;
  if (hit && record) {
    info(`${ctx.arch}: bytecode: ${record.files} .pyc (${mode}) from the cache`);
    return {
      layer: { name: "bytecode", layer: hit, cached: true, comment: `Python bytecode (${mode})` },
      report: {
        mode,
        status: "cached",
        files: record.files,
        failed: record.failed,
        compiler: record.compiler,
      },
    };
  }
  return withTempDir("shellfree-bytecode-", async (tmp) => {
    const started = Date.now();
    const root = join(tmp, "root");
    const tree = await materializeLayers(
      below.map((l) => l.layer),
      root,
      (p) => p.endsWith(".py"),
    );
    const { result, compiler } = await compile(ctx, py, target, root, tmp, mode, archive);
    if (result.status === "skipped") {
      warn(`${ctx.arch}: bytecode left out: ${result.reason}`);
      return { report: { mode, status: "skipped" as const, files: 0, failed: [], reason: result.reason } };
    }
    const entries = bytecodeEntries(result.files, tree.dirs, tree.files);
    const layer = await writeCachedLayer(ctx.cacheDir, ctx.blobDir, key, entries, {
      compression: ctx.compression,
      sourceDateEpoch: ctx.sourceDateEpoch,
    });
    const rec: BytecodeRecord = { files: result.files.length, failed: result.failed, compiler };
    await writeFileAtomic(recordFile(ctx.cacheDir, key), JSON.stringify(rec));
    const seconds = (Date.now() - started) / 1000;
    info(
      `${ctx.arch}: bytecode: ${result.files.length} .pyc (${mode}) compiled by ${compiler} in ${seconds.toFixed(1)} s`,
    );
    if (result.failed.length) {
      info(
        `${ctx.arch}: bytecode: ${result.failed.length} .py did not compile (left without .pyc): ${result.failed
          .slice(0, 3)
          .map((f) => `/${f.path} (${f.error})`)
          .join(", ")}${result.failed.length > 3 ? ", …" : ""}`,
      );
    }
    return {
      layer: { name: "bytecode", layer, cached: false, comment: `Python bytecode (${mode})` },
      report: {
        mode,
        status: "compiled" as const,
        files: result.files.length,
        failed: result.failed,
        compiler,
        seconds,
      },
    };
  });
}
