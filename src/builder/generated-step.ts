/**
 * A build step's own layer of generated files (the init, the Node runtime, the wheels): keyed in
 * the layer cache by its kind, the compression, SOURCE_DATE_EPOCH and what the step says makes
 * its content; made by `fill` only on a cache miss.
 */
import type { Layer } from "../oci/index.ts";
import { cachedLayer, LAYER_KEY_VERSION, sha256Hex } from "./cache.ts";
import type { ArchContext } from "./context.ts";
import { GeneratedLayer, type RootfsPlan } from "./rootfs.ts";

export async function generatedStepLayer(
  ctx: ArchContext,
  plan: RootfsPlan,
  kind: string,
  content: Record<string, unknown>,
  fill: (gen: GeneratedLayer) => void,
): Promise<{ layer: Layer; cached: boolean }> {
  const key = sha256Hex(
    JSON.stringify({ v: LAYER_KEY_VERSION, kind, c: ctx.compression, sde: ctx.sourceDateEpoch, ...content }),
  );
  return cachedLayer(
    ctx.cacheDir,
    ctx.blobDir,
    key,
    async () => {
      const gen = new GeneratedLayer(plan);
      fill(gen);
      return gen.list();
    },
    { compression: ctx.compression, sourceDateEpoch: ctx.sourceDateEpoch },
  );
}
