/**
 * `shellfree build`: a spec to an OCI image, as a list of steps —
 *
 *   1. check what is asked: the architectures, the output, the init configuration and binaries
 *   2. per architecture: resolve the packages (resolve.ts), then build its image (arch.ts:
 *      fetch, plan, package layers, runtime, generated configuration, files, image)
 *   3. write the output (output.ts): SBOMs attached and beside it, then the image index (several
 *      architectures, their attestations in it) or the one image manifest (its attestation
 *      beside it in the layout's blobs)
 *
 * Layers are cached by the hash of their inputs (cache.ts), so a warm rebuild reuses the
 * compressed OS layer without decompressing a single package. Nothing is written to the output
 * until every image is complete, and the output itself is written atomically.
 */
import { resolve as resolvePath } from "node:path";
import { InitConfigError, parseInitConfig, toInitJson } from "../init/index.ts";
import { type Compression, parseTarget } from "../oci/index.ts";
import { lineOfField, type Spec } from "../spec/index.ts";
import { sweepTemps } from "../util/atomic.ts";
import { defaultCacheDir } from "../util/cache-dir.ts";
import { ioError, ioErrorUnder } from "../util/io-error.ts";
import { smallHeap } from "../util/memory.ts";
import { type ArchWork, buildArch } from "./arch.ts";
import { layerBlobDir } from "./cache.ts";
import { BuildError } from "./errors.ts";
import { checkLockedInit, initBinaryFor } from "./init-layer.ts";
import type { Lockfile } from "./lock.ts";
import { lockFromBuild } from "./lock-spec.ts";
import { commonNodeVersion, nodeArch } from "./noderuntime.ts";
import { type Written, writeImages } from "./output.ts";
import type { BuildResult } from "./report.ts";
import { type ArchiveSettings, resolveArch, sourceDateEpochOf } from "./resolve.ts";

export interface BuildOptions extends ArchiveSettings {
  spec: Spec;
  /** oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:NAME[:TAG]] */
  output: string;
  compression?: Compression;
  /** subset of the spec's architectures */
  architectures?: string[];
  /** build exactly what `lock` says (fails on any disagreement) */
  lock?: { file: string; lock: Lockfile };
  /** seconds; default: the lock's, else the suite's Release date */
  sourceDateEpoch?: number;
  /** SPDX/CycloneDX: written beside the output and attached to the image (default true) */
  sbom?: boolean;
}

/** Build the spec's image(s) and write the output. */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  smallHeap(true); // (see memory.ts)
  const cacheDir = resolvePath(opts.cacheDir ?? defaultCacheDir());
  try {
    return await buildImages(opts);
  } catch (e) {
    throw ioError(ioErrorUnder(e, cacheDir, `cannot write the cache ${cacheDir}`), "build failed");
  } finally {
    smallHeap(false);
  }
}

async function buildImages(opts: BuildOptions): Promise<BuildResult> {
  const spec = opts.spec;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  await sweepTemps(cacheDir); // temps that killed builds left anywhere in the cache
  const blobDir = layerBlobDir(cacheDir);
  const compression = opts.compression ?? "gzip";
  const archs = architecturesToBuild(spec, opts);
  const initJson = initConfigJson(spec); // a bad init section fails before any download
  if (initJson !== undefined) {
    // so do a missing init binary and one the lock does not record
    for (const arch of archs) checkLockedInit(initBinaryFor(arch), arch, opts.lock);
  }
  const nodeVersion =
    spec.runtime.node && !opts.lock
      ? await commonNodeVersion(spec.runtime.node, archs.map(nodeArch))
      : spec.runtime.node;
  const work: ArchWork[] = [];
  let sourceDateEpoch = opts.sourceDateEpoch ?? opts.lock?.lock.sourceDateEpoch;
  for (const arch of archs) {
    const resolved = await resolveArch(spec, arch, { ...opts, cacheDir }, opts.lock);
    sourceDateEpoch ??= sourceDateEpochOf(resolved.releaseDate);
    work.push(
      await buildArch(spec, resolved, {
        cacheDir,
        blobDir,
        compression,
        sourceDateEpoch,
        initJson,
        lock: opts.lock,
        nodeVersion,
        archive: {
          mirror: opts.mirror,
          securityMirror: opts.securityMirror,
          keyring: opts.keyring,
          allowExpired: opts.allowExpired,
          cacheDir,
        },
      }),
    );
  }
  checkDropPaths(spec, work);
  const epoch = sourceDateEpoch as number;
  const written = await writeImages(spec, work, {
    output: opts.output,
    blobDir,
    sourceDateEpoch: epoch,
    sbom: opts.sbom !== false,
  });
  return buildResult(spec, work, written, { sourceDateEpoch: epoch, compression });
}

