/**
 * main-dies: kill the main process with SIGKILL from the host; the container must exit — a
 * supervisor that keeps a dead service's container "running" hides the failure from the
 * orchestrator.
 *
 * The main process: when PID 1 is an init (shellfree-init, tini, catatonit/podman-init,
 * dumb-init, docker-init), its oldest child — followed down while that is an init too (tini →
 * shellfree-init → app); otherwise PID 1 itself (its children are its own helpers). With
 * `process` (--main-process REGEX): the oldest descendant of PID 1 whose command line matches.
 * Processes are read from the host's /proc (every thread's children, as a Go init forks from any
 * of its threads), so it works the same for every driver that tells PID 1's host PID.
 */
import { readdir, readFile } from "node:fs/promises";
import { within as waitFor } from "../proc.ts";
import { type Check, logsTail, result, waitReady, withContainer } from "./common.ts";

/** What the host's /proc says about a process. */
export interface HostProcess {
  pid: number;
  /** the command line, arguments joined by spaces */
  cmdline: string;
  /** the kernel's name for it (the executable's file name, at most 15 characters) */
  comm: string;
  /** when it started (clock ticks after boot) */
  start: number;
}

/** Programs that are an init: the main process is their child. */
export const INIT_NAMES = [
  "shellfree-init",
  "tini",
  "tini-static",
  "catatonit",
  "podman-init",
  "dumb-init",
  "docker-init",
];

/** The process `pid` as the host sees it; undefined when it is gone. */
export async function hostProcess(pid: number): Promise<HostProcess | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    return {
      pid,
      comm: stat.slice(open + 1, close),
      cmdline: cmd.split("\0").filter(Boolean).join(" "),
      start: Number(fields[19]), // field 22 of stat: starttime
    };
  } catch {
    return undefined;
  }
}

/** PIDs whose parent is `pid`: every thread's children file, else a scan of /proc. */
async function childPids(pid: number): Promise<number[]> {
  try {
    const out: number[] = [];
    for (const tid of await readdir(`/proc/${pid}/task`)) {
      const text = await readFile(`/proc/${pid}/task/${tid}/children`, "utf8").catch((e) => {
        if ((e as NodeJS.ErrnoException).code === "ENOENT" && tid === String(pid)) throw e; // no such file at all
        return ""; // a thread that ended meanwhile
      });
      for (const n of text.split(" ")) if (/^\d+$/.test(n)) out.push(Number(n));
    }
    return out;
  } catch {
    // a kernel without CONFIG_PROC_CHILDREN (or pid is gone): who names pid as parent?
    const out: number[] = [];
    for (const n of await readdir("/proc")) {
      if (!/^\d+$/.test(n)) continue;
      const status = await readFile(`/proc/${n}/status`, "utf8").catch(() => "");
      const m = /^PPid:\s+(\d+)/m.exec(status);
      if (m && Number(m[1]) === pid) out.push(Number(n));
    }
    return out;
  }
}

/** The live children of `pid` on the host, oldest first. */
export async function childrenOf(pid: number): Promise<HostProcess[]> {
  const out: HostProcess[] = [];
  for (const p of await childPids(pid)) {
    const proc = await hostProcess(p);
    if (proc) out.push(proc);
  }
  return out.sort((a, b) => a.start - b.start || a.pid - b.pid);
}

/** Descendants of `pid` (breadth first, each level oldest first) whose command line matches `re`. */
export async function descendantsMatching(pid: number, re: RegExp): Promise<HostProcess[]> {
  const out: HostProcess[] = [];
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

export function isInit(p: HostProcess): boolean {
  return INIT_NAMES.includes(p.comm);
}

/**
 * The main process of a container whose PID 1 is `pid1` on the host: PID 1, or — while the
 * process is an init — its oldest child. `inits` are the inits above it, PID 1 first.
 */
export async function mainProcess(
  pid1: number,
): Promise<{ main: HostProcess; inits: HostProcess[] } | undefined> {
  let cur = await hostProcess(pid1);
  if (!cur) return undefined;
  const inits: HostProcess[] = [];
  for (let depth = 0; depth < 8 && isInit(cur); depth++) {
    const kids = await childrenOf(cur.pid);
    if (kids.length === 0) break; // an init with no child (yet): PID 1 is all there is
    inits.push(cur);
    cur = kids[0];
  }
  return { main: cur, inits };
}

export const mainDies: Check = async (ctx) => {
  const t0 = performance.now();
  const o = ctx.options["main-dies"] ?? {};
  const within = o.withinMs ?? 10_000;
  return withContainer(ctx, {}, async (c, start) => {
    const ready = await waitReady(c, ctx, start);
    if (!ready.ok) return result("main-dies", t0, false, `not ready: ${ready.reason}${logsTail(c)}`);
    const pid1 = await c.hostPid();
    let what: string;
    if (o.process) {
      const hits = await descendantsMatching(pid1, new RegExp(o.process));
      if (hits.length === 0)
        return result("main-dies", t0, false, `no process matching /${o.process}/ in the container`);
      process.kill(hits[0].pid, "SIGKILL");
      what = `killed the main process ${JSON.stringify(hits[0].cmdline)} (matching /${o.process}/)`;
    } else {
      const found = await mainProcess(pid1);
      if (!found) return result("main-dies", t0, false, `PID 1 (host PID ${pid1}) is gone${logsTail(c)}`);
      const { main, inits } = found;
      if (inits.length === 0) {
        await c.signal("KILL");
        what = `killed the main process ${JSON.stringify(main.cmdline)} (PID 1)`;
      } else {
        process.kill(main.pid, "SIGKILL");
        const chain = inits.map((i, k) => (k === 0 ? `${i.comm} (PID 1)` : i.comm)).join(" → ");
        what = `killed the main process ${JSON.stringify(main.cmdline)} (the child of ${chain})`;
      }
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
    // what the container said last (an init's log is on stderr: why it exited, and with what)
    const { stdout, stderr } = c.logs();
    const last = (stderr.trim() ? stderr : stdout).trimEnd().split("\n").slice(-3).filter(Boolean);
    return result(
      "main-dies",
      t0,
      true,
      `${what}; the container exited with ${code} after ${ms} ms${last.length ? `; its last lines: ${last.map((l) => JSON.stringify(l)).join(" ")}` : ""}`,
      { exitMs: ms, exitCode: code },
    );
  });
};
