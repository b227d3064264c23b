/**
 * One architecture's image, step by step: fetch and read the packages, plan the root
 * filesystem, then the layers — the Debian packages (in their groups), the Node.js runtime,
 * shellfree-init, the Python wheels, the generated configuration, the spec's files, the bytecode
 * of every .py in them — and the image (config and manifest) on top.
 */
import { join } from "node:path";
import { ContentSpool } from "../debian/index.ts";
import { type BuiltImage, buildImage, type Compression } from "../oci/index.ts";
import type { Spec } from "../spec/index.ts";
import { releaseMemory } from "../util/memory.ts";
import { humanBytes, info, trace, warn } from "../util/progress.ts";
import { type BytecodeReport, bytecodeLayer } from "./bytecode.ts";
import { configLayer } from "./config-layer.ts";
import type { ArchContext, BuiltLayer } from "./context.ts";
import type { DebInfo } from "./debinfo.ts";
import { fetchPackages } from "./fetch.ts";
import { filesLayer, type LocalFile } from "./files-layer.ts";
import { imageConfig, platformFor } from "./image-config.ts";
import { type InitBinaryFacts, initLayer } from "./init-layer.ts";
import type { Lockfile } from "./lock.ts";
import type { NodeRuntime } from "./noderuntime.ts";
import { packageLayers } from "./package-layers.ts";
import { type PythonDeps, pythonDepsLayer } from "./python-deps.ts";
import { type ArchReport, archReport } from "./report.ts";
import type { ArchiveSettings, ResolvedArch } from "./resolve.ts";
import { planRootfs, type RootfsPlan } from "./rootfs.ts";
import { nodeRuntimeLayer } from "./runtime-layer.ts";

/** One architecture's result: what the SBOMs, the lock and the output are made from. */
export interface ArchWork {
  resolved: ResolvedArch;
  image: BuiltImage;
  report: ArchReport;
  node?: NodeRuntime;
  /** shellfree-init, when the spec has `init:` */
  init?: InitBinaryFacts;
  infos: Map<string, DebInfo>;
  /** the wheels installed (`python:`) */
  python?: PythonDeps;
  bytecode?: BytecodeReport;
  /** the files `files:` copied from the build host */
  localFiles: LocalFile[];
  /** package → the image paths drop-paths left out of it (for the SBOMs) */
  specDropped: Map<string, string[]>;
}

export interface ArchOptions {
  cacheDir: string;
  blobDir: string;
  compression: Compression;
  sourceDateEpoch: number;
  /** shellfree-init's configuration (init.json), when the spec has an `init:` section */
  initJson?: string;
  lock?: { file: string; lock: Lockfile };
  /** the Node.js version for every architecture (see commonNodeVersion) */
  nodeVersion?: string;
  /** where the archive is (the bytecode step may fetch the host's build of the image's python) */
  archive: ArchiveSettings;
}

export async function buildArch(spec: Spec, resolved: ResolvedArch, opts: ArchOptions): Promise<ArchWork> {
  const { arch, packages } = resolved;
  releaseMemory(); // a loaded index and the resolver's state are garbage from here on
  trace(`${arch}: memory released`);
  const ctx: ArchContext = {
    spec,
    arch,
    packages,
    cacheDir: opts.cacheDir,
    blobDir: opts.blobDir,
    compression: opts.compression,
    sourceDateEpoch: opts.sourceDateEpoch,
  };
  // the packages' file contents go to a scratch file (unlinked, dropped once the package layers
  // are written), not into memory
  const spool = ContentSpool.create(join(opts.cacheDir, "build"));
  let fetched: Awaited<ReturnType<typeof fetchPackages>>;
  let plan: RootfsPlan;
  let layers: BuiltLayer[];
  try {
    fetched = await fetchPackages(arch, packages, opts.cacheDir, spool);
    plan = planFor(ctx, fetched.infos);
    for (const link of plan.danglingLinks)
      warn(`${arch}: packages.drop-paths: the symlink ${link} now points at nothing`);
    layers = await packageLayers(ctx, plan, fetched, spool);
  } finally {
    spool.close();
  }
  const runtime = await nodeRuntimeLayer(ctx, plan, {
    version: opts.nodeVersion,
    locked: opts.lock?.lock.architectures[arch]?.node,
  });
  if (runtime) layers.push(runtime.layer);
  const init = await initLayer(ctx, plan, { lock: opts.lock });
  if (init) layers.push(init.layer);
  const lockedPython = opts.lock?.lock.architectures[arch]?.python;
  const python = await pythonDepsLayer(
    ctx,
    plan,
    opts.lock ? { file: opts.lock.file, wheels: lockedPython?.wheels ?? [] } : undefined,
  );
  if (python) layers.push(python.layer);
  const config = await configLayer(ctx, plan, fetched.infos, { initJson: opts.initJson });
  layers.push(config.layer);
  const files = await filesLayer(ctx, plan);
  if (files) layers.push(files.layer);
  const bytecode = await bytecodeLayer(ctx, layers, opts.archive);
  if (bytecode?.layer) layers.push(bytecode.layer);
  const image = await buildImage(
    {
      platform: platformFor(arch),
      layers: layers.map((l) => l.layer),
      config: imageConfig(spec, config.accounts, config.caBundle),
      created: new Date(opts.sourceDateEpoch * 1000),
      history: layers.map((l) => ({ created_by: `shellfree build (${l.name})`, comment: l.comment })),
    },
    opts.blobDir,
  );
  const report = archReport(arch, image.manifest.digest, layers, {
    packages,
    excluded: resolved.excluded,
    alternatives: config.alternatives,
    dropped: plan.dropped,
    dropPaths: plan.dropPaths,
    node: runtime?.node,
    python: python?.deps,
    bytecode: bytecode?.report,
    init: init?.init,
  });
  info(
    `${arch}: ${layers.length} layers, ${humanBytes(report.uncompressedSize)} uncompressed, ${humanBytes(report.size)} compressed`,
  );
  const specDropped = new Map<string, string[]>();
  for (const [name, pp] of plan.packages) if (pp.specDropped.length) specDropped.set(name, pp.specDropped);
  return {
    resolved,
    image,
    report,
    node: runtime?.node,
    init: init?.init,
    infos: fetched.infos,
    python: python?.deps,
    bytecode: bytecode?.report,
    localFiles: files?.files ?? [],
    specDropped,
  };
}

/** Where every package file goes (and which are dropped, merged, linked). */
function planFor(ctx: ArchContext, infos: Map<string, DebInfo>): RootfsPlan {
  return planRootfs(
    ctx.packages.map((p) => ({
      name: p.name,
      architecture: p.architecture,
      multiArch: (infos.get(p.name) as DebInfo).control["Multi-Arch"] ?? p.multiArch,
      info: infos.get(p.name) as DebInfo,
    })),
    { arch: ctx.arch, dropPaths: ctx.spec.packages.dropPaths },
  );
}
