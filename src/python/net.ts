/**
 * HTTP for package indexes and wheel downloads: src/util/http.ts's requests (connect and idle
 * timeouts, retries within a budget, `--timeout`), and credentials taken from the index URL
 * (`https://user:token@host/simple`) sent as Basic auth to that host only — they are never part
 * of a URL shown in a message.
 */
import { basicAuth, getOnce, redactUrl, TransientError, withRetries } from "../util/http.ts";
import { info } from "../util/progress.ts";

export interface NetOptions {
  /** idle timeout in ms (no answer, no body bytes; default: util/http.ts's, `--timeout`) */
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
  if (user || pass) headers.authorization = basicAuth(decodeURIComponent(user), decodeURIComponent(pass));
  return { url: u.toString(), headers };
}

/**
 * GET `url` with retries (util/http.ts: connect and idle timeouts, the retry budget);
 * `consume` reads the response (its failure — a body cut short, a stall — is retried too when
 * it throws TransientError or a network error). HTTP 4xx other than 408/429 is an HttpError at
 * once.
 */
export async function httpRequest<T>(
  url: string,
  opts: NetOptions,
  consume: (res: Response) => Promise<T>,
): Promise<T> {
  const { url: bare, headers } = withAuth(url, opts.credentials);
  const shown = redactUrl(bare);
  return withRetries(
    shown,
    {
      attempts: opts.attempts,
      idleMs: opts.timeoutMs,
      onRetry: (i) => info(`retrying ${i.url} in ${i.delayMs} ms (attempt ${i.attempt} failed: ${i.reason})`),
    },
    async (_attempt, ctx) => consume(await getOnce(bare, { headers: { ...headers, ...opts.headers }, ctx })),
  );
}

/** The body of a response as chunks (a stalled transfer fails with util/http.ts's StallError). */
export async function* bodyChunks(res: Response): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  yield* res.body as AsyncIterable<Uint8Array>;
}

/** GET a whole body as text, with retries (truncation is retried). */
export async function getText(
  url: string,
  opts: NetOptions,
): Promise<{ text: string; contentType: string; url: string }> {
  return httpRequest(url, opts, async (res) => {
    const chunks: Uint8Array[] = [];
    for await (const c of bodyChunks(res)) chunks.push(c);
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
