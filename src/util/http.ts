/**
 * HTTP GET with retries and backoff on transient failures (connection errors, 5xx, 429),
 * and a clear, non-retried error on other statuses (404 ...). Host names come from the
 * caller (configuration), never from this module.
 */
import { ShellfreeError } from "../errors.ts";

export class HttpError extends ShellfreeError {
  readonly status: number;
  readonly url: string;
  constructor(url: string, status: number, message: string, hint?: string) {
    super(status === 404 ? "E_NOT_FOUND" : "E_HTTP", message, { hint });
    this.status = status;
    this.url = url;
  }
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
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function transient(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
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
    return url;
  }
}

/**
 * GET `url` and return the Response (status 2xx) for the caller to consume. Retries transient
 * failures. A body read that fails later (truncated transfer) is the caller's to retry via
 * `withRetries`.
 */
export async function httpGet(url: string, opts: RetryOptions = {}): Promise<Response> {
  return withRetries(url, opts, async () => {
    const res = await fetch(url, { headers: opts.headers, signal: opts.signal, redirect: "follow" });
    if (res.ok) return res;
    await res.body?.cancel();
    const msg = `GET ${redactUrl(url)}: HTTP ${res.status} ${res.statusText}`.trim();
    if (transient(res.status)) throw new TransientError(msg);
    throw new HttpError(
      url,
      res.status,
      msg,
      res.status === 404 ? "check the suite, architecture and mirror" : undefined,
    );
  });
}

/** Marks a failure worth retrying. */
export class TransientError extends Error {}

function isTransient(e: unknown): boolean {
  if (e instanceof TransientError) return true;
  if (e instanceof ShellfreeError) return false;
  // fetch() network failures: TypeError("fetch failed") with a cause such as ECONNRESET
  const code = (e as { cause?: { code?: string } })?.cause?.code ?? (e as { code?: string })?.code;
  if (code && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|UND_ERR_\w+)$/.test(code)) return true;
  return e instanceof TypeError && /fetch failed|terminated/i.test(e.message);
}

/** Run `fn` with retries on transient errors; the final failure is a ShellfreeError. */
export async function withRetries<T>(
  url: string,
  opts: RetryOptions,
  fn: (attempt: number) => Promise<T>,
): Promise<T> {
  const attempts = opts.attempts ?? 4;
  const base = opts.baseDelayMs ?? Number(process.env.SHELLFREE_RETRY_BASE_MS ?? 200);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!isTransient(e)) throw e;
      const reason =
        (e as Error).message +
        ((e as { cause?: Error }).cause ? ` (${(e as { cause?: Error }).cause?.message})` : "");
      if (attempt >= attempts) {
        throw new ShellfreeError(
          "E_NETWORK",
          `GET ${redactUrl(url)} failed after ${attempts} attempts: ${reason}`,
          {
            hint: "check the mirror/registry address and your network",
            cause: e,
          },
        );
      }
      const delayMs = base * 2 ** (attempt - 1);
      opts.onRetry?.({ url: redactUrl(url), attempt, reason, delayMs });
      await sleep(delayMs);
    }
  }
}
