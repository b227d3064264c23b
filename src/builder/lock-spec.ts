/**
 * Lockfiles made from a spec: `shellfree lock` (every architecture resolved, the Node.js runtime
 * and shellfree-init pinned) and the lock of what a build used.
 */
import type { FetchedWheel, LockedWheel } from "../python/index.ts";
import { resolutionInputsHash, type Spec } from "../spec/index.ts";
import { defaultCacheDir } from "../util/cache-dir.ts";
import { initBinaryFor } from "./init-layer.ts";
import { LOCK_VERSION, type LockedArch, type Lockfile, lockedPackage } from "./lock.ts";
import { commonNodeVersion, fetchNodeRuntime, nodeArch } from "./noderuntime.ts";
import { resolveWheels } from "./python-deps.ts";
import { type ArchiveSettings, type ResolvedArch, resolveArch, sourceDateEpochOf } from "./resolve.ts";

/** A fetched wheel as the lock records it. */
function lockedWheel(w: FetchedWheel): LockedWheel {
  return {
    name: w.requirement.name,
    version: w.requirement.version,
    filename: w.file.filename,
    sha256: w.sha256,
  };
}

/** The lockfile for a spec (what `shellfree lock` writes). */
export async function lockSpec(
  spec: Spec,
  s: ArchiveSettings & { sourceDateEpoch?: number },
): Promise<{ lock: Lockfile; resolved: ResolvedArch[] }> {
  const resolved: ResolvedArch[] = [];
  const archs: Record<string, LockedArch> = {};
  const nodeVersion = spec.runtime.node
    ? await commonNodeVersion(spec.runtime.node, spec.architectures.map(nodeArch))
    : undefined;
  for (const arch of spec.architectures) {
    const r = await resolveArch(spec, arch, s);
    resolved.push(r);
    const la: LockedArch = {
      packages: r.packages.map(lockedPackage),
      excluded: r.excluded.map((e) => e.name),
    };
    if (spec.runtime.node) {
      const n = await fetchNodeRuntime({
        version: nodeVersion ?? spec.runtime.node,
        arch: nodeArch(arch),
        cacheDir: s.cacheDir,
      });
      la.node = { version: n.version, integrity: n.integrity };
    }
    const py = await resolveWheels(spec, arch, r.packages, s.cacheDir ?? defaultCacheDir());
    if (py) la.python = { wheels: py.wheels.map(lockedWheel) };
    if (spec.init !== undefined) {
      const init = initBinaryFor(arch);
      la.init = { version: init.version, sha256: init.sha256 };
    }
    archs[arch] = la;
  }
  const sde = s.sourceDateEpoch ?? sourceDateEpochOf(resolved[0]?.releaseDate);
  return {
    lock: {
      lockfileVersion: LOCK_VERSION,
      inputs: resolutionInputsHash(spec),
      suite: spec.suite,
      sourceDateEpoch: sde,
      architectures: archs,
    },
    resolved,
  };
}

/** The lockfile of what a build used (BuildResult.lock). */
export function lockFromBuild(
  spec: Spec,
  work: Array<{
    resolved: ResolvedArch;
    node?: { version: string; integrity: string };
    python?: { wheels: FetchedWheel[] };
    init?: { version: string; sha256: string };
  }>,
  sourceDateEpoch: number,
): Lockfile {
  const architectures: Record<string, LockedArch> = {};
  for (const w of work) {
    architectures[w.resolved.arch] = {
      packages: w.resolved.packages.map(lockedPackage),
      excluded: w.resolved.excluded.map((e) => e.name),
      node: w.node ? { version: w.node.version, integrity: w.node.integrity } : undefined,
      python: w.python ? { wheels: w.python.wheels.map(lockedWheel) } : undefined,
      init: w.init ? { version: w.init.version, sha256: w.init.sha256 } : undefined,
    };
  }
  return {
    lockfileVersion: LOCK_VERSION,
    inputs: resolutionInputsHash(spec),
    suite: spec.suite,
    sourceDateEpoch,
    architectures,
  };
}
