/**
 * Opening a `docker save` archive (docker-archive:FILE[:NAME[:TAG]]): manifest.json names the
 * images; the config is checked against its file name, each layer (tar, gzip or zstd, sniffed)
 * hashed for its descriptor. One image, one platform; no attestations.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { resolve } from "node:path";
import { PassThrough } from "node:stream";
import type { OciImageConfig } from "../../formats/index.ts";
import { DigestStream, sha256Digest } from "../digest.ts";
import { OciError } from "../errors.ts";
import { type Descriptor, type OciManifest, parsePlatform, platformString } from "../image.ts";
import {
  MEDIA_DOCKER_CONFIG,
  MEDIA_DOCKER_LAYER,
  MEDIA_DOCKER_LAYER_GZIP,
  MEDIA_DOCKER_MANIFEST,
  MEDIA_OCI_LAYER_ZSTD,
} from "../media.ts";
import type { DockerArchiveImageRef } from "../ref.ts";
import { layerStream, parseJson } from "./blobs.ts";
import type { OpenedImage, OpenedLayer } from "./opened.ts";
import { platformOf, samePlatform } from "./select.ts";
import { cleanName, indexTar, type Member, readMember } from "./tar-index.ts";

// ------------------------------------------------------------------ docker-archive

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
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

export async function openDockerArchive(
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
    localRef: ref,
    platform: plat,
    manifestDigest: sha256Digest(JSON.stringify(manifest)),
    manifest,
    config,
    configDigest,
    layers,
    close: async () => {},
  };
}
