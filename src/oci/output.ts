/**
 * Writing images out: an OCI image layout directory (`oci:DIR[:TAG]`), a tar of one
 * (`oci-archive:FILE[:TAG]`) or a `docker save` archive (`docker-archive:FILE[:NAME[:TAG]]`).
 * Everything is written atomically (temp dir/file + rename): a killed process leaves no partial
 * output. A multi-platform output is an OCI image index (one manifest per platform, then one
 * attestation manifest per platform when SBOMs are attached, see attest.ts); in a layout,
 * index.json points at that index blob under the tag (ref.name annotation). A single-platform
 * output is the image manifest itself in index.json (the one entry skopeo and umoci accept); its
 * attestation manifest is stored in blobs/ and named by the entry's
 * `dev.shellfree.sbom.attestation` annotation. docker-archive has no place for attestations.
 */
import { createReadStream } from "node:fs";
import { resolve } from "node:path";
import { type Duplex, Readable } from "node:stream";
import type { OciImageConfig } from "../formats/index.ts";
import { writeStreamAtomic } from "../util/atomic.ts";
import { ANNOTATION_SBOM_ATTESTATION, attestationDescriptor, type BuiltAttestation } from "./attest.ts";
import { decompressor } from "./decompress.ts";
import { DigestStream, parseDigest, sha256Digest } from "./digest.ts";
import { OciError } from "./errors.ts";
import { type BuiltImage, type Descriptor, jsonBytes, type OciIndex, platformString } from "./image.ts";
import { OCI_LAYOUT_FILE } from "./layout.ts";
import { beginLayoutWrite } from "./layout-write.ts";
import { ANNOTATION_REF_NAME, layerCompression, MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST } from "./media.ts";
import { parseTarget } from "./ref.ts";
import { type TarEntry, type TarFileEntry, tarStream } from "./tar.ts";
import type { Platform } from "./types.ts";

export interface WriteResult {
  target: string;
  /** what the tag points at: the image index (several platforms), else the manifest */
  digest: string;
  mediaType: string;
  manifests: Array<{ platform: Platform; digest: string; size: number }>;
  /** attestation manifests written (none for docker-archive) */
  attestations: Array<{ subject: string; digest: string; size: number }>;
}

// ---------------------------------------------------------------- the layout model

interface LayoutBlob {
  digest: string;
  size: number;
  path?: string;
  bytes?: Uint8Array;
}

interface LayoutModel {
  blobs: Map<string, LayoutBlob>;
  /** the descriptor index.json lists (with the ref.name annotation when tagged) */
  top: Descriptor;
  manifests: Array<{ platform: Platform; digest: string; size: number }>;
  attestations: Array<{ subject: string; digest: string; size: number }>;
}

function checkImages(images: BuiltImage[]): void {
  if (!Array.isArray(images) || images.length === 0) throw new OciError("E_TARGET", "no image to write");
  const seen = new Set<string>();
  for (const im of images) {
    const p = platformString(im.platform);
    if (seen.has(p)) throw new OciError("E_TARGET", `two images for platform ${p}`);
    seen.add(p);
  }
}

function descriptorPlatform(p: Platform): NonNullable<Descriptor["platform"]> {
  return p.variant
    ? { architecture: p.architecture, os: p.os, variant: p.variant }
    : { architecture: p.architecture, os: p.os };
}

function checkAttestations(images: BuiltImage[], attestations: BuiltAttestation[]): void {
  const digests = new Set(images.map((im) => im.manifest.digest));
  for (const a of attestations) {
    if (!digests.has(a.subject)) {
      throw new OciError(
        "E_TARGET",
        `attestation ${a.manifest.digest} is about ${a.subject}, not an image written`,
      );
    }
  }
}

