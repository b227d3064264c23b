/**
 * Layers: a deterministic tar of a TreeEntry list, compressed, stored content-addressed in a
 * blob directory (<blobDir>/sha256/<hex>), written to a temp file and renamed.
 *
 * gzip is compressed in parallel: the tar stream is cut at fixed offsets (every
 * GZIP_CHUNK bytes) and every chunk becomes one complete gzip member (fixed header: no name,
 * mtime 0, OS 3); the members are concatenated in order (RFC 1952 multi-member files, read by
 * every gzip/OCI consumer). The chunking depends only on the tar bytes, so the output is the
 * same on every run; the zlib async API runs on the libuv thread pool, so chunks are compressed
 * on all cores. Memory stays bounded: at most `parallel` chunks are in flight. zstd (several
 * times faster than gzip) is one single-threaded frame.
 */

import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createZstdCompress, gzip as gzipCb, type ZlibOptions, constants as zc } from "node:zlib";
import { blobTempPath, commitBlob, DigestStream } from "./digest.ts";
import { OciError } from "./errors.ts";
import { MEDIA_OCI_LAYER, MEDIA_OCI_LAYER_GZIP, MEDIA_OCI_LAYER_ZSTD } from "./media.ts";
import { normalizeEntries, tarStream } from "./tar.ts";
import type { TreeEntry } from "./types.ts";

export type Compression = "gzip" | "zstd" | "none";

export interface LayerOptions {
  compression: Compression;
  /** seconds since the epoch; every mtime is clamped to it */
  sourceDateEpoch: number;
  /** content-addressed blob store directory: blobs land in <blobDir>/sha256/<hex> */
  blobDir: string;
  /** gzip level 1..9 (default GZIP_LEVEL) */
  gzipLevel?: number;
  /** zstd level 1..19 (default 3) */
  zstdLevel?: number;
  /** called with the number of uncompressed tar bytes produced so far */
  onProgress?: (tarBytes: number) => void;
}

export interface Layer {
  /** digest of the (compressed) blob */
  digest: string;
  /** digest of the uncompressed tar */
  diffId: string;
  size: number;
  uncompressedSize: number;
  mediaType: string;
  /** the blob file */
  path: string;
  /** number of tar entries */
  entries: number;
}

/**
 * The bytes writeLayer makes of the same entries change only with this number: bump it with any
 * change to the tar it writes (tar.ts) or to its compression. Cached layers (src/builder) are
 * keyed by it.
 */
export const LAYER_FORMAT_VERSION = 1;

/** Size of the tar slices compressed as independent gzip members. Changing it changes digests. */
export const GZIP_CHUNK = 4 * 1024 * 1024;

/**
 * Default gzip level: 5, as podman and skopeo (containers/image) use for layers. On Debian
 * package trees it compresses within 0.5% of level 6 in about 20% less time.
 */
export const GZIP_LEVEL = 5;

export function mediaTypeFor(c: Compression): string {
  switch (c) {
    case "gzip":
      return MEDIA_OCI_LAYER_GZIP;
    case "zstd":
      return MEDIA_OCI_LAYER_ZSTD;
    case "none":
      return MEDIA_OCI_LAYER;
    default:
      throw new OciError("E_COMPRESSION", `unknown compression "${String(c)}" (gzip, zstd or none)`);
  }
}

function gzipMember(data: Uint8Array, level: number): Promise<Buffer> {
  const o: ZlibOptions = { level, memLevel: 8, windowBits: 15, strategy: zc.Z_DEFAULT_STRATEGY };
  return new Promise((resolve, reject) =>
    gzipCb(data, o, (err, out) => {
      if (err) reject(err);
      else {
        // Header: 1f 8b 08 FLG=0 MTIME=0 XFL OS. Fix the OS byte to 3 (Unix) whatever zlib's
        // build says, so the bytes do not depend on where we run.
        out[9] = 3;
        resolve(out);
      }
    }),
  );
}

/**
 * Compression jobs in flight in this process, over every stream (layers are written
 * concurrently): one per core and one more keep the cores busy; more would only hold more
 * buffers. Waiters are served in order.
 */
const JOBS = Math.max(2, availableParallelism()) + 1;
let jobsRunning = 0;
const jobWaiters: Array<() => void> = [];
function acquireJob(): Promise<void> | undefined {
  if (jobsRunning < JOBS) {
    jobsRunning++;
    return undefined;
  }
  return new Promise((resolve) => jobWaiters.push(resolve));
}
function releaseJob(): void {
  const next = jobWaiters.shift();
  if (next)
    next(); // (the slot passes to it)
  else jobsRunning--;
}

/**
 * Input slices, reused once compressed (shared by every stream): a few buffers for the whole
 * build, not one per chunk (freed large buffers leave the C heap fragmented and the process
 * larger).
 */
const slicePool = new Map<number, Buffer[]>();
function takeSlice(size: number): Buffer {
  return slicePool.get(size)?.pop() ?? Buffer.allocUnsafe(size);
}
function returnSlice(b: Buffer): void {
  let pool = slicePool.get(b.length);
  if (!pool) slicePool.set(b.length, (pool = []));
  if (pool.length < JOBS + 2) pool.push(b);
}

/**
 * Cut a byte stream at fixed offsets (every `chunkSize` bytes, whatever the input chunking),
 * compress the slices concurrently with `compress` (at most `parallel` of this stream in flight,
 * and at most JOBS of the whole process) and emit the results in order. `compress` must be done
 * with its input when its promise settles (the slice's buffer is then reused). Deterministic:
 * depends only on the input bytes and `chunkSize`.
 */
