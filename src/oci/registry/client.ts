/**
 * A small client of the OCI Distribution API over node:http/https: keep-alive connections,
 * streamed request and response bodies (memory flat in blob size), the auth challenge flow
 * (anonymous, Basic, Bearer tokens cached per scope), retries with backoff on 5xx/429/408 and
 * connection failures, and errors that carry the registry's own error codes and messages —
 * with every known secret redacted.
 */
import { open } from "node:fs/promises";
import type { Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage } from "node:http";
import { received as gcReceived } from "../../util/gc-pacer.ts";
import { formatDuration, netTimeouts, RetryBudget, stallWatch } from "../../util/http.ts";
import { info } from "../../util/progress.ts";
import { OciError } from "../errors.ts";
import { type Credentials, parseWwwAuthenticate, resolveCredentials, Secrets } from "./auth.ts";

// Node's own modules, not their ESM facades: importing node:http as ESM loads undici (fetch) for
// its getters, ~10 ms that every command paid (verify of a local image included).
const http = process.getBuiltinModule("node:http");
const https = process.getBuiltinModule("node:https");

/** Bytes `start` (inclusive) to `end` (exclusive) of a file, sent as a request body. */
export interface FileBody {
  file: string;
  start: number;
  end: number;
  /** called with the file offset sent so far */
  onBytes?: (offset: number) => void;
}

export type BodySource = Buffer | FileBody;

function isFileBody(b: BodySource | undefined): b is FileBody {
  return b !== undefined && !Buffer.isBuffer(b);
}

/** Size of each read of a file body, and how many such buffers one request has in flight at most. */
export const FILE_BODY_CHUNK = 256 << 10;
export const FILE_BODY_BUFFERS = 4;

/**
 * Send a file range as the request body, in constant memory: FILE_BODY_BUFFERS buffers of
 * FILE_BODY_CHUNK bytes, each read into again only once the socket has taken what it held
 * (its write callback), so reading the file overlaps sending it and nothing else is allocated;
 * and like pipe(), nothing more is written while the socket's buffer is full ('drain').
 * Stops (without ending the request) when `stopped()` says so or the request closes.
 */
async function pumpFile(b: FileBody, req: ClientRequest, stopped: () => boolean): Promise<void> {
  const fh = await open(b.file, "r");
  try {
    const free: Buffer[] = [];
    let allocated = 0;
    let wake: (() => void) | undefined;
    let closed = false;
    const onClose = () => {
      closed = true;
      wake?.();
    };
    req.once("close", onClose);
    // (the request may have died while the file was opened: its 'close' is then already past)
    if (req.destroyed) closed = true;
    try {
      const take = async (): Promise<Buffer | undefined> => {
        for (;;) {
          if (closed || stopped()) return undefined;
          const buf = free.pop();
          if (buf) return buf;
          if (allocated < FILE_BODY_BUFFERS) {
            allocated++;
            return Buffer.allocUnsafeSlow(FILE_BODY_CHUNK);
          }
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
        }
      };
      let pos = b.start;
      while (pos < b.end) {
        const buf = await take();
        if (!buf) return;
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, b.end - pos), pos);
        if (bytesRead === 0) {
          throw new OciError("E_DIGEST", `${b.file}: the file ends at byte ${pos}, before ${b.end}`);
        }
        // let the socket's pending input (an early answer) be read before writing more: a
        // write to a connection the server has closed fails at once and would hide its answer
        await new Promise<void>((r) => setImmediate(r));
        if (closed || stopped()) return;
        pos += bytesRead;
        const more = req.write(buf.subarray(0, bytesRead), () => {
          free.push(buf);
          wake?.();
        });
        b.onBytes?.(pos);
        // the socket's own buffer is full: wait until it drains, as pipe() would — sending no
        // further while a server that answers early (a 401, an error) is being heard
        if (!more && !closed && !req.destroyed && pos < b.end) {
          await new Promise<void>((r) => {
            const done = () => {
              req.off("drain", done);
              req.off("close", done);
              r();
            };
            req.on("drain", done);
            req.on("close", done);
          });
        }
      }
      if (!closed && !stopped()) req.end();
    } finally {
      req.off("close", onClose);
    }
  } finally {
    await fh.close();
  }
}

