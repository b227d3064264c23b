/**
 * xz decompression for Packages.xz and data.tar.xz.
 *
 * When the system has `xz` (xz-utils, liblzma) on PATH, it decodes: as a child process it runs
 * on its own core, streams (a data.tar.xz is never held whole, compressed or not) and is about
 * three times faster than the portable decoder. Otherwise — or with SHELLFREE_XZ=wasm — the
 * decoder is xz-decompress (xz-embedded compiled to wasm: no native build, same bytes
 * everywhere); it is single-threaded, so whole buffers are decompressed in a small pool of
 * worker threads (one per core, at most 4): callers that read several .debs at once use every
 * core. Workers are created on first use, never keep the process alive, and end when idle for
 * IDLE_MS: a worker's wasm memory (and its heap) is returned to the system only when the
 * worker ends.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { PassThrough, pipeline, Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { workerUrl } from "../util/worker-url.ts";

let xzPath: string | null | undefined;

/**
 * The `xz` program that decodes, or null for the wasm decoder. `SHELLFREE_XZ=wasm` forces the
 * wasm decoder; `SHELLFREE_XZ=/path/to/xz` names the program.
 */
export function nativeXz(): string | null {
  if (xzPath !== undefined) return xzPath;
  const want = process.env.SHELLFREE_XZ ?? "";
  xzPath = null;
  if (want === "wasm") return xzPath;
  const candidates = want.startsWith("/")
    ? [want]
    : (process.env.PATH ?? "")
        .split(":")
        .filter((d) => d.startsWith("/"))
        .map((d) => join(d, "xz"));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) {
        xzPath = c;
        break;
      }
    } catch {
      /* not there */
    }
  }
  return xzPath;
}

/** For tests: choose the decoder ("wasm", a path to xz, or undefined to look again). */
export function setXzDecoder(which: "wasm" | string | undefined): void {
  xzPath = which === "wasm" ? null : which;
}

/**
 * Decompress a stream with the system's xz. The output ends with an error (xz's own message)
 * when the input is not valid xz or xz fails; a failing input stream fails the output too.
 */
export function xzNativeStream(input: Readable, xz: string, wrapError = (e: Error) => e): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const child = spawn(xz, ["--decompress", "--stdout", "--quiet"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  let failed: Error | undefined;
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  child.stdout.pipe(out, { end: false });
  pipeline(input, child.stdin, (e) => {
    // (EPIPE when xz stops reading corrupt input: its own exit status tells what happened)
    if (e && (e as NodeJS.ErrnoException).code !== "EPIPE") {
      failed ??= e;
      child.kill();
    }
  });
  child.on("error", (e) => {
    failed ??= e;
  });
  child.on("close", (code, signal) => {
    if (failed) out.destroy(failed);
    else if (code === 0) out.end();
    else {
      const msg = stderr.trim().replace(/^xz: \(stdin\): /, "") || `xz exited with ${code ?? signal}`;
      out.destroy(wrapError(new Error(msg)));
    }
  });
  out.on("close", () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return out;
}

interface Pending {
  resolve: (b: Uint8Array) => void;
  reject: (e: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  busy: number;
  idleTimer?: ReturnType<typeof setTimeout>;
}

const MAX_WORKERS = Math.max(1, Math.min(4, availableParallelism()));
/** An idle worker ends after this long (a burst of jobs reuses it; a pause frees its memory). */
const IDLE_MS = 200;
/** A worker that has just produced an output this large ends as soon as it is idle. */
const LARGE_OUTPUT = 32 * 1024 * 1024;
const pool: PoolWorker[] = [];
const pending = new Map<number, Pending>();
let nextId = 1;

function spawnWorker(): PoolWorker {
  const worker = new Worker(workerUrl("xz-worker", import.meta.url));
  const pw: PoolWorker = { worker, busy: 0 };
  worker.unref();
  worker.on("message", (m: { id: number; out?: Uint8Array; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    pw.busy--;
    if (pw.busy === 0) {
      worker.unref();
      // (a large job grew the worker's wasm memory and heap: give them back at once)
      if ((m.out?.byteLength ?? 0) >= LARGE_OUTPUT) retire(pw);
      else {
        pw.idleTimer = setTimeout(() => retire(pw), IDLE_MS);
        pw.idleTimer.unref();
      }
    }
    if (m.error !== undefined || !m.out) p.reject(new Error(m.error ?? "no output"));
    else p.resolve(m.out);
  });
  // a crashed or exited worker fails its jobs and leaves the pool; the next job spawns a new one
  const drop = (e: Error) => {
    const i = pool.indexOf(pw);
    if (i >= 0) pool.splice(i, 1);
    for (const [id, p] of pending) {
      if ((p as Pending & { owner?: PoolWorker }).owner === pw) {
        pending.delete(id);
        p.reject(e);
      }
    }
  };
  worker.on("error", drop);
  worker.on("exit", (code) => drop(new Error(`xz worker exited (code ${code})`)));
  pool.push(pw);
  return pw;
}

/** End an idle worker: it leaves the pool first, so no new job is given to it. */
function retire(pw: PoolWorker): void {
  if (pw.busy !== 0) return;
  const i = pool.indexOf(pw);
  if (i >= 0) pool.splice(i, 1);
  void pw.worker.terminate();
}

function pick(): PoolWorker {
  const idle = pool.find((w) => w.busy === 0);
  if (idle) return idle;
  if (pool.length < MAX_WORKERS) return spawnWorker();
  return pool.reduce((a, b) => (b.busy < a.busy ? b : a));
}

/**
 * Inputs smaller than this are decoded by the wasm decoder in the calling thread: starting a
 * process (or handing the job to a worker) costs more than decoding a few kilobytes — a .deb's
 * control.tar.xz, many a small package's data.tar.xz.
 */
export const XZ_SMALL = 64 * 1024;

/**
 * Decompress a whole .xz buffer (small ones in this thread, others with the system's xz, else
 * in a worker thread). Rejects with the decoder's message.
 */
export async function xzDecompress(data: Uint8Array): Promise<Uint8Array> {
  if (data.length < XZ_SMALL) return (await import("./xz-wasm.ts")).wasmDecompress(data);
  const xz = nativeXz();
  if (xz) {
    const parts: Buffer[] = [];
    for await (const c of xzNativeStream(Readable.from([data]), xz)) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }
  return wasmDecompress(data);
}

function wasmDecompress(data: Uint8Array): Promise<Uint8Array> {
  const pw = pick();
  const id = nextId++;
  return new Promise<Uint8Array>((resolve, reject) => {
    const p: Pending & { owner?: PoolWorker } = { resolve, reject, owner: pw };
    pending.set(id, p);
    if (pw.idleTimer) {
      clearTimeout(pw.idleTimer);
      pw.idleTimer = undefined;
    }
    if (pw.busy++ === 0) pw.worker.ref();
    pw.worker.postMessage({ id, data });
  });
}
