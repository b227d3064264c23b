/**
 * The supervisor: INITIALIZING → VALIDATING → PREPARING → STARTING → RUNNING → SHUTTING_DOWN →
 * EXITED (or ERROR). Loads and checks the config, fixes HOME for arbitrary UIDs, runs the
 * pre-start tasks, starts the health server and the main process (own process group), forwards
 * signals, restarts on failure if asked, and shuts down gracefully: not-ready → drain → forward
 * the stop signal → wait up to grace → SIGKILL.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants as fsc, readFileSync, rmSync, statSync } from "node:fs";
import { constants as osc } from "node:os";
import {
  applyEnvOverrides,
  DEFAULT_DRAIN,
  DEFAULT_GRACE,
  DEFAULT_HEALTH_PORT,
  expandInitConfig,
  INIT_CONFIG_PATH,
  type InitConfig,
  InitConfigError,
  parseDuration,
  parseInitConfig,
} from "./config.ts";
import type { HealthServer, Probe } from "./health.ts";
import { type LogFormat, Logger } from "./log.ts";
import { describeTask, runTask, TaskError, TaskStopped } from "./tasks.ts";
import { INIT_VERSION } from "./version.ts";

export type State =
  | "INITIALIZING"
  | "VALIDATING"
  | "PREPARING"
  | "STARTING"
  | "RUNNING"
  | "SHUTTING_DOWN"
  | "EXITED"
  | "ERROR";

export interface InitArgs {
  configPath?: string;
  logFormat?: LogFormat;
  command?: string[];
  checkConfig?: boolean;
  version?: boolean;
  help?: boolean;
}

export const USAGE = `usage: init.js [--config PATH] [--log-format text|json] [--check-config] [-- COMMAND ARGS...]
       init.js probe [/ready|/live|/health] [--port N] [--host H] [--timeout MS]
Supervises COMMAND (or the config's "main") with pre-start tasks, health endpoints and graceful shutdown.
Config: --config, $SHELLFREE_INIT_CONFIG or ${INIT_CONFIG_PATH}.`;

export class UsageError extends Error {}

export function parseArgs(argv: string[]): InitArgs {
  const a: InitArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (name: string): string => {
      const eq = arg.indexOf("=");
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (arg === "--") {
      a.command = argv.slice(i + 1);
      break;
    }
    if (!arg.startsWith("-")) {
      a.command = argv.slice(i);
      break;
    }
    const name = arg.split("=")[0];
    if (name === "--config" || name === "-c") a.configPath = value(name);
    else if (name === "--log-format") {
      const f = value(name);
      if (f !== "text" && f !== "json") throw new UsageError(`--log-format must be text or json, got "${f}"`);
      a.logFormat = f;
    } else if (arg === "--check-config") a.checkConfig = true;
    else if (arg === "--version" || arg === "-V") a.version = true;
    else if (arg === "--help" || arg === "-h") a.help = true;
    else throw new UsageError(`unknown option ${arg}`);
  }
  if (a.command && a.command.length === 0) throw new UsageError("-- must be followed by a command");
  return a;
}

/** Load, validate, apply env overrides and expand ${...}. Throws InitConfigError (one line). */
export function loadConfig(
  args: InitArgs,
  env: Record<string, string | undefined>,
): { cfg: InitConfig; source: string } {
  const explicit = args.configPath ?? (env.SHELLFREE_INIT_CONFIG || undefined);
  const path = explicit ?? INIT_CONFIG_PATH;
  let raw: unknown;
  let source = path;
  let text: string | undefined;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" || explicit !== undefined || !args.command)
      throw new InitConfigError(
        path,
        "",
        code === "ENOENT"
          ? `config file does not exist${explicit ? "" : " (give --config PATH, $SHELLFREE_INIT_CONFIG or a command after --)"}`
          : `cannot read config file: ${code ?? (e as Error).message}`,
      );
  }
  if (text !== undefined) {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new InitConfigError(path, "", `not valid JSON: ${(e as Error).message}`);
    }
  } else {
    raw = {};
    source = "command line";
  }
  const literalMain = args.command !== undefined;
  if (args.command && typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    raw = { ...(raw as Record<string, unknown>), main: args.command };
    if (text !== undefined) source = `${path} + command line`;
  }
  const cfg = expandInitConfig(
    applyEnvOverrides(parseInitConfig(raw, path, { literalMain }), env),
    env,
    path,
    {
      literalMain,
    },
  );
  return { cfg, source };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function signum(sig: string): number {
  return (osc.signals as Record<string, number>)[sig] ?? 0;
}

