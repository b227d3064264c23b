/**
 * cosign's signature image (cosign ≤ 2; read by cosign 3 too): an OCI image manifest under the
 * tag `sha256-<hex of the signed manifest's digest>.sig` in the image's repository, one layer per
 * signature:
 *
 *   {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 *    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":…,"digest":…},
 *    "layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":…,
 *               "digest":"<sha256 of the payload>",
 *               "annotations":{"dev.cosignproject.cosign/signature":"<base64 DER signature>"}}]}
 *
 * The layer blob is the simple-signing payload itself. The config is what go-containerregistry
 * makes of an empty image with those layers appended: `{"architecture":"","created":
 * "0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"},…],"os":"","rootfs":
 * {"type":"layers","diff_ids":[<layer digests>]},"config":{}}`. Signing again appends a layer
 * (the manifest is read, extended and put back), unless an identical payload already carries a
 * signature by the same key (cosign's duplicate detection). shellfree also notes the signing
 * key's hint on its layers (`dev.shellfree.signature.key-hint`), which cosign ignores and which
 * only serves to say why a signature fails.
 */
import {
  type Descriptor,
  MEDIA_OCI_CONFIG,
  MEDIA_OCI_MANIFEST,
  type OciManifest,
  sha256Digest,
} from "../oci/index.ts";
import { SignError } from "./errors.ts";
import { MEDIA_SIMPLE_SIGNING } from "./payload.ts";

export const ANNOTATION_SIGNATURE = "dev.cosignproject.cosign/signature";
export const ANNOTATION_KEY_HINT = "dev.shellfree.signature.key-hint";
/** cosign refuses signature images with more layers */
export const MAX_SIG_LAYERS = 1000;
const ZERO_TIME = "0001-01-01T00:00:00Z";

/** `sha256-<hex>.sig`: the tag of the signatures of `digest`. */
export function sigTag(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new SignError("E_SIGN_REF", `${digest} is not a sha256 digest`);
  return `sha256-${m[1]}.sig`;
}

/** A signature layer to add: the payload and its layer annotations (the signature among them). */
export interface SigLayer {
  payload: Buffer;
  digest: string;
  annotations: Record<string, string>;
}

/** The layers of an existing signature image that are simple-signing payloads. */
export function signatureLayers(doc: OciManifest | undefined): Descriptor[] {
  return (doc?.layers ?? []).filter((l) => l.mediaType === MEDIA_SIMPLE_SIGNING);
}

function sortedAnnotations(a: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(a).sort()) out[k] = a[k];
  return out;
}

interface GoConfig {
  created?: unknown;
  history?: unknown;
}

/**
 * The signature image with `layer` appended to `existing` (manifest and config as found under
 * the tag; none: a new one). Returns the new config and manifest bytes.
 */
export function appendSignature(
  existing: { manifest: OciManifest; config?: Uint8Array } | undefined,
  layer: SigLayer,
): { config: Buffer; manifest: Buffer; mediaType: string } {
  const layers: Descriptor[] = existing ? [...existing.manifest.layers] : [];
  if (layers.length + 1 > MAX_SIG_LAYERS) {
    throw new SignError(
      "E_SIGNATURE",
      `the signature image already holds ${layers.length} signatures (cosign's limit is ${MAX_SIG_LAYERS})`,
    );
  }
  layers.push({
    mediaType: MEDIA_SIMPLE_SIGNING,
    size: layer.payload.length,
    digest: layer.digest,
    annotations: sortedAnnotations(layer.annotations),
  } as Descriptor);
  let old: GoConfig = {};
  if (existing?.config) {
    try {
      old = JSON.parse(Buffer.from(existing.config).toString("utf8")) as GoConfig;
    } catch {
      old = {};
    }
  }
  const history = Array.isArray(old.history) ? [...old.history] : [];
  while (history.length < layers.length) history.push({ created: ZERO_TIME });
  // go-containerregistry's ConfigFile, field order and all
  const config = Buffer.from(
    JSON.stringify({
      architecture: "",
      created: typeof old.created === "string" ? old.created : ZERO_TIME,
      history: history.slice(0, layers.length),
      os: "",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const mediaType = existing?.manifest.mediaType ?? MEDIA_OCI_MANIFEST;
  const configMediaType = existing?.manifest.config?.mediaType ?? MEDIA_OCI_CONFIG;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: configMediaType, size: config.length, digest: sha256Digest(config) },
      layers: layers.map((l) => ({
        mediaType: l.mediaType,
        size: l.size,
        digest: l.digest,
        ...(l.annotations ? { annotations: l.annotations } : {}),
      })),
    }),
  );
  return { config, manifest, mediaType };
}
