/**
 * Worker thread of src/debian/xz.ts: decompresses whole .xz buffers with the wasm decoder, so
 * that several .debs or indices decompress on several cores while the main thread parses.
 */
import { parentPort } from "node:worker_threads";
import { wasmDecompress } from "./xz-wasm.ts";

interface Job {
  id: number;
  data: Uint8Array;
}

parentPort?.on("message", async (job: Job) => {
  try {
    const out = await wasmDecompress(job.data);
    parentPort?.postMessage({ id: job.id, out }, [out.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort?.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) });
  }
});
