/**
 * HTTP for package indexes and wheel downloads: src/util/http.ts's retries and backoff, a
 * timeout on each attempt (a stalled server is retried, not waited on for ever), and
 * credentials taken from the index URL (`https://user:token@host/simple`) sent as Basic auth
 * to that host only — they are never part of a URL shown in a message.
 */
import { HttpError, redactUrl, TransientError, withRetries } from "../util/http.ts";
import { info } from "../util/progress.ts";

export interface NetOptions {
  /** per-attempt timeout in ms until the response headers arrive (default 30 s; SHELLFREE_HTTP_TIMEOUT_MS) */
  timeoutMs?: number;
  /** attempts in all (default 4) */
  attempts?: number;
  /** URLs with credentials (index URLs): their user:password is sent to the same host */
  credentials?: string[];
  headers?: Record<string, string>;
}

/** The URL without credentials, and an Authorization header for it when credentials apply. */
export function withAuth(
  url: string,
  credentials: string[] = [],
): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  let user = u.username;
  let pass = u.password;
  u.username = "";
  u.password = "";
  if (!user && !pass) {
    for (const c of credentials) {
      let cu: URL;
      try {
        cu = new URL(c);
      } catch {
        continue;
      }
      if (cu.host === u.host && cu.protocol === u.protocol && (cu.username || cu.password)) {
        user = cu.username;
        pass = cu.password;
        break;
      }
    }
  }
  const headers: Record<string, string> = {};
  if (user || pass) {
    const basic = Buffer.from(`${decodeURIComponent(user)}:${decodeURIComponent(pass)}`).toString("base64");
    headers.authorization = `Basic ${basic}`;
  }
  return { url: u.toString(), headers };
}

function timeoutMs(opts: NetOptions): number {
  return opts.timeoutMs ?? Number(process.env.SHELLFREE_HTTP_TIMEOUT_MS ?? 30_000);
}

/**
 * GET `url` with retries; `consume` reads the response (its failure — a body cut short, a
 * stall — is retried too when it throws TransientError or a network error). HTTP 4xx other
 * than 408/429 is an HttpError at once.
 */
export async function httpRequest<T>(
  url: string,
  opts: NetOptions,
  consume: (res: Response, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { url: bare, headers } = withAuth(url, opts.credentials);
  const shown = redactUrl(bare);
  return withRetries(
    shown,
    {
      attempts: opts.attempts,
      onRetry: (i) => info(`retrying ${i.url} in ${i.delayMs} ms (attempt ${i.attempt} failed: ${i.reason})`),
    },
    async () => {
      const ctl = new AbortController();
      const timer = setTimeout(
        () => ctl.abort(new TransientError(`GET ${shown}: no answer within ${timeoutMs(opts)} ms`)),
        timeoutMs(opts),
      );
      try {
        let res: Response;
        try {
          res = await fetch(bare, {
            headers: { ...headers, ...opts.headers },
            redirect: "follow",
            signal: ctl.signal,
          });
        } catch (e) {
          if (ctl.signal.aborted) throw ctl.signal.reason;
          throw e;
        }
        if (!res.ok) {
          await res.body?.cancel().catch(() => {});
          const msg = `GET ${shown}: HTTP ${res.status} ${res.statusText}`.trim();
          if (res.status >= 500 || res.status === 429 || res.status === 408) throw new TransientError(msg);
          throw new HttpError(shown, res.status, msg);
        }
        clearTimeout(timer);
        // the body has its own idle timeout: reset on every chunk by the consumer's reads
        return await consume(res, ctl.signal);
      } catch (e) {
        if (ctl.signal.aborted && ctl.signal.reason instanceof TransientError) throw ctl.signal.reason;
        throw e;
      } finally {
        clearTimeout(timer);
      }
    },
  );
}

/**
 * The body of a response as chunks, failing with a TransientError when no chunk arrives
 * within the timeout (a stalled transfer is retried).
 */
export async function* idleTimed(res: Response, ms: number, what: string): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TransientError(`${what}: no data for ${ms} ms`)), ms);
      });
      try {
        const r = await Promise.race([reader.read(), stalled]);
        if (r.done) return;
        yield r.value;
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The idle timeout for bodies (same setting as the answer timeout). */
export function bodyTimeoutMs(opts: NetOptions): number {
  return timeoutMs(opts);
}

/** GET a whole body as text, with retries (truncation is retried). */
export async function getText(
  url: string,
  opts: NetOptions,
): Promise<{ text: string; contentType: string; url: string }> {
  return httpRequest(url, opts, async (res) => {
    const chunks: Uint8Array[] = [];
    for await (const c of idleTimed(res, bodyTimeoutMs(opts), `GET ${redactUrl(url)}`)) chunks.push(c);
    const buf = Buffer.concat(chunks);
    const len = res.headers.get("content-length");
    if (len !== null && res.headers.get("content-encoding") === null && Number(len) !== buf.length) {
      throw new TransientError(`GET ${redactUrl(url)}: truncated body (${buf.length} of ${len} bytes)`);
    }
    return {
      text: buf.toString("utf8"),
      contentType: res.headers.get("content-type") ?? "",
      url: res.url || url,
    };
  });
}
