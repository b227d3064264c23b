/**
 * The builder's own entries in the cache directory, under `build/`: resolutions
 * (`resolutions/<key>.json`, see resolve.ts), layer records (`layers/<key>.json`) and the layer
 * blobs themselves (`blobs/sha256/<hex>`). Keys are SHA256s of what decides the entry, including
 * the version constants of the code that makes it, so a warm rebuild reuses the compressed OS
 * layer without decompressing a single package, and a code change makes new entries, never
 * stale ones.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  type Compression,
  LAYER_FORMAT_VERSION,
  type Layer,
  type TreeEntry,
  writeLayer,
} from "../oci/index.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { DEBINFO_VERSION } from "./debinfo.ts";
import { ROOTFS_PLAN_VERSION } from "./rootfs.ts";

/**
 * Part of every cached layer's key: the versions of the code that decides what a package layer
 * contains (the rootfs plan, the package metadata it reads) and how a layer is written. A change
 * there bumps its module's constant, which makes new layers, never stale ones.
 */
export const LAYER_KEY_VERSION = `${ROOTFS_PLAN_VERSION}.${DEBINFO_VERSION}.${LAYER_FORMAT_VERSION}`;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Where built layers are stored until an output is written (`<cache>/build/blobs`). */
export function layerBlobDir(cacheDir: string): string {
  return join(cacheDir, "build", "blobs");
}

/** The cached resolution under `key` (`<cache>/build/resolutions/<key>.json`). */
export function resolutionFile(cacheDir: string, key: string): string {
  return join(cacheDir, "build", "resolutions", `${key}.json`);
}

interface CachedLayerRecord {
  digest: string;
  diffId: string;
  size: number;
  uncompressedSize: number;
  mediaType: string;
  entries: number;
}

/** The layer recorded under `key`, if its record and blob are in the cache. */
export async function readCachedLayer(
  cacheDir: string,
  blobDir: string,
  key: string,
): Promise<Layer | undefined> {
  try {
    const record = JSON.parse(await readFile(layerRecordFile(cacheDir, key), "utf8")) as CachedLayerRecord;
    const path = join(blobDir, "sha256", record.digest.replace(/^sha256:/, ""));
    const st = await stat(path);
    if (st.size === record.size) return { ...record, path };
  } catch {
    // miss
  }
  return undefined;
}

function layerRecordFile(cacheDir: string, key: string): string {
  return join(cacheDir, "build", "layers", `${key}.json`);
}

/** Write `entries` as a layer and record it under `key`. */
export async function writeCachedLayer(
  cacheDir: string,
  blobDir: string,
  key: string,
  entries: TreeEntry[],
  opts: { compression: Compression; sourceDateEpoch: number },
): Promise<Layer> {
  const layer = await writeLayer(entries, {
    compression: opts.compression,
    sourceDateEpoch: opts.sourceDateEpoch,
    blobDir,
  });
  const record: CachedLayerRecord = {
    digest: layer.digest,
    diffId: layer.diffId,
    size: layer.size,
    uncompressedSize: layer.uncompressedSize,
    mediaType: layer.mediaType,
    entries: layer.entries,
  };
  await writeFileAtomic(layerRecordFile(cacheDir, key), JSON.stringify(record));
  return layer;
}

/** A layer from the cache by key, or made by `make` and recorded under the key. */
export async function cachedLayer(
  cacheDir: string,
  blobDir: string,
  key: string,
  make: () => Promise<TreeEntry[]>,
  opts: { compression: Compression; sourceDateEpoch: number },
): Promise<{ layer: Layer; cached: boolean }> {
  const hit = await readCachedLayer(cacheDir, blobDir, key);
  if (hit) return { layer: hit, cached: true };
  return { layer: await writeCachedLayer(cacheDir, blobDir, key, await make(), opts), cached: false };
}
