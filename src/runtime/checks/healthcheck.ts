/** healthcheck: the image's own HEALTHCHECK, exec'd inside the running container, turns healthy within its start period. */
import { type Check, healthTest, logsTail, result, waitReady, withContainer } from "./common.ts";

export const healthcheck: Check = async (ctx) => {
  const t0 = performance.now();
  if (!healthTest(ctx.image))
    return result(
      "healthcheck",
      t0,
      false,
      'the image has no exec-form HEALTHCHECK (config.Healthcheck.Test must be ["CMD", ...])',
    );
  return withContainer(ctx, {}, async (c, start) => {
    const r = await waitReady(c, ctx, start);
    return result(
      "healthcheck",
      t0,
      r.ok,
      r.ok ? `healthy after ${r.ms} ms (${r.how})` : `${r.how}: ${r.reason}${logsTail(c)}`,
      { timeToHealthyMs: r.ms },
    );
  });
};
