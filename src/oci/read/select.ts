/**
 * Choosing the image a reference means inside an OCI layout: the index.json entries it names
 * (tag, digest, or the only one), nested indexes followed, attestation manifests set aside, then
 * the platform asked for (else the only one, else the host's); its manifest and config loaded
 * and checked.
 */
import type { OciImageConfig } from "../../formats/index.ts";
import { isAttestationDescriptor } from "../attest.ts";
import { OciError } from "../errors.ts";
import {
  type Descriptor,
  hostPlatform,
  type OciIndex,
  type OciManifest,
  parsePlatform,
  platformString,
} from "../image.ts";
import { checkDescriptor, parseIndex } from "../layout.ts";
import { ANNOTATION_REF_NAME, isIndexMediaType, isManifestMediaType, layerCompression } from "../media.ts";
import type { LayoutImageRef } from "../ref.ts";
import type { Platform } from "../types.ts";
import { layerStream, parseJson, readVerified, type Source } from "./blobs.ts";
import type { OpenedLayer } from "./opened.ts";

export function platformOf(
  p: { os?: string; architecture?: string; variant?: string } | undefined,
): Platform | undefined {
  if (!p?.architecture || !p.os) return undefined;
  return p.variant
    ? { os: p.os as "linux", architecture: p.architecture, variant: p.variant }
    : { os: p.os as "linux", architecture: p.architecture };
}

export interface Candidate {
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

export async function candidatesFor(
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

export async function loadManifest(
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

export function samePlatform(want: Platform, have: Platform, strictVariant: boolean): boolean {
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (
    strictVariant &&
    want.variant &&
    want.variant !== (have.variant ?? (have.architecture === "arm64" ? "v8" : undefined))
  )
    return false;
  return true;
}

export async function choose(src: Source, all: Candidate[], platform?: string): Promise<Candidate> {
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

export function openedLayers(src: Source, manifest: OciManifest, config: OciImageConfig): OpenedLayer[] {
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
