/** Merging spec fragments: a spec over what it extends, a preset under a spec. */
import type { DropPathSpec, SpecFragment } from "./types.ts";

export const uniq = (xs: string[]) => [...new Set(xs)];

/** drop-paths of both, each glob (per package) once: the first declaration is kept. */
function dropPaths(a?: DropPathSpec[], b?: DropPathSpec[]): DropPathSpec[] | undefined {
  if (!a && !b) return undefined;
  const seen = new Map<string, DropPathSpec>();
  for (const d of [...(a ?? []), ...(b ?? [])]) {
    const key = `${d.package ?? ""}\0${d.glob}`;
    if (!seen.has(key)) seen.set(key, d);
  }
  return [...seen.values()];
}

/** `over` applied on top of `base`: scalars replace, package lists union, entry lists append. */
export function mergeFragments(base: SpecFragment, over: SpecFragment): SpecFragment {
  const lists = <T>(a?: T[], b?: T[]) => (a || b ? [...(a ?? []), ...(b ?? [])] : undefined);
  const strs = (a?: string[], b?: string[]) => (a || b ? uniq([...(a ?? []), ...(b ?? [])]) : undefined);
  const out: SpecFragment = {
    ...base,
    ...over,
    packages:
      base.packages || over.packages
        ? {
            include: strs(base.packages?.include, over.packages?.include),
            exclude: strs(base.packages?.exclude, over.packages?.exclude),
            keep: strs(base.packages?.keep, over.packages?.keep),
            allow: strs(base.packages?.allow, over.packages?.allow),
            pins: { ...base.packages?.pins, ...over.packages?.pins },
            dropPaths: dropPaths(base.packages?.dropPaths, over.packages?.dropPaths),
          }
        : undefined,
    sources: base.sources || over.sources ? { ...base.sources, ...over.sources } : undefined,
    runtime: base.runtime || over.runtime ? { ...base.runtime, ...over.runtime } : undefined,
    accounts:
      base.accounts || over.accounts
        ? {
            groups: lists(base.accounts?.groups, over.accounts?.groups),
            users: lists(base.accounts?.users, over.accounts?.users),
            runAs: over.accounts?.runAs ?? base.accounts?.runAs,
          }
        : undefined,
    paths: lists(base.paths, over.paths),
    files: lists(base.files, over.files),
    init: over.init ?? base.init,
    initWhere: over.init !== undefined ? over.initWhere : base.initWhere,
    config:
      base.config || over.config
        ? {
            ...base.config,
            ...over.config,
            env: { ...base.config?.env, ...over.config?.env },
            labels: { ...base.config?.labels, ...over.config?.labels },
            annotations: { ...base.config?.annotations, ...over.config?.annotations },
            exposedPorts: strs(base.config?.exposedPorts, over.config?.exposedPorts),
            volumes: strs(base.config?.volumes, over.config?.volumes),
          }
        : undefined,
    layers: lists(base.layers, over.layers),
    presetPackages: lists(base.presetPackages, over.presetPackages),
    // the nearer spec's python section replaces the one it extends (its files are its own)
    python: over.python ?? base.python,
    alternatives: { ...base.alternatives, ...over.alternatives },
  };
  // an explicit entrypoint in `over` without a cmd drops the base cmd (as Docker does)
  if (over.config?.entrypoint && !over.config.cmd && out.config) delete out.config.cmd;
  delete out.extends;
  delete out.preset;
  return out;
}