function layoutModel(
  images: BuiltImage[],
  tag: string | undefined,
  annotations?: Record<string, string>,
  attestations: BuiltAttestation[] = [],
): LayoutModel {
  checkImages(images);
  checkAttestations(images, attestations);
  const sorted = [...images].sort((a, b) =>
    platformString(a.platform) < platformString(b.platform) ? -1 : 1,
  );
  const blobs = new Map<string, LayoutBlob>();
  for (const im of sorted) {
    for (const l of im.layers) blobs.set(l.digest, { digest: l.digest, size: l.size, path: l.path });
    blobs.set(im.config.digest, { digest: im.config.digest, size: im.config.size, bytes: im.config.bytes });
    blobs.set(im.manifest.digest, {
      digest: im.manifest.digest,
      size: im.manifest.size,
      bytes: im.manifest.bytes,
    });
  }
  const manifests = sorted.map((im) => ({
    platform: im.platform,
    digest: im.manifest.digest,
    size: im.manifest.size,
  }));
  // attestations in the order of their images (as BuildKit lists them: all images first)
  const order = new Map(sorted.map((im, i) => [im.manifest.digest, i]));
  const atts = [...attestations].sort(
    (a, b) =>
      (order.get(a.subject) as number) - (order.get(b.subject) as number) ||
      (a.manifest.digest < b.manifest.digest ? -1 : 1),
  );
  for (const a of atts) {
    for (const l of a.layers) blobs.set(l.digest, { digest: l.digest, size: l.size, bytes: l.bytes });
    blobs.set(a.config.digest, { digest: a.config.digest, size: a.config.size, bytes: a.config.bytes });
    blobs.set(a.manifest.digest, {
      digest: a.manifest.digest,
      size: a.manifest.size,
      bytes: a.manifest.bytes,
    });
  }
  let top: Descriptor;
  if (sorted.length === 1) {
    // one platform: the manifest itself is the entry (skopeo and umoci take exactly one); its
    // attestation is in blobs/, named by an annotation on that entry (not in the manifest: the
    // image's digest does not depend on its SBOMs)
    const im = sorted[0];
    if (atts.length > 1) {
      throw new OciError(
        "E_TARGET",
        `one attestation manifest per image, got ${atts.length} for ${im.manifest.digest}`,
      );
    }
    top = {
      mediaType: im.manifest.mediaType,
      digest: im.manifest.digest,
      size: im.manifest.size,
      platform: descriptorPlatform(im.platform),
    };
    const ann: Record<string, string> = {};
    if (atts.length === 1) ann[ANNOTATION_SBOM_ATTESTATION] = atts[0].manifest.digest;
    if (tag !== undefined) ann[ANNOTATION_REF_NAME] = tag;
    if (Object.keys(ann).length > 0) top.annotations = sortObj(ann);
  } else {
    const index: OciIndex = {
      schemaVersion: 2,
      mediaType: MEDIA_OCI_INDEX,
      manifests: [
        ...sorted.map((im) => ({
          mediaType: im.manifest.mediaType,
          digest: im.manifest.digest,
          size: im.manifest.size,
          platform: descriptorPlatform(im.platform),
        })),
        ...atts.map(attestationDescriptor),
      ],
    };
    if (annotations && Object.keys(annotations).length > 0) index.annotations = sortObj(annotations);
    const bytes = jsonBytes(index);
    const digest = sha256Digest(bytes);
    blobs.set(digest, { digest, size: bytes.length, bytes });
    top = { mediaType: MEDIA_OCI_INDEX, digest, size: bytes.length };
    if (tag !== undefined) top.annotations = { [ANNOTATION_REF_NAME]: tag };
  }
  return {
    blobs,
    top,
    manifests,
    attestations: atts.map((a) => ({ subject: a.subject, digest: a.manifest.digest, size: a.manifest.size })),
  };
}

function sortObj(a: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(a).sort()) out[k] = String(a[k]);
  return out;
}