export interface RequestOptions {
  /** token scopes this request needs, e.g. "repository:a/b:pull,push" */
  scopes: string[];
  headers?: Record<string, string>;
  /** a Buffer, or a factory of a fresh stream (called again for a retry) */
  body?: BodySource;
  /** statuses that are a success for the caller; others become an OciError */
  expect: number[];
  /** what the request does, for messages: "upload blob sha256:… to repo" */
  what: string;
  /** retry transient failures here (default true). Uploads retry at a higher level. */
  retry?: boolean;
  /** follow redirects (GET/HEAD only) */
  follow?: boolean;
}

export interface ClientOptions {
  creds?: Credentials;
  /**
   * An insecure registry: HTTPS without certificate verification, else plain HTTP (decided by the
   * first request). Localhost and 127.0.0.0/8 registries are treated so without asking.
   */
  insecure?: boolean;
  /** verify TLS even for a localhost/127.0.0.0/8 registry (HTTPS only, no plain-HTTP fallback) */
  tlsVerify?: boolean;
  /** parallel connections (default 6) */
  maxSockets?: number;
  /** attempts for transient failures (default 4) */
  attempts?: number;
  onRetry?: (message: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function isLocalRegistry(host: string): boolean {
  const h = host.replace(/:[0-9]+$/, "").replace(/^\[|\]$/g, "");
  return h === "localhost" || /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(h) || h === "::1";
}

/** A failure worth another attempt (5xx, 429, 408, a dropped or refused connection). */
export class TransientRegistryError extends Error {
  readonly status?: number;
  /** the registry's Retry-After, in ms (capped) */
  readonly retryAfterMs?: number;
  /** no connection, answer or data within the timeout */
  readonly stalled: boolean;
  constructor(message: string, status?: number, cause?: unknown, retryAfterMs?: number, stalled = false) {
    super(message, cause === undefined ? undefined : { cause });
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.stalled = stalled;
  }
}

/** Retry-After (seconds or an HTTP date) in ms, at most 60 s; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  let ms: number;
  if (/^[0-9]+$/.test(v)) ms = Number(v) * 1000;
  else {
    const t = Date.parse(v);
    if (!Number.isFinite(t)) return undefined;
    ms = t - now;
  }
  return Math.min(Math.max(ms, 0), 60_000);
}

export function isTransientError(e: unknown): boolean {
  if (e instanceof TransientRegistryError) return true;
  if (e instanceof OciError) return false;
  const code = (e as { code?: string })?.code ?? (e as { cause?: { code?: string } })?.cause?.code;
  return (
    typeof code === "string" &&
    /^(ECONNRESET|ECONNREFUSED|ECONNABORTED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|ERR_STREAM_PREMATURE_CLOSE|UND_ERR_\w+)$/.test(
      code,
    )
  );
}

/** Read a (small) response body, at most `limit` bytes. */
export async function readBody(res: IncomingMessage, limit = 8 << 20): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > limit) {
      res.destroy();
      throw new OciError("E_REGISTRY", `response larger than ${limit} bytes`);
    }
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

function drain(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    // consume even a complete response: only its 'end' hands the socket back to the pool
    if (res.readableEnded || res.destroyed) return resolve();
    res
      .on("end", resolve)
      .on("error", () => resolve())
      .on("close", resolve);
    res.resume();
  });
}

const ERROR_CODES: Record<string, string> = {
  MANIFEST_INVALID: "E_REGISTRY_MANIFEST_INVALID",
  MANIFEST_BLOB_UNKNOWN: "E_REGISTRY_BLOB_UNKNOWN",
  BLOB_UNKNOWN: "E_REGISTRY_BLOB_UNKNOWN",
  MANIFEST_UNKNOWN: "E_REGISTRY_NOT_FOUND",
  NAME_UNKNOWN: "E_REGISTRY_NOT_FOUND",
  DIGEST_INVALID: "E_REGISTRY_DIGEST_INVALID",
  SIZE_INVALID: "E_REGISTRY_DIGEST_INVALID",
  BLOB_UPLOAD_UNKNOWN: "E_REGISTRY_UPLOAD_UNKNOWN",
  BLOB_UPLOAD_INVALID: "E_REGISTRY_UPLOAD_INVALID",
  TAG_INVALID: "E_REGISTRY_TAG_INVALID",
  NAME_INVALID: "E_REGISTRY_NAME_INVALID",
  UNAUTHORIZED: "E_REGISTRY_UNAUTHORIZED",
  DENIED: "E_REGISTRY_DENIED",
  UNSUPPORTED: "E_REGISTRY_UNSUPPORTED",
  TOOMANYREQUESTS: "E_REGISTRY_TOO_MANY_REQUESTS",
};

