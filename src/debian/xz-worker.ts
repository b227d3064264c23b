/**
 * Worker thread of src/debian/xz.ts: decompresses whole .xz buffers with the wasm decoder, so
 * that several .debs or indices decompress on several cores while the main thread parses.
 */
import { parentPort } from "node:worker_threads";
import xzPkg from "xz-decompress";

const { XzReadableStream } = xzPkg;

interface Job {
  id: number;
  data: Uint8Array;
}

parentPort?.on("message", async (job: Job) => {
  try {
    const stream = new XzReadableStream(new Blob([job.data]).stream());
    const out = new Uint8Array(await new Response(stream).arrayBuffer());
    parentPort?.postMessage({ id: job.id, out }, [out.buffer]);
  } catch (e) {
    parentPort?.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) });
  }
});