function topIndex(descs: Descriptor[], annotations?: Record<string, string>, single?: boolean): OciIndex {
  const idx: OciIndex = { schemaVersion: 2, mediaType: MEDIA_OCI_INDEX, manifests: descs };
  if (single && annotations && Object.keys(annotations).length > 0) idx.annotations = sortObj(annotations);
  return idx;
}

async function writeOciDir(
  dir: string,
  m: LayoutModel,
  tag: string | undefined,
  single: boolean,
  annotations?: Record<string, string>,
): Promise<void> {
  // Writing a tag into an existing layout keeps everything else in it (other tags, untagged
  // entries) and replaces only that tag; writing without a tag replaces the whole index.
  const w = await beginLayoutWrite(dir);
  try {
    for (const b of m.blobs.values()) {
      if (b.path) await w.addBlobFile(b.digest, b.path);
      else await w.addBlobBytes(b.bytes as Uint8Array);
    }
    await w.commit((old) => {
      const kept =
        old && tag !== undefined
          ? old.manifests.filter((d) => d.annotations?.[ANNOTATION_REF_NAME] !== tag)
          : [];
      const descs = [...kept, m.top].sort((a, b) => (refOf(a) < refOf(b) ? -1 : refOf(a) > refOf(b) ? 1 : 0));
      return topIndex(descs, annotations, single);
    });
  } finally {
    await w.dispose();
  }
}

function refOf(d: Descriptor): string {
  return d.annotations?.[ANNOTATION_REF_NAME] ?? "";
}

function createdEpoch(images: BuiltImage[]): number {
  let best = 0;
  for (const im of images) {
    const cfg = JSON.parse(new TextDecoder().decode(im.config.bytes)) as OciImageConfig;
    const t = cfg.created ? Math.floor(Date.parse(cfg.created) / 1000) : 0;
    if (Number.isFinite(t) && t > best) best = t;
  }
  return best;
}

function fileEntry(path: string, size: number, content: TarFileEntry["content"]): TarEntry {
  return { type: "file", path, size, mode: 0o644, uid: 0, gid: 0, content };
}

async function writeOciArchive(
  file: string,
  m: LayoutModel,
  images: BuiltImage[],
  single: boolean,
  annotations?: Record<string, string>,
): Promise<void> {
  const entries: TarEntry[] = [
    { type: "dir", path: "blobs", mode: 0o755, uid: 0, gid: 0 },
    { type: "dir", path: "blobs/sha256", mode: 0o755, uid: 0, gid: 0 },
  ];
  for (const b of m.blobs.values()) {
    const p = `blobs/sha256/${parseDigest(b.digest).hex}`;
    entries.push(
      fileEntry(
        p,
        b.size,
        b.path ? { kind: "file", path: b.path } : { kind: "bytes", data: b.bytes as Uint8Array },
      ),
    );
  }
  const idx = jsonBytes(topIndex([m.top], annotations, single));
  const layoutFile = new TextEncoder().encode(OCI_LAYOUT_FILE);
  entries.push(fileEntry("index.json", idx.length, { kind: "bytes", data: idx }));
  entries.push(fileEntry("oci-layout", layoutFile.length, { kind: "bytes", data: layoutFile }));
  await writeStreamAtomic(file, Readable.from(tarStream(entries, { sourceDateEpoch: createdEpoch(images) })));
}

/** Decompressed content of a layer blob file. */
export function decompressedStream(path: string, compression: "gzip" | "zstd" | "none"): Readable {
  const src = createReadStream(path, { highWaterMark: 1 << 20 });
  if (compression === "none") return src;
  const d = decompressor(compression) as Duplex;
  src.on("error", (e) => d.destroy(e));
  return src.pipe(d);
}

/** Normalize a docker reference "name[:tag]" (tag defaults to latest). */
function dockerRepoTag(ref: string): string {
  const slash = ref.lastIndexOf("/");
  const last = ref.slice(slash + 1);
  return last.includes(":") ? ref : `${ref}:latest`;
}

