/**
 * Where a worker thread's module is. From the sources a worker is `NAME.ts` beside the module
 * that starts it; in the bundle (`npm run build`: dist/cli/) every `*-worker.ts` under src/ is its
 * own entry, `NAME.js`, in the same directory as the chunk that starts it.
 *
 *   new Worker(workerUrl("xz-worker", import.meta.url))
 */
export function workerUrl(name: string, importMetaUrl: string): URL {
  return new URL(`./${name}${importMetaUrl.endsWith(".ts") ? ".ts" : ".js"}`, importMetaUrl);
}
