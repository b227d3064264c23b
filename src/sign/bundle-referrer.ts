/**
 * The manifest that attaches a Sigstore bundle to an image as an OCI 1.1 referrer, shaped as
 * cosign 3 writes it (pkg/oci/remote WriteReferrer):
 *
 *   {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 *    "config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,
 *              "digest":"sha256:44136f…(the blob {})","artifactType":"<bundle media type>"},
 *    "layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":…,"digest":…}],
 *    "annotations":{"dev.sigstore.bundle.content":"dsse-envelope",
 *                   "dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1",
 *                   "org.opencontainers.image.created":"<RFC 3339, seconds, UTC>"},
 *    "subject":{"mediaType":…,"size":…,"digest":<the signed manifest>},
 *    "artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}
 *
 * (The config descriptor's own artifactType is cosign's; `cosign clean` looks for it.)
 */
import { type Descriptor, MEDIA_OCI_MANIFEST, type OciManifest } from "../oci/index.ts";
import { isBundleMediaType, MEDIA_BUNDLE_V03 } from "./bundle.ts";

export const MEDIA_OCI_EMPTY = "application/vnd.oci.empty.v1+json";
export const EMPTY_CONFIG = Buffer.from("{}");
export const ANNOTATION_BUNDLE_CONTENT = "dev.sigstore.bundle.content";
export const ANNOTATION_BUNDLE_PREDICATE = "dev.sigstore.bundle.predicateType";
export const ANNOTATION_CREATED = "org.opencontainers.image.created";

/** RFC 3339 in UTC to the second, as Go's time.RFC3339 prints it. */
export function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.[0-9]{3}Z$/, "Z");
}

export function bundleReferrerManifest(input: {
  subject: Descriptor;
  bundle: { digest: string; size: number };
  config: { digest: string; size: number };
  predicateType: string;
  created: Date;
}): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_OCI_MANIFEST,
    config: {
      mediaType: MEDIA_OCI_EMPTY,
      size: input.config.size,
      digest: input.config.digest,
      artifactType: MEDIA_BUNDLE_V03,
    },
    layers: [{ mediaType: MEDIA_BUNDLE_V03, size: input.bundle.size, digest: input.bundle.digest }],
    annotations: {
      [ANNOTATION_BUNDLE_CONTENT]: "dsse-envelope",
      [ANNOTATION_BUNDLE_PREDICATE]: input.predicateType,
      [ANNOTATION_CREATED]: rfc3339Seconds(input.created),
    },
    subject: { mediaType: input.subject.mediaType, size: input.subject.size, digest: input.subject.digest },
    artifactType: MEDIA_BUNDLE_V03,
  };
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * Whether a referrers-list entry may be a bundle: its artifactType says so, or says nothing
 * useful — go-containerregistry's referrers tag index gives cosign's bundles the config's media
 * type (`application/vnd.oci.empty.v1+json`) and no annotations.
 */
export function mayBeBundleReferrer(d: Descriptor): boolean {
  if (d.mediaType !== MEDIA_OCI_MANIFEST) return false;
  return (
    d.artifactType === undefined || d.artifactType === MEDIA_OCI_EMPTY || isBundleMediaType(d.artifactType)
  );
}

/** The bundle layers of a referrer manifest about `subject` (none when it is about something else). */
export function bundleLayers(doc: OciManifest, subject: string): Descriptor[] {
  if (doc.subject?.digest !== subject) return [];
  return (doc.layers ?? []).filter((l) => isBundleMediaType(l.mediaType));
}
