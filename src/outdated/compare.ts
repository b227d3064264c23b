/**
 * The comparison itself: for every installed package, the newest version of the same package
 * (same architecture, or `all`) in the suites loaded, as apt would pick it with every suite at
 * the same priority. A package is a security update when the security suite has a version newer
 * than the installed one (the candidate may be newer still, e.g. from a point release).
 */
import { type AptSource, type BinaryPackage, compareVersions, DebianError, field } from "../debian/index.ts";
import { parseSourceField } from "./dpkg-status.ts";
import { OutdatedError } from "./errors.ts";
import type { InstalledPackage, PackageUpdate, UnknownPackage } from "./types.ts";

export interface Comparison {
  updates: PackageUpdate[];
  unknown: UnknownPackage[];
}

function versionCmp(a: string, b: string, what: () => string): number {
  try {
    return compareVersions(a, b);
  } catch (e) {
    if (e instanceof DebianError) throw new OutdatedError("E_OUTDATED_INPUT", `${what()}: ${e.message}`);
    throw e;
  }
}

/**
 * Compare `installed` (all of one target, `arch`) with the archive's packages. `isSecurity` says
 * whether a package's source is the security suite.
 */
export function compareInstalled(
  arch: string,
  installed: InstalledPackage[],
  archive: Iterable<BinaryPackage>,
  isSecurity: (s: AptSource) => boolean,
): Comparison {
  const names = new Set(installed.map((p) => p.name));
  const byName = new Map<string, BinaryPackage[]>();
  for (const p of archive) {
    if (!names.has(p.name)) continue;
    const list = byName.get(p.name);
    if (list) list.push(p);
    else byName.set(p.name, [p]);
  }
  const updates: PackageUpdate[] = [];
  const unknown: UnknownPackage[] = [];
  for (const ip of installed) {
    const fits = (a: string) =>
      a === ip.architecture || a === "all" || (ip.architecture === "all" && a === arch);
    const cands = (byName.get(ip.name) ?? []).filter((p) => fits(p.architecture));
    if (cands.length === 0) {
      unknown.push({ architecture: arch, name: ip.name, installed: ip.version });
      continue;
    }
    const what = () => `${ip.name} (${arch})`;
    let best = cands[0];
    for (const c of cands) {
      const d = versionCmp(c.version, best.version, what);
      // the same version in several suites: the security suite's copy names the suite
      if (d > 0 || (d === 0 && isSecurity(c.source) && !isSecurity(best.source))) best = c;
    }
    if (versionCmp(best.version, ip.version, what) <= 0) continue;
    let sec: BinaryPackage | undefined;
    for (const c of cands) {
      if (!isSecurity(c.source) || versionCmp(c.version, ip.version, what) <= 0) continue;
      if (!sec || versionCmp(c.version, sec.version, what) > 0) sec = c;
    }
    const src = parseSourceField(field(best.fields, "Source"), best);
    updates.push({
      architecture: arch,
      name: ip.name,
      installed: ip.version,
      candidate: best.version,
      suite: best.source.suite,
      security: sec !== undefined,
      securityVersion: sec?.version ?? null,
      source: src.source,
      sourceVersion: src.sourceVersion,
    });
  }
  return { updates, unknown };
}
