/** What a build reports (`shellfree build` prints it; `--json` as is, without the lock). */
import type { Compression } from "../oci/index.ts";
import type { AltChoice } from "./alternatives.ts";
import type { BytecodeReport } from "./bytecode.ts";
import type { BuiltLayer } from "./context.ts";
import type { InitBinaryFacts } from "./init-layer.ts";
import type { Lockfile } from "./lock.ts";
import type { NodeRuntime } from "./noderuntime.ts";
import type { PythonDeps } from "./python-deps.ts";
import type { DropOutcome } from "./rootfs.ts";

export interface LayerReport {
  name: string;
  digest: string;
  diffId: string;
  size: number;
  uncompressedSize: number;
  entries: number;
  cached: boolean;
}

export interface ArchReport {
  architecture: string;
  manifest: string;
  layers: LayerReport[];
  packages: Array<{ name: string; version: string; architecture: string }>;
  excluded: Array<{ name: string; wantedBy: string[] }>;
  alternatives: Array<{ name: string; link: string; path: string; priority: number; mode: string }>;
  dropped: { files: number; bytes: number };
  /** what each `packages.drop-paths` glob left out (in the spec's order) */
  dropPaths: DropOutcome[];
  node?: { version: string; integrity: string; size: number; stripped: boolean };
  /** the wheels `python:` installed and the target they were chosen for */
  python?: {
    target: { python: string; arch: string; glibc: string };
    wheels: Array<{ name: string; version: string; filename: string; sha256: string; tag: string }>;
  };
  /** the bytecode step (images with CPython) */
  bytecode?: BytecodeReport;
  /** shellfree-init as installed (when the spec has `init:`) */
  init?: InitBinaryFacts;
  size: number;
  uncompressedSize: number;
}

export interface BuildResult {
  name: string;
  target: string;
  digest: string;
  mediaType: string;
  /** one per architecture: platform, manifest digest and size (as in the index) */
  manifests: Array<{
    platform: { os: string; architecture: string; variant?: string };
    digest: string;
    size: number;
  }>;
  sourceDateEpoch: number;
  compression: Compression;
  architectures: ArchReport[];
  /** SBOM files written beside the output */
  sboms: string[];
  /** attestation manifests attached to the image, one per architecture (not in docker-archive) */
  attestations: Array<{
    architecture: string;
    /** the image manifest the SBOMs describe */
    subject: string;
    digest: string;
    size: number;
    statements: Array<{ predicateType: string; digest: string; size: number }>;
  }>;
  /** the resolution this build used, as a lockfile */
  lock: Lockfile;
}

/** One architecture's report. */
export function archReport(
  arch: string,
  manifest: string,
  layers: BuiltLayer[],
  facts: {
    packages: Array<{ name: string; version: string; architecture: string }>;
    excluded: ArchReport["excluded"];
    alternatives: AltChoice[];
    dropped: ArchReport["dropped"];
    dropPaths: DropOutcome[];
    node?: NodeRuntime;
    python?: PythonDeps;
    bytecode?: BytecodeReport;
    init?: InitBinaryFacts;
  },
): ArchReport {
  const { node } = facts;
  return {
    architecture: arch,
    manifest,
    layers: layers.map((l) => ({
      name: l.name,
      digest: l.layer.digest,
      diffId: l.layer.diffId,
      size: l.layer.size,
      uncompressedSize: l.layer.uncompressedSize,
      entries: l.layer.entries,
      cached: l.cached,
    })),
    packages: facts.packages.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture })),
    excluded: facts.excluded,
    alternatives: facts.alternatives.map((c) => ({
      name: c.name,
      link: c.link,
      path: c.path,
      priority: c.priority,
      mode: c.mode,
    })),
    dropped: facts.dropped,
    dropPaths: facts.dropPaths.map(({ glob, package: pkg, paths, files, bytes }) => ({
      glob,
      ...(pkg ? { package: pkg } : {}),
      files,
      bytes,
      paths,
    })),
    node: node
      ? { version: node.version, integrity: node.integrity, size: node.size, stripped: node.stripped }
      : undefined,
    python: facts.python
      ? {
          target: facts.python.target,
          wheels: facts.python.installed.map((d) => ({
            name: d.name,
            version: d.version,
            filename: d.wheel,
            sha256: d.sha256,
            tag: d.tag,
          })),
        }
      : undefined,
    bytecode: facts.bytecode,
    init: facts.init,
    size: layers.reduce((sum, l) => sum + l.layer.size, 0),
    uncompressedSize: layers.reduce((sum, l) => sum + l.layer.uncompressedSize, 0),
  };
}
