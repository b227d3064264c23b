/**
 * The archive side of src/debian: the verified Release of every source and the Packages indices
 * it names (SHA256-checked; .gz preferred and parsed while it streams, .xz as the fallback),
 * parsed into a PackageUniverse (the parsed form: parsed-index.ts).
 *
 * Parsed indices are cached on disk keyed by the SHA256 of the uncompressed Packages file as
 * named by the verified Release: a warm load re-fetches only InRelease (small), verifies it,
 * and reads the compact parsed form; it never re-downloads or re-parses an index whose hash the
 * Release still names. The raw index is cached beside it and read only when a package's full
 * `fields` are asked for.
 */
import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { sweepTemps, tempPathFor, writeFileAtomic } from "../util/atomic.ts";
import { defaultCacheDir } from "../util/cache-dir.ts";
import { HttpError, redactUrl, TransientError, withRetries } from "../util/http.ts";
import { humanBytes, info, trace } from "../util/progress.ts";
import { fetchOnce, getBytes, retryNote } from "./cache.ts";
import { DebianError } from "./errors.ts";
import { INDEX_FORMAT, IndexParser, type ParsedIndex } from "./packages-index.ts";
import { LoadedIndex, materialize, readParsed, writeParsed } from "./parsed-index.ts";
import {
  checkValidUntil,
  loadKeyring,
  parseRelease,
  type ReleaseInfo,
  readKeyringFile,
  verifyClearsigned,
  verifyDetached,
} from "./release.ts";
import type { AptSource, BinaryPackage, PackageUniverse } from "./types.ts";
import { xzDecompress } from "./xz.ts";

export const DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

export interface ArchiveOptions {
  sources: AptSource[];
  /** "amd64" | "arm64" */
  arch: string;
  /** default /usr/share/keyrings/debian-archive-keyring.gpg */
  keyring?: string;
  allowExpired?: boolean;
  cacheDir?: string;
  now?: Date;
}

export type { ReleaseInfo } from "./release.ts";

const is404 = (e: unknown) => e instanceof HttpError && e.status === 404;

function sourceName(s: AptSource): string {
  return `${redactUrl(s.uri)} ${s.suite}`;
}

/** Parsed indices and signature memos unused this long are removed (on a cold load). */
const INDEX_KEEP_MS = 14 * 86400_000;

/** Remove files in `dir` not modified for `ms` (best effort; another process may race us). */
async function pruneOlderThan(dir: string, ms: number): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const limit = Date.now() - ms;
  for (const n of names) {
    const p = join(dir, n);
    const st = await stat(p).catch(() => null);
    if (st?.isFile() && st.mtimeMs < limit) await rm(p, { force: true });
  }
}

/** Read the keyring's bytes (E_KEYRING when missing): part of the verified-release cache key. */
async function keyringDigest(path: string): Promise<string> {
  return sha256hex(await readKeyringFile(path));
}

/**
 * Signature check with a memo: a (signed file, signature, keyring) triple that verified once is
 * recorded under the cache dir, keyed by the SHA256 of all three, so an unchanged InRelease is
 * not re-verified (and openpgp.js not even loaded) on a warm run.
 */
async function verifiedText(
  cacheDir: string,
  keyringPath: string,
  parts: Buffer[],
  verify: () => Promise<{ text: string; signedBy: string[] }>,
): Promise<{ text: string; signedBy: string[] }> {
  const h = createHash("sha256");
  h.update(await keyringDigest(keyringPath));
  for (const p of parts) h.update(sha256hex(p));
  const memo = join(cacheDir, "releases", `${h.digest("hex")}.verified.json`);
  try {
    const v = JSON.parse(await readFile(memo, "utf8")) as { text?: unknown; signedBy?: unknown };
    if (typeof v.text === "string" && Array.isArray(v.signedBy) && v.signedBy.length > 0) {
      return { text: v.text, signedBy: v.signedBy as string[] };
    }
  } catch {
    /* not memoized yet */
  }
  const r = await verify();
  await pruneOlderThan(dirname(memo), INDEX_KEEP_MS);
  await writeFileAtomic(memo, JSON.stringify(r));
  return r;
}

