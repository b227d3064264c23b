/**
 * shellfree-init configuration: the JSON form of a spec's `init:` section (kebab-case keys, as
 * in the YAML), validated strictly. Pure: no I/O, no imports, so the builder can import it to
 * validate a spec and the bundled init can use it inside an image.
 *
 * Every problem is reported as ONE line naming the field, e.g.
 *   `/etc/shellfree/init.json: health.port: must be an integer from 0 to 65535, got "abc"`.
 *
 * This is the one schema: the native init (init/config.go) re-checks the same JSON at start and
 * must agree field by field; scripts/init-contract.ts turns cases of this validator into the
 * fixtures its Go tests read (init/testdata/contract).
 */
import { portableRegexProblem } from "./regex.ts";

export const INIT_JS_PATH = "/usr/lib/shellfree/init.js";
export const INIT_CONFIG_PATH = "/etc/shellfree/init.json";
export const DEFAULT_HEALTH_PORT = 8080;
export const DEFAULT_GRACE = "30s";
export const DEFAULT_DRAIN = "0s";
/** Every duration is at most this long (a timer of weeks is a typo, and Node's overflow at 24.8 days). */
export const MAX_DURATION = "24h";
export const MAX_DURATION_MS = 86_400_000;
/** Check defaults (Pebble's): run every 10s, time out after 3s (never longer than the period), 3 failures. */
export const DEFAULT_CHECK_PERIOD = "10s";
export const DEFAULT_CHECK_TIMEOUT = "3s";
export const DEFAULT_CHECK_THRESHOLD = 3;

export type ReadyCheck = ({ tcp: string } | { http: string } | { exec: string[] }) & { timeout?: string };

/** A named periodic check (`health.checks.NAME`), Pebble's model: level, period, timeout, threshold. */
export type HealthCheck = ({ tcp: string } | { http: string } | { exec: string[] }) & {
  level: "ready" | "alive";
  period: string;
  timeout: string;
  threshold: number;
};

/**
 * Conditions a task may carry (all must hold, else the task is skipped): `when-exists: PATH`,
 * `when-missing: PATH`, `when-file-matches: {path, regex}` (a line of the file matches).
 * merge-pem's `when-exists: true|false` (skip when its inputs are missing) stays `whenExists`.
 */
export interface TaskConditions {
  whenExistsPath?: string;
  whenMissing?: string;
  whenFileMatches?: { path: string; regex: string };
}

export type InitTask = (
  | { kind: "validate"; argv: string[]; timeout?: string }
  | { kind: "ensure-dir"; path: string; writable: boolean; create: boolean; timeout?: string }
  | { kind: "merge-pem"; cert: string; key: string; out: string; whenExists: boolean; timeout?: string }
  | { kind: "run"; argv: string[]; timeout?: string }
  | { kind: "wait-for"; tcp?: string; http?: string; timeout?: string }
) &
  TaskConditions;

export interface InitConfig {
  tasks: InitTask[];
  main: string[];
  /** the main process's name in log lines (default: the file name of main[0]) */
  mainName?: string;
  pidFile?: string;
  restart?: { policy: "no" | "on-failure"; maxRestarts?: number; backoff?: string };
  health?: { port: number; host?: string; ready?: ReadyCheck; checks?: Record<string, HealthCheck> };
  shutdown?: { grace: string; drain: string; signal?: string };
  log?: { format: "text" | "json" };
}

/** Signals a stop signal may name (the ones an application uses for a graceful stop). */
export const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH"];

