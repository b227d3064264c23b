/**
 * Opening an image of an OCI layout: a directory (oci:DIR) or a tar of one (oci-archive:FILE).
 */
import { resolve } from "node:path";
import { OciError } from "../errors.ts";
import type { OciIndex } from "../image.ts";
import { parseIndex, readIndex } from "../layout.ts";
import type { LayoutImageRef } from "../ref.ts";
import type { Platform } from "../types.ts";
import { dirSource, type Source, tarSource } from "./blobs.ts";
import type { OpenedImage } from "./opened.ts";
import { candidatesFor, choose, loadManifest, openedLayers, platformOf } from "./select.ts";
import { indexTar, readMember } from "./tar-index.ts";

/** The layout's blobs and its index.json. */
export async function ociSource(r: LayoutImageRef): Promise<{ src: Source; index: OciIndex }> {
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

/** One image of the layout `r` (`platform`, else the only one, else the host's). */
export async function openLayoutImage(
  r: LayoutImageRef,
  ref: string,
  platform?: string,
): Promise<OpenedImage> {
  const { src, index } = await ociSource(r);
  const cands = await candidatesFor(src, index, r);
  const c = await choose(src, cands, platform);
  const { manifest, config, configDigest } = await loadManifest(src, c.desc);
  const plat = platformOf(config) ?? (c.platform as Platform);
  return {
    ref,
    localRef: ref,
    platform: plat,
    manifestDigest: c.desc.digest,
    manifest,
    config,
    configDigest,
    layers: openedLayers(src, manifest, config),
    close: () => src.close(),
  };
}

/** The images (one per platform) the layout reference `r` names. */
export async function layoutManifests(
  r: LayoutImageRef,
): Promise<Array<{ platform: Platform; digest: string; size: number }>> {
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
