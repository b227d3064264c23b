/**
 * HTTP for every network operation shellfree makes with fetch (Debian mirrors, the npm
 * registry, Python indexes; the OCI registry client uses node:http with the same settings):
 *
 * - timeouts: a connection must be made within `connectMs`, and a request that makes no
 *   progress (no answer, no body bytes) for `idleMs` is abandoned and retried; a request gives
 *   up when another stalled attempt would not fit in `budgetMs` (RetryBudget), so a host that
 *   never answers fails within it, retries included. Defaults: 10 s, 30 s and
 *   2 minutes; `--timeout SECONDS` (setNetTimeout) or $SHELLFREE_TIMEOUT set the idle timeout,
 *   the others follow (connect ≤ idle, budget = 4 × idle). While a request waits, a line on
 *   stderr says for what, every third of the idle timeout (at least 1 s, at most 10 s).
 * - retries with backoff on transient failures (connection errors, 5xx, 429, 408, stalls),
 *   a clear, non-retried error on other statuses (404 ...);
 * - credentials: `http://user:password@host/path` URLs are sent as Basic auth (to that host
 *   and path only) and never shown: every URL in a message goes through `redactUrl`, and
 *   every password seen is redacted from anything printed (secrets.ts).
 *
 * Host names come from the caller (configuration), never from this module.
 */
import { ShellfreeError } from "../errors.ts";
import { info } from "./progress.ts";
import { addSecret } from "./secrets.ts";

export class HttpError extends ShellfreeError {
  readonly status: number;
  readonly url: string;
  constructor(url: string, status: number, message: string, hint?: string) {
    super(status === 404 ? "E_NOT_FOUND" : "E_HTTP", message, { hint });
    this.status = status;
    this.url = url;
  }
}

/** Marks a failure worth retrying. */
export class TransientError extends Error {}

/** A request that made no progress within the timeout (retried like any transient failure). */
export class StallError extends TransientError {}

// ---------------------------------------------------------------- timeouts

export interface NetTimeouts {
  /** to establish a connection */
  connectMs: number;
  /** without progress (no answer, no body bytes) before an attempt is abandoned */
  idleMs: number;
  /** without progress, retries included, before a request fails */
  budgetMs: number;
}

let configuredSeconds: number | undefined;

/** `--timeout SECONDS`: the idle timeout (the connect timeout and the budget follow). */
export function setNetTimeout(seconds: number): void {
  configuredSeconds = seconds;
}

/** Parse a timeout given in seconds (`--timeout`, $SHELLFREE_TIMEOUT); undefined if malformed. */
export function parseTimeoutSeconds(v: string): number | undefined {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(v.trim())) return undefined;
  const n = Number(v);
  return n >= 0.1 && n <= 3600 ? n : undefined;
}

export function netTimeouts(idleOverrideMs?: number): NetTimeouts {
  const env = process.env.SHELLFREE_TIMEOUT;
  const seconds = configuredSeconds ?? (env ? parseTimeoutSeconds(env) : undefined) ?? 30;
  const idleMs = idleOverrideMs ?? Math.round(seconds * 1000);
  return { connectMs: Math.min(10_000, idleMs), idleMs, budgetMs: 4 * idleMs };
}

/** "200 ms", "30 s", "2 min" */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000 || ms % 60_000 !== 0) return `${Math.round(ms / 100) / 10} s`;
  return `${ms / 60_000} min`;
}

/**
 * Progress lines while something waits on the network: "waiting for HOST: WHAT for N s",
 * every third of the idle timeout (1–10 s). `progress()` restarts the clock.
 */
export function stallWatch(
  host: string,
  what: () => string,
  idleMs: number,
): { progress(): void; stop(): void } {
  const every = Math.min(10_000, Math.max(1000, Math.round(idleMs / 3)));
  let since = Date.now();
  const timer = setInterval(() => {
    const s = Math.round((Date.now() - since) / 1000);
    if (s >= 1) info(`waiting for ${host}: ${what()} for ${s} s`);
  }, every);
  timer.unref();
  return {
    progress() {
      since = Date.now();
    },
    stop() {
      clearInterval(timer);
    },
  };
}

// ---------------------------------------------------------------- credentials

interface UrlCredentials {
  prefix: string;
  user: string;
  pass: string;
}

const credentials: UrlCredentials[] = [];

/**
 * The URL without `user:password@`; the credentials are remembered for requests under it
 * (sent as Basic auth) and redacted from everything printed.
 */
