/**
 * Lockfiles made from a spec: `shellfree lock` (every architecture resolved, the Node.js runtime
 * and shellfree-init pinned) and the lock of what a build used.
 */
import { resolutionInputsHash, type Spec } from "../spec/index.ts";
import { initBinaryFor } from "./init-layer.ts";
import { LOCK_VERSION, type LockedArch, type Lockfile, lockedPackage } from "./lock.ts";
import { commonNodeVersion, fetchNodeRuntime, nodeArch } from "./noderuntime.ts";
import { type ArchiveSettings, type ResolvedArch, resolveArch, sourceDateEpochOf } from "./resolve.ts";

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