/** The registry's errors from a JSON error body ("CODE: message (detail)"), if any. */
export function parseRegistryErrors(body: string): Array<{ code: string; message: string; detail?: string }> {
  try {
    const j = JSON.parse(body) as { errors?: Array<{ code?: unknown; message?: unknown; detail?: unknown }> };
    if (!Array.isArray(j?.errors)) return [];
    return j.errors.map((e) => ({
      code: typeof e.code === "string" ? e.code : "UNKNOWN",
      message: typeof e.message === "string" ? e.message : "",
      detail:
        e.detail === undefined || e.detail === null
          ? undefined
          : typeof e.detail === "string"
            ? e.detail
            : JSON.stringify(e.detail),
    }));
  } catch {
    return [];
  }
}

export class RegistryClient {
  readonly registry: string;
  /** scheme://host[:port] in use ("https://" until an insecure registry proves to speak plain HTTP) */
  base: string;
  /** insecure registry whose scheme is not known yet */
  private probing: boolean;
  readonly secrets = new Secrets();
  private readonly creds?: Credentials;
  private agent: Agent;
  private readonly maxSockets: number;
  private readonly attempts: number;
  private readonly onRetry?: (message: string) => void;
  private authScheme: "none" | "basic" | "bearer" | "unknown" = "unknown";
  private bearer?: { realm: string; service?: string };
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private readonly tokenFetches = new Map<string, Promise<string>>();
  /** a rotated OAuth2 refresh token (else the credentials' identity token) */
  private refreshToken?: string;
  /** counts of requests by method, for summaries and tests */
  readonly stats = { requests: 0, retries: 0 };

