/**
 * main-dies: kill the main process (the child of PID 1 when PID 1 is an init/supervisor, else
 * PID 1 itself) with SIGKILL from the host; the container must exit — a supervisor that keeps a
 * dead service's container "running" hides the failure from the orchestrator.
 */
import { readdir, readFile } from "node:fs/promises";
import { within as waitFor } from "../proc.ts";
import { type Check, logsTail, result, waitReady, withContainer } from "./common.ts";

/** Host PIDs whose parent is `pid`, with their command lines. */
export async function childrenOf(pid: number): Promise<Array<{ pid: number; cmdline: string }>> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const n of await readdir("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    const status = await readFile(`/proc/${n}/status`, "utf8").catch(() => "");
    const m = /^PPid:\s+(\d+)/m.exec(status);
    if (!m || Number(m[1]) !== pid) continue;
    const cmd = await readFile(`/proc/${n}/cmdline`, "utf8").catch(() => "");
    out.push({ pid: Number(n), cmdline: cmd.split("\0").filter(Boolean).join(" ") });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** Descendants of `pid` (breadth first) whose command line matches `re`. */
export async function descendantsMatching(
  pid: number,
  re: RegExp,
): Promise<Array<{ pid: number; cmdline: string }>> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  let level = [pid];
  for (let depth = 0; depth < 16 && level.length; depth++) {
    const next: number[] = [];
    for (const p of level) {
      for (const k of await childrenOf(p)) {
        if (re.test(k.cmdline)) out.push(k);
        next.push(k.pid);
      }
    }
    level = next;
  }
  return out;
}

export const mainDies: Check = async (ctx) => {
  const t0 = performance.now();
  const o = ctx.options["main-dies"] ?? {};
  const within = o.withinMs ?? 10_000;
  return withContainer(ctx, {}, async (c, start) => {
    const ready = await waitReady(c, ctx, start);
    if (!ready.ok) return result("main-dies", t0, false, `not ready: ${ready.reason}${logsTail(c)}`);
    const pid1 = await c.hostPid();
    const kids = o.process ? await descendantsMatching(pid1, new RegExp(o.process)) : await childrenOf(pid1);
    let what: string;
    if (kids.length > 0) {
      process.kill(kids[0].pid, "SIGKILL");
      what = `killed the main process ${JSON.stringify(kids[0].cmdline)} (${o.process ? `matching /${o.process}/` : "child of PID 1"})`;
    } else {
      if (o.process)
        return result("main-dies", t0, false, `no process matching /${o.process}/ in the container`);
      await c.signal("KILL");
      what = "PID 1 has no child: killed PID 1";
    }
    const k0 = performance.now();
    const code = await waitFor(c.exited, within);
    const ms = Math.round(performance.now() - k0);
    if (code === undefined)
      return result(
        "main-dies",
        t0,
        false,
        `${what}; the container was still running ${within} ms later${logsTail(c)}`,
      );
    return result("main-dies", t0, true, `${what}; the container exited with ${code} after ${ms} ms`, {
      exitMs: ms,
    });
  });
};
