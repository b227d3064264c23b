/**
 * The OCI image layout directory (image-spec, image-layout.md): where blobs live, index.json
 * read and checked, blobs streamed in verified. Writing into a layout (staged, locked, merged)
 * is layout-write.ts; the writers of whole outputs are in output.ts, the readers in read/.
 */
import { createWriteStream } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { blobStorePath, blobTempPath, commitBlob, DigestStream, parseDigest } from "./digest.ts";
import { OciError } from "./errors.ts";
import type { Descriptor, OciIndex } from "./image.ts";

export const OCI_LAYOUT_FILE = `{"imageLayoutVersion":"1.0.0"}`;

/** Path of a blob in an OCI layout directory. */
export function blobPath(dir: string, digest: string): string {
  return blobStorePath(join(dir, "blobs"), digest);
}

/** Read and check index.json of an OCI layout directory. */
export async function readIndex(dir: string): Promise<OciIndex> {
  let text: string;
  try {
    text = await readFile(join(dir, "index.json"), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OciError("E_LAYOUT", `${dir} is not an OCI image layout (index.json: ${code ?? String(e)})`);
  }
  return parseIndex(text, `${dir}/index.json`);
}

export function parseIndex(text: string, what: string): OciIndex {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new OciError("E_LAYOUT", `${what}: not valid JSON`);
  }
  const idx = v as OciIndex;
  if (!idx || typeof idx !== "object" || idx.schemaVersion !== 2 || !Array.isArray(idx.manifests)) {
    throw new OciError("E_LAYOUT", `${what}: not an image index (schemaVersion 2 with manifests)`);
  }
  for (const d of idx.manifests) checkDescriptor(d, what);
  return idx;
}

export function checkDescriptor(d: Descriptor, what: string): void {
  if (
    !d ||
    typeof d !== "object" ||
    typeof d.mediaType !== "string" ||
    !Number.isSafeInteger(d.size) ||
    d.size < 0
  ) {
    throw new OciError("E_MANIFEST", `${what}: malformed descriptor ${JSON.stringify(d)}`);
  }
  parseDigest(d.digest);
}

/**
 * Stream a blob into a layout (`<dir>/blobs/sha256/<hex>`), hashing while writing; with
 * `expectedDigest` (and `expectedSize`) a mismatch fails (E_DIGEST) and leaves nothing behind.
 */
export async function writeBlobStream(
  dir: string,
  stream: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  expectedDigest?: string,
  expectedSize?: number,
): Promise<{ digest: string; size: number; path: string }> {
  if (expectedDigest) parseDigest(expectedDigest);
  const blobDir = join(dir, "blobs");
  const tmp = await blobTempPath(blobDir);
  const ds = new DigestStream({ digest: expectedDigest, size: expectedSize, what: expectedDigest ?? "blob" });
  try {
    await pipeline(stream, ds, createWriteStream(tmp, { flags: "wx", mode: 0o644 }));
    const digest = ds.digest();
    const path = await commitBlob(blobDir, tmp, digest);
    return { digest, size: ds.size, path };
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
