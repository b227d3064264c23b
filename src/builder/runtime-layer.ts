/** The Node.js runtime (`runtime.node`): the official binary at /usr/local/bin/node, one layer. */

import type { ArchContext, BuiltLayer } from "./context.ts";
import { generatedStepLayer } from "./generated-step.ts";
import type { LockedArch } from "./lock.ts";
import { fetchNodeRuntime, type NodeRuntime, nodeArch } from "./noderuntime.ts";
import type { RootfsPlan } from "./rootfs.ts";

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
  const { layer, cached } = await generatedStepLayer(ctx, plan, "node", { sha: node.sha256 }, (gen) =>
    gen.diskFile("/usr/local/bin/node", node.path, node.size, 0o755),
  );
  return {
    layer: { name: "runtime", layer, cached, comment: `Node.js ${node.version} (${node.packageName})` },
    node,
  };
}