export class InitConfigError extends Error {
  readonly field: string;
  constructor(source: string, field: string, problem: string) {
    super(`${source}: ${field ? `${field}: ` : ""}${problem}`.replace(/[\r\n]+/g, " "));
    this.name = "InitConfigError";
    this.field = field;
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

/** "500ms", "30s", "1m", "1m30s", "1.5s" → milliseconds; null when malformed (no bound here). */
export function durationMs(s: string): number | null {
  if (typeof s !== "string" || !DURATION_RE.test(s)) return null;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNITS[m[2]];
  return Number.isFinite(total) ? Math.round(total) : null;
}

/** Like durationMs, but throws (for values parseInitConfig already checked). */
export function parseDuration(s: string): number {
  const ms = durationMs(s);
  if (ms === null) throw new Error(`bad duration ${JSON.stringify(s)} (expected e.g. 500ms, 30s, 1m)`);
  return ms;
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

type Obj = Record<string, unknown>;

class Checker {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
  fail(field: string, problem: string): never {
    throw new InitConfigError(this.source, field, problem);
  }
  obj(v: unknown, field: string, allowed: string[]): Obj {
    if (typeof v !== "object" || v === null || Array.isArray(v))
      this.fail(field, `must be a mapping, got ${show(v)}`);
    for (const k of Object.keys(v as Obj)) {
      if (!allowed.includes(k))
        this.fail(field ? `${field}.${k}` : k, `unknown key (allowed: ${allowed.join(", ")})`);
    }
    return v as Obj;
  }
  str(v: unknown, field: string): string {
    if (typeof v !== "string" || v === "") this.fail(field, `must be a non-empty string, got ${show(v)}`);
    if (v.includes("\0")) this.fail(field, "must not contain NUL");
    return v;
  }
  absPath(v: unknown, field: string): string {
    const s = this.str(v, field);
    if (!s.startsWith("/")) this.fail(field, `must be an absolute path, got ${show(s)}`);
    return s;
  }
  bool(v: unknown, field: string): boolean {
    if (typeof v !== "boolean") this.fail(field, `must be true or false, got ${show(v)}`);
    return v;
  }
  argv(v: unknown, field: string): string[] {
    if (!Array.isArray(v) || v.length === 0)
      this.fail(field, `must be a non-empty list of strings (argv, no shell), got ${show(v)}`);
    return v.map((a, i) => {
      if (typeof a !== "string") this.fail(`${field}[${i}]`, `must be a string, got ${show(a)}`);
      if (i === 0 && a === "") this.fail(`${field}[0]`, "must name a program");
      if (a.includes("\0")) this.fail(`${field}[${i}]`, "must not contain NUL");
      return a;
    });
  }
  duration(v: unknown, field: string, positive = false): string {
    const ms = typeof v === "string" ? durationMs(v) : null;
    if (ms === null) this.fail(field, `must be a duration like 500ms, 30s or 1m, got ${show(v)}`);
    if (ms > MAX_DURATION_MS) this.fail(field, `must be at most ${MAX_DURATION}, got ${show(v)}`);
    if (positive && ms === 0) this.fail(field, `must be longer than 0, got ${show(v)}`);
    return v as string;
  }
  int(v: unknown, field: string, min: number, max: number): number {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
      this.fail(field, `must be an integer from ${min} to ${max}, got ${show(v)}`);
    return v;
  }
  hostPort(v: unknown, field: string): string {
    const s = this.str(v, field);
    if (parseHostPort(s) === null)
      this.fail(field, `must be "host:port" with a port from 1 to 65535, got ${show(s)}`);
    return s;
  }
  url(v: unknown, field: string): string {
    const s = this.str(v, field);
    if (/^https:/i.test(s))
      this.fail(
        field,
        `https is not supported (shellfree-init has no TLS client); use http:// or tcp, got ${show(s)}`,
      );
    if (parseHttpUrl(s) === null)
      this.fail(field, `must be an http:// URL (http://host[:port][/path]), got ${show(s)}`);
    return s;
  }
  name(v: unknown, field: string, re: RegExp, what: string): string {
    const s = this.str(v, field);
    if (!re.test(s)) this.fail(field, `must be ${what}, got ${show(s)}`);
    return s;
  }
}

/** Hosts in addresses and URLs: a name or IPv4 address, or an IPv6 address in brackets. */
const HOST_RE = "(?:\\[([0-9A-Fa-f:.]+)\\]|([A-Za-z0-9._-]+))";
const HOST_PORT_RE = new RegExp(`^${HOST_RE}:([0-9]{1,5})$`);
const HTTP_URL_RE = new RegExp(`^http://${HOST_RE}(?::([0-9]{1,5}))?(/[!-~]*)?$`);

/** "http://host[:port][/path]" (printable ASCII, no fragment) → parts; null when malformed. */
export function parseHttpUrl(s: string): { host: string; port: number; path: string } | null {
  const m = HTTP_URL_RE.exec(s);
  if (!m || (m[4] ?? "").includes("#")) return null;
  const port = m[3] === undefined ? 80 : Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2], port, path: m[4] ?? "/" };
}

/** "host:port", "[::1]:80" → {host, port}; null when malformed. */
export function parseHostPort(s: string): { host: string; port: number } | null {
  const m = HOST_PORT_RE.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2], port };
}

