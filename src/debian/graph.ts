/**
 * The dependency graph inside a resolved closure: for each package, the packages of the
 * closure that satisfy its Pre-Depends and Depends. An or-group is satisfied by its first
 * alternative that something in the closure satisfies (a real package of that name whose
 * version fits, or packages that Provide it — a versioned dependency only by a versioned
 * Provides that fits), as apt picks it; a group nothing in the closure satisfies (a package
 * the exclude list dropped, e.g. debconf) gives no edge. SBOMs write these edges.
 */
import { type Dependency, parseRelations } from "./relation.ts";
import type { BinaryPackage } from "./types.ts";
import { satisfiesRelation } from "./version.ts";

/** What the graph reads of a package. */
export type RelatedPackage = Pick<BinaryPackage, "name" | "version" | "provides" | "depends" | "preDepends">;

interface Provider {
  pkg: RelatedPackage;
  /** the version of a versioned Provides (`foo (= 1.2)`) */
  version?: string;
}

/** Package name → the names of the closure packages it depends on (sorted, no self edges). */
export function closureDependencies(packages: RelatedPackage[], arch: string): Map<string, string[]> {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const providers = new Map<string, Provider[]>();
  for (const p of packages) {
    for (const group of parseRelations(p.provides, arch)) {
      for (const d of group) {
        const list = providers.get(d.name) ?? [];
        list.push({ pkg: p, version: d.op === "=" ? d.version : undefined });
        providers.set(d.name, list);
      }
    }
  }
  const satisfying = (d: Dependency): RelatedPackage[] => {
    const out: RelatedPackage[] = [];
    const real = byName.get(d.name);
    if (real && (!d.op || satisfiesRelation(real.version, d.op, d.version as string))) out.push(real);
    for (const prov of providers.get(d.name) ?? []) {
      if (!d.op || (prov.version !== undefined && satisfiesRelation(prov.version, d.op, d.version as string)))
        out.push(prov.pkg);
    }
    return out;
  };
  const graph = new Map<string, string[]>();
  for (const p of packages) {
    const deps = new Set<string>();
    const fields = [p.preDepends, p.depends].filter((f) => f?.trim()).join(", ");
    for (const group of parseRelations(fields, arch)) {
      for (const alt of group) {
        const found = satisfying(alt);
        if (found.length === 0) continue;
        for (const f of found) if (f.name !== p.name) deps.add(f.name);
        break;
      }
    }
    graph.set(p.name, [...deps].sort());
  }
  return graph;
}
