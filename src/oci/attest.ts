/**
 * Attestations attached to images, in BuildKit's format (the one `docker buildx --sbom` writes
 * and Docker Scout, Trivy and docker's own tooling read), which is also an OCI 1.1 referrer:
 *
 * - one attestation manifest per platform image: an OCI image manifest whose layers are in-toto
 *   statements (`application/vnd.in-toto+json`, annotated `in-toto.io/predicate-type`) about
 *   the image manifest (statement subject = its digest), with the image config BuildKit gives
 *   it (platform unknown/unknown, rootfs = the statements) and a `subject` descriptor pointing
 *   at the image manifest;
 * - with several platforms: listed in the image index beside the platform manifests, for platform
 *   unknown/unknown and annotated `vnd.docker.reference.type: attestation-manifest` and
 *   `vnd.docker.reference.digest: <image manifest digest>`;
 * - with one platform: not listed in any index (index.json keeps exactly one entry, the image
 *   manifest, which every tool takes); the image's index.json entry names it in the annotation
 *   `dev.shellfree.sbom.attestation: <attestation manifest digest>` and its blobs sit in `blobs/`.
 *   In a registry it is found as an OCI 1.1 referrer of the image manifest (referrers API, or the
 *   referrers tag schema `sha256-<hex>` that `shellfree push` maintains).
 *
 * Everything here is a pure function of its inputs (no clock): compact JSON, fixed key order.
 */
import { storeBlobBytes } from "./digest.ts";
import { OciError } from "./errors.ts";
import { type Descriptor, jsonBytes, type OciManifest } from "./image.ts";
import { MEDIA_OCI_CONFIG, MEDIA_OCI_MANIFEST } from "./media.ts";
import type { Platform } from "./types.ts";

export const MEDIA_IN_TOTO = "application/vnd.in-toto+json";
/** the attestation manifest's OCI 1.1 `artifactType` */
export const ARTIFACT_TYPE_SBOM = "application/vnd.shellfree.sbom";
export const IN_TOTO_STATEMENT_V01 = "https://in-toto.io/Statement/v0.1";
export const PREDICATE_SPDX = "https://spdx.dev/Document";
export const PREDICATE_CYCLONEDX = "https://cyclonedx.org/bom";
export const ANNOTATION_PREDICATE_TYPE = "in-toto.io/predicate-type";
export const ANNOTATION_REFERENCE_TYPE = "vnd.docker.reference.type";
export const ANNOTATION_REFERENCE_DIGEST = "vnd.docker.reference.digest";
export const REFERENCE_TYPE_ATTESTATION = "attestation-manifest";
/**
 * On the index.json entry of a single-platform image: the digest of its attestation manifest
 * (attached SBOMs), which is in the layout's blobs but in no index.
 */
export const ANNOTATION_SBOM_ATTESTATION = "dev.shellfree.sbom.attestation";
/** the platform an attestation manifest has in an index: never chosen as an image */
export const ATTESTATION_PLATFORM = { architecture: "unknown", os: "unknown" } as const;

export interface AttestationInput {
  /** the platform image manifest the statements are about */
  subject: { digest: string; size: number; mediaType: string; platform: Platform };
  /** in-toto subject name, e.g. pkg:docker/NAME?platform=linux%2Famd64 */
  subjectName: string;
  /** one statement each: predicate type (PREDICATE_SPDX, ...) and the document */
  predicates: Array<{ predicateType: string; predicate: unknown }>;
}

export interface BuiltAttestation {
  /** digest of the image manifest it is about */
  subject: string;
  platform: Platform;
  manifest: { digest: string; size: number; bytes: Uint8Array; mediaType: string };
  config: { digest: string; size: number; bytes: Uint8Array };
  /** the statements, in order (uncompressed: digest = diff_id) */
  layers: Array<{ digest: string; size: number; bytes: Uint8Array; predicateType: string }>;
}

/** `pkg:docker/NAME?platform=OS%2FARCH[%2FVARIANT]`: the in-toto subject name BuildKit would give. */
export function subjectPurl(name: string, p: Platform): string {
  const plat = encodeURIComponent(`${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`);
  return `pkg:docker/${name.split("/").map(encodeURIComponent).join("/")}?platform=${plat}`;
}

