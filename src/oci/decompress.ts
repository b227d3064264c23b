/**
 * Decoders for layer blobs: gzip (Node's gunzip reads multi-member files) and zstd with any
 * number of frames.
 */
import { Duplex, PassThrough, Readable } from "node:stream";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { OciError } from "./errors.ts";

/** Exact-size reads from a byte stream. */
class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private bufs: Buffer[] = [];
  private have = 0;
  constructor(src: AsyncIterable<Uint8Array>) {
    this.it = src[Symbol.asyncIterator]();
  }
  /** exactly n bytes; undefined at a clean end of stream (only when `eofOk` and no byte was read) */
  async read(n: number, eofOk = false): Promise<Buffer | undefined> {
    while (this.have < n) {
      const r = await this.it.next();
      if (r.done) {
        if (eofOk && this.have === 0) return undefined;
        throw new OciError("E_DIGEST", "zstd stream: truncated");
      }
      const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      this.bufs.push(b);
      this.have += b.length;
    }
    const all = this.bufs.length === 1 ? this.bufs[0] : Buffer.concat(this.bufs);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.bufs = rest.length ? [rest] : [];
    this.have = rest.length;
    return out;
  }
}

/** Skip skippable frames; the magic of the next zstd frame, or undefined at the end. */
async function nextZstdFrame(reader: ByteReader): Promise<Buffer | undefined> {
  for (;;) {
    const magic = await reader.read(4, true);
    if (!magic) return undefined;
    const m = magic.readUInt32LE(0);
    if ((m & 0xfffffff0) >>> 0 === 0x184d2a50) {
      const len = (await reader.read(4))?.readUInt32LE(0) ?? 0;
      if (len) await reader.read(len);
      continue;
    }
    if (m !== 0xfd2fb528) throw new OciError("E_DIGEST", "zstd stream: bad frame magic");
    return magic;
  }
}

/** The bytes of one zstd frame, cut by parsing its frame and block headers (no decoding). */
async function* zstdFrame(reader: ByteReader, magic: Buffer): AsyncGenerator<Buffer> {
  yield magic;
  const fhd = (await reader.read(1)) as Buffer;
  yield fhd;
  const d = fhd[0];
  const single = (d >> 5) & 1;
  const hdrRest = (single ? 0 : 1) + [0, 1, 2, 4][d & 3] + [single ? 1 : 0, 2, 4, 8][d >> 6];
  if (hdrRest) yield (await reader.read(hdrRest)) as Buffer;
  for (;;) {
    const bh = (await reader.read(3)) as Buffer;
    yield bh;
    const v = bh[0] | (bh[1] << 8) | (bh[2] << 16);
    const type = (v >> 1) & 3;
    if (type === 3) throw new OciError("E_DIGEST", "zstd stream: reserved block type");
    const body = type === 1 ? 1 : v >>> 3; // RLE blocks carry one byte; blocks are ≤ 128 KiB
    if (body) yield (await reader.read(body)) as Buffer;
    if (v & 1) break;
  }
  if ((d >> 2) & 1) yield (await reader.read(4)) as Buffer;
}

/**
 * A zstd decoder for streams of any number of frames. Node's decoder stops after the first frame
 * of a multi-frame stream (legal, e.g. zstd:chunked layers), so each frame gets its own decoder;
 * frames are cut by their headers, streamed block by block (memory stays flat).
 */
export function zstdMultiFrame(): Duplex {
  const input = new PassThrough();
  async function* out(): AsyncGenerator<Buffer> {
    const reader = new ByteReader(input);
    for (;;) {
      const magic = await nextZstdFrame(reader);
      if (!magic) return;
      const src = Readable.from(zstdFrame(reader, magic));
      const dec = createZstdDecompress(DECODE_OPTIONS);
      src.on("error", (e) => dec.destroy(e));
      src.pipe(dec);
      for await (const c of dec) yield c as Buffer;
    }
  }
  return Duplex.from({ writable: input, readable: Readable.from(out()) });
}

/**
 * Output chunk size of the decoders: zlib's 16 KiB default means one thread-pool round trip,
 * and one chunk through every stream after it, per 16 KiB of a layer; 256 KiB cuts that
 * per-chunk cost (a 150 MB layer: ~600 chunks instead of ~9,600).
 */
export const DECODE_CHUNK = 256 * 1024;

/** Decoded bytes a decoder may hold before its reader takes them (it decodes ahead that far). */
export const DECODE_AHEAD = 4 * DECODE_CHUNK;

/** zlib hands stream options on to its Transform (its option types do not list them) */
const DECODE_OPTIONS: { chunkSize: number; readableHighWaterMark: number } = {
  chunkSize: DECODE_CHUNK,
  readableHighWaterMark: DECODE_AHEAD,
};

/**
 * zlib decodes on the thread pool, but hands each chunk over with `push` and queues the next
 * piece of work only after that returns — and in flowing mode `push` runs every stream after it
 * (digests, tar parsing, whatever the reader does) in the same call. Read in paused mode, from a
 * later tick, the decoder goes on with the next chunks while the reader works on this one: on two
 * cores, decoding and reading overlap instead of taking turns.
 */
function overlapped(dec: Duplex): Duplex {
  return Duplex.from({
    writable: dec,
    readable: Readable.from(dec, { objectMode: false, highWaterMark: DECODE_AHEAD }),
  });
}

/** The decoder for a layer compression (undefined for "none"). */
export function decompressor(kind: "gzip" | "zstd" | "none"): Duplex | undefined {
  if (kind === "gzip") return overlapped(createGunzip(DECODE_OPTIONS));
  if (kind === "zstd") return zstdMultiFrame();
  return undefined;
}