const TASK_KINDS = ["validate", "ensure-dir", "merge-pem", "run", "wait-for"] as const;
const CONDITION_KEYS = ["when-exists", "when-missing", "when-file-matches"];

/** The conditions every task kind may carry (merge-pem's `when-exists` may also be true/false). */
function parseConditions(c: Checker, o: Obj, field: string, t: InitTask): void {
  const we = o["when-exists"];
  if (we !== undefined) {
    if (t.kind === "merge-pem" && typeof we === "boolean") t.whenExists = we;
    else if (t.kind === "merge-pem" && typeof we !== "string")
      c.fail(`${field}.when-exists`, `must be true, false or an absolute path, got ${show(we)}`);
    else t.whenExistsPath = c.absPath(we, `${field}.when-exists`);
  }
  if (o["when-missing"] !== undefined) t.whenMissing = c.absPath(o["when-missing"], `${field}.when-missing`);
  if (o["when-file-matches"] !== undefined) {
    const f = `${field}.when-file-matches`;
    const m = c.obj(o["when-file-matches"], f, ["path", "regex"]);
    for (const k of ["path", "regex"]) if (m[k] === undefined) c.fail(`${f}.${k}`, "is required");
    const path = c.absPath(m.path, `${f}.path`);
    const regex = c.str(m.regex, `${f}.regex`);
    const problem = portableRegexProblem(regex);
    if (problem !== null)
      c.fail(
        `${f}.regex`,
        `must be a regular expression in shellfree's portable subset: ${problem}, got ${show(regex)}`,
      );
    t.whenFileMatches = { path, regex };
  }
}

function parseTask(c: Checker, raw: unknown, field: string): InitTask {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    c.fail(field, `must be a mapping with one of ${TASK_KINDS.join(", ")}, got ${show(raw)}`);
  const kinds = Object.keys(raw).filter((k) => (TASK_KINDS as readonly string[]).includes(k));
  if (kinds.length !== 1)
    c.fail(
      field,
      kinds.length === 0
        ? `needs one of ${TASK_KINDS.join(", ")} (keys: ${Object.keys(raw).join(", ") || "none"})`
        : `has several task kinds (${kinds.join(", ")}); use one per task`,
    );
  const kind = kinds[0] as (typeof TASK_KINDS)[number];
  const f = `${field}.${kind}`;
  const allowed = (extra: string[]) => [kind, ...extra, ...CONDITION_KEYS, "timeout"];
  let t: InitTask;
  let o: Obj;
  switch (kind) {
    case "validate":
      o = c.obj(raw, field, allowed([]));
      t = { kind, argv: c.argv(o.validate, f) };
      break;
    case "ensure-dir":
      o = c.obj(raw, field, allowed(["writable", "create"]));
      t = {
        kind,
        path: c.absPath(o["ensure-dir"], f),
        writable: o.writable === undefined ? true : c.bool(o.writable, `${field}.writable`),
        create: o.create === undefined ? true : c.bool(o.create, `${field}.create`),
      };
      break;
    case "merge-pem": {
      o = c.obj(raw, field, allowed([]));
      const m = c.obj(o["merge-pem"], f, ["cert", "key", "out"]);
      for (const k of ["cert", "key", "out"]) if (m[k] === undefined) c.fail(`${f}.${k}`, "is required");
      t = {
        kind,
        cert: c.absPath(m.cert, `${f}.cert`),
        key: c.absPath(m.key, `${f}.key`),
        out: c.absPath(m.out, `${f}.out`),
        whenExists: false,
      };
      break;
    }
    case "run":
      o = c.obj(raw, field, allowed([]));
      t = { kind, argv: c.argv(o.run, f) };
      break;
    case "wait-for": {
      o = c.obj(raw, field, allowed([]));
      const w = c.obj(o["wait-for"], f, ["tcp", "http", "timeout"]);
      if ((w.tcp === undefined) === (w.http === undefined)) c.fail(f, "needs exactly one of tcp, http");
      t = { kind };
      if (w.tcp !== undefined) t.tcp = c.hostPort(w.tcp, `${f}.tcp`);
      if (w.http !== undefined) t.http = c.url(w.http, `${f}.http`);
      if (w.timeout !== undefined && o.timeout !== undefined)
        c.fail(`${f}.timeout`, "given twice (inside wait-for and beside it); keep one");
      if (w.timeout !== undefined) t.timeout = c.duration(w.timeout, `${f}.timeout`);
      break;
    }
  }
  parseConditions(c, o, field, t);
  if (o.timeout !== undefined) t.timeout = c.duration(o.timeout, `${field}.timeout`);
  return t;
}

