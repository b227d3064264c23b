/** Child processes with a timeout and bounded captured output; never left behind. */
import { type ChildProcess, spawn } from "node:child_process";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
  durationMs: number;
}

/** Largest output kept per stream. */
export const MAX_OUTPUT = 4 * 1024 * 1024;

const live = new Set<ChildProcess>();

/** Kill every child we started that is still running (used by the SIGINT handler). */
export function killAllChildren(): void {
  for (const c of live) c.kill("SIGKILL");
}

export function capture(stream: NodeJS.ReadableStream | null, sink: { text: string }): void {
  stream?.setEncoding("utf8");
  stream?.on("data", (d: string) => {
    if (sink.text.length < MAX_OUTPUT) sink.text += d.slice(0, MAX_OUTPUT - sink.text.length);
  });
}

export function track(c: ChildProcess): ChildProcess {
  live.add(c);
  c.on("close", () => live.delete(c));
  return c;
}

/** Run `cmd args` to completion (killed after timeoutMs); exit code 128+n when killed by signal n. */
export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ExecResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = track(
      spawn(cmd, args, {
        stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        env: opts.env ?? process.env,
      }),
    );
    const out = { text: "" };
    const err = { text: "" };
    capture(child.stdout, out);
    capture(child.stderr, err);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const sigNo = signal
        ? (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[signal] ?? 1)
        : 0;
      resolve({
        code: code ?? 128 + sigNo,
        stdout: out.text,
        stderr: err.text,
        timedOut: timedOut || undefined,
        durationMs: Math.round(performance.now() - t0),
      });
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on("error", () => {});
      child.stdin.end(opts.input);
    }
  });
}

export async function which(cmd: string): Promise<string | undefined> {
  const { access, constants } = await import("node:fs/promises");
  for (const d of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    .split(":")
    .concat(["/usr/sbin", "/sbin"])) {
    if (!d) continue;
    const p = `${d}/${cmd}`;
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

/** `p`'s value, or undefined after `ms` — without leaving a timer behind. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** PIDs of the processes whose command line mentions `needle` (e.g. a private storage dir). */
export async function processesMentioning(needle: string): Promise<number[]> {
  const { readdir, readFile } = await import("node:fs/promises");
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if ((await readFile(`/proc/${name}/cmdline`, "utf8")).includes(needle)) pids.push(Number(name));
    } catch {} // gone meanwhile
  }
  return pids;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