/** The architectures to build: `--arch` (a subset of the spec's), one only for docker-archive. */
function architecturesToBuild(spec: Spec, opts: BuildOptions): string[] {
  const archs = opts.architectures?.length ? opts.architectures : spec.architectures;
  for (const arch of archs) {
    if (!spec.architectures.includes(arch)) {
      throw new BuildError(
        "E_SPEC",
        `--arch ${arch}: the spec builds only ${spec.architectures.join(", ")}`,
        {
          exitCode: 2,
        },
      );
    }
  }
  if (parseTarget(opts.output).transport === "docker-archive" && archs.length > 1) {
    throw new BuildError(
      "E_USAGE",
      `docker-archive holds one image, but ${archs.length} architectures are to be built (${archs.join(", ")})`,
      {
        hint: "write oci:DIR or oci-archive:FILE for several architectures, or pick one with --arch",
        exitCode: 2,
      },
    );
  }
  return archs;
}

/**
 * Every drop-paths glob must leave something out in at least one architecture (a glob that
 * matches nothing is most likely misspelt, and the file it meant is still in the image), and a
 * glob for one package must name a package of the image. Checked before any output is written.
 */
function checkDropPaths(spec: Spec, work: ArchWork[]): void {
  spec.packages.dropPaths.forEach((rule, i) => {
    const where = `${rule.where}: packages.drop-paths`;
    if (
      rule.package !== undefined &&
      !work.some((w) => w.resolved.packages.some((p) => p.name === rule.package))
    ) {
      throw new BuildError("E_DROP_PATHS", `${where}: package ${rule.package} is not in the image`, {
        hint: "name a package of the image's closure (see `shellfree resolve`), or drop the entry",
      });
    }
    if (work.every((w) => (w.report.dropPaths[i]?.paths.length ?? 0) === 0)) {
      throw new BuildError(
        "E_DROP_PATHS",
        `${where}: ${rule.glob} matches nothing${rule.package ? ` in ${rule.package}` : ""} (${work.map((w) => w.resolved.arch).join(", ")})`,
        {
          hint: "check it against the packages' files (`shellfree fetch`, then `dpkg-deb -c`), or remove it",
        },
      );
    }
  });
}

/**
 * shellfree-init's init.json from the spec's `init:` section (checked by src/init), a problem
 * reported as the spec checker reports one: `FILE:LINE: init.FIELD: problem`.
 */
export function initConfigJson(spec: Spec): string | undefined {
  if (spec.init === undefined) return undefined;
  try {
    return toInitJson(parseInitConfig(spec.init, `${spec.source}: init`));
  } catch (e) {
    if (!(e instanceof InitConfigError)) throw new BuildError("E_SPEC", (e as Error).message.split("\n")[0]);
    const where = spec.initWhere;
    const line = (where && lineOfField(where.lines, e.field)) ?? where?.line;
    const field = e.field ? `init.${e.field}` : "init";
    const at = where ? `${where.file}:${line}` : spec.source;
    throw new BuildError("E_SPEC", `${at}: ${field}: ${e.problem}`.replace(/[\r\n]+/g, " "));
  }
}

function buildResult(
  spec: Spec,
  work: ArchWork[],
  { out, sboms, attestations }: Written,
  opts: { sourceDateEpoch: number; compression: Compression },
): BuildResult {
  return {
    name: spec.name,
    target: out.target,
    digest: out.digest,
    mediaType: out.mediaType,
    manifests: out.manifests,
    sourceDateEpoch: opts.sourceDateEpoch,
    compression: opts.compression,
    architectures: work.map((w) => w.report),
    sboms,
    attestations: attestations
      .filter((a) => out.attestations.some((x) => x.digest === a.manifest.digest))
      .map((a) => ({
        architecture: a.platform.architecture,
        subject: a.subject,
        digest: a.manifest.digest,
        size: a.manifest.size,
        statements: a.layers.map((l) => ({ predicateType: l.predicateType, digest: l.digest, size: l.size })),
      })),
    lock: lockFromBuild(spec, work, opts.sourceDateEpoch),
  };
}
