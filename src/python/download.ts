/**
 * Getting a chosen wheel's bytes into the content-addressed cache, checked the way pip's
 * `--require-hashes` checks them: the bytes must match one of the requirement's hashes, and
 * one of the hashes their source states (index fragment, lockfile) when it states one of a
 * comparable algorithm. A mismatch is an error naming the file and both hashes; nothing is
 * cached under a wrong hash.
 *
 * Layout under the cache dir: `wheels/sha256/<hex>` — a wheel whose SHA256 is <hex>, written
 * to a temp name in the same directory and renamed into place only after its hashes were
 * checked (src/util/atomic.ts), so concurrent builds sharing a cache never see a partial or
 * unverified entry.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { sweepTemps, tempPathFor, writeStreamAtomic } from "../util/atomic.ts";
import { redactUrl, TransientError } from "../util/http.ts";
import { PythonError } from "./errors.ts";
import { formatHash } from "./hashes.ts";
import { bodyChunks, httpRequest, type NetOptions } from "./net.ts";
import type { ChosenWheel, FetchedWheel, HashAlgorithm, HashSpec } from "./types.ts";

export function wheelCacheDir(cacheDir: string): string {
  return join(cacheDir, "wheels", "sha256");
}

export function wheelCachePath(cacheDir: string, sha256: string): string {
  return join(wheelCacheDir(cacheDir), sha256);
}

function sha256s(hs: HashSpec[]): string[] {
  return hs.filter((h) => h.algorithm === "sha256").map((h) => h.hex);
}

/** The sha256 a cached copy must have to be usable without a download, if one is determined. */
function cacheCandidates(chosen: ChosenWheel): string[] {
  const allowed = sha256s(chosen.requirement.hashes);
  const stated = sha256s(chosen.file.hashes);
  if (!allowed.length && !stated.length) return [];
  if (!allowed.length) return stated;
  if (!stated.length) return chosen.file.hashes.length ? [] : allowed;
  return stated.filter((h) => allowed.includes(h));
}

/** Check the digests of a file's bytes; throws E_PY_HASH naming the file and both hashes. */
export function checkDigests(
  chosen: ChosenWheel,
  digests: Record<HashAlgorithm, string>,
  from: string,
): void {
  const req = chosen.requirement;
  const id = `${req.displayName}==${req.version}`;
  const what = chosen.file.filename;
  const hint = "the file differs from the one the requirements were locked with; nothing was cached";
  if (req.hashes.length && !req.hashes.some((h) => digests[h.algorithm] === h.hex)) {
    const algo = req.hashes[0].algorithm;
    throw new PythonError(
      "E_PY_HASH",
      `${id}: ${what} from ${from} has ${algo}:${digests[algo]}, but ${req.where} allows only ${req.hashes.map(formatHash).join(", ")}`,
      { hint, exitCode: 3 },
    );
  }
  const stated = chosen.file.hashes;
  if (stated.length && !stated.some((h) => digests[h.algorithm] === h.hex)) {
    const algo = stated[0].algorithm;
    throw new PythonError(
      "E_PY_HASH",
      `${id}: ${what} from ${from} has ${algo}:${digests[algo]}, but ${chosen.file.origin} states ${stated.map(formatHash).join(", ")}`,
      { hint, exitCode: 3 },
    );
  }
}

/** Hash a stream while it is written into the cache; rename into place only when checked. */
async function store(
  chosen: ChosenWheel,
  cacheDir: string,
  source: AsyncIterable<Uint8Array>,
  from: string,
  onEnd?: (size: number) => void,
): Promise<{ path: string; sha256: string; size: number }> {
  const dir = wheelCacheDir(cacheDir);
  const hashers: Record<HashAlgorithm, Hash> = {
    sha256: createHash("sha256"),
    sha384: createHash("sha384"),
    sha512: createHash("sha512"),
  };
  let size = 0;
  async function* metered(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      size += chunk.length;
      for (const h of Object.values(hashers)) h.update(chunk);
      yield chunk;
    }
  }
  // written under a temp name (cleanTemps removes it if we are killed), renamed to its hash after the check
  const staging = tempPathFor(join(dir, "verified"));
  let sha256 = "";
  await writeStreamAtomic(staging, metered(), () => {
    onEnd?.(size);
    const digests = {
      sha256: hashers.sha256.digest("hex"),
      sha384: hashers.sha384.digest("hex"),
      sha512: hashers.sha512.digest("hex"),
    };
    checkDigests(chosen, digests, from);
    sha256 = digests.sha256;
  });
  const dest = wheelCachePath(cacheDir, sha256);
  try {
    await rename(staging, dest);
  } catch (e) {
    await rm(staging, { force: true });
    throw e;
  }
  return { path: dest, sha256, size };
}

/**
 * The chosen wheel, verified, in the cache: from the cache when an entry with an allowed hash
 * is there, else copied from its local path or downloaded from its URL.
 */
export async function fetchWheel(
  chosen: ChosenWheel,
  opts: { cacheDir: string; net?: NetOptions },
): Promise<FetchedWheel> {
  for (const hex of cacheCandidates(chosen)) {
    const path = wheelCachePath(opts.cacheDir, hex);
    const st = await stat(path).catch(() => null);
    if (st?.isFile()) return { ...chosen, path, sha256: hex, size: st.size };
  }
  const file = chosen.file;
  if (file.path) {
    const r = await store(chosen, opts.cacheDir, createReadStream(file.path), file.path);
    return { ...chosen, ...r };
  }
  if (!file.url)
    throw new PythonError("E_PY_INDEX", `${file.filename}: neither a URL nor a path to get it from`);
  const net = opts.net ?? {};
  const shown = redactUrl(file.url);
  const r = await httpRequest(file.url, net, async (res) => {
    const expected = res.headers.get("content-length");
    return store(chosen, opts.cacheDir, bodyChunks(res), shown, (size) => {
      if (expected !== null && res.headers.get("content-encoding") === null && Number(expected) !== size) {
        throw new TransientError(`GET ${shown}: truncated (${size} of ${expected} bytes)`);
      }
    });
  });
  return { ...chosen, ...r };
}

/** Fetch many wheels (bounded parallelism), results in input order. */
export async function fetchWheels(
  chosen: ChosenWheel[],
  opts: { cacheDir: string; net?: NetOptions; concurrency?: number },
): Promise<FetchedWheel[]> {
  await sweepTemps(opts.cacheDir);
  const out: FetchedWheel[] = new Array(chosen.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < chosen.length) {
      const i = next++;
      try {
        out[i] = await fetchWheel(chosen[i], opts);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 4, chosen.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failed !== undefined) throw failed;
  return out;
}
