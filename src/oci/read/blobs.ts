/**
 * Where a layout's blobs are read from — a directory, or the members of a tar — and reading them
 * verified: small blobs whole (digest and size checked before they are parsed), layers as
 * streams checked while they flow and decompressed.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import { decompressor } from "../decompress.ts";
import { DigestStream, parseDigest, sha256Digest } from "../digest.ts";
import { OciError } from "../errors.ts";
import { blobPath } from "../layout.ts";
import { MAX_JSON, type Member } from "./tar-index.ts";

export interface Source {
  what: string;
  /** raw bytes stream of a blob, or undefined if absent */
  rawStream(digest: string): Readable;
  has(digest: string): boolean | Promise<boolean>;
  close(): Promise<void>;
}

export function dirSource(dir: string): Source {
  return {
    what: dir,
    rawStream: (digest) => createReadStream(blobPath(dir, digest), { highWaterMark: 1 << 20 }),
    has: async (digest) =>
      open(blobPath(dir, digest), "r").then(
        async (f) => {
          await f.close();
          return true;
        },
        () => false,
      ),
    close: async () => {},
  };
}

export function tarSource(file: string, members: Map<string, Member>, prefix = "blobs/"): Source {
  const memberFor = (digest: string): Member | undefined => {
    const { algorithm, hex } = parseDigest(digest);
    return members.get(`${prefix}${algorithm}/${hex}`);
  };
  return {
    what: file,
    rawStream: (digest) => {
      const m = memberFor(digest);
      if (!m) {
        const p = new PassThrough();
        process.nextTick(() =>
          p.destroy(new OciError("E_BLOB_MISSING", `${file}: blob ${digest} is missing`)),
        );
        return p;
      }
      if (m.size === 0) {
        const p = new PassThrough();
        p.end();
        return p;
      }
      return createReadStream(file, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
    },
    has: (digest) => memberFor(digest) !== undefined,
    close: async () => {},
  };
}

async function streamToBuffer(s: Readable, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of s) {
    n += (c as Buffer).length;
    if (n > max) {
      s.destroy();
      throw new OciError("E_MANIFEST", `${what} is larger than ${max} bytes`);
    }
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

function mapMissing(e: unknown, src: Source, digest: string): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") throw new OciError("E_BLOB_MISSING", `${src.what}: blob ${digest} is missing`);
  throw e;
}

/** Read a whole (small) blob and check its digest and size. */
export async function readVerified(
  src: Source,
  d: { digest: string; size?: number },
  what: string,
): Promise<Buffer> {
  if (d.size !== undefined && d.size > MAX_JSON)
    throw new OciError("E_MANIFEST", `${what} ${d.digest} is too large (${d.size} bytes)`);
  let buf: Buffer;
  try {
    buf = await streamToBuffer(src.rawStream(d.digest), MAX_JSON, `${what} ${d.digest}`);
  } catch (e) {
    mapMissing(e, src, d.digest);
  }
  const got = sha256Digest(buf);
  if (got !== d.digest) throw new OciError("E_DIGEST", `${src.what}: ${what} ${d.digest} has digest ${got}`);
  if (d.size !== undefined && buf.length !== d.size) {
    throw new OciError(
      "E_DIGEST",
      `${src.what}: ${what} ${d.digest} has ${buf.length} bytes, descriptor says ${d.size}`,
    );
  }
  return buf;
}

export function parseJson<T>(buf: Buffer, what: string): T {
  try {
    return JSON.parse(buf.toString("utf8")) as T;
  } catch {
    throw new OciError("E_MANIFEST", `${what}: not valid JSON`);
  }
}

/** Chain raw → digest check → decompress → diffId check; errors travel to the returned stream. */
export function layerStream(
  raw: Readable,
  l: { digest?: string; size?: number; diffId?: string; what: string },
  kind: "gzip" | "zstd" | "none",
): Readable {
  const chain: Array<Readable | import("node:stream").Duplex> = [raw];
  if (l.digest) chain.push(new DigestStream({ digest: l.digest, size: l.size, what: l.what }));
  const d = decompressor(kind);
  if (d) chain.push(d);
  if (l.diffId && (kind !== "none" || l.diffId !== l.digest)) {
    chain.push(new DigestStream({ digest: l.diffId, what: `${l.what} (uncompressed)` }));
  }
  // zlib's "incorrect header check" alone does not say which blob: the decompressor's own
  // errors leave it as E_COMPRESSION naming the layer
  if (d && chain[chain.length - 1] === d) chain.push(new PassThrough());
  const named = (e: Error) =>
    e instanceof OciError || (e as NodeJS.ErrnoException).syscall !== undefined
      ? e
      : new OciError("E_COMPRESSION", `${l.what}: cannot decompress (${kind}): ${e.message}`, { cause: e });
  for (let i = 0; i + 1 < chain.length; i++) {
    const a = chain[i];
    const b = chain[i + 1];
    a.on("error", (e) => (b as Readable).destroy(a === d ? named(e) : e));
    a.pipe(b as import("node:stream").Writable);
  }
  // errors from upstream are forwarded to the last stream, which the consumer reads
  return chain[chain.length - 1] as Readable;
}
