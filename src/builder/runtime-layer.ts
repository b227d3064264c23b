/** The Node.js runtime (`runtime.node`): the official binary at /usr/local/bin/node, one layer. */

import { cachedLayer, LAYER_KEY_VERSION, sha256Hex } from "./cache.ts";
import type { ArchContext, BuiltLayer } from "./context.ts";
import type { LockedArch } from "./lock.ts";
import { fetchNodeRuntime, type NodeRuntime, nodeArch } from "./noderuntime.ts";
import { GeneratedLayer, type RootfsPlan } from "./rootfs.ts";

export async function nodeRuntimeLayer(
  ctx: ArchContext,
  plan: RootfsPlan,
  opts: {
    /** the Node.js version for every architecture (see commonNodeVersion) */
    version?: string;
    locked?: LockedArch["node"];
  },
): Promise<{ layer: BuiltLayer; node: NodeRuntime } | undefined> {
  const wanted = ctx.spec.runtime.node;
  if (!wanted) return undefined;
  const node = await fetchNodeRuntime({
    version: opts.version ?? wanted,
    arch: nodeArch(ctx.arch),
    cacheDir: ctx.cacheDir,
    locked: opts.locked,
  });
  const key = sha256Hex(
    JSON.stringify({
      v: LAYER_KEY_VERSION,
      kind: "node",
      c: ctx.compression,
      sde: ctx.sourceDateEpoch,
      sha: node.sha256,
    }),
  );
  const { layer, cached } = await cachedLayer(
    ctx.cacheDir,
    ctx.blobDir,
    key,
    async () => {
      const gen = new GeneratedLayer(plan);
      gen.diskFile("/usr/local/bin/node", node.path, node.size, 0o755);
      return gen.list();
    },
    { compression: ctx.compression, sourceDateEpoch: ctx.sourceDateEpoch },
  );
  return {
    layer: { name: "runtime", layer, cached, comment: `Node.js ${node.version} (${node.packageName})` },
    node,
  };
}
