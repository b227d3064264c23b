/**
 * The archive side of src/debian: the verified Release of every source and the Packages indices
 * it names (SHA256-checked; .xz preferred, .gz fallback), parsed into a PackageUniverse.
 *
 * Parsed indices are cached on disk keyed by the SHA256 of the uncompressed Packages file as
 * named by the verified Release: a warm load re-fetches only InRelease (small), verifies it,
 * and reads the compact parsed form; it never re-downloads or re-parses an index whose hash the
 * Release still names. The raw index is cached beside it and read only when a package's full
 * `fields` are asked for.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { gunzipSync } from "node:zlib";
import xzPkg from "xz-decompress";
import { writeFileAtomic } from "../util/atomic.ts";
import { HttpError, redactUrl } from "../util/http.ts";
import { humanBytes, info } from "../util/progress.ts";
import { defaultCacheDir, getBytes } from "./cache.ts";
import { forEachParagraph, parseDeb822 } from "./deb822.ts";
import { DebianError } from "./errors.ts";
import {
  checkValidUntil,
  loadKeyring,
  parseRelease,
  type ReleaseInfo,
  verifyClearsigned,
  verifyDetached,
} from "./release.ts";
import type { AptSource, BinaryPackage, PackageUniverse } from "./types.ts";

const { XzReadableStream } = xzPkg;

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

/** Fetch, verify (signature + Valid-Until) and parse the Release of `source`. */
export async function loadRelease(source: AptSource, opts: ArchiveOptions): Promise<ReleaseInfo> {
  const keys = await loadKeyring(opts.keyring ?? DEFAULT_KEYRING);
  const base = `${source.uri.replace(/\/+$/, "")}/dists/${source.suite}`;
  let text: string;
  let signedBy: string[];
  let what: string;
  try {
    what = `${redactUrl(base)}/InRelease`;
    const inrelease = await getBytes(`${base}/InRelease`);
    ({ text, signedBy } = await verifyClearsigned(inrelease.toString("utf8"), keys, what));
  } catch (e) {
    if (!is404(e)) throw e;
    what = `${redactUrl(base)}/Release`;
    let release: Buffer;
    try {
      release = await getBytes(`${base}/Release`);
    } catch (e2) {
      if (is404(e2)) {
        throw new DebianError(
          "E_NOT_FOUND",
          `suite ${source.suite} not found on ${redactUrl(source.uri)} (no InRelease or Release)`,
          {
            hint: "check --suite and --mirror",
          },
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
    signedBy = await verifyDetached(release, sig, keys, what);
    text = release.toString("utf8");
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

/* ------------------------------------------------------------------------------------------ */
/* Parsed-index cache                                                                          */

const INDEX_FORMAT = 1;
/** Columns stored per package, in this order. */
const COLS = [
  "name",
  "version",
  "architecture",
  "multiArch",
  "essential",
  "depends",
  "preDepends",
  "recommends",
  "provides",
  "conflicts",
  "breaks",
  "filename",
  "size",
  "sha256",
] as const;
const NCOLS = COLS.length;

interface ParsedIndex {
  format: number;
  count: number;
  /** NCOLS strings per package, joined by "\0" */
  cols: string;
  /** [start, end) byte offsets of each paragraph in the raw index */
  offsets: Float64Array;
}

/** A raw Packages index on disk, loaded at most once and only when full fields are read. */
class RawIndex {
  readonly path: string;
  private buf?: Buffer;
  constructor(path: string, buf?: Buffer) {
    this.path = path;
    this.buf = buf;
  }
  paragraph(start: number, end: number): Record<string, string> {
    this.buf ??= readFileSync(this.path);
    const text = this.buf.toString("utf8", start, end);
    return parseDeb822(text, this.path)[0] ?? {};
  }
}

/** A package of an index; `fields` is read from the raw index on first use. */
class IndexedPackage implements BinaryPackage {
  name: string;
  version: string;
  architecture: string;
  multiArch?: "same" | "foreign" | "allowed" | "no";
  essential: boolean;
  depends: string;
  preDepends: string;
  recommends: string;
  provides: string;
  conflicts: string;
  breaks: string;
  filename: string;
  size: number;
  sha256: string;
  source: AptSource;
  #raw: RawIndex;
  #start: number;
  #end: number;
  #fields?: Record<string, string>;
  constructor(c: string[], i: number, source: AptSource, raw: RawIndex, start: number, end: number) {
    this.name = c[i];
    this.version = c[i + 1];
    this.architecture = c[i + 2];
    const ma = c[i + 3];
    if (ma) this.multiArch = ma as "same" | "foreign" | "allowed" | "no";
    this.essential = c[i + 4] === "yes";
    this.depends = c[i + 5];
    this.preDepends = c[i + 6];
    this.recommends = c[i + 7];
    this.provides = c[i + 8];
    this.conflicts = c[i + 9];
    this.breaks = c[i + 10];
    this.filename = c[i + 11];
    this.size = Number(c[i + 12]);
    this.sha256 = c[i + 13];
    this.source = source;
    this.#raw = raw;
    this.#start = start;
    this.#end = end;
  }
  get fields(): Record<string, string> {
    this.#fields ??= this.#raw.paragraph(this.#start, this.#end);
    return this.#fields;
  }
  set fields(v: Record<string, string>) {
    this.#fields = v;
  }
  toJSON(): Record<string, unknown> {
    const { source, ...rest } = { ...this };
    return { ...rest, source, fields: this.fields };
  }
}

const MULTI_ARCH = new Set(["same", "foreign", "allowed", "no"]);

/** Parse raw Packages bytes into the compact cached form. */
export function parseIndex(raw: Buffer, where: string): ParsedIndex {
  // latin1 keeps one character per byte, so paragraph offsets are byte offsets; every field the
  // compact form keeps is ASCII in Debian indices (full fields are re-decoded as UTF-8 on demand).
  const text = raw.toString("latin1");
  const cols: string[] = [];
  const offsets: number[] = [];
  let count = 0;
  forEachParagraph(
    text,
    (p, start, end) => {
      const name = p.Package;
      if (name === undefined)
        throw new DebianError("E_INDEX", `${where}: paragraph at byte ${start} has no Package field`);
      const version = p.Version;
      const arch = p.Architecture;
      const filename = p.Filename;
      const sha = p.SHA256;
      const size = p.Size;
      if (!version || !arch || !filename || !sha || !size) {
        throw new DebianError(
          "E_INDEX",
          `${where}: package ${name} lacks ${["Version", "Architecture", "Filename", "SHA256", "Size"].filter((k) => !p[k]).join(", ")}`,
        );
      }
      if (!/^[0-9a-f]{64}$/i.test(sha) || !/^\d+$/.test(size)) {
        throw new DebianError("E_INDEX", `${where}: package ${name} has a malformed SHA256 or Size`);
      }
      const ma = (p["Multi-Arch"] ?? "").trim().toLowerCase();
      cols.push(
        name,
        version,
        arch,
        MULTI_ARCH.has(ma) ? ma : "",
        (p.Essential ?? "").toLowerCase() === "yes" ? "yes" : "",
        p.Depends ?? "",
        p["Pre-Depends"] ?? "",
        p.Recommends ?? "",
        p.Provides ?? "",
        p.Conflicts ?? "",
        p.Breaks ?? "",
        filename,
        size,
        sha.toLowerCase(),
      );
      offsets.push(start, end);
      count++;
    },
    where,
  );
  for (const c of cols) {
    if (c.includes("\0")) throw new DebianError("E_INDEX", `${where}: NUL byte in a field`);
  }
  return { format: INDEX_FORMAT, count, cols: cols.join("\0"), offsets: Float64Array.from(offsets) };
}

function materialize(
  idx: ParsedIndex,
  source: AptSource,
  raw: RawIndex,
  arch: string,
  out: BinaryPackage[],
): void {
  const c = idx.count === 0 ? [] : idx.cols.split("\0");
  if (c.length !== idx.count * NCOLS) throw new Error("corrupt parsed index");
  for (let k = 0; k < idx.count; k++) {
    const i = k * NCOLS;
    const a = c[i + 2];
    if (a !== arch && a !== "all") continue;
    out.push(new IndexedPackage(c, i, source, raw, idx.offsets[2 * k], idx.offsets[2 * k + 1]));
  }
}

async function readParsed(path: string): Promise<ParsedIndex | null> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch {
    return null;
  }
  try {
    const v = deserialize(buf) as ParsedIndex;
    if (v?.format !== INDEX_FORMAT || typeof v.cols !== "string" || !(v.offsets instanceof Float64Array))
      return null;
    if (v.offsets.length !== 2 * v.count) return null;
    return v;
  } catch {
    return null;
  }
}

function sha256hex(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

async function decompress(data: Buffer, ext: string, what: string): Promise<Buffer> {
  try {
    if (ext === ".gz") return gunzipSync(data);
    if (ext === ".xz") {
      const stream = new XzReadableStream(new Blob([new Uint8Array(data)]).stream());
      return Buffer.from(await new Response(stream).arrayBuffer());
    }
    return data;
  } catch (e) {
    throw new DebianError("E_INDEX", `${what}: cannot decompress: ${(e as Error).message}`);
  }
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
  const variants = [".xz", ".gz", ""].filter((x) => rel.sha256.has(rel0 + x));
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
  if (cached) {
    materialize(cached, source, new RawIndex(rawPath), arch, out);
    return { cached: true, count: cached.count };
  }
  let lastErr: unknown;
  for (const ext of variants) {
    const entry = rel.sha256.get(rel0 + ext)!;
    const what = `${redactUrl(base)}/${rel0}${ext}`;
    const urls = rel.acquireByHash
      ? [`${base}/${component}/binary-${arch}/by-hash/SHA256/${entry.sha256}`, `${base}/${rel0}${ext}`]
      : [`${base}/${rel0}${ext}`];
    let data: Buffer | undefined;
    for (const url of urls) {
      try {
        info(`fetching ${what} (${humanBytes(entry.size)})`);
        data = await getBytes(url);
        break;
      } catch (e) {
        lastErr = e;
        if (!is404(e)) throw e;
      }
    }
    if (!data) continue;
    const got = sha256hex(data);
    if (data.length !== entry.size || got !== entry.sha256) {
      throw new DebianError(
        "E_HASH",
        `${what}: SHA256 mismatch (Release says ${entry.sha256}, ${entry.size} bytes; got ${got}, ${data.length} bytes)`,
        { hint: "the mirror is inconsistent or the index was tampered with; try again later", exitCode: 3 },
      );
    }
    const raw = await decompress(data, ext, what);
    if (plain && (raw.length !== plain.size || sha256hex(raw) !== plain.sha256)) {
      throw new DebianError(
        "E_HASH",
        `${what}: decompressed index does not match the Release's SHA256 for ${rel0}`,
        {
          exitCode: 3,
        },
      );
    }
    const parsed = parseIndex(raw, what);
    await writeFileAtomic(rawPath, raw);
    await writeFileAtomic(parsedPath, serialize(parsed));
    materialize(parsed, source, new RawIndex(rawPath, raw), arch, out);
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
  const perSource = await Promise.all(
    opts.sources.map(async (source) => {
      const rel = await loadRelease(source, opts);
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