/** Is `pid` a live (not zombie) process? */
export function procAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const st = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return st !== "Z" && st !== "X";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (k) {
      return (k as NodeJS.ErrnoException).code === "EPERM";
    }
  }
}

function writableDir(p: string): boolean {
  try {
    if (!statSync(p).isDirectory()) return false;
    accessSync(p, fsc.W_OK | fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

interface MainExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  detail?: string;
}

export class Init {
  state: State = "INITIALIZING";
  readonly log = new Logger("text");
  cfg!: InitConfig;
  source = "";
  readonly uid = process.getuid?.() ?? -1;
  readonly gid = process.getgid?.() ?? -1;
  private readonly t0 = performance.now();
  private readonly stopCtl = new AbortController();
  private stopping: NodeJS.Signals | null = null;
  private child?: ChildProcess;
  private childExit?: MainExit;
  private daemonPid?: number;
  private exitP?: Promise<MainExit>;
  private restarts = 0;
  private health?: HealthServer;
  private readyCache?: { at: number; probe: { ok: boolean; detail: string } };
  private checking?: Promise<{ ok: boolean; detail: string }>;
  private everReady = false;
  private mainStartedAt = 0;
  private shutdownStarted = false;

  to(s: State): void {
    const prev = this.state;
    this.state = s;
    this.log.info(`State: ${prev} -> ${s}`, { state: s, from: prev });
  }

  private ms(): number {
    return Math.round(performance.now() - this.t0);
  }

  installSignals(): void {
    for (const sig of ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR2"] as const)
      process.on(sig, () => this.onSignal(sig));
  }

  private stopSignals(): string[] {
    const extra = this.cfg?.shutdown?.signal;
    return extra && extra !== "SIGHUP" ? ["SIGTERM", "SIGINT", extra] : ["SIGTERM", "SIGINT"];
  }

  onSignal(sig: NodeJS.Signals): void {
    const isStop =
      this.stopSignals().includes(sig) || (sig === "SIGHUP" && this.cfg?.shutdown?.signal === "SIGHUP");
    if (!isStop) {
      if (this.mainAlive()) {
        this.log.info(
          `Received signal ${sig}; forwarding to main process group${sig === "SIGHUP" ? " (reload)" : ""}`,
          {
            signal: sig,
          },
        );
        this.signalMain(sig);
      } else this.log.info(`Received signal ${sig}; no main process to forward it to`, { signal: sig });
      return;
    }
    if (
      this.state === "SHUTTING_DOWN" ||
      this.state === "EXITED" ||
      this.state === "ERROR" ||
      this.stopping
    ) {
      this.log.info(`Received signal ${sig} again; shutdown already in progress, still waiting`, {
        signal: sig,
      });
      return;
    }
    this.log.info(`Received signal ${sig}`, { signal: sig });
    this.stopping = sig;
    this.stopCtl.abort();
    if (this.state === "RUNNING") void this.shutdown(sig);
    // before RUNNING the startup sequence notices `stopping` at its next step
  }

  private signalMain(sig: NodeJS.Signals): void {
    const pids = new Set<number>();
    if (this.child?.pid && !this.childExit) pids.add(-this.child.pid);
    if (this.daemonPid && procAlive(this.daemonPid)) pids.add(this.daemonPid);
    for (const p of pids) {
      try {
        process.kill(p, sig);
      } catch {
        // the group may be gone while its leader lingers: signal the leader alone
        if (p < 0 && this.child?.pid)
          try {
            process.kill(this.child.pid, sig);
          } catch {}
      }
    }
  }

  mainAlive(): boolean {
    if (this.child && !this.childExit) return true;
    return this.daemonPid !== undefined && procAlive(this.daemonPid);
  }

  private finish(code: number, final: "EXITED" | "ERROR"): never {
    // leave nothing of the main process group behind (tini reaps what we kill)
    if (this.child?.pid)
      try {
        process.kill(-this.child.pid, "SIGKILL");
      } catch {}
    if (this.daemonPid && procAlive(this.daemonPid))
      try {
        process.kill(this.daemonPid, "SIGKILL");
      } catch {}
    this.to(final);
    process.exit(code);
  }

  /** Internal error: one line, the main process group killed, exit 70. */
  crash(e: unknown): never {
    const msg =
      e instanceof Error
        ? `${e.name}: ${e.message} ${(e.stack ?? "").split("\n")[1]?.trim() ?? ""}`
        : String(e);
    this.log.error(`internal error in shellfree-init: ${msg.replace(/\s+/g, " ").trim()}`);
    this.finish(70, "ERROR");
  }

  private failStartup(msg: string, output?: string): never {
    this.log.error(msg);
    if (output) for (const line of output.split(/\r?\n/)) this.log.error(`  | ${line}`);
    this.finish(1, "ERROR");
  }

  private stoppedBeforeRunning(): never {
    this.log.info(`Stopped by ${this.stopping} before the main process started`);
    this.to("SHUTTING_DOWN");
    this.log.info("Shutdown complete", { exitCode: 0 });
    this.finish(0, "EXITED");
  }

  /** Sets HOME when it is unset or not writable; returns what logs it (once the format is known). */
  private fixHome(): () => void {
    const home = process.env.HOME;
    if (home && writableDir(home)) return () => {};
    for (const c of ["/tmp", "/var/tmp", "/dev/shm"]) {
      if (writableDir(c)) {
        process.env.HOME = c;
        return () =>
          this.log.info(
            `HOME ${home ? `${home} is not writable` : "is not set"} for UID ${this.uid}; using HOME=${c}`,
          );
      }
    }
    return () =>
      this.log.warn(
        `HOME ${home ?? "(unset)"} is not writable for UID ${this.uid} and no writable fallback exists`,
      );
  }

  private userName(): string | null {
    try {
      for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
        const f = line.split(":");
        if (f.length >= 3 && Number(f[2]) === this.uid && f[2] !== "") return f[0];
      }
    } catch {}
    return null;
  }

  async run(argv: string[]): Promise<void> {
    let args: InitArgs;
    try {
      args = parseArgs(argv);
    } catch (e) {
      this.log.error(`${(e as Error).message} (${USAGE.split("\n")[0]})`);
      process.exit(2);
    }
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (args.version) {
      process.stdout.write(`shellfree-init ${INIT_VERSION}\n`);
      process.exit(0);
    }
    const envFmt = process.env.SHELLFREE_LOG_FORMAT;
    if (args.logFormat) this.log.format = args.logFormat;
    else if (envFmt === "json" || envFmt === "text") this.log.format = envFmt;
    // HOME first, so that ${HOME} in the config is the HOME the main process gets
    const reportHome = this.fixHome();
    try {
      const { cfg, source } = loadConfig(args, process.env);
      this.cfg = cfg;
      this.source = source;
    } catch (e) {
      // one line, nothing started
      this.log.error(e instanceof InitConfigError ? e.message : `config: ${(e as Error).message}`);
      process.exit(1);
    }
    if (!args.logFormat) this.log.format = this.cfg.log?.format ?? this.log.format;
    if (args.checkConfig) {
      process.stdout.write(`${this.source}: ok\n`);
      process.exit(0);
    }
    const extra = this.cfg.shutdown?.signal;
    if (extra && !["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR2"].includes(extra))
      process.on(extra, () => this.onSignal(extra as NodeJS.Signals));

    reportHome();
    const user = this.userName();
    this.log.info(
      `shellfree-init ${INIT_VERSION} starting (PID ${process.pid}, UID ${this.uid}${user ? ` (${user})` : " (not in /etc/passwd)"}, ` +
        `GID ${this.gid}, HOME ${process.env.HOME}, config ${this.source}, node ${process.version})`,
      {
        version: INIT_VERSION,
        pid: process.pid,
        uid: this.uid,
        gid: this.gid,
        user,
        home: process.env.HOME,
        config: this.source,
      },
    );
    if (process.pid === 1)
      this.log.warn(
        "running as PID 1: orphaned processes will not be reaped; start as tini-static -- node init.js",
      );
    if (this.stopping) this.stoppedBeforeRunning();

    // VALIDATING / PREPARING: the tasks, in order
    this.to("VALIDATING");
    const tasks = this.cfg.tasks;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i];
      if (this.state === "VALIDATING" && t.kind !== "validate" && t.kind !== "ensure-dir")
        this.to("PREPARING");
      if (this.stopping) this.stoppedBeforeRunning();
      const label = `Task ${i + 1}/${tasks.length} ${describeTask(t)}`;
      const started = performance.now();
      try {
        const r = await runTask(t, { uid: this.uid, gid: this.gid, stop: this.stopCtl.signal });
        const took = Math.round(performance.now() - started);
        this.log.info(`${label}: ${r.status === "ok" ? "ok" : "skipped"} (${r.detail}; ${took} ms)`, {
          task: i + 1,
          kind: t.kind,
          status: r.status,
        });
      } catch (e) {
        if (e instanceof TaskStopped || this.stopping) this.stoppedBeforeRunning();
        if (e instanceof TaskError) this.failStartup(`${label}: failed: ${e.message}`, e.output);
        this.failStartup(`${label}: failed: ${(e as Error).message}`);
      }
    }
    if (this.state === "VALIDATING") this.to("PREPARING");
    if (this.stopping) this.stoppedBeforeRunning();

    // STARTING: the main process is spawned first (start-up latency: the health server's
    // set-up then overlaps the main process's own start), the health server right after; the
    // log shows the health server first, and a health server that cannot listen is a startup
    // failure that takes the main process down with it.
    this.to("STARTING");
    const hc = this.cfg.health ?? { port: DEFAULT_HEALTH_PORT };
    const host = hc.host ?? "0.0.0.0";
    const healthUp = (async () => {
      try {
        const { startHealthServer } = await import("./health.ts");
        this.health = await startHealthServer(host, hc.port, {
          live: () => this.live(),
          ready: () => this.ready(),
        });
      } catch (e) {
        this.failStartup(
          `health server cannot listen on ${host}:${hc.port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
      }
      this.log.info(
        `Health server listening on http://${host}:${this.health.port} (/live, /ready, /health)`,
        {
          host,
          port: this.health.port,
        },
      );
    })();
    await this.startMain(healthUp);
  }

  /** Spawn the main process (and find its PID file); ends in RUNNING, or exits. */
  private async startMain(healthUp?: Promise<void>): Promise<void> {
    if (this.stopping) {
      await healthUp;
      this.stoppedBeforeRunning();
    }
    const argv = this.cfg.main;
    const pidFile = this.cfg.pidFile;
    if (pidFile) rmSync(pidFile, { force: true, recursive: false, maxRetries: 0 });
    this.childExit = undefined;
    this.daemonPid = undefined;
    this.everReady = false;
    this.readyCache = undefined;
    this.mainStartedAt = performance.now();
    const child = spawn(argv[0], argv.slice(1), { stdio: "inherit", detached: true });
    this.child = child;
    // listen for its exit at once: it may end before the awaits below are over
    let resolveExit!: (e: MainExit) => void;
    this.exitP = new Promise<MainExit>((r) => {
      resolveExit = r;
    });
    let pidPhaseDone = !pidFile;
    child.once("exit", (code, signal) => {
      this.childExit = { code, signal };
      if (!pidFile || code !== 0 || signal) resolveExit(this.childExit);
      else void this.watchDaemon(child.pid!, () => pidPhaseDone, resolveExit);
    });
    const spawned = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      child.once("spawn", () => resolve(null));
      child.once("error", (e) => resolve(e));
    });
    await healthUp;
    if (spawned) this.failStartup(`cannot start main process ${argv[0]}: ${spawned.code ?? spawned.message}`);
    this.log.info(`Main process started: PID ${child.pid}: ${argv.join(" ")}`, { pid: child.pid, argv });
    if (pidFile) {
      let resolved = false;
      void this.exitP.then(() => {
        resolved = true;
      });
      for (let i = 0; i < 30 && !resolved; i++) {
        await sleep(100);
        const pid = readPidFile(pidFile);
        if (pid !== null && procAlive(pid)) {
          this.daemonPid = pid;
          break;
        }
      }
      pidPhaseDone = true;
      if (this.daemonPid)
        this.log.info(`PID file ${pidFile}: main process PID ${this.daemonPid}`, { pid: this.daemonPid });
      else if (!resolved) {
        this.failStartup(`PID file ${pidFile} did not appear (with a live PID) within 3 s`);
      }
    }
    void this.exitP.then((e) => this.onMainExit(e));
    if (this.stopping) {
      void this.shutdown(this.stopping);
      return;
    }
    if (this.childExit && !this.mainAlive()) return; // onMainExit takes over
    this.to("RUNNING");
    void this.watchReady();
  }

  /** pid-file mode after the spawned process exited 0: follow the PID from the file. */
  private async watchDaemon(childPid: number, phaseDone: () => boolean, resolve: (e: MainExit) => void) {
    while (!phaseDone()) await sleep(50);
    if (!this.daemonPid || this.daemonPid === childPid) return resolve(this.childExit!);
    while (procAlive(this.daemonPid)) await sleep(200);
    resolve({ code: null, signal: null, detail: `process ${this.daemonPid} from the PID file is gone` });
  }

  /** Poll readiness after start so that "Ready" is logged even when nobody asks. */
  private async watchReady(): Promise<void> {
    const gen = this.child;
    while (this.state === "RUNNING" && this.child === gen && !this.everReady) {
      await this.ready();
      const since = performance.now() - this.mainStartedAt;
      await sleep(since < 2000 ? 20 : since < 10_000 ? 200 : 1000);
    }
  }

  private markReady(detail: string): void {
    if (this.everReady) return;
    this.everReady = true;
    this.log.info(`Ready (${detail}; ${Math.round(performance.now() - this.mainStartedAt)} ms after start)`);
  }

  private exitCodeOf(e: MainExit): number {
    if (e.signal) return 128 + signum(e.signal);
    return e.code ?? 1;
  }

  private describeExit(e: MainExit): string {
    if (e.detail) return e.detail;
    return e.signal ? `was killed by signal ${e.signal}` : `exited with code ${e.code}`;
  }

  private async onMainExit(e: MainExit): Promise<void> {
    if (this.state === "SHUTTING_DOWN" || this.shutdownStarted) return;
    const pid = this.daemonPid ?? this.child?.pid;
    const code = this.exitCodeOf(e);
    if (code === 0) {
      this.log.info(`Main process PID ${pid} exited with code 0`, { pid, exitCode: 0 });
      this.finish(0, "EXITED");
    }
    this.log.error(`Main process PID ${pid} ${this.describeExit(e)}`, {
      pid,
      exitCode: e.code,
      signal: e.signal,
    });
    const r = this.cfg.restart;
    const max = r?.maxRestarts ?? 5;
    if (r?.policy === "on-failure" && this.restarts < max) {
      this.restarts++;
      const base = parseDuration(r.backoff ?? "1s");
      const delay = Math.min(base * 2 ** (this.restarts - 1), 60_000);
      this.log.warn(`Restarting main process in ${delay} ms (restart ${this.restarts} of ${max})`, {
        restart: this.restarts,
        delayMs: delay,
      });
      this.to("STARTING");
      await new Promise<void>((res) => {
        const tm = setTimeout(res, delay);
        this.stopCtl.signal.addEventListener(
          "abort",
          () => {
            clearTimeout(tm);
            res();
          },
          { once: true },
        );
      });
      if (this.stopping) {
        this.log.info("Shutdown requested while waiting to restart; not restarting");
        this.to("SHUTTING_DOWN");
        this.log.info("Shutdown complete", { exitCode: code });
        this.finish(code, "EXITED");
      }
      await this.startMain();
      return;
    }
    if (r?.policy === "on-failure") this.log.error(`Giving up after ${this.restarts} restart(s)`);
    this.log.error(`Exiting with the main process's code ${code}`, { exitCode: code });
    this.finish(code, "ERROR");
  }

  /** Graceful stop: not-ready → drain → forward the signal → grace → SIGKILL. */
  private async shutdown(sig: NodeJS.Signals): Promise<void> {
    if (this.shutdownStarted) return;
    this.shutdownStarted = true;
    this.to("SHUTTING_DOWN");
    const drainMs = parseDuration(this.cfg.shutdown?.drain ?? DEFAULT_DRAIN);
    const graceMs = parseDuration(this.cfg.shutdown?.grace ?? DEFAULT_GRACE);
    const exitP = this.exitP ?? Promise.resolve<MainExit>({ code: 0, signal: null });
    const exitedWithin = async (ms: number): Promise<boolean> => {
      if (!this.mainAlive()) return true;
      let tm: NodeJS.Timeout | undefined;
      const r = await Promise.race([
        exitP.then(() => true),
        new Promise<boolean>((res) => {
          tm = setTimeout(() => res(false), ms);
        }),
      ]);
      clearTimeout(tm);
      return r;
    };
    this.log.info(`Readiness is now 503 (not-ready)${drainMs > 0 ? `; draining for ${drainMs} ms` : ""}`, {
      drainMs,
    });
    if (drainMs > 0) await exitedWithin(drainMs);
    let forced = false;
    if (this.mainAlive()) {
      const pid = this.daemonPid ?? this.child?.pid;
      this.log.info(`Sending ${sig} to main process PID ${pid} (process group); grace ${graceMs} ms`, {
        signal: sig,
        pid,
        graceMs,
      });
      this.signalMain(sig);
      if (!(await exitedWithin(graceMs))) {
        this.log.warn(`Main process PID ${pid} did not exit within ${graceMs} ms; sending SIGKILL`);
        this.signalMain("SIGKILL");
        forced = true;
        await exitedWithin(5000);
      }
    }
    const e: MainExit = this.mainAlive()
      ? { code: null, signal: "SIGKILL", detail: "still alive after SIGKILL" }
      : this.childExit && (!this.daemonPid || this.daemonPid === this.child?.pid)
        ? this.childExit
        : { code: 0, signal: null, detail: "gone" };
    let code: number;
    if (forced) code = 128 + signum("SIGKILL");
    else if (e.signal === sig || e.code === 0 || e.code === 128 + signum(sig)) code = 0;
    else code = this.exitCodeOf(e);
    if (this.child)
      this.log.info(`Main process ${this.describeExit(e)}`, { exitCode: e.code, signal: e.signal });
    this.log.info(`Shutdown complete (exit code ${code})`, { exitCode: code });
    this.finish(code, "EXITED");
  }

  live(): Probe {
    return {
      ok: true,
      body: { state: this.state, uptimeMs: this.ms() },
    };
  }

  async ready(): Promise<Probe> {
    const pid = this.daemonPid ?? this.child?.pid ?? null;
    const running = this.mainAlive();
    const base = { state: this.state, main: { pid, running } };
    if (this.state !== "RUNNING")
      return {
        ok: false,
        body: { ...base, reason: this.state === "SHUTTING_DOWN" ? "shutting down" : `state ${this.state}` },
      };
    if (!running) return { ok: false, body: { ...base, reason: "main process not running" } };
    const check = this.cfg.health?.ready;
    if (!check) {
      this.markReady("main process running");
      return { ok: true, body: { ...base, check: "main process running" } };
    }
    const now = performance.now();
    const c = this.readyCache;
    let r: { ok: boolean; detail: string };
    // a pass is trusted for 1 s; a failure is not cached (concurrent requests share one check),
    // so /ready turns 200 as soon as the application is ready
    if (c?.probe.ok && now - c.at < 1000) r = c.probe;
    else {
      if (!this.checking) {
        const timeout = parseDuration(check.timeout ?? "1s");
        this.checking = import("./checks.ts")
          .then((m) => m.runCheck(check, timeout))
          .then((probe) => {
            this.readyCache = { at: performance.now(), probe };
            return probe;
          })
          .finally(() => {
            this.checking = undefined;
          });
      }
      r = await this.checking;
    }
    // the state may have changed while the check ran
    if (this.state !== "RUNNING")
      return { ok: false, body: { ...base, state: this.state, reason: "shutting down" } };
    if (r.ok) this.markReady(r.detail);
    return r.ok
      ? { ok: true, body: { ...base, check: r.detail } }
      : { ok: false, body: { ...base, reason: "readiness check failed", check: r.detail } };
  }
}

function readPidFile(path: string): number | null {
  try {
    const m = /^\s*(\d+)\s*$/.exec(readFileSync(path, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export async function runInit(argv: string[]): Promise<void> {
  const init = new Init();
  init.installSignals();
  // a bug in init must not leave the main process running unsupervised
  const crash = (e: unknown) => init.crash(e);
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
  await init.run(argv);
}
