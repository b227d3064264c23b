/**
 * shellfree-init configuration: the JSON form of a spec's `init:` section (kebab-case keys, as
 * in the YAML), validated strictly. Pure: no I/O, so the builder and `shellfree init-config`
 * check specs with it; the native init re-checks what the builder wrote at start.
 *
 * Every problem is reported as ONE line naming the field, e.g.
 *   `/etc/shellfree/init.json: health.port: must be an integer from 0 to 65535, got "abc"`.
 *
 * This is the one schema: the native init (init/config.go) re-checks the same JSON at start and
 * must agree field by field; scripts/init-contract.ts turns cases of this validator into the
 * fixtures its Go tests read (init/testdata/contract).
 */
import { parseIPv6, parseListenTarget } from "./address.ts";
import {
  expandPieces,
  type Piece,
  parseTemplate,
  TemplateProblem,
  templateNames,
  UnsetVariable,
  withDefaults,
} from "./expand.ts";
import { portableRegexProblem } from "./regex.ts";

export const INIT_CONFIG_PATH = "/etc/shellfree/init.json";
export const DEFAULT_HEALTH_PORT = 8080;
export const DEFAULT_GRACE = "30s";
export const DEFAULT_DRAIN = "0s";
/** Every duration is at most this long (a timer of weeks is a typo). */
export const MAX_DURATION = "24h";
export const MAX_DURATION_MS = 86_400_000;
/** Check defaults (Pebble's): run every 10s, time out after 3s (never longer than the period), 3 failures. */
export const DEFAULT_CHECK_PERIOD = "10s";
export const DEFAULT_CHECK_TIMEOUT = "3s";
export const DEFAULT_CHECK_THRESHOLD = 3;

/**
 * What a check does: connect (`tcp`), GET (`http`), run a command (`exec`), or look for a socket
 * in LISTEN state in the init's network namespace without connecting (`listening`: "PORT" or
 * "ADDRESS:PORT", read from /proc/net/tcp and tcp6).
 */
export type Probe = { tcp: string } | { http: string } | { exec: string[] } | { listening: string };

export type ReadyCheck = Probe & { timeout?: string };

