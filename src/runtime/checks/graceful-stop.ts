/** graceful-stop: send the image's stop signal; expect exit code N within T seconds and the given log lines. */
import { within as waitFor } from "../proc.ts";
import { type Check, logsTail, result, waitReady, withContainer } from "./common.ts";

/** The seeds' budget: a graceful stop completes within 35 s (30 s drain + margin). */
export const DEFAULT_STOP_MS = 35_000;

export const gracefulStop: Check = async (ctx) => {
  const t0 = performance.now();
  const o = ctx.options["graceful-stop"] ?? {};
  const signal = o.signal ?? ctx.image.config?.StopSignal ?? "SIGTERM";
  const want = o.exitCode ?? 0;
  const within = o.withinMs ?? DEFAULT_STOP_MS;
  return withContainer(ctx, {}, async (c, start) => {
    const ready = await waitReady(c, ctx, start);
    if (!ready.ok) return result("graceful-stop", t0, false, `not ready: ${ready.reason}${logsTail(c)}`);
    const s0 = performance.now();
    await c.signal(signal);
    const code = await waitFor(c.exited, within);
    const ms = Math.round(performance.now() - s0);
    const problems: string[] = [];
    if (code === undefined) problems.push(`still running ${within} ms after ${signal}`);
    else if (code !== want)
      problems.push(`exit code after ${signal}\n  - expected ${want}\n  + actual   ${code}`);
    const { stdout, stderr } = c.logs();
    const logs = `${stdout}${stderr}`;
    for (const l of o.logs ?? [])
      if (!new RegExp(l, "m").test(logs)) problems.push(`log line /${l}/ not found`);
    return result(
      "graceful-stop",
      t0,
      problems.length === 0,
      problems.length ? `${problems.join("\n")}${logsTail(c)}` : `${signal} → exit ${code} in ${ms} ms`,
      { stopMs: ms },
    );
  });
};