function parseReady(c: Checker, raw: unknown, field: string): ReadyCheck {
  const o = c.obj(raw, field, ["tcp", "http", "exec", "timeout"]);
  const kinds = ["tcp", "http", "exec"].filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) c.fail(field, "needs exactly one of tcp, http, exec");
  let r: ReadyCheck;
  if (o.tcp !== undefined) r = { tcp: c.hostPort(o.tcp, `${field}.tcp`) };
  else if (o.http !== undefined) r = { http: c.url(o.http, `${field}.http`) };
  else r = { exec: c.argv(o.exec, `${field}.exec`) };
  if (o.timeout !== undefined) r.timeout = c.duration(o.timeout, `${field}.timeout`);
  return r;
}

const CHECK_NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const MAIN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function parseCheck(c: Checker, raw: unknown, field: string): HealthCheck {
  const o = c.obj(raw, field, ["level", "period", "timeout", "threshold", "tcp", "http", "exec"]);
  const kinds = ["tcp", "http", "exec"].filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) c.fail(field, "needs exactly one of tcp, http, exec");
  let level: "ready" | "alive" = "ready";
  if (o.level !== undefined) {
    if (o.level !== "ready" && o.level !== "alive")
      c.fail(`${field}.level`, `must be "ready" or "alive", got ${show(o.level)}`);
    level = o.level;
  }
  const period =
    o.period === undefined ? DEFAULT_CHECK_PERIOD : c.duration(o.period, `${field}.period`, true);
  let timeout: string;
  if (o.timeout === undefined)
    timeout = durationMs(period)! < durationMs(DEFAULT_CHECK_TIMEOUT)! ? period : DEFAULT_CHECK_TIMEOUT;
  else {
    timeout = c.duration(o.timeout, `${field}.timeout`, true);
    if (durationMs(timeout)! > durationMs(period)!)
      c.fail(`${field}.timeout`, `must not be longer than the period (${period}), got ${show(o.timeout)}`);
  }
  const threshold =
    o.threshold === undefined ? DEFAULT_CHECK_THRESHOLD : c.int(o.threshold, `${field}.threshold`, 1, 1000);
  const common = { level, period, timeout, threshold };
  if (o.tcp !== undefined) return { tcp: c.hostPort(o.tcp, `${field}.tcp`), ...common };
  if (o.http !== undefined) return { http: c.url(o.http, `${field}.http`), ...common };
  return { exec: c.argv(o.exec, `${field}.exec`), ...common };
}

function parseChecks(c: Checker, raw: unknown, field: string): Record<string, HealthCheck> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    c.fail(field, `must be a mapping of check names to checks, got ${show(raw)}`);
  const out: Record<string, HealthCheck> = {};
  for (const [name, v] of Object.entries(raw)) {
    if (!CHECK_NAME_RE.test(name))
      c.fail(`${field}.${name}`, "a check name is 1 to 40 of a-z, 0-9 and - (not first or last)");
    out[name] = parseCheck(c, v, `${field}.${name}`);
  }
  return out;
}

/**
 * Validate the JSON form of an `init:` section and return it normalized. Throws an
 * InitConfigError whose message is one line: `<source>: <field>: <problem>`.
 */