async function writeDockerArchive(
  file: string,
  images: BuiltImage[],
  tag: string | undefined,
): Promise<void> {
  checkImages(images);
  if (images.length !== 1) {
    throw new OciError(
      "E_TARGET",
      `docker-archive holds one platform, but ${images.length} images were given (${images.map((i) => platformString(i.platform)).join(", ")})`,
      { hint: "write an oci: or oci-archive: output for several platforms, or build one architecture" },
    );
  }
  const im = images[0];
  const cfgHex = parseDigest(im.config.digest).hex;
  const entries: TarEntry[] = [];
  const layerNames: string[] = [];
  const done = new Set<string>();
  for (const l of im.layers) {
    const hex = parseDigest(l.diffId).hex;
    layerNames.push(`${hex}/layer.tar`);
    if (done.has(hex)) continue;
    done.add(hex);
    const comp = layerCompression(l.mediaType);
    if (!comp) throw new OciError("E_MANIFEST", `layer ${l.digest}: unknown media type ${l.mediaType}`);
    entries.push({ type: "dir", path: hex, mode: 0o755, uid: 0, gid: 0 });
    entries.push(
      fileEntry(`${hex}/layer.tar`, l.uncompressedSize, {
        kind: "stream",
        open: () => {
          const ds = new DigestStream({
            digest: l.diffId,
            size: l.uncompressedSize,
            what: `layer ${l.diffId}`,
          });
          const s = decompressedStream(l.path, comp);
          s.on("error", (e) => ds.destroy(e));
          return s.pipe(ds);
        },
      }),
    );
  }
  entries.push(fileEntry(`${cfgHex}.json`, im.config.size, { kind: "bytes", data: im.config.bytes }));
  const manifest = [
    { Config: `${cfgHex}.json`, RepoTags: tag ? [dockerRepoTag(tag)] : [], Layers: layerNames },
  ];
  const mb = jsonBytes(manifest);
  entries.push(fileEntry("manifest.json", mb.length, { kind: "bytes", data: mb }));
  if (tag) {
    const rt = dockerRepoTag(tag);
    const k = rt.lastIndexOf(":");
    const repos = {
      [rt.slice(0, k)]: { [rt.slice(k + 1)]: parseDigest(im.layers.at(-1)?.diffId ?? im.config.digest).hex },
    };
    const rb = jsonBytes(repos);
    entries.push(fileEntry("repositories", rb.length, { kind: "bytes", data: rb }));
  }
  await writeStreamAtomic(file, Readable.from(tarStream(entries, { sourceDateEpoch: createdEpoch(images) })));
}

/** Write built images to `target` (oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME[:TAG]]). */
export async function writeOutput(
  target: string,
  images: BuiltImage[],
  opts: {
    annotations?: Record<string, string>;
    /** attestation manifests about `images` (written into oci: and oci-archive: outputs) */
    attestations?: BuiltAttestation[];
  } = {},
): Promise<WriteResult> {
  const t = parseTarget(target);
  checkImages(images);
  const path = resolve(t.path);
  const docker = t.transport === "docker-archive";
  const m = layoutModel(
    images,
    docker ? undefined : t.tag,
    opts.annotations,
    docker ? [] : (opts.attestations ?? []),
  );
  // a single manifest at the top (no index): the image annotations go on index.json itself
  const single = m.top.digest === images[0].manifest.digest;
  switch (t.transport) {
    case "oci":
      await writeOciDir(path, m, t.tag, single, opts.annotations);
      break;
    case "oci-archive":
      await writeOciArchive(path, m, images, single, opts.annotations);
      break;
    case "docker-archive":
      await writeDockerArchive(path, images, t.tag);
      break;
  }
  return {
    target,
    digest: docker ? images[0].manifest.digest : m.top.digest,
    mediaType: docker || single ? MEDIA_OCI_MANIFEST : MEDIA_OCI_INDEX,
    manifests: m.manifests,
    attestations: docker ? [] : m.attestations,
  };
}
