/** any-uid: run as a random UID with GID 0 (OpenShift style); it must still become healthy. */
import { randomInt } from "node:crypto";
import { type Check, logsTail, result, waitReady, withContainer } from "./common.ts";

export const anyUid: Check = async (ctx) => {
  const t0 = performance.now();
  const uid = ctx.options["any-uid"]?.uid ?? randomInt(1_000_000, 2_000_000_000);
  return withContainer(ctx, { user: `${uid}:0` }, async (c, start) => {
    const r = await waitReady(c, ctx, start);
    return result(
      "any-uid",
      t0,
      r.ok,
      r.ok ? `UID ${uid}, GID 0: ready after ${r.ms} ms` : `UID ${uid}, GID 0: ${r.reason}${logsTail(c)}`,
      { uid },
    );
  });
};