export function stripCredentials(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (!u.username && !u.password) return url;
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  addSecret(pass);
  addSecret(u.password);
  addSecret(`${u.username}:${u.password}`);
  u.username = "";
  u.password = "";
  const bare = u.toString();
  // keep the caller's form (no trailing slash added by URL)
  const shown = url.endsWith("/") || !bare.endsWith("/") ? bare : bare.slice(0, -1);
  const prefix = shown.replace(/\/+$/, "");
  addSecret(Buffer.from(`${user}:${pass}`).toString("base64"));
  if (!credentials.some((c) => c.prefix === prefix)) credentials.push({ prefix, user, pass });
  return shown;
}

/** Credentials remembered for a URL (the longest matching prefix), if any. */
export function credentialsFor(url: string): { user: string; pass: string } | undefined {
  let best: UrlCredentials | undefined;
  for (const c of credentials) {
    if (
      (url === c.prefix || url.startsWith(`${c.prefix}/`)) &&
      (!best || c.prefix.length > best.prefix.length)
    )
      best = c;
  }
  return best && { user: best.user, pass: best.pass };
}

/** A Basic Authorization header value (the encoded form is registered as a secret too). */
export function basicAuth(user: string, pass: string): string {
  const b64 = Buffer.from(`${user}:${pass}`).toString("base64");
  addSecret(pass);
  addSecret(b64);
  return `Basic ${b64}`;
}

/** Strip credentials from a URL before it is shown to anyone. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "";
      u.password = "";
    }
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, "//");
  }
}

// ---------------------------------------------------------------- requests

/** Shared by the attempts of one request. */
export interface RequestContext {
  timeouts: NetTimeouts;
}

/**
 * How much of a request's budget its failed attempts used: a stall counts its idle timeout,
 * a backoff its delay (time spent receiving data does not count). Another attempt is made only
 * if it could stall for its whole idle timeout within the budget: a host that never answers
 * (or stalls every time) fails within `budgetMs`, retries included.
 */
export class RetryBudget {
  private used = 0;
  private readonly t: NetTimeouts;
  constructor(t: NetTimeouts = netTimeouts()) {
    this.t = t;
  }
  /** After a failed attempt: whether another one, after `delayMs`, still fits. */
  another(stalled: boolean, delayMs: number): boolean {
    if (stalled) this.used += this.t.idleMs;
    const fits = this.used + delayMs + this.t.idleMs <= this.t.budgetMs;
    this.used += delayMs;
    return fits;
  }
}

export interface FetchOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** the request's context (withRetries gives one to each attempt) */
  ctx?: RequestContext;
  /** an idle timeout for this request (tests, Python's NetOptions) */
  idleMs?: number;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the server";
  }
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

function connectFailure(e: unknown): string | undefined {
  const code = (e as { cause?: { code?: string } })?.cause?.code;
  return code === "UND_ERR_CONNECT_TIMEOUT" ? code : undefined;
}

/**
 * One GET with the timeouts and credentials above. Resolves with the Response (any status;
 * see `getOnce` for status handling) whose body fails with a StallError when it stops
 * arriving. A connection not made, or an answer that does not come, is a StallError too.
 */
export async function fetchTimed(url: string, opts: FetchOptions = {}): Promise<Response> {
  const bare = stripCredentials(url);
  const t = opts.ctx?.timeouts ?? netTimeouts(opts.idleMs);
  const host = hostOf(bare);
  const path = pathOf(bare);
  const headers: Record<string, string> = { ...opts.headers };
  const creds = credentialsFor(bare);
  if (creds && !Object.keys(headers).some((h) => h.toLowerCase() === "authorization")) {
    headers.authorization = basicAuth(creds.user, creds.pass);
  }
  const ctl = new AbortController();
  const signal = opts.signal ? AbortSignal.any([ctl.signal, opts.signal]) : ctl.signal;
  const limit = () => t.idleMs;
  let phase = "no answer to GET " + path;
  const watch = stallWatch(host, () => phase, t.idleMs);
  let timer: NodeJS.Timeout | undefined;
  const arm = (message: () => string) => {
    clearTimeout(timer);
    const ms = limit();
    timer = setTimeout(() => ctl.abort(new StallError(message())), ms);
    timer.unref?.();
    return ms;
  };
  const answerMs = arm(() => `${host}: no answer to GET ${path} within ${formatDuration(answerMs)}`);
  let res: Response;
  try {
    res = await fetch(bare, { headers, signal, redirect: "follow" });
  } catch (e) {
    clearTimeout(timer);
    watch.stop();
    if (ctl.signal.aborted) throw ctl.signal.reason;
    if (connectFailure(e))
      throw new StallError(`${host}: cannot connect within ${formatDuration(t.connectMs)}`);
    throw e;
  }
  if (!res.body) {
    clearTimeout(timer);
    watch.stop();
    return res;
  }
  // the body: the idle timer restarts with every chunk
  let received = 0;
  const stalled = () =>
    `${host}: GET ${path} stalled: no data for ${formatDuration(limit())} after ${received} bytes`;
  phase = `no data for GET ${path}`;
  arm(stalled);
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const r = await reader.read();
        if (r.done) {
          clearTimeout(timer);
          watch.stop();
          c.close();
          return;
        }
        received += r.value.length;
        watch.progress();
        arm(stalled);
        c.enqueue(r.value);
      } catch (e) {
        clearTimeout(timer);
        watch.stop();
        c.error(ctl.signal.aborted ? ctl.signal.reason : e);
      }
    },
    cancel(reason) {
      clearTimeout(timer);
      watch.stop();
      return reader.cancel(reason);
    },
  });
  const out = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  Object.defineProperty(out, "url", { value: res.url });
  return out;
}