  constructor(registry: string, opts: ClientOptions = {}) {
    this.registry = registry;
    const insecure = opts.insecure === true || (isLocalRegistry(registry) && opts.tlsVerify !== true);
    this.base = `https://${registry}`;
    this.probing = insecure;
    this.creds = opts.creds;
    this.secrets.addCreds(opts.creds);
    this.maxSockets = opts.maxSockets ?? 6;
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: this.maxSockets,
      rejectUnauthorized: !insecure,
    });
    this.attempts = opts.attempts ?? 4;
    this.onRetry = opts.onRetry;
  }

  close(): void {
    this.agent.destroy();
  }

  /** An error whose text has every secret removed. */
  error(
    code: string,
    message: string,
    opts: { hint?: string; cause?: unknown; exitCode?: number } = {},
  ): OciError {
    return new OciError(code, this.secrets.redact(message), {
      ...opts,
      hint: opts.hint === undefined ? undefined : this.secrets.redact(opts.hint),
    });
  }

  url(path: string): string {
    return path.startsWith("http://") || path.startsWith("https://") ? path : `${this.base}${path}`;
  }

  /**
   * One HTTP exchange; resolves with the response (body not consumed). A connection not made
   * within the connect timeout, or no answer / no body bytes for the idle timeout
   * (util/http.ts's settings, `--timeout`), fails it with a TransientRegistryError naming the
   * host and what stalled; while it waits, a line on stderr says so.
   */
  private send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: BodySource | undefined,
    idleMs = netTimeouts().idleMs,
  ): Promise<IncomingMessage> {
    this.stats.requests++;
    const mod = url.protocol === "https:" ? https : http;
    const sameOrigin = url.origin === new URL(this.base).origin;
    const { connectMs } = netTimeouts(idleMs);
    const host = url.host;
    const path = url.pathname;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, {
        method,
        headers,
        agent: sameOrigin ? this.agent : undefined,
        timeout: idleMs,
      });
      let settled = false;
      /** a file body still being sent */
      let pumping = false;
      let stopPump = false;
      let response: IncomingMessage | undefined;
      let received = 0;
      let phase = `no answer to ${method} ${path}`;
      const watch = stallWatch(host, () => phase, idleMs);
      const fail = (e: unknown) => {
        watch.stop();
        if (!settled) {
          settled = true;
          reject(e);
        }
      };
      const stall = (message: string) => {
        const err = new TransientRegistryError(message, undefined, undefined, undefined, true);
        Object.assign(err, { code: "ETIMEDOUT" });
        watch.stop();
        if (response) response.destroy(err);
        req.destroy(err);
      };
      req.on("socket", (socket) => {
        if (!socket.connecting) return;
        const t = setTimeout(
          () => stall(`${host}: cannot connect within ${formatDuration(connectMs)}`),
          connectMs,
        );
        socket.once("connect", () => clearTimeout(t));
        socket.once("close", () => clearTimeout(t));
      });
      req.on("timeout", () =>
        stall(
          response
            ? `${host}: ${method} ${path} stalled: no data for ${formatDuration(idleMs)} after ${received} bytes`
            : `${host}: no answer to ${method} ${path} within ${formatDuration(idleMs)}`,
        ),
      );
      // once the request is sent, the answer must come within the idle timeout (the socket's
      // idle timer alone can be kept alive by a TLS handshake that never completes)
      let answerTimer: NodeJS.Timeout | undefined;
      const awaitAnswer = () => {
        if (response || answerTimer) return;
        answerTimer = setTimeout(
          () => stall(`${host}: no answer to ${method} ${path} within ${formatDuration(idleMs)}`),
          idleMs,
        );
      };
      // without a body, from the start (a TLS handshake that never completes included)
      if (body === undefined) awaitAnswer();
      req.on("finish", awaitAnswer);
      req.on("close", () => clearTimeout(answerTimer));
      req.on("error", fail);
      req.on("response", (res) => {
        clearTimeout(answerTimer);
        response = res;
        phase = `no data for ${method} ${path}`;
        watch.progress();
        // count the body as the parser hands it over (a 'data' listener would start the flow
        // before the caller reads)
        const push = res.push.bind(res);
        res.push = (chunk: unknown, encoding?: BufferEncoding) => {
          if (chunk) {
            received += (chunk as Buffer).length;
            gcReceived((chunk as Buffer).length);
            watch.progress();
          }
          return push(chunk, encoding);
        };
        res.on("end", () => watch.stop());
        res.on("close", () => watch.stop());
        if (pumping && !req.writableEnded) {
          // The server answered before taking the whole body: stop sending, do not reuse the socket.
          stopPump = true;
          res.on("end", () => req.destroy());
        }
        settled = true;
        resolve(res);
      });
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        pumping = true;
        pumpFile(body, req, () => stopPump).then(
          () => {
            pumping = false;
          },
          (e) => {
            pumping = false;
            req.destroy(e);
            fail(e);
          },
        );
      }
    });
  }

  /** Authorization header for these scopes, if the registry wants one and we have it. */
  private async authHeader(scopes: string[]): Promise<string | undefined> {
    const basic = this.basicCreds();
    if (this.authScheme === "basic" && basic) return basic;
    if (this.authScheme === "bearer") return `Bearer ${await this.token(scopes)}`;
    return undefined;
  }

  private scopeKey(scopes: string[]): string {
    return [...new Set(scopes)].sort().join(" ");
  }

  private async token(scopes: string[], force = false): Promise<string> {
    const key = this.scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (!force && cached && cached.expires > Date.now()) return cached.token;
    let p = this.tokenFetches.get(key);
    if (!p) {
      p = this.fetchToken(scopes).finally(() => this.tokenFetches.delete(key));
      this.tokenFetches.set(key, p);
    }
    return p;
  }

  /** "Basic …" for the credentials, unless they are only an identity token. */
  private basicCreds(): string | undefined {
    const c = this.creds;
    if (!c || (c.username === "" && c.password === "")) return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
  }

  /**
   * A token for these scopes. With an identity token: OAuth2 (POST the realm, grant_type
   * refresh_token), as docker does; a realm without OAuth (404/405) falls back to the GET form.
   * Otherwise GET the realm with Basic credentials, if any.
   */
  private async fetchToken(scopes: string[]): Promise<string> {
    const b = this.bearer;
    if (!b) throw this.error("E_REGISTRY_AUTH", `${this.registry}: no token realm`);
    let u: URL;
    try {
      u = new URL(b.realm);
    } catch {
      throw this.error("E_REGISTRY_AUTH", `${this.registry}: invalid token realm "${b.realm}"`);
    }
    const sorted = [...new Set(scopes)].sort();
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": "shellfree" };
    const what = `token for ${scopes.join(" ")} from ${u.origin}${u.pathname}`;
    let res: IncomingMessage | undefined;
    let text = "";
    const refresh = this.refreshToken ?? this.creds?.identityToken;
    if (refresh) {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refresh,
        client_id: "shellfree",
        access_type: "offline",
        ...(b.service ? { service: b.service } : {}),
        ...(sorted.length ? { scope: sorted.join(" ") } : {}),
      });
      const body = Buffer.from(form.toString());
      const post = { ...headers, "Content-Type": "application/x-www-form-urlencoded" };
      res = await this.withRetry(`${what} (OAuth2)`, true, () => this.send(u, "POST", post, body));
      text = (await readBody(res, 1 << 20)).toString("utf8");
      if (res.statusCode === 404 || res.statusCode === 405) res = undefined;
    }
    if (!res) {
      if (b.service) u.searchParams.set("service", b.service);
      for (const s of sorted) u.searchParams.append("scope", s);
      const basic = this.basicCreds();
      if (basic) headers.Authorization = basic;
      res = await this.withRetry(what, true, () => this.send(u, "GET", headers, undefined));
      text = (await readBody(res, 1 << 20)).toString("utf8");
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw this.authError(res.statusCode, what, text);
    }
    if (res.statusCode !== 200) {
      throw this.error("E_REGISTRY_AUTH", `${what}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    }
    let j: { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
    try {
      j = JSON.parse(text);
    } catch {
      throw this.error("E_REGISTRY_AUTH", `${what}: the token endpoint did not answer JSON`);
    }
    const token = j.token || j.access_token;
    if (!token) throw this.error("E_REGISTRY_AUTH", `${what}: no token in the answer`);
    this.secrets.add(token);
    // an OAuth2 server may rotate the refresh token
    if (refresh && typeof j.refresh_token === "string" && j.refresh_token) {
      this.refreshToken = j.refresh_token;
      this.secrets.add(j.refresh_token);
    }
    const ttl = typeof j.expires_in === "number" && j.expires_in > 0 ? j.expires_in : 60;
    // renew a little early
    this.tokens.set(this.scopeKey(scopes), { token, expires: Date.now() + Math.max(5, ttl - 10) * 1000 });
    return token;
  }

  private authError(status: number, what: string, body: string): OciError {
    const errs = parseRegistryErrors(body);
    const regMsg = errs.length > 0 ? `: ${errs.map((e) => `${e.code}: ${e.message}`).join("; ")}` : "";
    const credsNote = this.creds
      ? `the ${this.creds.identityToken && !this.basicCreds() ? "identity token" : "credentials"} from ${this.creds.source} ${this.creds.identityToken && !this.basicCreds() ? "was" : "were"} refused`
      : "no credentials were given (anonymous)";
    if (status === 403) {
      return this.error("E_REGISTRY_DENIED", `${what}: HTTP 403 denied${regMsg}`, {
        hint: `${credsNote}; check that the account may access this repository`,
      });
    }
    return this.error("E_REGISTRY_UNAUTHORIZED", `${what}: HTTP 401 unauthorized${regMsg}`, {
      hint: `${credsNote}; give credentials with --creds USER:PASSWORD, SHELLFREE_REGISTRY_USER/SHELLFREE_REGISTRY_PASSWORD, or an auth file`,
    });
  }

  /** React to a 401: learn the scheme from WWW-Authenticate. Returns false when nothing can help. */
  private learnChallenge(res: IncomingMessage, scopes: string[]): boolean {
    const h = res.headers["www-authenticate"];
    const challenges = parseWwwAuthenticate(Array.isArray(h) ? h.join(", ") : (h ?? ""));
    const bearer = challenges.find((c) => c.scheme === "bearer" && c.params.realm);
    if (bearer) {
      const changed = this.authScheme !== "bearer";
      this.authScheme = "bearer";
      this.bearer = { realm: bearer.params.realm, service: bearer.params.service };
      if (bearer.params.scope) {
        for (const s of bearer.params.scope.split(" ")) if (s && !scopes.includes(s)) scopes.push(s);
      }
      // a 401 with a token we already had: the token expired or lacks a scope — get a fresh one
      if (!changed) this.tokens.delete(this.scopeKey(scopes));
      return true;
    }
    if (challenges.some((c) => c.scheme === "basic")) {
      if (this.authScheme === "basic" || !this.basicCreds()) return false;
      this.authScheme = "basic";
      return true;
    }
    return false;
  }

  private async withRetry<T>(what: string, retry: boolean, fn: () => Promise<T>): Promise<T> {
    const attempts = retry ? this.attempts : 1;
    const base = Number(process.env.SHELLFREE_RETRY_BASE_MS ?? 200);
    const budget = new RetryBudget();
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        // not retried here: the caller (an upload that resumes) decides
        if (!isTransientError(e) || !retry) throw e;
        const reason = this.secrets.redact((e as Error).message || String((e as { code?: string }).code));
        const delay = Math.max(base * 2 ** (attempt - 1), (e as TransientRegistryError).retryAfterMs ?? 0);
        const stalled = (e as TransientRegistryError).stalled === true;
        if (!budget.another(stalled, delay) || attempt >= attempts) {
          throw this.error(
            stalled ? "E_TIMEOUT" : "E_NETWORK",
            `${what}: failed after ${attempt} attempt${attempt > 1 ? "s" : ""}: ${reason}`,
            {
              hint: stalled
                ? "the registry accepted the request but did not answer in time; check it (or give more time with --timeout SECONDS)"
                : "check the registry address and your network",
              cause: e,
            },
          );
        }
        this.stats.retries++;
        this.onRetry?.(`${what}: ${reason}; retry ${attempt}/${attempts - 1} in ${delay} ms`);
        await sleep(delay);
      }
    }
  }

  /**
   * Make a request with auth, retries and redirects. Resolves with a response whose status is in
   * `expect` (the caller consumes or drains the body); any other status becomes an OciError with
   * the registry's message.
   */
  async request(method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> {
    const scopes = [...opts.scopes];
    return this.withRetry(opts.what, opts.retry !== false, async () => {
      let url = new URL(this.url(path));
      let authTries = 0;
      let redirects = 0;
      for (;;) {
        const headers: Record<string, string> = { "User-Agent": "shellfree", ...(opts.headers ?? {}) };
        const sameOrigin = url.origin === new URL(this.base).origin;
        if (sameOrigin) {
          const a = await this.authHeader(scopes);
          if (a) headers.Authorization = a;
        }
        if (opts.body !== undefined) {
          headers["Content-Length"] = String(
            isFileBody(opts.body) ? opts.body.end - opts.body.start : opts.body.length,
          );
        }
        let res: IncomingMessage;
        try {
          res = await this.send(url, method, headers, opts.body);
        } catch (e) {
          if (isTransientError(e)) throw e;
          const code = String((e as { code?: string }).code ?? "");
          if (
            /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|HOSTNAME|ERR_TLS|ERR_SSL|EPROTO/.test(
              code,
            )
          ) {
            throw this.error("E_REGISTRY_TLS", `${opts.what}: TLS: ${(e as Error).message}`, {
              cause: e,
              hint: "trust the registry's CA (NODE_EXTRA_CA_CERTS=ca.pem) or, for a test registry, use --insecure",
            });
          }
          throw this.error("E_NETWORK", `${opts.what}: ${(e as Error).message}`, { cause: e });
        }
        const status = res.statusCode ?? 0;
        if (status === 401 && sameOrigin && authTries < 2) {
          await drain(res);
          authTries++;
          if (this.learnChallenge(res, scopes)) continue;
          throw this.authError(401, opts.what, "");
        }
        if (
          opts.follow !== false &&
          (method === "GET" || method === "HEAD") &&
          [301, 302, 303, 307, 308].includes(status) &&
          res.headers.location &&
          !opts.expect.includes(status)
        ) {
          await drain(res);
          if (++redirects > 5) throw this.error("E_REGISTRY", `${opts.what}: too many redirects`);
          url = new URL(res.headers.location, url);
          continue;
        }
        if (opts.expect.includes(status)) return res;
        const body =
          method === "HEAD" ? "" : (await readBody(res, 1 << 20).catch(() => Buffer.alloc(0))).toString();
        if (status >= 500 || status === 429 || status === 408) {
          const after = retryAfterMs(header(res.headers, "retry-after"));
          throw new TransientRegistryError(`HTTP ${status}${this.describe(body)}`, status, undefined, after);
        }
        throw this.statusError(status, opts.what, body);
      }
    });
  }

  private describe(body: string): string {
    const errs = parseRegistryErrors(body);
    if (errs.length === 0) return "";
    return `: ${errs.map((e) => `${e.code}: ${e.message}${e.detail ? ` (${e.detail.slice(0, 300)})` : ""}`).join("; ")}`;
  }

  /** An OciError for an unexpected status, with the registry's own codes and messages. */
  statusError(status: number, what: string, body: string): OciError {
    if (status === 401 || status === 403) return this.authError(status, what, body);
    const errs = parseRegistryErrors(body);
    const first = errs.find((e) => ERROR_CODES[e.code]);
    const code = first
      ? ERROR_CODES[first.code]
      : status === 404
        ? "E_REGISTRY_NOT_FOUND"
        : status === 416
          ? "E_REGISTRY_UPLOAD_INVALID"
          : "E_REGISTRY";
    const text = this.describe(body) || (body.trim() ? `: ${body.trim().slice(0, 200)}` : "");
    let hint: string | undefined;
    if (code === "E_REGISTRY_NOT_FOUND") hint = "check the repository, tag or digest";
    else if (code === "E_REGISTRY_BLOB_UNKNOWN")
      hint = "a blob the manifest refers to is not in the repository";
    else if (code === "E_REGISTRY_MANIFEST_INVALID") hint = "the registry rejected the manifest";
    return this.error(code, `${what}: HTTP ${status}${text}`, { hint });
  }

  /** `GET /v2/`: learn how the registry authenticates before the first real request. */
  async ping(scopes: string[]): Promise<void> {
    if (this.probing) {
      // An insecure registry: plain HTTP when it answers GET /v2/ over it as a registry does
      // (200, 401) — then no TLS is set up at all; otherwise (a TLS port's 400, a reset, no
      // answer: some TLS endpoints ignore plain text) HTTPS (unverified) when it speaks TLS,
      // else plain HTTP after all (the requests below then fail naming the registry). The probe
      // carries no credentials (the auth scheme is learnt from its answer).
      this.probing = false;
      const probeMs = Math.min(5000, netTimeouts().idleMs);
      const probe = () =>
        this.send(new URL(`${this.base}/v2/`), "GET", { "User-Agent": "shellfree" }, undefined, probeMs).then(
          async (res) => {
            await drain(res);
            return res.statusCode ?? 0;
          },
        );
      const usePlain = () => {
        this.base = `http://${this.registry}`;
        this.agent = new http.Agent({ keepAlive: true, maxSockets: this.maxSockets });
      };
      const tlsAgent = this.agent;
      usePlain();
      const plain = await probe().catch(() => 0);
      if (plain === 200) {
        tlsAgent.destroy();
        return;
      }
      if (plain === 401) tlsAgent.destroy();
      else {
        this.agent.destroy();
        this.base = `https://${this.registry}`;
        this.agent = tlsAgent;
        try {
          await probe();
        } catch {
          this.agent.destroy();
          usePlain();
        }
      }
    }
    const res = await this.request("GET", "/v2/", {
      scopes,
      expect: [200, 401, 404],
      what: `connect to ${this.registry}`,
    });
    const status = res.statusCode;
    await drain(res);
    if (status === 401) {
      // learnChallenge failed twice (e.g. Basic without credentials)
      throw this.authError(401, `connect to ${this.registry}`, "");
    }
  }
}

export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export { drain };

/**
 * The client push and pull talk through: credentials resolved for `repository`, `concurrency`
 * blob transfers (+2 sockets for manifests and tokens), retries reported on stderr unless silent.
 */
export function clientFor(
  registry: string,
  repository: string,
  opts: { creds?: string; insecure?: boolean; tlsVerify?: boolean; concurrency: number; silent?: boolean },
): RegistryClient {
  return new RegistryClient(registry, {
    creds: resolveCredentials(registry, repository, opts.creds),
    insecure: opts.insecure,
    tlsVerify: opts.tlsVerify,
    maxSockets: opts.concurrency + 2,
    onRetry: opts.silent ? undefined : (m) => info(`retry: ${m}`),
  });
}