/** Fetch, verify (signature + Valid-Until) and parse the Release of `source`. */
export async function loadRelease(source: AptSource, opts: ArchiveOptions): Promise<ReleaseInfo> {
  const keyring = opts.keyring ?? DEFAULT_KEYRING;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  await keyringDigest(keyring);
  const base = `${source.uri.replace(/\/+$/, "")}/dists/${source.suite}`;
  let text: string;
  let signedBy: string[];
  let what: string;
  let inrelease: Buffer | undefined;
  try {
    inrelease = await getBytes(`${base}/InRelease`);
  } catch (e) {
    if (!is404(e)) throw e;
  }
  if (inrelease) {
    what = `${redactUrl(base)}/InRelease`;
    const data = inrelease;
    ({ text, signedBy } = await verifiedText(cacheDir, keyring, [data], async () =>
      verifyClearsigned(data.toString("utf8"), await loadKeyring(keyring), what),
    ));
  } else {
    what = `${redactUrl(base)}/Release`;
    let release: Buffer;
    try {
      release = await getBytes(`${base}/Release`);
    } catch (e2) {
      if (is404(e2)) {
        throw new DebianError(
          "E_NOT_FOUND",
          `suite ${source.suite} not found on ${redactUrl(source.uri)} (no InRelease or Release)`,
          { hint: "check --suite and --mirror" },
        );
      }
      throw e2;
    }
    let sig: Buffer;
    try {
      sig = await getBytes(`${base}/Release.gpg`);
    } catch (e3) {
      if (is404(e3)) {
        throw new DebianError("E_SIGNATURE", `${what}: unsigned (no InRelease and no Release.gpg)`, {
          exitCode: 3,
        });
      }
      throw e3;
    }
    ({ text, signedBy } = await verifiedText(cacheDir, keyring, [release, sig], async () => ({
      text: release.toString("utf8"),
      signedBy: await verifyDetached(release, sig, await loadKeyring(keyring), what),
    })));
  }
  const rel = parseRelease(text, what);
  rel.signedBy = signedBy;
  if (rel.suite !== source.suite && rel.codename !== source.suite) {
    throw new DebianError(
      "E_INDEX",
      `${what}: is for suite ${rel.suite ?? "?"} (codename ${rel.codename ?? "?"}), not ${source.suite}`,
      { exitCode: 3 },
    );
  }
  checkValidUntil(rel, what, opts.now ?? new Date(), opts.allowExpired === true);
  return rel;
}

/**
 * Index compressions in order of preference. gzip first: zlib inflates natively on a pool
 * thread while the index downloads and parses (about 0.25 s for trixie's main), where the xz
 * decoder, compiled to wasm, needs about 1.4 s; the .gz costs 35% more bytes (13 MB instead
 * of 9.7), which a link under ~3 MB/s would feel more than the decoding.
 */
const INDEX_VARIANTS = [".gz", ".xz", ""];

