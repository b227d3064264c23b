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
import { type StagedFile, stageFile } from "../../util/atomic.ts";
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

/**
 * Where the SBOM files of an output go: beside it, `PATH[.TAG][.ARCH].spdx.json` and
 * `….cdx.json`. TAG is there for a tag of an oci: layout other than `latest` (a layout holds
 * several tags, each keeps its own SBOMs; `/` and `:` in it become `_`); ARCH when several
 * architectures were built. `target` names its tag (the builder adds `:latest` when none).
 */
export function sbomStems(target: string, arches: string[]): string[] {
  const t = parseTarget(target);
  let base = t.path.replace(/\/+$/, "");
  if (t.transport === "oci" && t.tag !== undefined && t.tag !== "latest") {
    base += `.${t.tag.replace(/[/:]/g, "_")}`;
  }
  return arches.map((a) => (arches.length > 1 ? `${base}.${a}` : base));
}

/**
 * The SPDX and CycloneDX files beside the output, staged: written under temp names, renamed
 * into place by the caller once the image is written (or removed if it is not).
 */
export async function stageSboms(
  target: string,
  work: ArchWork[],
  docs: SbomDocuments[],
): Promise<StagedFile[]> {
  const stems = sbomStems(
    target,
    work.map((w) => w.resolved.arch),
  );
  const out: StagedFile[] = [];
  try {
    for (const [i, stem] of stems.entries()) {
      out.push(await stageFile(`${stem}.spdx.json`, `${JSON.stringify(docs[i].spdx, null, 2)}\n`));
      out.push(await stageFile(`${stem}.cdx.json`, `${JSON.stringify(docs[i].cyclonedx, null, 2)}\n`));
    }
  } catch (e) {
    await Promise.all(out.map((f) => f.abort()));
    throw e;
  }
  return out;
}
