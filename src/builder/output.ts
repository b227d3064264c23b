/**
 * Writing a build's output: SBOMs first (they only need the manifest digests) — attached to the
 * image as attestation manifests (in the image index, or named by the one image's index.json
 * entry) and as files beside the output —, then the images, atomically. If the output cannot be
 * written, the SBOM files go too: all or nothing. Temps a killed build left beside the output
 * are removed first.
 */
import { readdir, rm } from "node:fs/promises";
import { basename, dirname, join, resolve as resolvePath } from "node:path";
import {
  ANNOTATION_CREATED,
  type BuiltAttestation,
  parseTarget,
  rfc3339,
  type WriteResult,
  writeOutput,
} from "../oci/index.ts";
import type { Spec } from "../spec/index.ts";
import { info } from "../util/progress.ts";
import type { ArchWork } from "./arch.ts";
import { ioError } from "./io-error.ts";
import { attachSboms, sbomDocuments, writeSboms } from "./sbom/output.ts";

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
  await removeDeadTemps(target.path);
  const sboms: string[] = [];
  const docs = opts.sbom ? work.map((w) => sbomDocuments(spec, w, epoch)) : [];
  const attestations: BuiltAttestation[] = [];
  if (target.transport !== "docker-archive") {
    for (const [i, d] of docs.entries()) attestations.push(await attachSboms(spec, work[i], d, opts.blobDir));
  }
  try {
    if (docs.length) sboms.push(...(await writeSboms(output, work, docs)));
    const out = await writeOutput(
      named,
      work.map((w) => w.image),
      { annotations, attestations },
    );
    return { out, sboms, attestations };
  } catch (e) {
    await Promise.all(sboms.map((f) => rm(f, { force: true })));
    throw ioError(e, `cannot write ${output}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A build killed while writing its output leaves a `.tmp-NAME.PID.RAND` beside it (the atomic
 * writer's temp). The next build of the same output removes those whose process is gone.
 */
export async function removeDeadTemps(outPath: string): Promise<string[]> {
  const dir = dirname(resolvePath(outPath));
  const base = basename(outPath);
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = /^\.tmp-(.+)\.(\d+)\.[0-9a-f]{8}$/.exec(name);
    if (!m || !(m[1] === base || m[1].startsWith(`${base}.`))) continue;
    if (alive(Number(m[2]))) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}