export function parseInitConfig(input: unknown, source = "init config"): InitConfig {
  const c: Checker = new Checker(source);
  const o = c.obj(input, "", [
    "tasks",
    "main",
    "main-name",
    "pid-file",
    "restart",
    "health",
    "shutdown",
    "log",
  ]);
  if (o.main === undefined) c.fail("main", "is required: the command to supervise, as a list (argv)");
  const cfg: InitConfig = { tasks: [], main: c.argv(o.main, "main") };
  if (o["main-name"] !== undefined)
    cfg.mainName = c.name(
      o["main-name"],
      "main-name",
      MAIN_NAME_RE,
      "1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit",
    );
  if (o.tasks !== undefined) {
    if (!Array.isArray(o.tasks)) c.fail("tasks", `must be a list, got ${show(o.tasks)}`);
    cfg.tasks = o.tasks.map((t, i) => parseTask(c, t, `tasks[${i}]`));
  }
  if (o["pid-file"] !== undefined) cfg.pidFile = c.absPath(o["pid-file"], "pid-file");
  if (o.restart !== undefined) {
    const r = c.obj(o.restart, "restart", ["policy", "max-restarts", "backoff"]);
    if (r.policy !== "no" && r.policy !== "on-failure")
      c.fail("restart.policy", `must be "no" or "on-failure", got ${show(r.policy)}`);
    cfg.restart = { policy: r.policy };
    if (r["max-restarts"] !== undefined)
      cfg.restart.maxRestarts = c.int(r["max-restarts"], "restart.max-restarts", 0, 1_000_000);
    if (r.backoff !== undefined) cfg.restart.backoff = c.duration(r.backoff, "restart.backoff");
  }
  if (o.health !== undefined) {
    const h = c.obj(o.health, "health", ["port", "host", "ready", "checks"]);
    cfg.health = {
      port: h.port === undefined ? DEFAULT_HEALTH_PORT : c.int(h.port, "health.port", 0, 65535),
    };
    if (h.host !== undefined) cfg.health.host = c.str(h.host, "health.host");
    if (h.ready !== undefined) cfg.health.ready = parseReady(c, h.ready, "health.ready");
    if (h.checks !== undefined) cfg.health.checks = parseChecks(c, h.checks, "health.checks");
  }
  if (o.shutdown !== undefined) {
    const s = c.obj(o.shutdown, "shutdown", ["grace", "drain", "signal"]);
    cfg.shutdown = {
      grace: s.grace === undefined ? DEFAULT_GRACE : c.duration(s.grace, "shutdown.grace"),
      drain: s.drain === undefined ? DEFAULT_DRAIN : c.duration(s.drain, "shutdown.drain"),
    };
    if (s.signal !== undefined) {
      const raw = c.str(s.signal, "shutdown.signal");
      const sig = /^[A-Za-z0-9]+$/.test(raw) ? raw.toUpperCase() : "";
      const name = sig.startsWith("SIG") ? sig : `SIG${sig}`;
      if (!STOP_SIGNALS.includes(name))
        c.fail("shutdown.signal", `must be one of ${STOP_SIGNALS.join(", ")}, got ${show(s.signal)}`);
      cfg.shutdown.signal = name;
    }
  }
  if (o.log !== undefined) {
    const l = c.obj(o.log, "log", ["format"]);
    if (l.format !== "text" && l.format !== "json")
      c.fail("log.format", `must be "text" or "json", got ${show(l.format)}`);
    cfg.log = { format: l.format };
  }
  return cfg;
}

/**
 * The canonical JSON the builder writes to /etc/shellfree/init.json: kebab-case keys in a fixed
 * order, so the same config gives the same bytes. parseInitConfig(JSON.parse(x)) round-trips.
 */
