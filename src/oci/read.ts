/**
 * Reading images back: OCI layout directories, oci-archive and docker-archive files. Every blob
 * read is checked against its digest (manifests and configs before they are parsed; layers while
 * they stream, so a consumer sees an error instead of the end of a corrupt layer). Layers are
 * handed out as uncompressed tar streams (gzip, zstd or none).
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { resolve } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import type { OciImageConfig } from "../formats/index.ts";
import {
  ANNOTATION_PREDICATE_TYPE,
  ANNOTATION_REFERENCE_DIGEST,
  ANNOTATION_SBOM_ATTESTATION,
  isAttestationDescriptor,
  PREDICATE_CYCLONEDX,
  PREDICATE_SPDX,
} from "./attest.ts";
import { decompressor } from "./decompress.ts";
import { DigestStream, parseDigest, sha256Digest } from "./digest.ts";
import { OciError } from "./errors.ts";
import {
  type Descriptor,
  hostPlatform,
  type OciIndex,
  type OciManifest,
  parsePlatform,
  platformString,
} from "./image.ts";
import { blobPath, checkDescriptor, parseIndex, readIndex } from "./layout.ts";
import {
  ANNOTATION_REF_NAME,
  isIndexMediaType,
  isManifestMediaType,
  layerCompression,
  MEDIA_DOCKER_CONFIG,
  MEDIA_DOCKER_LAYER,
  MEDIA_DOCKER_LAYER_GZIP,
  MEDIA_DOCKER_MANIFEST,
  MEDIA_OCI_LAYER_ZSTD,
} from "./media.ts";
import { type DockerArchiveImageRef, type LayoutImageRef, LOCAL_READ_REF, parseImageRef } from "./ref.ts";
import type { Platform } from "./types.ts";

type LocalImageRef = LayoutImageRef | DockerArchiveImageRef;

export interface OpenedLayer {
  digest: string;
  diffId?: string;
  mediaType: string;
  size: number;
  /** the UNCOMPRESSED tar stream, digest-verified while it flows (errors with E_DIGEST) */
  open(): Promise<Readable>;
}

export interface OpenedImage {
  ref: string;
  platform: Platform;
  manifestDigest: string;
  manifest: OciManifest;
  config: OciImageConfig;
  /** digest of the config blob */
  configDigest: string;
  layers: OpenedLayer[];
  close(): Promise<void>;
}

const MAX_JSON = 16 * 1024 * 1024;

// ------------------------------------------------------------------ tar member index

interface Member {
  offset: number;
  size: number;
}

function cstr(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return (z < 0 ? s : s.subarray(0, z)).toString("utf8");
}

