/**
 * The attestations (attached SBOMs) a local image carries: the attestation manifests listed in
 * its image index, and for a single image the one its index.json entry names.
 */
import {
  ANNOTATION_PREDICATE_TYPE,
  ANNOTATION_REFERENCE_DIGEST,
  ANNOTATION_SBOM_ATTESTATION,
  PREDICATE_CYCLONEDX,
  PREDICATE_SPDX,
} from "../attest.ts";
import { parseDigest } from "../digest.ts";
import { OciError } from "../errors.ts";
import type { Descriptor, OciManifest } from "../image.ts";
import { parseLocalRef } from "../ref.ts";
import type { Platform } from "../types.ts";
import { parseJson, readVerified } from "./blobs.ts";
import { ociSource } from "./layout.ts";
import { candidatesFor } from "./select.ts";

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
  const r = parseLocalRef(ref);
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
  const r = parseLocalRef(ref);
  if (r.transport === "docker-archive") throw new OciError("E_NOT_FOUND", `${r.path}: no attestations`);
  const { src } = await ociSource(r);
  try {
    return parseJson<unknown>(await readVerified(src, { digest }, "statement"), `statement ${digest}`);
  } finally {
    await src.close();
  }
}