function sha256hex(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

interface IndexEntry {
  sha256: string;
  size: number;
}

const hashError = (what: string, msg: string) =>
  new DebianError("E_HASH", `${what}: ${msg}`, {
    hint: "the mirror is inconsistent or the index was tampered with; try again later",
    exitCode: 3,
  });

/** Chunks of uncompressed index from chunks of a compressed one. */
async function* decompressed(body: AsyncIterable<Uint8Array>, ext: string): AsyncGenerator<Uint8Array> {
  if (ext === ".gz") {
    // zlib runs on libuv's thread pool: it inflates while the main thread parses
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    // (pipeline, not pipe: a failing body destroys the inflater with its error)
    pipeline(Readable.from(body, { objectMode: false }), gunzip, () => {});
    yield* gunzip;
  } else if (ext === ".xz") {
    // the wasm decoder works on whole buffers (in a worker thread)
    const parts: Uint8Array[] = [];
    for await (const c of body) parts.push(c);
    yield await xzDecompress(Buffer.concat(parts));
  } else {
    yield* body;
  }
}

/**
 * GET one compressed Packages index and parse it while it arrives: the body is hashed as it
 * comes (a tee, so a body that does not decompress is still reported by its hash), inflated,
 * written to `rawPath` (renamed into place only once hash and sizes match the Release) and fed
 * to the streaming parser. Truncated transfers and connection errors retry.
 */
async function fetchIndex(
  url: string,
  ext: string,
  entry: IndexEntry,
  plain: IndexEntry | undefined,
  what: string,
  rawPath: string,
): Promise<ParsedIndex> {
  return withRetries(url, { onRetry: retryNote }, async (_attempt, ctx) => {
    const res = await fetchOnce(url, ctx);
    if (!res.body) throw new TransientError(`GET ${redactUrl(url)}: empty response`);
    const len = res.headers.get("content-length");
    const declared = len !== null && res.headers.get("content-encoding") === null ? Number(len) : undefined;
    const [forHash, forData] = res.body.tee();
    let tooLarge = false;
    const hashed = (async () => {
      const h = createHash("sha256");
      let n = 0;
      for await (const c of forHash as AsyncIterable<Uint8Array>) {
        n += c.length;
        if (n > entry.size) {
          tooLarge = true;
          break;
        }
        h.update(c);
      }
      return { sha: h.digest("hex"), n };
    })();
    hashed.catch(() => {}); // awaited below; this only keeps an early rejection from going unhandled
    const parser = new IndexParser(what);
    let rawLen = 0;
    await mkdir(dirname(rawPath), { recursive: true });
    const tmp = tempPathFor(rawPath);
    const fh = await open(tmp, "wx", 0o644);
    let renamed = false;
    try {
      let dataErr: unknown;
      try {
        for await (const c of decompressed(forData as AsyncIterable<Uint8Array>, ext)) {
          if (tooLarge) break;
          rawLen += c.length;
          if (plain && rawLen > plain.size) break;
          parser.push(c);
          await fh.write(c);
        }
      } catch (e) {
        dataErr = e;
      }
      const z = await hashed; // a connection error rejects here and is retried
      if (tooLarge || z.n > entry.size)
        throw hashError(what, `larger than the Release says (${entry.size} bytes)`);
      if (z.n < entry.size && (declared === undefined || z.n < declared))
        throw new TransientError(
          `GET ${redactUrl(url)}: truncated body (${z.n} of ${declared ?? entry.size} bytes)`,
        );
      if (z.n !== entry.size || z.sha !== entry.sha256)
        throw hashError(
          what,
          `SHA256 mismatch (Release says ${entry.sha256}, ${entry.size} bytes; got ${z.sha}, ${z.n} bytes)`,
        );
      if (dataErr !== undefined) {
        if (dataErr instanceof DebianError) throw dataErr;
        throw new DebianError("E_INDEX", `${what}: cannot decompress: ${(dataErr as Error).message}`);
      }
      // (the compressed bytes are those the signed Release names, so their inflation is too; the
      // uncompressed size is checked, hashing 50+ MB again would add nothing)
      if (plain && rawLen !== plain.size)
        throw hashError(what, `decompressed index is ${rawLen} bytes, the Release says ${plain.size}`);
      const parsed = parser.end();
      await fh.sync();
      await fh.close();
      await rename(tmp, rawPath);
      renamed = true;
      return parsed;
    } finally {
      if (!renamed) {
        await fh.close().catch(() => {});
        await rm(tmp, { force: true });
      }
    }
  });
}

/** Load one component's Packages index for `arch` (from the cache when its hash is known). */
async function loadIndex(
  source: AptSource,
  rel: ReleaseInfo,
  component: string,
  arch: string,
  cacheDir: string,
  out: BinaryPackage[],
): Promise<{ cached: boolean; count: number }> {
  const base = `${source.uri.replace(/\/+$/, "")}/dists/${source.suite}`;
  const rel0 = `${component}/binary-${arch}/Packages`;
  const plain = rel.sha256.get(rel0);
  const variants = INDEX_VARIANTS.filter((x) => rel.sha256.has(rel0 + x));
  if (variants.length === 0) {
    throw new DebianError(
      "E_INDEX",
      `${redactUrl(base)}: the Release does not list ${rel0}(.xz|.gz) — no component ${component} for ${arch}?`,
      { hint: "check --components and --arch" },
    );
  }
  const key = plain?.sha256 ?? rel.sha256.get(rel0 + variants[0])!.sha256;
  const dir = join(cacheDir, "indices", "sha256");
  const parsedPath = join(dir, `${key}.v${INDEX_FORMAT}.idx`);
  const rawPath = join(dir, `${key}.packages`);
  const cached = await readParsed(parsedPath);
  // mark both files used, so that pruning (below, on cold loads) keeps what is still in use; a
  // parsed index whose raw file is gone is a miss
  const now = new Date();
  if (
    cached &&
    (await utimes(rawPath, now, now).then(
      () => true,
      () => false,
    ))
  ) {
    await utimes(parsedPath, now, now).catch(() => {});
    materialize(new LoadedIndex(cached, source, rawPath), cached.count, arch, out);
    return { cached: true, count: cached.count };
  }
  await pruneOlderThan(dir, INDEX_KEEP_MS);
  let lastErr: unknown;
  for (const ext of variants) {
    const entry = rel.sha256.get(rel0 + ext)!;
    const what = `${redactUrl(base)}/${rel0}${ext}`;
    const urls = rel.acquireByHash
      ? [`${base}/${component}/binary-${arch}/by-hash/SHA256/${entry.sha256}`, `${base}/${rel0}${ext}`]
      : [`${base}/${rel0}${ext}`];
    let parsed: ParsedIndex | undefined;
    for (const url of urls) {
      try {
        info(`fetching ${what} (${humanBytes(entry.size)})`);
        parsed = await fetchIndex(url, ext, entry, plain, what, rawPath);
        break;
      } catch (e) {
        lastErr = e;
        if (!is404(e)) throw e;
      }
    }
    if (!parsed) continue;
    trace(`${what}: ${parsed.count} packages parsed`);
    await writeParsed(parsedPath, parsed);
    trace(`${what}: parsed form stored`);
    materialize(new LoadedIndex(parsed, source, rawPath), parsed.count, arch, out);
    return { cached: false, count: parsed.count };
  }
  if (is404(lastErr)) {
    throw new DebianError(
      "E_NOT_FOUND",
      `${redactUrl(base)}/${rel0}: not found on the mirror (tried ${variants.map((v) => `Packages${v}`).join(", ")})`,
      {
        hint: "check --suite, --arch, --components and the mirror",
      },
    );
  }
  throw lastErr;
}

/**
 * Every package of `opts.arch` and `all` from every source, each with `.source` set. Sources
 * are loaded in parallel; packages keep source order, then index order.
 */
export async function loadUniverse(opts: ArchiveOptions): Promise<PackageUniverse> {
  if (!opts.sources.length) throw new DebianError("E_SOURCES", "no sources to load");
  if (!/^[a-z0-9-]+$/.test(opts.arch))
    throw new DebianError("E_SOURCES", `invalid architecture ${JSON.stringify(opts.arch)}`);
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  await sweepTemps(cacheDir); // temps of killed processes, in the whole cache (once per process)
  const perSource = await Promise.all(
    opts.sources.map(async (source) => {
      const rel = await loadRelease(source, opts);
      trace(`${sourceName(source)}: Release verified`);
      if (rel.architectures.length && !rel.architectures.includes(opts.arch)) {
        throw new DebianError(
          "E_INDEX",
          `${sourceName(source)}: architecture ${opts.arch} is not in this suite (${rel.architectures.join(" ")})`,
          {
            hint: "check --arch",
          },
        );
      }
      const lists = await Promise.all(
        source.components.map(async (comp) => {
          const pk: BinaryPackage[] = [];
          await loadIndex(source, rel, comp, opts.arch, cacheDir, pk);
          // As apt: arch-all packages have their own index only when the Release lists "all"
          // among its Architectures without No-Support-for-Architecture-all: Packages.
          if (
            rel.architectures.includes("all") &&
            !rel.noArchAllPackages &&
            [".xz", ".gz", ""].some((x) => rel.sha256.has(`${comp}/binary-all/Packages${x}`))
          ) {
            const all: BinaryPackage[] = [];
            await loadIndex(source, rel, comp, "all", cacheDir, all);
            const seen = new Set(pk.map((p) => `${p.name}\0${p.version}\0${p.architecture}`));
            for (const p of all) if (!seen.has(`${p.name}\0${p.version}\0${p.architecture}`)) pk.push(p);
          }
          return pk;
        }),
      );
      return lists.flat();
    }),
  );
  const packages: BinaryPackage[] = [];
  for (const list of perSource) for (const p of list) packages.push(p);
  return { arch: opts.arch, packages };
}
