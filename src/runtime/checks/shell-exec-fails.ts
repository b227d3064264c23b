/**
 * shell-exec-fails: exec `/bin/sh -c true` and friends inside the running container; every one
 * must fail. When the image has a HEALTHCHECK, exec'ing it must succeed in the same container —
 * the proof that exec works and the failures are really "no shell".
 */
import { type Check, healthTest, logsTail, result, waitReady, withContainer } from "./common.ts";

export const DEFAULT_SHELLS: string[][] = [
  ["/bin/sh", "-c", "true"],
  ["sh", "-c", "true"],
  ["/bin/bash", "-c", "true"],
  ["/bin/dash", "-c", "true"],
  ["/bin/ash", "-c", "true"],
  ["/usr/bin/busybox", "sh", "-c", "true"],
  ["/bin/busybox", "sh", "-c", "true"],
  ["/usr/bin/zsh", "-c", "true"],
];

export const shellExecFails: Check = async (ctx) => {
  const t0 = performance.now();
  const shells = ctx.options["shell-exec-fails"]?.shells ?? DEFAULT_SHELLS;
  return withContainer(ctx, {}, async (c, start) => {
    const ready = await waitReady(c, ctx, start);
    if (!ready.ok)
      return result(
        "shell-exec-fails",
        t0,
        false,
        `the container did not get ready, so exec could not be tried: ${ready.reason}${logsTail(c)}`,
      );
    const lines: string[] = [];
    let ok = true;
    for (const argv of shells) {
      const r = await c.exec(argv, { timeoutMs: 10_000 });
      if (r.code === 0) {
        ok = false;
        lines.push(`✗ ${JSON.stringify(argv)} succeeded (exit 0): a shell is present`);
      } else
        lines.push(
          `✓ ${JSON.stringify(argv)} failed (exit ${r.code}${r.stderr.includes("no such file") || r.stderr.includes("not found") ? ", not found" : ""})`,
        );
    }
    const hc = healthTest(ctx.image);
    if (hc) {
      const r = await c.exec(hc, { timeoutMs: 10_000 });
      if (r.code !== 0) {
        ok = false;
        lines.push(
          `✗ control: the HEALTHCHECK ${JSON.stringify(hc)} failed (exit ${r.code}): exec itself does not work, so the failures above prove nothing`,
        );
      } else lines.push(`✓ control: the HEALTHCHECK ${JSON.stringify(hc)} runs (exit 0)`);
    } else lines.push("· no HEALTHCHECK to use as a positive control");
    return result("shell-exec-fails", t0, ok, lines.join("\n"));
  });
};