/** Build one attestation manifest (statements, config, manifest) and store its blobs in `blobDir`. */
export async function buildAttestation(a: AttestationInput, blobDir: string): Promise<BuiltAttestation> {
  if (a.predicates.length === 0)
    throw new OciError("E_CONFIG", "an attestation needs at least one statement");
  const hex = /^sha256:([0-9a-f]{64})$/.exec(a.subject.digest)?.[1];
  if (!hex) throw new OciError("E_CONFIG", `attestation subject ${a.subject.digest} is not a sha256 digest`);
  const layers: BuiltAttestation["layers"] = [];
  for (const p of a.predicates) {
    const statement = {
      _type: IN_TOTO_STATEMENT_V01,
      predicateType: p.predicateType,
      subject: [{ name: a.subjectName, digest: { sha256: hex } }],
      predicate: p.predicate,
    };
    const bytes = jsonBytes(statement);
    const b = await storeBlobBytes(blobDir, bytes);
    layers.push({ digest: b.digest, size: b.size, bytes, predicateType: p.predicateType });
  }
  // BuildKit's attestationsConfig: a valid image config for compatibility only
  const configBytes = jsonBytes({
    architecture: ATTESTATION_PLATFORM.architecture,
    os: ATTESTATION_PLATFORM.os,
    config: {},
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
  });
  const config = await storeBlobBytes(blobDir, configBytes);
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_OCI_MANIFEST,
    artifactType: ARTIFACT_TYPE_SBOM,
    config: { mediaType: MEDIA_OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({
      mediaType: MEDIA_IN_TOTO,
      digest: l.digest,
      size: l.size,
      annotations: { [ANNOTATION_PREDICATE_TYPE]: l.predicateType },
    })),
    subject: { mediaType: a.subject.mediaType, digest: a.subject.digest, size: a.subject.size },
  };
  const manifestBytes = jsonBytes(manifest);
  const m = await storeBlobBytes(blobDir, manifestBytes);
  return {
    subject: a.subject.digest,
    platform: { ...a.subject.platform },
    manifest: { digest: m.digest, size: m.size, bytes: manifestBytes, mediaType: MEDIA_OCI_MANIFEST },
    config: { digest: config.digest, size: config.size, bytes: configBytes },
    layers,
  };
}

/** The index entry of an attestation manifest (as BuildKit lists it). */
export function attestationDescriptor(a: BuiltAttestation): Descriptor {
  return {
    mediaType: a.manifest.mediaType,
    digest: a.manifest.digest,
    size: a.manifest.size,
    annotations: {
      [ANNOTATION_REFERENCE_DIGEST]: a.subject,
      [ANNOTATION_REFERENCE_TYPE]: REFERENCE_TYPE_ATTESTATION,
    },
    platform: { ...ATTESTATION_PLATFORM },
  };
}

/**
 * The attestation's descriptor in an OCI 1.1 referrers list (referrers API answer or the index
 * under the referrers tag `sha256-<hex of the subject>`): mediaType, digest, size, artifactType,
 * and BuildKit's reference annotations (so docker's tooling knows it too).
 */
export function referrerDescriptor(
  manifest: { digest: string; size: number; mediaType: string },
  doc: Pick<OciManifest, "artifactType" | "annotations" | "config" | "subject">,
): Descriptor {
  const d: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
  const artifactType = doc.artifactType ?? doc.config?.mediaType;
  if (artifactType) d.artifactType = artifactType;
  const annotations: Record<string, string> = { ...(doc.annotations ?? {}) };
  if (doc.subject) {
    annotations[ANNOTATION_REFERENCE_DIGEST] = doc.subject.digest;
    annotations[ANNOTATION_REFERENCE_TYPE] = REFERENCE_TYPE_ATTESTATION;
  }
  if (Object.keys(annotations).length > 0) d.annotations = annotations;
  return d;
}

/** The referrers tag schema (OCI distribution-spec 1.1): `sha256-<hex>` for a subject digest. */
export function referrersTag(subject: string): string {
  const m = /^([a-z0-9]+):([0-9a-f]+)$/.exec(subject);
  if (!m) throw new OciError("E_CONFIG", `${subject} is not a digest`);
  return `${m[1]}-${m[2]}`.slice(0, 128);
}

/** Whether an index entry is an attestation (BuildKit's annotation, or platform unknown/unknown). */
export function isAttestationDescriptor(d: Pick<Descriptor, "platform" | "annotations">): boolean {
  return (
    d.annotations?.[ANNOTATION_REFERENCE_TYPE] === REFERENCE_TYPE_ATTESTATION ||
    (d.platform?.os === "unknown" && d.platform?.architecture === "unknown")
  );
}