function octal(b: Buffer, off: number, len: number): number {
  const f = b.subarray(off, off + len);
  if (f[0] & 0x80) {
    // base-256
    let n = 0;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i];
    return n;
  }
  const s = cstr(b, off, len).trim();
  return s === "" ? 0 : Number.parseInt(s, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = Number.parseInt(data.subarray(pos, sp).toString("ascii"), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.subarray(sp + 1, pos + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

function cleanName(n: string): string {
  let s = n;
  while (s.startsWith("./")) s = s.slice(2);
  while (s.startsWith("/")) s = s.slice(1);
  return s.replace(/\/+$/, "");
}

/** Index the regular files of an uncompressed tar file by name (offset + size), reading only headers. */
export async function indexTar(file: string): Promise<Map<string, Member>> {
  const fh = await open(file, "r").catch((e: NodeJS.ErrnoException) => {
    throw new OciError("E_LAYOUT", `cannot open ${file}: ${e.code ?? e.message}`);
  });
  const members = new Map<string, Member>();
  try {
    const { size: fileSize } = await fh.stat();
    const h = Buffer.alloc(512);
    let pos = 0;
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    for (let guard = 0; guard < 10_000_000; guard++) {
      if (pos + 512 > fileSize) break;
      await fh.read(h, 0, 512, pos);
      if (h.every((x) => x === 0)) break;
      const magic = cstr(h, 257, 6);
      if (guard === 0 && magic !== "ustar" && !h.subarray(257, 263).equals(Buffer.from("ustar "))) {
        throw new OciError("E_LAYOUT", `${file} is not a tar archive`);
      }
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
      if (sum !== octal(h, 148, 8))
        throw new OciError("E_LAYOUT", `${file}: corrupt tar header at offset ${pos}`);
      const type = String.fromCharCode(h[156] || 0x30);
      let size = octal(h, 124, 12);
      if (pax.size) size = Number(pax.size);
      const dataOff = pos + 512;
      const next = dataOff + Math.ceil(size / 512) * 512;
      if (next > fileSize) throw new OciError("E_LAYOUT", `${file}: truncated tar archive`);
      if (type === "x" || type === "L") {
        const data = Buffer.alloc(size);
        await fh.read(data, 0, size, dataOff);
        if (type === "x") pax = parsePax(data);
        else longName = cstr(data, 0, size);
        pos = next;
        continue;
      }
      if (type !== "g") {
        const prefix = cstr(h, 345, 155);
        let name = pax.path ?? longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
        name = cleanName(name);
        if (type === "0" || type === "7") members.set(name, { offset: dataOff, size });
      }
      pax = {};
      longName = undefined;
      pos = next;
    }
  } finally {
    await fh.close();
  }
  return members;
}

// ------------------------------------------------------------------ blob sources

interface Source {
  what: string;
  /** raw bytes stream of a blob, or undefined if absent */
  rawStream(digest: string): Readable;
  has(digest: string): boolean | Promise<boolean>;
  close(): Promise<void>;
}

function dirSource(dir: string): Source {
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

function tarSource(file: string, members: Map<string, Member>, prefix = "blobs/"): Source {
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
async function readVerified(
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

function parseJson<T>(buf: Buffer, what: string): T {
  try {
    return JSON.parse(buf.toString("utf8")) as T;
  } catch {
    throw new OciError("E_MANIFEST", `${what}: not valid JSON`);
  }
}

/** Chain raw → digest check → decompress → diffId check; errors travel to the returned stream. */
function layerStream(
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
  for (let i = 0; i + 1 < chain.length; i++) {
    const a = chain[i];
    const b = chain[i + 1];
    a.on("error", (e) => (b as Readable).destroy(e));
    a.pipe(b as import("node:stream").Writable);
  }
  // errors from upstream are forwarded to the last stream, which the consumer reads
  return chain[chain.length - 1] as Readable;
}

function platformOf(
  p: { os?: string; architecture?: string; variant?: string } | undefined,
): Platform | undefined {
  if (!p?.architecture || !p.os) return undefined;
  return p.variant
    ? { os: p.os as "linux", architecture: p.architecture, variant: p.variant }
    : { os: p.os as "linux", architecture: p.architecture };
}

interface Candidate {
  desc: Descriptor;
  platform?: Platform;
}

/**
 * Expand descriptors from index.json into manifest candidates (following nested indexes).
 * Attestation manifests (platform unknown/unknown, BuildKit's annotations) are never
 * candidates; they go to `attestations` when given.
 */
async function expand(
  src: Source,
  descs: Descriptor[],
  depth = 0,
  attestations?: Descriptor[],
): Promise<Candidate[]> {
  if (depth > 4) throw new OciError("E_MANIFEST", `${src.what}: image indexes nested too deeply`);
  const out: Candidate[] = [];
  for (const d of descs) {
    checkDescriptor(d, src.what);
    if (isIndexMediaType(d.mediaType)) {
      const idx = parseIndex(
        (await readVerified(src, d, "image index")).toString("utf8"),
        `index ${d.digest}`,
      );
      out.push(...(await expand(src, idx.manifests, depth + 1, attestations)));
    } else if (isManifestMediaType(d.mediaType)) {
      // build attestations ride along in indexes as manifests for platform unknown/unknown
      if (isAttestationDescriptor(d) || d.platform?.os === "unknown") attestations?.push(d);
      else out.push({ desc: d, platform: platformOf(d.platform) });
    }
    // other artifacts (signatures, unknown types) are ignored
  }
  return out;
}

async function candidatesFor(
  src: Source,
  index: OciIndex,
  r: LayoutImageRef,
  attestations?: Descriptor[],
): Promise<Candidate[]> {
  let top: Descriptor[];
  if (r.digest) {
    const inIndex = index.manifests.filter((d) => d.digest === r.digest);
    if (inIndex.length > 0) top = [inIndex[0]];
    else if (await src.has(r.digest)) {
      const buf = await readVerified(src, { digest: r.digest }, "manifest");
      const j = parseJson<{ mediaType?: string; manifests?: unknown }>(buf, r.digest);
      const mediaType =
        j.mediaType ??
        (Array.isArray(j.manifests)
          ? "application/vnd.oci.image.index.v1+json"
          : "application/vnd.oci.image.manifest.v1+json");
      top = [{ mediaType, digest: r.digest, size: buf.length }];
    } else throw new OciError("E_NOT_FOUND", `${src.what}: no manifest ${r.digest}`);
  } else if (r.tag !== undefined) {
    top = index.manifests.filter((d) => d.annotations?.[ANNOTATION_REF_NAME] === r.tag);
    if (top.length === 0) {
      const tags = index.manifests.map((d) => d.annotations?.[ANNOTATION_REF_NAME]).filter(Boolean);
      throw new OciError("E_NOT_FOUND", `${src.what}: no image tagged "${r.tag}"`, {
        hint: tags.length
          ? `tags present: ${[...new Set(tags)].join(", ")}`
          : "the layout has no tagged image",
      });
    }
  } else {
    top = index.manifests;
    if (top.length === 0) throw new OciError("E_NOT_FOUND", `${src.what}: the image index is empty`);
    const refs = new Set(top.map((d) => d.annotations?.[ANNOTATION_REF_NAME] ?? ""));
    if (refs.size > 1) {
      throw new OciError("E_NOT_FOUND", `${src.what} holds several tags; name one`, {
        hint: `tags present: ${[...refs].filter(Boolean).join(", ")}`,
      });
    }
  }
  const c = await expand(src, top, 0, attestations);
  if (c.length === 0) throw new OciError("E_MANIFEST", `${src.what}: no image manifest found`);
  return c;
}

async function loadManifest(
  src: Source,
  desc: Descriptor,
): Promise<{ manifest: OciManifest; config: OciImageConfig; configDigest: string }> {
  const manifest = parseJson<OciManifest>(
    await readVerified(src, desc, "manifest"),
    `manifest ${desc.digest}`,
  );
  if (manifest.schemaVersion !== 2 || !manifest.config || !Array.isArray(manifest.layers)) {
    throw new OciError("E_MANIFEST", `${src.what}: ${desc.digest} is not an image manifest (schema 2)`);
  }
  if (manifest.mediaType !== undefined && !isManifestMediaType(manifest.mediaType)) {
    throw new OciError(
      "E_MANIFEST",
      `${src.what}: ${desc.digest} has unsupported media type ${manifest.mediaType}`,
    );
  }
  checkDescriptor(manifest.config, `manifest ${desc.digest}`);
  for (const l of manifest.layers) checkDescriptor(l, `manifest ${desc.digest}`);
  const config = parseJson<OciImageConfig>(
    await readVerified(src, manifest.config, "config"),
    `config ${manifest.config.digest}`,
  );
  if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) {
    throw new OciError("E_MANIFEST", `${src.what}: config ${manifest.config.digest} has no rootfs.diff_ids`);
  }
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new OciError(
      "E_MANIFEST",
      `${src.what}: manifest has ${manifest.layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
  return { manifest, config, configDigest: manifest.config.digest };
}

function samePlatform(want: Platform, have: Platform, strictVariant: boolean): boolean {
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (
    strictVariant &&
    want.variant &&
    want.variant !== (have.variant ?? (have.architecture === "arm64" ? "v8" : undefined))
  )
    return false;
  return true;
}

async function choose(src: Source, all: Candidate[], platform?: string): Promise<Candidate> {
  let cands = all;
  // fill in missing platforms from the configs
  for (const c of cands) {
    if (!c.platform) {
      const { config } = await loadManifest(src, c.desc);
      c.platform = platformOf(config) ?? { os: "linux", architecture: "unknown" };
    }
  }
  // an attestation listed without platform or annotations: its config says unknown/unknown
  const images = cands.filter((c) => (c.platform as { os: string }).os !== "unknown");
  if (images.length > 0 && images.length < cands.length) cands = images;
  const avail = () => cands.map((c) => platformString(c.platform as Platform)).join(", ");
  if (platform) {
    const want = parsePlatform(platform);
    const hit = cands.find((c) => samePlatform(want, c.platform as Platform, true));
    if (!hit)
      throw new OciError("E_PLATFORM", `${src.what}: no image for ${platform} (available: ${avail()})`);
    return hit;
  }
  if (cands.length === 1) return cands[0];
  const host = hostPlatform();
  const hit = cands.find((c) => samePlatform(host, c.platform as Platform, false));
  if (hit) return hit;
  throw new OciError(
    "E_PLATFORM",
    `${src.what}: several platforms (${avail()}) and none is this host's; choose one`,
    {
      hint: "pass a platform, e.g. --platform linux/arm64",
    },
  );
}

function openedLayers(src: Source, manifest: OciManifest, config: OciImageConfig): OpenedLayer[] {
  return manifest.layers.map((d, i) => {
    const kind = layerCompression(d.mediaType);
    if (!kind)
      throw new OciError(
        "E_MANIFEST",
        `${src.what}: layer ${d.digest} has unsupported media type ${d.mediaType}`,
      );
    const diffId = config.rootfs.diff_ids[i];
    return {
      digest: d.digest,
      diffId,
      mediaType: d.mediaType,
      size: d.size,
      open: async () => {
        if (!(await src.has(d.digest)))
          throw new OciError("E_BLOB_MISSING", `${src.what}: layer blob ${d.digest} is missing`);
        return layerStream(
          src.rawStream(d.digest),
          { digest: d.digest, size: d.size, diffId, what: `layer ${d.digest}` },
          kind,
        );
      },
    };
  });
}

// ------------------------------------------------------------------ docker-archive

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function readMember(file: string, m: Member | undefined, name: string): Promise<Buffer> {
  if (!m) throw new OciError("E_LAYOUT", `${file}: ${name} is missing from the archive`);
  if (m.size > MAX_JSON) throw new OciError("E_LAYOUT", `${file}: ${name} is too large`);
  const fh = await open(file, "r");
  try {
    const b = Buffer.alloc(m.size);
    await fh.read(b, 0, m.size, m.offset);
    return b;
  } finally {
    await fh.close();
  }
}

async function sniff(file: string, m: Member): Promise<"gzip" | "zstd" | "none"> {
  const fh = await open(file, "r");
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, m.offset);
    if (b[0] === 0x1f && b[1] === 0x8b) return "gzip";
    if (b.readUInt32LE(0) === 0xfd2fb528) return "zstd";
    return "none";
  } finally {
    await fh.close();
  }
}

function normTag(t: string): string {
  const last = t.slice(t.lastIndexOf("/") + 1);
  return last.includes(":") ? t : `${t}:latest`;
}

async function openDockerArchive(
  r: DockerArchiveImageRef,
  ref: string,
  platform?: string,
): Promise<OpenedImage> {
  const file = resolve(r.path);
  const members = await indexTar(file);
  const mf = parseJson<DockerManifestEntry[]>(
    await readMember(file, members.get("manifest.json"), "manifest.json"),
    `${file}: manifest.json`,
  );
  if (!Array.isArray(mf) || mf.length === 0)
    throw new OciError("E_LAYOUT", `${file}: manifest.json lists no image`);
  let entry: DockerManifestEntry | undefined;
  if (r.tag) {
    const want = normTag(r.tag);
    entry = mf.find((e) => (e.RepoTags ?? []).some((t) => normTag(t) === want || t.endsWith(`/${want}`)));
    if (!entry) throw new OciError("E_NOT_FOUND", `${file}: no image tagged "${r.tag}"`);
  } else if (mf.length === 1) entry = mf[0];
  else
    throw new OciError(
      "E_NOT_FOUND",
      `${file} holds ${mf.length} images; name one (docker-archive:FILE:NAME:TAG)`,
    );
  const cfgName = cleanName(entry.Config);
  const cfgBytes = await readMember(file, members.get(cfgName), cfgName);
  const configDigest = sha256Digest(cfgBytes);
  const hexName = /([0-9a-f]{64})(?:\.json)?$/.exec(cfgName);
  if (hexName && `sha256:${hexName[1]}` !== configDigest) {
    throw new OciError("E_DIGEST", `${file}: config ${cfgName} has digest ${configDigest}`);
  }
  const config = parseJson<OciImageConfig>(cfgBytes, `${file}: ${cfgName}`);
  if (
    !config.rootfs ||
    !Array.isArray(config.rootfs.diff_ids) ||
    config.rootfs.diff_ids.length !== entry.Layers.length
  ) {
    throw new OciError(
      "E_MANIFEST",
      `${file}: the config's rootfs.diff_ids do not match the ${entry.Layers.length} layers`,
    );
  }
  const plat = platformOf(config) ?? { os: "linux", architecture: "unknown" };
  if (platform && !samePlatform(parsePlatform(platform), plat, true)) {
    throw new OciError("E_PLATFORM", `${file}: the image is ${platformString(plat)}, not ${platform}`);
  }
  const layers: OpenedLayer[] = [];
  const descs: Descriptor[] = [];
  for (let i = 0; i < entry.Layers.length; i++) {
    const name = cleanName(entry.Layers[i]);
    const m = members.get(name);
    if (!m) throw new OciError("E_LAYOUT", `${file}: layer ${name} is missing from the archive`);
    const kind = await sniff(file, m);
    const diffId = config.rootfs.diff_ids[i];
    let digest = diffId;
    if (kind !== "none") {
      const h = new DigestStream();
      for await (const _ of createReadStream(file, { start: m.offset, end: m.offset + m.size - 1 }).pipe(h)) {
        // hashing
      }
      digest = h.digest();
    }
    const mediaType =
      kind === "gzip" ? MEDIA_DOCKER_LAYER_GZIP : kind === "zstd" ? MEDIA_OCI_LAYER_ZSTD : MEDIA_DOCKER_LAYER;
    descs.push({ mediaType, digest, size: m.size });
    layers.push({
      digest,
      diffId,
      mediaType,
      size: m.size,
      open: async () => {
        const raw =
          m.size === 0
            ? (() => {
                const p = new PassThrough();
                p.end();
                return p;
              })()
            : createReadStream(file, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
        return layerStream(raw, { digest, size: m.size, diffId, what: `layer ${name}` }, kind);
      },
    });
  }
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_DOCKER_MANIFEST,
    config: { mediaType: MEDIA_DOCKER_CONFIG, digest: configDigest, size: cfgBytes.length },
    layers: descs,
  };
  return {
    ref,
    platform: plat,
    manifestDigest: sha256Digest(JSON.stringify(manifest)),
    manifest,
    config,
    configDigest,
    layers,
    close: async () => {},
  };
}

// ------------------------------------------------------------------ public API

async function ociSource(r: LayoutImageRef): Promise<{ src: Source; index: OciIndex }> {
  const p = resolve(r.path);
  if (r.transport === "oci") return { src: dirSource(p), index: await readIndex(p) };
  const members = await indexTar(p);
  const src = tarSource(p, members);
  const idx = members.get("index.json");
  if (!idx || !members.has("oci-layout"))
    throw new OciError("E_LAYOUT", `${p} is not an oci-archive (no index.json/oci-layout)`);
  return {
    src,
    index: parseIndex((await readMember(p, idx, "index.json")).toString("utf8"), `${p}: index.json`),
  };
}

/**
 * Open one image of `ref` (oci:DIR[:TAG|@sha256:...], oci-archive:FILE[:TAG],
 * docker-archive:FILE[:NAME[:TAG]]). With several platforms: `opts.platform`, else the host's.
 */
export async function openImage(ref: string, opts: { platform?: string } = {}): Promise<OpenedImage> {
  const r = parseImageRef(ref, LOCAL_READ_REF) as LocalImageRef;
  if (r.transport === "docker-archive") return openDockerArchive(r, ref, opts.platform);
  const { src, index } = await ociSource(r);
  const cands = await candidatesFor(src, index, r);
  const c = await choose(src, cands, opts.platform);
  const { manifest, config, configDigest } = await loadManifest(src, c.desc);
  const plat = platformOf(config) ?? (c.platform as Platform);
  return {
    ref,
    platform: plat,
    manifestDigest: c.desc.digest,
    manifest,
    config,
    configDigest,
    layers: openedLayers(src, manifest, config),
    close: () => src.close(),
  };
}

/** The images (one per platform) that `ref` names. */
export async function listManifests(
  ref: string,
): Promise<Array<{ platform: Platform; digest: string; size: number }>> {
  const r = parseImageRef(ref, LOCAL_READ_REF) as LocalImageRef;
  if (r.transport === "docker-archive") {
    const im = await openDockerArchive(r, ref);
    return [{ platform: im.platform, digest: im.manifestDigest, size: JSON.stringify(im.manifest).length }];
  }
  const { src, index } = await ociSource(r);
  try {
    const cands = await candidatesFor(src, index, r);
    const out: Array<{ platform: Platform; digest: string; size: number }> = [];
    for (const c of cands) {
      let p = c.platform;
      if (!p)
        p = platformOf((await loadManifest(src, c.desc)).config) ?? { os: "linux", architecture: "unknown" };
      if ((p.os as string) === "unknown" && cands.length > 1) continue; // an attestation without annotations
      out.push({ platform: p, digest: c.desc.digest, size: c.desc.size });
    }
    return out;
  } finally {
    await src.close();
  }
}

export interface AttachedAttestation {
  /** the attestation manifest */
  digest: string;
  size: number;
  /** the image manifest it is about, and that image's platform when it is in the same index */
  subject: string;
  platform?: Platform;
  /**
   * named by the image's index.json entry but absent from the layout (e.g. after a
   * garbage collection that does not know the annotation): no statements
   */
  missing?: true;
  statements: Array<{
    digest: string;
    size: number;
    mediaType: string;
    predicateType?: string;
    /** "SPDX" / "CycloneDX" for the SBOM predicate types, else the predicate type */
    kind: string;
  }>;
}

/**
 * The attestations (attached SBOMs, ...) that `ref` carries beside its images: those listed in
 * its image index, and for a single image the one its index.json entry names
 * (`dev.shellfree.sbom.attestation`). None for docker-archive.
 */
export async function listAttestations(ref: string): Promise<AttachedAttestation[]> {
  const r = parseImageRef(ref, LOCAL_READ_REF) as LocalImageRef;
  if (r.transport === "docker-archive") return [];
  const { src, index } = await ociSource(r);
  try {
    const descs: Descriptor[] = [];
    const cands = await candidatesFor(src, index, r, descs);
    const platformOfDigest = new Map(cands.map((c) => [c.desc.digest, c.platform]));
    const found: Array<{ digest: string; size?: number; subject?: string; bytes?: Buffer }> = descs.map(
      (d) => ({ digest: d.digest, size: d.size, subject: d.annotations?.[ANNOTATION_REFERENCE_DIGEST] }),
    );
    for (const c of cands) {
      const named = c.desc.annotations?.[ANNOTATION_SBOM_ATTESTATION];
      if (!named) continue;
      parseDigest(named);
      if (found.some((f) => f.digest === named)) continue;
      found.push({ digest: named, subject: c.desc.digest });
    }
    const out: AttachedAttestation[] = [];
    for (const d of found) {
      if (d.size === undefined && !(await src.has(d.digest))) {
        out.push({
          digest: d.digest,
          size: 0,
          subject: d.subject as string,
          platform: platformOfDigest.get(d.subject as string),
          missing: true,
          statements: [],
        });
        continue;
      }
      const bytes = await readVerified(src, d, "attestation manifest");
      const m = parseJson<OciManifest>(bytes, `manifest ${d.digest}`);
      if (!Array.isArray(m.layers)) continue;
      if (d.subject && m.subject?.digest && m.subject.digest !== d.subject) {
        throw new OciError(
          "E_MANIFEST",
          `${src.what}: attestation ${d.digest} is about ${m.subject.digest}, but is attached to ${d.subject}`,
        );
      }
      const subject = d.subject ?? m.subject?.digest;
      if (!subject) continue;
      out.push({
        digest: d.digest,
        size: bytes.length,
        subject,
        platform: platformOfDigest.get(subject),
        statements: m.layers.map((l) => {
          const pt = l.annotations?.[ANNOTATION_PREDICATE_TYPE];
          return {
            digest: l.digest,
            size: l.size,
            mediaType: l.mediaType,
            predicateType: pt,
            kind:
              pt === PREDICATE_SPDX ? "SPDX" : pt === PREDICATE_CYCLONEDX ? "CycloneDX" : (pt ?? l.mediaType),
          };
        }),
      });
    }
    return out;
  } finally {
    await src.close();
  }
}

/** Read one attestation statement blob of `ref` (digest-checked) and parse it. */
export async function readStatement(ref: string, digest: string): Promise<unknown> {
  const r = parseImageRef(ref, LOCAL_READ_REF) as LocalImageRef;
  if (r.transport === "docker-archive") throw new OciError("E_NOT_FOUND", `${r.path}: no attestations`);
  const { src } = await ociSource(r);
  try {
    return parseJson<unknown>(await readVerified(src, { digest }, "statement"), `statement ${digest}`);
  } finally {
    await src.close();
  }
}