export function toInitJson(cfg: InitConfig): string {
  const tasks = cfg.tasks.map((t) => {
    const o: Obj = {};
    switch (t.kind) {
      case "validate":
        o.validate = t.argv;
        break;
      case "ensure-dir":
        o["ensure-dir"] = t.path;
        o.writable = t.writable;
        o.create = t.create;
        break;
      case "merge-pem":
        o["merge-pem"] = { cert: t.cert, key: t.key, out: t.out };
        o["when-exists"] = t.whenExistsPath ?? t.whenExists;
        break;
      case "run":
        o.run = t.argv;
        break;
      case "wait-for":
        o["wait-for"] = t.tcp !== undefined ? { tcp: t.tcp } : { http: t.http };
        break;
    }
    if (t.whenExistsPath !== undefined) o["when-exists"] = t.whenExistsPath;
    if (t.whenMissing !== undefined) o["when-missing"] = t.whenMissing;
    if (t.whenFileMatches !== undefined)
      o["when-file-matches"] = { path: t.whenFileMatches.path, regex: t.whenFileMatches.regex };
    if (t.timeout !== undefined) o.timeout = t.timeout;
    return o;
  });
  const out: Obj = { main: cfg.main };
  if (cfg.mainName !== undefined) out["main-name"] = cfg.mainName;
  out.tasks = tasks;
  if (cfg.pidFile !== undefined) out["pid-file"] = cfg.pidFile;
  if (cfg.restart) {
    const r: Obj = { policy: cfg.restart.policy };
    if (cfg.restart.maxRestarts !== undefined) r["max-restarts"] = cfg.restart.maxRestarts;
    if (cfg.restart.backoff !== undefined) r.backoff = cfg.restart.backoff;
    out.restart = r;
  }
  if (cfg.health) {
    const h: Obj = { port: cfg.health.port };
    if (cfg.health.host !== undefined) h.host = cfg.health.host;
    if (cfg.health.ready) {
      const rc = cfg.health.ready;
      const r: Obj = "tcp" in rc ? { tcp: rc.tcp } : "http" in rc ? { http: rc.http } : { exec: rc.exec };
      if (rc.timeout !== undefined) r.timeout = rc.timeout;
      h.ready = r;
    }
    if (cfg.health.checks) {
      const checks: Obj = {};
      for (const [name, ck] of Object.entries(cfg.health.checks)) {
        const k: Obj = { level: ck.level, period: ck.period, timeout: ck.timeout, threshold: ck.threshold };
        if ("tcp" in ck) k.tcp = ck.tcp;
        else if ("http" in ck) k.http = ck.http;
        else k.exec = ck.exec;
        checks[name] = k;
      }
      h.checks = checks;
    }
    out.health = h;
  }
  if (cfg.shutdown) {
    const s: Obj = { grace: cfg.shutdown.grace, drain: cfg.shutdown.drain };
    if (cfg.shutdown.signal !== undefined) s.signal = cfg.shutdown.signal;
    out.shutdown = s;
  }
  if (cfg.log) out.log = { format: cfg.log.format };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/**
 * Environment overrides, applied after the file: SHELLFREE_HEALTH_PORT, SHELLFREE_HEALTH_HOST,
 * SHELLFREE_GRACE, SHELLFREE_DRAIN, SHELLFREE_LOG_FORMAT, SHELLFREE_RESTART (no|on-failure).
 * A bad value is a one-line error naming the variable.
 */
export function applyEnvOverrides(cfg: InitConfig, env: Record<string, string | undefined>): InitConfig {
  const c: Checker = new Checker("environment");
  const out: InitConfig = { ...cfg };
  const port = env.SHELLFREE_HEALTH_PORT;
  if (port !== undefined && port !== "") {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
      c.fail("SHELLFREE_HEALTH_PORT", `must be an integer from 0 to 65535, got ${show(port)}`);
    out.health = { ...(cfg.health ?? { port: DEFAULT_HEALTH_PORT }), port: Number(port) };
  }
  const host = env.SHELLFREE_HEALTH_HOST;
  if (host !== undefined && host !== "")
    out.health = { ...(out.health ?? { port: DEFAULT_HEALTH_PORT }), host };
  for (const [name, key] of [
    ["SHELLFREE_GRACE", "grace"],
    ["SHELLFREE_DRAIN", "drain"],
  ] as const) {
    const v = env[name];
    if (v === undefined || v === "") continue;
    c.duration(v, name);
    out.shutdown = { ...(out.shutdown ?? { grace: DEFAULT_GRACE, drain: DEFAULT_DRAIN }), [key]: v };
  }
  const fmt = env.SHELLFREE_LOG_FORMAT;
  if (fmt !== undefined && fmt !== "") {
    if (fmt !== "text" && fmt !== "json")
      c.fail("SHELLFREE_LOG_FORMAT", `must be "text" or "json", got ${show(fmt)}`);
    out.log = { format: fmt };
  }
  const rp = env.SHELLFREE_RESTART;
  if (rp !== undefined && rp !== "") {
    if (rp !== "no" && rp !== "on-failure")
      c.fail("SHELLFREE_RESTART", `must be "no" or "on-failure", got ${show(rp)}`);
    out.restart = { ...(cfg.restart ?? {}), policy: rp };
  }
  return out;
}
