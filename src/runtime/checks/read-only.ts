/**
 * read-only: a read-only root filesystem with a tmpfs on every path the image needs writable —
 * its VOLUMEs, the directories its `dev.shellfree.writable` label names (the spec's
 * `paths[].writable`) and the check's `tmpfs` option (default /tmp) —; it must still become
 * healthy.
 */
import { writablePaths } from "../../formats/index.ts";
import { type Check, logsTail, result, waitReady, withContainer } from "./common.ts";

export const readOnly: Check = async (ctx) => {
  const t0 = performance.now();
  const tmpfs = [
    ...new Set([
      ...Object.keys(ctx.image.config?.Volumes ?? {}),
      ...writablePaths(ctx.image),
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
