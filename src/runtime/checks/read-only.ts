/** read-only: read-only root filesystem plus tmpfs on declared volumes (and /tmp); it must still become healthy. */
import { type Check, logsTail, result, waitReady, withContainer } from "./common.ts";

export const readOnly: Check = async (ctx) => {
  const t0 = performance.now();
  const tmpfs = [
    ...new Set([
      ...Object.keys(ctx.image.config?.Volumes ?? {}),
      ...(ctx.options["read-only"]?.tmpfs ?? ["/tmp"]),
    ]),
  ].sort();
  return withContainer(ctx, { readOnly: true, tmpfs }, async (c, start) => {
    const r = await waitReady(c, ctx, start);
    return result(
      "read-only",
      t0,
      r.ok,
      r.ok
        ? `read-only root, tmpfs ${tmpfs.join(", ")}: ready after ${r.ms} ms`
        : `read-only root, tmpfs ${tmpfs.join(", ")}: ${r.reason}${logsTail(c)}`,
    );
  });
};