function transient(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * One GET: the Response when 2xx; TransientError on 5xx/429/408; HttpError otherwise (its
 * `hint404` for a 404).
 */
export async function getOnce(
  url: string,
  opts: FetchOptions & { hint404?: string } = {},
): Promise<Response> {
  const res = await fetchTimed(url, opts);
  if (res.ok) return res;
  await res.body?.cancel().catch(() => {});
  const msg = `GET ${redactUrl(url)}: HTTP ${res.status} ${res.statusText}`.trim();
  if (transient(res.status)) throw new TransientError(msg);
  throw new HttpError(redactUrl(url), res.status, msg, res.status === 404 ? opts.hint404 : undefined);
}

export interface RetryOptions {
  /** attempts in all (default 4) */
  attempts?: number;
  /** first backoff in ms, doubled each retry (default 200; SHELLFREE_RETRY_BASE_MS overrides) */
  baseDelayMs?: number;
  /** called before each retry, for progress lines */
  onRetry?: (info: { url: string; attempt: number; reason: string; delayMs: number }) => void;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** an idle timeout for this request (default: netTimeouts()) */
  idleMs?: number;
}

function isTransient(e: unknown): boolean {
  if (e instanceof TransientError) return true;
  if (e instanceof ShellfreeError) return false;
  // fetch() network failures: TypeError("fetch failed") with a cause such as ECONNRESET
  const code = (e as { cause?: { code?: string } })?.cause?.code ?? (e as { code?: string })?.code;
  if (code && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|UND_ERR_\w+)$/.test(code)) return true;
  return e instanceof TypeError && /fetch failed|terminated/i.test(e.message);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `fn` with retries on transient errors; the final failure is a ShellfreeError naming
 * the URL and the last reason (E_TIMEOUT when the request stalled, else E_NETWORK). A request
 * stops once its budget passed without progress, even with attempts left.
 */
export async function withRetries<T>(
  url: string,
  opts: RetryOptions,
  fn: (attempt: number, ctx: RequestContext) => Promise<T>,
): Promise<T> {
  const attempts = opts.attempts ?? 4;
  const base = opts.baseDelayMs ?? Number(process.env.SHELLFREE_RETRY_BASE_MS ?? 200);
  const timeouts = netTimeouts(opts.idleMs);
  const ctx: RequestContext = { timeouts };
  const budget = new RetryBudget(timeouts);
  const shown = redactUrl(url);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt, ctx);
    } catch (e) {
      if (!isTransient(e)) throw e;
      const cause = (e as { cause?: Error }).cause;
      const reason = (e as Error).message + (cause?.message ? ` (${cause.message})` : "");
      const delayMs = base * 2 ** (attempt - 1);
      const stalled = e instanceof StallError;
      if (!budget.another(stalled, delayMs) || attempt >= attempts) {
        throw new ShellfreeError(
          stalled ? "E_TIMEOUT" : "E_NETWORK",
          `GET ${shown} failed after ${attempt} attempt${attempt > 1 ? "s" : ""}: ${reason}`,
          {
            hint: stalled
              ? "the server accepted the request but did not answer in time; check it (or give more time with --timeout SECONDS)"
              : "check the mirror/registry address and your network",
            cause: e,
          },
        );
      }
      opts.onRetry?.({ url: shown, attempt, reason, delayMs });
      await sleep(delayMs);
    }
  }
}
