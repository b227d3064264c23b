/**
 * Content digests ("sha256:<hex>") and a content-addressed blob store (<blobDir>/sha256/<hex>).
 * Blobs are written to a temp file, verified, fsynced and renamed: a killed process leaves no
 * half-written blob under its final name.
 */
import { createHash, type Hash } from "node:crypto";
import { copyFile, link, mkdir, open, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { tempPathFor } from "../util/atomic.ts";
import { OciError } from "./errors.ts";

const HEX64 = /^[0-9a-f]{64}$/;

export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function parseDigest(d: string): { algorithm: "sha256"; hex: string } {
  if (typeof d !== "string") throw new OciError("E_DIGEST", `invalid digest: ${String(d)}`);
  const i = d.indexOf(":");
  const alg = i < 0 ? "" : d.slice(0, i);
  const hex = i < 0 ? "" : d.slice(i + 1);
  if (alg !== "sha256") {
    throw new OciError("E_DIGEST", `unsupported or malformed digest "${d}" (expected sha256:<64 hex>)`);
  }
  if (!HEX64.test(hex))
    throw new OciError("E_DIGEST", `malformed digest "${d}" (expected sha256:<64 lowercase hex>)`);
  return { algorithm: "sha256", hex };
}

/** Path of a blob in a blob store directory (`<blobDir>/sha256/<hex>`). */
export function blobStorePath(blobDir: string, digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return join(blobDir, algorithm, hex);
}

/**
 * A pass-through stream that hashes and counts what flows through it. With `expected`, it fails
 * at the end (E_DIGEST) when the content does not match, so a consumer never sees a clean end
 * of a corrupt stream.
 */
export class DigestStream extends Transform {
  readonly hash: Hash = createHash("sha256");
  size = 0;
  private result?: string;
  private readonly expected?: { digest?: string; size?: number; what?: string };
  constructor(expected?: { digest?: string; size?: number; what?: string }) {
    super();
    this.expected = expected;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    const max = this.expected?.size;
    if (max !== undefined && this.size > max) {
      cb(new OciError("E_DIGEST", `${this.expected?.what ?? "blob"}: more than the expected ${max} bytes`));
      return;
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const d = this.digest();
    const exp = this.expected;
    if (exp?.size !== undefined && this.size !== exp.size) {
      cb(new OciError("E_DIGEST", `${exp.what ?? "blob"}: size ${this.size}, expected ${exp.size}`));
      return;
    }
    if (exp?.digest !== undefined && d !== exp.digest) {
      cb(
        new OciError("E_DIGEST", `${exp.what ?? "blob"}: digest mismatch: got ${d}, expected ${exp.digest}`),
      );
      return;
    }
    cb();
  }
  digest(): string {
    this.result ??= `sha256:${this.hash.digest("hex")}`;
    return this.result;
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function fsyncAndClose(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Move a finished temp file into the blob store under its digest (atomic rename). If the blob
 * is already there (content addressed: same bytes), the temp file is simply removed.
 */
export async function commitBlob(blobDir: string, tmpPath: string, digest: string): Promise<string> {
  const dest = blobStorePath(blobDir, digest);
  await mkdir(join(blobDir, "sha256"), { recursive: true });
  if (await exists(dest)) {
    await rm(tmpPath, { force: true });
    return dest;
  }
  await fsyncAndClose(tmpPath);
  await rename(tmpPath, dest);
  return dest;
}

/** A temp path inside the blob store's sha256 directory (same file system as the final blob). */
export async function blobTempPath(blobDir: string): Promise<string> {
  await mkdir(join(blobDir, "sha256"), { recursive: true });
  return tempPathFor(join(blobDir, "sha256", "blob"));
}

/** Store bytes as a blob; returns its digest, size and path. */
export async function storeBlobBytes(
  blobDir: string,
  data: Uint8Array,
): Promise<{ digest: string; size: number; path: string }> {
  const digest = sha256Digest(data);
  const dest = blobStorePath(blobDir, digest);
  if (!(await exists(dest))) {
    const tmp = await blobTempPath(blobDir);
    try {
      const fh = await open(tmp, "wx", 0o644);
      try {
        await fh.writeFile(data);
      } finally {
        await fh.close();
      }
      await commitBlob(blobDir, tmp, digest);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
  return { digest, size: data.length, path: dest };
}

/**
 * Put an existing blob file into another blob store: a hard link when possible (same file
 * system; blobs are immutable), a copy otherwise. Atomic either way.
 */
export async function importBlobFile(blobDir: string, src: string, digest: string): Promise<string> {
  const dest = blobStorePath(blobDir, digest);
  if (await exists(dest)) return dest;
  const tmp = await blobTempPath(blobDir);
  try {
    try {
      await link(src, tmp);
    } catch {
      await copyFile(src, tmp);
    }
    await commitBlob(blobDir, tmp, digest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return dest;
}
