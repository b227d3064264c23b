/**
 * The wasm xz decoder (xz-decompress: xz-embedded compiled to wasm) on whole buffers; used by
 * the worker threads of src/debian/xz.ts and, for small inputs, in the calling thread.
 *
 * The output goes straight into one buffer of the size the stream's index declares (when it
 * declares a sane one), so a job does not hold its output twice (chunks + their concatenation).
 */
import xzPkg from "xz-decompress";

const { XzReadableStream } = xzPkg;

/** Largest output preallocated from the size the stream claims (larger ones grow by chunks). */
const MAX_PREALLOC = 512 * 1024 * 1024;

/** A multibyte integer of the xz format at `pos`: [value, next position] or null. */
function varint(b: Uint8Array, pos: number, end: number): [number, number] | null {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 9 && pos < end; i++) {
    const c = b[pos++];
    v += (c & 0x7f) * mul;
    if ((c & 0x80) === 0) return [v, pos];
    mul *= 128;
  }
  return null;
}

/**
 * The uncompressed size the last stream's index declares, or undefined when the buffer is not
 * a single well-formed stream this can read (then the output is collected chunk by chunk).
 * Only a size hint: the decoder checks the real data.
 */
function declaredSize(b: Uint8Array): number | undefined {
  let end = b.length;
  while (end >= 4 && b[end - 1] === 0 && b[end - 2] === 0 && b[end - 3] === 0 && b[end - 4] === 0) end -= 4;
  if (end < 24 || b[end - 2] !== 0x59 || b[end - 1] !== 0x5a) return undefined;
  const backward = ((b[end - 8] | (b[end - 7] << 8) | (b[end - 6] << 16) | (b[end - 5] << 24)) >>> 0) + 1;
  const idxEnd = end - 12;
  const idxStart = idxEnd - backward * 4;
  // one stream only: its header (12 bytes) starts the buffer
  if (idxStart < 12 || b[0] !== 0xfd || b[1] !== 0x37 || b[2] !== 0x7a) return undefined;
  if (b[idxStart] !== 0) return undefined;
  let r = varint(b, idxStart + 1, idxEnd);
  if (!r) return undefined;
  const records = r[0];
  let pos = r[1];
  let total = 0;
  for (let i = 0; i < records; i++) {
    r = varint(b, pos, idxEnd); // unpadded size
    if (!r) return undefined;
    r = varint(b, r[1], idxEnd); // uncompressed size
    if (!r) return undefined;
    total += r[0];
    pos = r[1];
  }
  return total;
}

export async function wasmDecompress(data: Uint8Array): Promise<Uint8Array> {
  const stream = new XzReadableStream(new Blob([data]).stream());
  const reader = stream.getReader();
  const declared = declaredSize(data);
  let out = declared !== undefined && declared <= MAX_PREALLOC ? new Uint8Array(declared) : undefined;
  let n = 0;
  let chunks: Uint8Array[] | undefined = out ? undefined : [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out && n + value.length <= out.length) {
      out.set(value, n);
    } else {
      if (out) {
        // more than declared: keep what is there and go on chunk by chunk
        chunks = [out.subarray(0, n)];
        out = undefined;
      }
      chunks?.push(value);
    }
    n += value.length;
  }
  if (out) return n === out.length ? out : out.subarray(0, n);
  const all = new Uint8Array(n);
  let at = 0;
  for (const c of chunks ?? []) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}
