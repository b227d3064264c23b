/**
 * The verified, content-addressed .deb cache and the network helpers of src/debian.
 *
 * Layout under the cache dir (default `$XDG_CACHE_HOME/shellfree`, else `~/.cache/shellfree`):
 *   debs/sha256/<hex>                       a .deb whose SHA256 is <hex> (checked before rename)
 *   indices/sha256/<hex>.packages           a raw Packages index (SHA256 named by a verified Release)
 *   indices/sha256/<hex>.v1.idx             its parsed, compact form
 * Entries are written to a temp name in the same directory and renamed into place only after
 * their hash has been checked, so concurrent processes sharing a cache never see a partial or
 * unverified entry (two writers of the same entry rename identical bytes).
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { sweepTemps, writeStreamAtomic } from "../util/atomic.ts";
import { defaultCacheDir } from "../util/cache-dir.ts";
import { getOnce, type RequestContext, redactUrl, TransientError, withRetries } from "../util/http.ts";
import { humanBytes, info, progress } from "../util/progress.ts";
import { aptAuthHeader } from "./auth-conf.ts";
import { DebianError } from "./errors.ts";
import type { BinaryPackage } from "./types.ts";

/**
 * One GET from a mirror (util/http.ts: timeouts, credentials from the URL): the Response when
 * 2xx; TransientError on 5xx/429/408; HttpError otherwise. Without credentials in the URL,
 * apt's auth.conf(.d) is asked for them.
 */
export async function fetchOnce(url: string, ctx?: RequestContext): Promise<Response> {
  const auth = aptAuthHeader(url);
  return getOnce(url, {
    ctx,
    headers: auth ? { authorization: auth } : undefined,
    hint404: "check the suite, architecture and mirror",
  });
}

/** The progress line before a retry. */
export function retryNote(i: { url: string; attempt: number; reason: string; delayMs: number }): void {
  info(`retrying ${i.url} in ${i.delayMs} ms (attempt ${i.attempt} failed: ${i.reason})`);
}

/** GET a whole body, retrying transient failures, including bodies cut short. */
export async function getBytes(url: string): Promise<Buffer> {
  return withRetries(url, { onRetry: retryNote }, async (_attempt, ctx) => {
    const res = await fetchOnce(url, ctx);
    const buf = Buffer.from(await res.arrayBuffer());
    const len = res.headers.get("content-length");
    if (len !== null && res.headers.get("content-encoding") === null && Number(len) !== buf.length) {
      throw new TransientError(`GET ${redactUrl(url)}: truncated body (${buf.length} of ${len} bytes)`);
    }
    return buf;
  });
}

/** Path of the cache entry for a .deb with this SHA256. */
export function debCachePath(cacheDir: string, sha256: string): string {
  return join(cacheDir, "debs", "sha256", sha256);
}

/** URL of a package's .deb on its source's mirror. */
export function debUrl(pkg: BinaryPackage): string {
  return `${pkg.source.uri.replace(/\/+$/, "")}/${pkg.filename.replace(/^\/+/, "")}`;
}

export interface FetchedDeb {
  pkg: BinaryPackage;
  /** verified .deb in the content-addressed cache */
  path: string;
  /** true when it was already in the cache */
  cached: boolean;
}

/** Download one .deb into the cache (unless present), checking size and SHA256 before the rename. */
export async function fetchDeb(
  pkg: BinaryPackage,
  cacheDir: string,
  onBytes?: (n: number) => void,
): Promise<FetchedDeb> {
  if (!/^[0-9a-f]{64}$/.test(pkg.sha256)) {
    throw new DebianError(
      "E_INDEX",
      `${pkg.name} ${pkg.version}: invalid SHA256 ${JSON.stringify(pkg.sha256)} in the index`,
    );
  }
  const dest = debCachePath(cacheDir, pkg.sha256);
  const st = await stat(dest).catch(() => null);
  if (st?.isFile() && st.size === pkg.size) return { pkg, path: dest, cached: true };
  const url = debUrl(pkg);
  const what = `${pkg.name}_${pkg.version}_${pkg.architecture}.deb`;
  await withRetries(url, { onRetry: retryNote }, async (_attempt, ctx) => {
    const res = await fetchOnce(url, ctx);
    if (!res.body) throw new TransientError(`GET ${redactUrl(url)}: empty response`);
    const hash = createHash("sha256");
    let size = 0;
    const body = res.body as AsyncIterable<Uint8Array>;
    async function* metered(): AsyncGenerator<Uint8Array> {
      for await (const chunk of body) {
        size += chunk.length;
        if (size > pkg.size) {
          throw new DebianError(
            "E_HASH",
            `${what}: download is larger than the index says (${pkg.size} bytes) — ${redactUrl(url)}`,
            {
              hint: "the mirror served different bytes than its signed index names; nothing was cached",
              exitCode: 3,
            },
          );
        }
        hash.update(chunk);
        onBytes?.(chunk.length);
        yield chunk;
      }
    }
    await writeStreamAtomic(dest, metered(), () => {
      if (size < pkg.size) {
        throw new TransientError(`GET ${redactUrl(url)}: truncated (${size} of ${pkg.size} bytes)`);
      }
      const got = hash.digest("hex");
      if (got !== pkg.sha256) {
        throw new DebianError(
          "E_HASH",
          `${what}: SHA256 mismatch (index says ${pkg.sha256}, downloaded ${got}) — ${redactUrl(url)}`,
          {
            hint: "the mirror served different bytes than its signed index names; nothing was cached",
            exitCode: 3,
          },
        );
      }
    });
  });
  return { pkg, path: dest, cached: false };
}

/**
 * Download `pkgs` into the content-addressed cache (bounded parallelism, retries), each checked
 * against its index SHA256 before it enters the cache. Same order as the input.
 */
export async function fetchDebs(
  pkgs: BinaryPackage[],
  opts: { cacheDir?: string; concurrency?: number } = {},
): Promise<Array<FetchedDeb>> {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  await sweepTemps(cacheDir);
  const results: FetchedDeb[] = new Array(pkgs.length);
  const todo: number[] = [];
  for (let i = 0; i < pkgs.length; i++) {
    const p = pkgs[i];
    const dest = debCachePath(cacheDir, p.sha256);
    if (!/^[0-9a-f]{64}$/.test(p.sha256)) {
      throw new DebianError(
        "E_INDEX",
        `${p.name} ${p.version}: invalid SHA256 ${JSON.stringify(p.sha256)} in the index`,
      );
    }
    const st = await stat(dest).catch(() => null);
    if (st?.isFile() && st.size === p.size) results[i] = { pkg: p, path: dest, cached: true };
    else todo.push(i);
  }
  if (todo.length === 0) return results;
  const total = todo.reduce((s, i) => s + pkgs[i].size, 0);
  const bar = progress(`downloading ${todo.length} packages`, total, "bytes");
  const limit = Math.max(1, Math.min(opts.concurrency ?? 8, todo.length));
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < todo.length) {
      const i = todo[next++];
      try {
        results[i] = await fetchDeb(pkgs[i], cacheDir, (n) => bar.tick(n));
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  if (failed !== undefined) throw failed;
  bar.done(`${todo.length} packages, ${humanBytes(total)}`);
  return results;
}