/** A named periodic check (`health.checks.NAME`), Pebble's model: level, period, timeout, threshold. */
export type HealthCheck = Probe & {
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
  readonly problem: string;
  constructor(source: string, field: string, problem: string) {
    super(`${source}: ${field ? `${field}: ` : ""}${problem}`.replace(/[\r\n]+/g, " "));
    this.name = "InitConfigError";
    this.field = field;
    this.problem = problem;
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

/** Looks a variable up in the init's environment: undefined when it is not set. */
export type Lookup = (name: string) => string | undefined;

/** " (from RAW with A unset, B="x")": where a checked value came from, for messages. */
function fromTemplate(raw: string, pieces: Piece[], lookup: Lookup): string {
  const vars = templateNames(pieces).map((n) => {
    const v = lookup(n);
    return v === undefined ? `${n} unset` : `${n}=${show(v)}`;
  });
  return ` (from ${show(raw)}${vars.length > 0 ? ` with ${vars.join(", ")}` : ""})`;
}

const unset: Lookup = () => undefined;

/** A check of a string value: calls c.fail naming the field when it is wrong. */
type ValueCheck = (c: Checker, s: string, field: string) => void;

const programValue: ValueCheck = (c, s, field) => {
  if (s === "") c.fail(field, "must name a program");
};
const pathValue: ValueCheck = (c, s, field) => {
  c.str(s, field);
  if (!s.startsWith("/")) c.fail(field, `must be an absolute path, got ${show(s)}`);
};
const hostPortValue: ValueCheck = (c, s, field) => {
  c.str(s, field);
  if (parseHostPort(s) === null)
    c.fail(field, `must be "host:port" with a port from 1 to 65535, got ${show(s)}`);
};
const urlValue: ValueCheck = (c, s, field) => {
  c.str(s, field);
  if (/^https:/i.test(s))
    c.fail(
      field,
      `https is not supported (shellfree-init has no TLS client); use http:// or tcp, got ${show(s)}`,
    );
  if (parseHttpUrl(s) === null)
    c.fail(field, `must be an http:// URL (http://host[:port][/path]), got ${show(s)}`);
};
const LISTEN_FORM =
  'must be "PORT" or "ADDRESS:PORT" (an IPv4 address or [IPv6]; no names) with a port from 1 to 65535';
const listenValue: ValueCheck = (c, s, field) => {
  c.str(s, field);
  if (parseListenTarget(s) === null) c.fail(field, `${LISTEN_FORM}, got ${show(s)}`);
};

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
  /** The pieces of a string that may hold ${...}; a malformed one fails naming the field. */
  template(s: string, field: string): Piece[] {
    try {
      return parseTemplate(s);
    } catch (e) {
      if (e instanceof TemplateProblem) this.fail(field, `${e.message}, got ${show(s)}`);
      throw e;
    }
  }
  /** Runs check on a value made from the template raw; a failure says where it came from. */
  derived(raw: string, pieces: Piece[], lookup: Lookup, check: () => void): void {
    try {
      check();
    } catch (e) {
      if (!(e instanceof InitConfigError)) throw e;
      throw new InitConfigError(this.source, e.field, e.problem + fromTemplate(raw, pieces, lookup));
    }
  }
  /**
   * A string the init expands, at build time: its syntax, then `check` on what is known before
   * run time (every variable unset): all of it when each variable has a default; otherwise, for
   * a path, that the text before the first `${NAME}` without a default is empty or starts with
   * "/" (the rest is checked after expansion, at start).
   */
  expandable(raw: string, field: string, check: ValueCheck, isPath = false): string {
    if (!raw.includes("$")) {
      check(this, raw, field);
      return raw;
    }
    const pieces = this.template(raw, field);
    const d = withDefaults(pieces);
    if (d.complete) this.derived(raw, pieces, unset, () => check(this, d.known, field));
    else if (isPath && d.known !== "" && !d.known.startsWith("/"))
      this.derived(raw, pieces, unset, () =>
        this.fail(field, `must be an absolute path, got ${show(d.shown)}`),
      );
    return raw;
  }
  /** A string the init expands, at start: its value from the environment, checked again. */
  expand(raw: string, field: string, lookup: Lookup, check?: ValueCheck): string {
    if (!raw.includes("$")) return raw;
    const pieces = this.template(raw, field);
    let value: string;
    try {
      value = expandPieces(pieces, lookup);
    } catch (e) {
      if (e instanceof UnsetVariable) this.fail(field, e.message);
      throw e;
    }
    if (check) this.derived(raw, pieces, lookup, () => check(this, value, field));
    return value;
  }
  absPath(v: unknown, field: string): string {
    return this.expandable(this.str(v, field), field, pathValue, true);
  }
  bool(v: unknown, field: string): boolean {
    if (typeof v !== "boolean") this.fail(field, `must be true or false, got ${show(v)}`);
    return v;
  }
  /** A command (no shell); its elements are expanded unless `literal` (a command line's). */
  argv(v: unknown, field: string, literal = false): string[] {
    if (!Array.isArray(v) || v.length === 0)
      this.fail(field, `must be a non-empty list of strings (argv, no shell), got ${show(v)}`);
    return v.map((a, i) => {
      const f = `${field}[${i}]`;
      if (typeof a !== "string") this.fail(f, `must be a string, got ${show(a)}`);
      if (i === 0 && a === "") this.fail(f, "must name a program");
      if (a.includes("\0")) this.fail(f, "must not contain NUL");
      if (literal) return a;
      if (i === 0) return this.expandable(a, f, programValue);
      if (a.includes("$")) this.template(a, f);
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
    return this.expandable(this.str(v, field), field, hostPortValue);
  }
  url(v: unknown, field: string): string {
    return this.expandable(this.str(v, field), field, urlValue);
  }
  /** "PORT" or "ADDRESS:PORT"; a bare port may be a number (YAML's `listening: 3128`). */
  listening(v: unknown, field: string): string {
    if (typeof v === "number") {
      if (!Number.isInteger(v) || v < 1 || v > 65535) this.fail(field, `${LISTEN_FORM}, got ${show(v)}`);
      return String(v);
    }
    return this.expandable(this.str(v, field), field, listenValue);
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
  if (m[1] !== undefined && parseIPv6(m[1]) === null) return null;
  const port = m[3] === undefined ? 80 : Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2], port, path: m[4] ?? "/" };
}

/** "host:port", "[::1]:80" → {host, port}; null when malformed. */
export function parseHostPort(s: string): { host: string; port: number } | null {
  const m = HOST_PORT_RE.exec(s);
  if (!m) return null;
  if (m[1] !== undefined && parseIPv6(m[1]) === null) return null;
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

const PROBE_KINDS = ["tcp", "http", "exec", "listening"];

/** The probe of a check: exactly one of tcp, http, exec, listening. */
function parseProbe(c: Checker, o: Obj, field: string): Probe {
  const kinds = PROBE_KINDS.filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) c.fail(field, `needs exactly one of ${PROBE_KINDS.join(", ")}`);
  if (o.tcp !== undefined) return { tcp: c.hostPort(o.tcp, `${field}.tcp`) };
  if (o.http !== undefined) return { http: c.url(o.http, `${field}.http`) };
  if (o.exec !== undefined) return { exec: c.argv(o.exec, `${field}.exec`) };
  return { listening: c.listening(o.listening, `${field}.listening`) };
}

function parseReady(c: Checker, raw: unknown, field: string): ReadyCheck {
  const o = c.obj(raw, field, [...PROBE_KINDS, "timeout"]);
  const r: ReadyCheck = parseProbe(c, o, field);
  if (o.timeout !== undefined) r.timeout = c.duration(o.timeout, `${field}.timeout`);
  return r;
}

const CHECK_NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const MAIN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function parseCheck(c: Checker, raw: unknown, field: string): HealthCheck {
  const o = c.obj(raw, field, ["level", "period", "timeout", "threshold", ...PROBE_KINDS]);
  const kinds = PROBE_KINDS.filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) c.fail(field, `needs exactly one of ${PROBE_KINDS.join(", ")}`);
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
  return { ...parseProbe(c, o, field), level, period, timeout, threshold };
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
 * InitConfigError whose message is one line: `<source>: <field>: <problem>`. `literalMain`:
 * `main` came from the init's command line, which is taken as it is (never expanded).
 */
export function parseInitConfig(
  input: unknown,
  source = "init config",
  opts: { literalMain?: boolean } = {},
): InitConfig {
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
  const cfg: InitConfig = { tasks: [], main: c.argv(o.main, "main", opts.literalMain) };
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

function probeJson(p: Probe): Obj {
  if ("tcp" in p) return { tcp: p.tcp };
  if ("http" in p) return { http: p.http };
  if ("exec" in p) return { exec: p.exec };
  return { listening: p.listening };
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
      const r: Obj = probeJson(rc);
      if (rc.timeout !== undefined) r.timeout = rc.timeout;
      h.ready = r;
    }
    if (cfg.health.checks) {
      const checks: Obj = {};
      for (const [name, ck] of Object.entries(cfg.health.checks)) {
        checks[name] = {
          level: ck.level,
          period: ck.period,
          timeout: ck.timeout,
          threshold: ck.threshold,
          ...probeJson(ck),
        };
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

/**
 * Expands `${NAME}` and `${NAME:-default}` (src/init/expand.ts) from the init's environment in
 * every string the init expands — `main` (unless `literalMain`), the argv of `validate`, `run`
 * and `exec` checks, task paths (`ensure-dir`, `merge-pem`'s cert, key and out, `when-exists`,
 * `when-missing`, `when-file-matches.path`), `pid-file`, and the targets of `wait-for` and of
 * checks (`tcp`, `http`, `listening`) — and checks each value again (a path must now be
 * absolute, an address well formed). Fields are visited in the order parseInitConfig reads
 * them; the first problem is one line naming the field and the variable.
 */
export function expandInitConfig(
  cfg: InitConfig,
  env: Record<string, string | undefined>,
  source = "init config",
  opts: { literalMain?: boolean } = {},
): InitConfig {
  const c = new Checker(source);
  const lookup: Lookup = (n) => (Object.hasOwn(env, n) ? env[n] : undefined);
  const x = (raw: string, field: string, check?: ValueCheck) => c.expand(raw, field, lookup, check);
  const argv = (a: string[], field: string) =>
    a.map((s, i) => x(s, `${field}[${i}]`, i === 0 ? programValue : undefined));
  const probe = <T extends Probe>(p: T, field: string): T => {
    if ("tcp" in p) return { ...p, tcp: x(p.tcp, `${field}.tcp`, hostPortValue) };
    if ("http" in p) return { ...p, http: x(p.http, `${field}.http`, urlValue) };
    if ("exec" in p) return { ...p, exec: argv(p.exec, `${field}.exec`) };
    return { ...p, listening: x(p.listening, `${field}.listening`, listenValue) };
  };
  const out: InitConfig = { ...cfg, main: opts.literalMain ? cfg.main : argv(cfg.main, "main") };
  out.tasks = cfg.tasks.map((t0, i) => {
    const f = `tasks[${i}]`;
    const t: InitTask = { ...t0 };
    switch (t.kind) {
      case "validate":
      case "run":
        t.argv = argv(t.argv, `${f}.${t.kind}`);
        break;
      case "ensure-dir":
        t.path = x(t.path, `${f}.ensure-dir`, pathValue);
        break;
      case "merge-pem":
        t.cert = x(t.cert, `${f}.merge-pem.cert`, pathValue);
        t.key = x(t.key, `${f}.merge-pem.key`, pathValue);
        t.out = x(t.out, `${f}.merge-pem.out`, pathValue);
        break;
      case "wait-for":
        if (t.tcp !== undefined) t.tcp = x(t.tcp, `${f}.wait-for.tcp`, hostPortValue);
        if (t.http !== undefined) t.http = x(t.http, `${f}.wait-for.http`, urlValue);
        break;
    }
    if (t.whenExistsPath !== undefined) t.whenExistsPath = x(t.whenExistsPath, `${f}.when-exists`, pathValue);
    if (t.whenMissing !== undefined) t.whenMissing = x(t.whenMissing, `${f}.when-missing`, pathValue);
    if (t.whenFileMatches !== undefined)
      t.whenFileMatches = {
        ...t.whenFileMatches,
        path: x(t.whenFileMatches.path, `${f}.when-file-matches.path`, pathValue),
      };
    return t;
  });
  if (cfg.pidFile !== undefined) out.pidFile = x(cfg.pidFile, "pid-file", pathValue);
  if (cfg.health) {
    const h = { ...cfg.health };
    if (h.ready) h.ready = probe(h.ready, "health.ready");
    if (h.checks) {
      const checks: Record<string, HealthCheck> = {};
      for (const [name, ck] of Object.entries(h.checks)) checks[name] = probe(ck, `health.checks.${name}`);
      h.checks = checks;
    }
    out.health = h;
  }
  return out;
}