export async function* parallelChunks(
  source: AsyncIterable<Uint8Array>,
  compress: (slice: Uint8Array) => Promise<Buffer>,
  chunkSize: number,
  parallel = JOBS,
): AsyncGenerator<Buffer> {
  const pending: Promise<Buffer>[] = [];
  /** compress `b` (a slice of the pooled `owner`) */
  const submit = async (b: Buffer, owner: Buffer) => {
    const wait = acquireJob();
    if (wait) await wait;
    const p = compress(b);
    p.then(
      () => {
        releaseJob();
        returnSlice(owner);
      },
      () => releaseJob(), // (a failure is handled when awaited in order)
    );
    pending.push(p);
  };
  let buf = takeSlice(chunkSize);
  let fill = 0;
  let total = 0;
  try {
    for await (const c of source) {
      let off = 0;
      total += c.length;
      while (off < c.length) {
        const n = Math.min(chunkSize - fill, c.length - off);
        buf.set(c.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === chunkSize) {
          while (pending.length >= parallel) yield await (pending.shift() as Promise<Buffer>);
          await submit(buf, buf);
          buf = takeSlice(chunkSize);
          fill = 0;
        }
      }
    }
    if (fill > 0 || total === 0) await submit(buf.subarray(0, fill), buf);
    else returnSlice(buf);
    while (pending.length > 0) yield await (pending.shift() as Promise<Buffer>);
  } finally {
    // (on an early end, what is still in flight settles on its own and frees its slot)
    for (const p of pending) p.catch(() => {});
  }
}

/** Concatenated gzip members of fixed-size input slices (RFC 1952 multi-member), in parallel. */
export function parallelGzip(
  source: AsyncIterable<Uint8Array>,
  level = GZIP_LEVEL,
  chunkSize = GZIP_CHUNK,
  parallel?: number,
): AsyncGenerator<Buffer> {
  if (!Number.isInteger(level) || level < 1 || level > 9) {
    throw new OciError("E_COMPRESSION", `gzip level must be 1..9, got ${level}`);
  }
  return parallelChunks(source, (b) => gzipMember(b, level), chunkSize, parallel);
}

/**
 * A single-threaded zstd compressor producing one frame. (Not multi-frame: Node's zstd decoder,
 * like some consumers, stops after the first frame. Not libzstd's worker threads: Node's stream
 * wrapper breaks with them, "push after EOF".) Feed it through `fixedSlices` so the calls into
 * libzstd, and so the bytes, do not depend on how the input happened to be chunked.
 */
export function zstdCompressor(level = 3): Transform {
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new OciError("E_COMPRESSION", `zstd level must be 1..19, got ${level}`);
  }
  return createZstdCompress({
    params: { [zc.ZSTD_c_compressionLevel]: level, [zc.ZSTD_c_checksumFlag]: 1 },
  });
}

/** Re-cut a byte stream into slices of exactly `size` bytes (the last one shorter). */
export async function* fixedSlices(
  source: AsyncIterable<Uint8Array>,
  size = 1 << 20,
): AsyncGenerator<Buffer> {
  let buf = Buffer.allocUnsafe(size);
  let fill = 0;
  for await (const c of source) {
    let off = 0;
    while (off < c.length) {
      const n = Math.min(size - fill, c.length - off);
      buf.set(c.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === size) {
        yield buf;
        buf = Buffer.allocUnsafe(size);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}

/** Write `entries` as one layer blob into `opts.blobDir`. */
export async function writeLayer(entries: TreeEntry[], opts: LayerOptions): Promise<Layer> {
  const mediaType = mediaTypeFor(opts.compression);
  const sde = opts.sourceDateEpoch;
  if (!Number.isInteger(sde) || sde < 0) {
    throw new OciError("E_LAYER_ENTRY", `SOURCE_DATE_EPOCH must be a non-negative integer, got ${sde}`);
  }
  const list = normalizeEntries(entries);
  const diff = createHash("sha256");
  let tarSize = 0;
  const onProgress = opts.onProgress;
  async function* hashedTar(): AsyncGenerator<Uint8Array> {
    for await (const c of tarStream(list, { sourceDateEpoch: sde, normalized: true })) {
      diff.update(c);
      tarSize += c.length;
      onProgress?.(tarSize);
      yield c;
    }
  }
  const tmp = await blobTempPath(opts.blobDir);
  const out = new DigestStream();
  try {
    const sink = createWriteStream(tmp, { flags: "wx", mode: 0o644 });
    if (opts.compression === "gzip") {
      await pipeline(Readable.from(parallelGzip(hashedTar(), opts.gzipLevel ?? GZIP_LEVEL)), out, sink);
    } else if (opts.compression === "zstd") {
      await pipeline(Readable.from(fixedSlices(hashedTar())), zstdCompressor(opts.zstdLevel ?? 3), out, sink);
    } else {
      await pipeline(Readable.from(hashedTar()), out, sink);
    }
    const digest = out.digest();
    const path = await commitBlob(opts.blobDir, tmp, digest);
    return {
      digest,
      diffId: `sha256:${diff.digest("hex")}`,
      size: out.size,
      uncompressedSize: tarSize,
      mediaType,
      path,
      entries: list.length,
    };
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
