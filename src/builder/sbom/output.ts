/**
 * The SBOM documents of a build (SPDX and CycloneDX per architecture): attached to the image as
 * attestation manifests (in-toto statements about the image manifest) and written beside the
 * output as files.
 */
import {
  type BuiltAttestation,
  buildAttestation,
  PREDICATE_CYCLONEDX,
  PREDICATE_SPDX,
  parseTarget,
  subjectPurl,
} from "../../oci/index.ts";
import type { Spec } from "../../spec/index.ts";
import { writeFileAtomic } from "../../util/atomic.ts";
import type { ArchWork } from "../arch.ts";
import { cyclonedxDocument } from "./cyclonedx.ts";
import { sbomInput } from "./input.ts";
import { spdxDocument } from "./spdx.ts";

export interface SbomDocuments {
  spdx: unknown;
  cyclonedx: unknown;
}

export function sbomDocuments(spec: Spec, w: ArchWork, epoch: number): SbomDocuments {
  const input = sbomInput(spec, w, epoch);
  return { spdx: spdxDocument(input), cyclonedx: cyclonedxDocument(input) };
}

/** One attestation manifest (SPDX + CycloneDX in-toto statements) about an architecture's image. */
export function attachSboms(
  spec: Spec,
  w: ArchWork,
  d: SbomDocuments,
  blobDir: string,
): Promise<BuiltAttestation> {
  const im = w.image;
  return buildAttestation(
    {
      subject: {
        digest: im.manifest.digest,
        size: im.manifest.size,
        mediaType: im.manifest.mediaType,
        platform: im.platform,
      },
      subjectName: subjectPurl(spec.name, im.platform),
      predicates: [
        { predicateType: PREDICATE_SPDX, predicate: d.spdx },
        { predicateType: PREDICATE_CYCLONEDX, predicate: d.cyclonedx },
      ],
    },
    blobDir,
  );
}

/** SPDX and CycloneDX files beside the output: PATH.spdx.json (PATH.ARCH.spdx.json for several). */
export async function writeSboms(target: string, work: ArchWork[], docs: SbomDocuments[]): Promise<string[]> {
  const base = parseTarget(target).path.replace(/\/+$/, "");
  const out: string[] = [];
  for (const [i, w] of work.entries()) {
    const stem = work.length > 1 ? `${base}.${w.resolved.arch}` : base;
    await writeFileAtomic(`${stem}.spdx.json`, `${JSON.stringify(docs[i].spdx, null, 2)}\n`);
    await writeFileAtomic(`${stem}.cdx.json`, `${JSON.stringify(docs[i].cyclonedx, null, 2)}\n`);
    out.push(`${stem}.spdx.json`, `${stem}.cdx.json`);
  }
  return out;
}
