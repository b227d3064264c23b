/**
 * The driver interface of `shellfree test`: start containers of one image, exec into them,
 * signal them, and clean everything up. Drivers: runc (bundle in a temp dir, no daemon),
 * podman (private storage root per run), docker (only when an engine answers).
 */
import type { ExecResult } from "./proc.ts";

export type { ExecResult } from "./proc.ts";

export interface StartOptions {
  /** replaces entrypoint+cmd (command tests run their argv directly, no shell) */
  argv?: string[];
  /** added to / overriding the image's env */
  env?: Record<string, string>;
  /** "uid[:gid]" or "name[:group]"; default the image's User */
  user?: string;
  readOnly?: boolean;
  /** paths to mount a fresh tmpfs on */
  tmpfs?: string[];
  /** "host": share the host's network namespace (default); "none": a fresh one with no interfaces */
  network?: "host" | "none";
  /** working directory override */
  workdir?: string;
  /** filesystem changes of earlier runs in the same session are visible (cst setup/teardown) */
  session?: Session;
}

export interface Container {
  readonly id: string;
  /** settles with the main process' exit code (128+n when killed by signal n) */
  readonly exited: Promise<number>;
  /** run argv inside the running container (execve, no shell) */
  exec(
    argv: string[],
    opts?: { env?: Record<string, string>; user?: string; timeoutMs?: number },
  ): Promise<ExecResult>;
  /** send a signal ("SIGTERM", "KILL", ...) to the main process (PID 1) */
  signal(sig: string): Promise<void>;
  /** the container's PID 1 as seen from the host */
  hostPid(): Promise<number>;
  /** stdout/stderr so far */
  logs(): { stdout: string; stderr: string };
  /** stop (KILL) if running, and remove every trace */
  remove(): Promise<void>;
}

/** A chain of runs whose filesystem changes carry over (like cst's setup commits). */
export interface Session {
  readonly id: string;
}

export interface Driver {
  readonly name: "runc" | "podman" | "docker";
  /** make the image runnable (unpack / load); idempotent */
  prepare(): Promise<void>;
  start(opts?: StartOptions): Promise<Container>;
  /** run to completion and remove the container */
  runOnce(opts: StartOptions, timeoutMs: number): Promise<ExecResult>;
  newSession(): Promise<Session>;
  endSession(s: Session): Promise<void>;
  /** remove everything this driver created (containers, bundles, storage) */
  cleanup(): Promise<void>;
}

/**
 * Wait for a started container to exit (SIGKILL at `timeoutMs`), run `afterExit` (e.g. commit its
 * filesystem), collect its output and remove it. Every driver's `runOnce` ends here.
 */
export async function runToExit(
  c: Container,
  timeoutMs: number,
  t0: number,
  afterExit?: () => Promise<void>,
): Promise<ExecResult> {
  try {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void c.signal("KILL").catch(() => {});
    }, timeoutMs);
    const code = await c.exited;
    clearTimeout(timer);
    if (afterExit) await afterExit();
    const { stdout, stderr } = c.logs();
    return {
      code,
      stdout,
      stderr,
      timedOut: timedOut || undefined,
      durationMs: Math.round(performance.now() - t0),
    };
  } finally {
    await c.remove();
  }
}
