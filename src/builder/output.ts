/**
 * Writing a build's output: SBOMs first (they only need the manifest digests) — attached to the
 * image as attestation manifests (in the image index, or named by the one image's index.json
 * entry) and staged as files beside the output —, then the images, atomically; the SBOM files
 * are renamed into place only once the image is written. A failed write changes nothing that
 * was there before (another tag's SBOMs, the previous build's). Temps a killed build left
 * beside the output are removed first.
 */
import { basename, dirname, resolve as resolvePath } from "node:path";
import {
  ANNOTATION_CREATED,
  type BuiltAttestation,
  parseTarget,
  rfc3339,
  type WriteResult,
  writeOutput,
} from "../oci/index.ts";
import type { Spec } from "../spec/index.ts";
import { cleanTemps } from "../util/atomic.ts";
import { ioError } from "../util/io-error.ts";
import { info } from "../util/progress.ts";
import type { ArchWork } from "./arch.ts";
import { attachSboms, sbomDocuments, stageSboms } from "./sbom/output.ts";

export interface Written {
  out: WriteResult;
  /** SBOM files written beside the output */
  sboms: string[];
  attestations: BuiltAttestation[];
}

export async function writeImages(
  spec: Spec,
  work: ArchWork[],
  opts: { output: string; blobDir: string; sourceDateEpoch: number; sbom: boolean },
): Promise<Written> {
  const { output, sourceDateEpoch: epoch } = opts;
  info(`writing ${output}`);
  const annotations: Record<string, string> = {
    [ANNOTATION_CREATED]: rfc3339(new Date(epoch * 1000)),
    ...spec.config.annotations,
  };
  const target = parseTarget(output);
  const named = target.tag
    ? output
    : target.transport === "docker-archive"
      ? `${output}:${spec.name}:latest`
      : `${output}:latest`;
  await cleanTemps(dirname(resolvePath(target.path)), basename(target.path));
  const docs = opts.sbom ? work.map((w) => sbomDocuments(spec, w, epoch)) : [];
  const attestations: BuiltAttestation[] = [];
  if (target.transport !== "docker-archive") {
    for (const [i, d] of docs.entries()) attestations.push(await attachSboms(spec, work[i], d, opts.blobDir));
  }
  const staged = docs.length
    ? await stageSboms(named, work, docs).catch((e) => {
        throw ioError(e, `cannot write ${output}`);
      })
    : [];
  try {
    const out = await writeOutput(
      named,
      work.map((w) => w.image),
      { annotations, attestations },
    );
    for (const f of staged) await f.commit();
    return { out, sboms: staged.map((f) => f.dest), attestations };
  } catch (e) {
    await Promise.all(staged.map((f) => f.abort()));
    throw ioError(e, `cannot write ${output}`);
  }
}
