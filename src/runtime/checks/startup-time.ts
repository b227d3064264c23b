/** startup-time: time from start to healthy (or HTTP answering); fails only over an explicit budget. */
import { type Check, logsTail, result, waitReady, withContainer } from "./common.ts";

export const startupTime: Check = async (ctx) => {
  const t0 = performance.now();
  const max = ctx.options["startup-time"]?.maxMs;
  return withContainer(ctx, {}, async (c, start) => {
    const r = await waitReady(c, ctx, start);
    if (!r.ok) return result("startup-time", t0, false, `${r.reason}${logsTail(c)}`);
    const over = max !== undefined && r.ms > max;
    return result(
      "startup-time",
      t0,
      !over,
      over
        ? `ready after ${r.ms} ms\n  - expected ≤ ${max} ms\n  + actual   ${r.ms} ms`
        : `ready after ${r.ms} ms (${r.how})`,
      { timeToReadyMs: r.ms },
    );
  });
};
