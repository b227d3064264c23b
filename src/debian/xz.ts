/**
 * xz decompression for Packages.xz and data.tar.xz. The decoder is xz-decompress (xz-embedded
 * compiled to wasm: no native build, same bytes everywhere); it is single-threaded, so whole
 * buffers are decompressed in a small pool of worker threads (one per core, at most 4): callers
 * that read several .debs at once use every core. Workers are created on first use, never
 * keep the process alive, and end when idle for IDLE_MS: a worker's wasm memory (and its heap)
 * is returned to the system only when the worker ends.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

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
  const worker = new Worker(new URL("./xz-worker.ts", import.meta.url));
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

/** Decompress a whole .xz buffer (in a worker thread). Rejects with the decoder's message. */
export function xzDecompress(data: Uint8Array): Promise<Uint8Array> {
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
