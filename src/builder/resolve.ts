/**
 * The packages of one architecture: from the lock (`--locked`; straight from the .deb cache when
 * every locked .deb is in it), from the resolution cache (when neither the spec's inputs nor the
 * archive's signed Release files changed), else resolved in the archive's indices (src/debian).
 * A shell or package manager in the closure fails the build, naming the chain that brings it in.
 */
import { readFile, stat } from "node:fs/promises";
import {
  type AptSource,
  type BinaryPackage,
  configuredSources,
  debCachePath,
  dependencyChain,
  loadRelease,
  loadUniverse,
  RESOLVER_VERSION,
  resolve,
} from "../debian/index.ts";
import {
  effectiveExcludes,
  FORBIDDEN_PACKAGES,
  includeNames,
  resolutionInputsHash,
  type Spec,
} from "../spec/index.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { defaultCacheDir } from "../util/cache-dir.ts";
import { releaseMemory } from "../util/memory.ts";
import { info, trace } from "../util/progress.ts";
import { resolutionFile, sha256Hex } from "./cache.ts";
import { BuildError } from "./errors.ts";
import { type Lockfile, packagesFromLock } from "./lock.ts";

/**
 * Part of every cached resolution's key, with the resolver's RESOLVER_VERSION: bump it with any
 * change to how resolveArch turns a spec into requests.
 */
const RESOLUTION_VERSION = 1;

/** Where the archive is and how it is trusted (the CLI's --mirror, --keyring, ...). */
export interface ArchiveSettings {
  mirror?: string;
  securityMirror?: string;
  keyring?: string;
  allowExpired?: boolean;
  cacheDir?: string;
}

export interface ResolvedArch {
  arch: string;
  packages: BinaryPackage[];
  excluded: Array<{ name: string; wantedBy: string[] }>;
  releaseDate?: Date;
}

function sources(spec: Spec, s: ArchiveSettings): AptSource[] {
  return configuredSources({
    mirror: s.mirror,
    securityMirror: s.securityMirror,
    suite: spec.suite,
    components: spec.sources.components,
    security: spec.sources.security,
    extraSuites: spec.sources.extraSuites,
  });
}

function checkForbidden(spec: Spec, packages: BinaryPackage[], arch: string): void {
  const allowed = new Set(spec.packages.allow);
  for (const p of packages) {
    if (FORBIDDEN_PACKAGES.includes(p.name) && !allowed.has(p.name)) {
      const chain = dependencyChain(p.name, packages, includeNames(spec), arch);
      throw new BuildError(
        "E_SHELL_IN_CLOSURE",
        `${p.name} (a shell or package manager) would be installed (${arch}): ${chain.join(" → ")}`,
        {
          hint: `exclude it (packages.exclude: [${chain.length > 1 ? chain[chain.length - 2] : p.name}]) or, if it is really wanted, allow it (packages.allow: [${p.name}])`,
        },
      );
    }
  }
}

/**
 * `--locked` with every locked .deb already in the cache: the packages come straight from the
 * lock (each .deb entered the content-addressed cache only after its SHA256 matched a signed
 * index), so the build needs no index and no network. undefined when something is missing.
 */
async function packagesFromCachedLock(
  lock: Lockfile,
  arch: string,
  src: AptSource[],
  cacheDir: string,
): Promise<BinaryPackage[] | undefined> {
  const la = lock.architectures[arch];
  if (!la) return undefined;
  const out: BinaryPackage[] = [];
  for (const lp of la.packages) {
    const source = src.find((x) => x.suite === lp.suite);
    if (!source) return undefined;
    const st = await stat(debCachePath(cacheDir, lp.sha256)).catch(() => null);
    if (!st?.isFile() || st.size !== lp.size) return undefined;
    out.push({
      name: lp.name,
      version: lp.version,
      architecture: lp.architecture,
      essential: false,
      depends: "",
      preDepends: "",
      recommends: "",
      provides: "",
      conflicts: "",
      breaks: "",
      filename: lp.filename,
      size: lp.size,
      sha256: lp.sha256,
      source,
      fields: {},
    });
  }
  return out;
}

/** Resolve one architecture: from the lock (`--locked`) or from the archive. */
export async function resolveArch(
  spec: Spec,
  arch: string,
  s: ArchiveSettings,
  lock?: { file: string; lock: Lockfile },
): Promise<ResolvedArch> {
  const src = sources(spec, s);
  const cacheDir = s.cacheDir ?? defaultCacheDir();
  const archive = {
    sources: src,
    arch,
    keyring: s.keyring,
    allowExpired: s.allowExpired,
    cacheDir,
  };
  const inputs = resolutionInputsHash(spec);
  if (lock) {
    if (lock.lock.inputs === inputs) {
      const cached = await packagesFromCachedLock(lock.lock, arch, src, cacheDir);
      if (cached) {
        info(`${arch}: ${cached.length} packages from ${lock.file} (all in the cache; no index needed)`);
        checkForbidden(spec, cached, arch);
        const excluded = (lock.lock.architectures[arch]?.excluded ?? []).map((name) => ({
          name,
          wantedBy: [],
        }));
        return { arch, packages: cached, excluded };
      }
    }
    info(`${arch}: loading package indices (${src.map((x) => x.suite).join(", ")})`);
    const universe = await loadUniverse(archive);
    const packages = packagesFromLock(lock.lock, lock.file, inputs, arch, universe);
    checkForbidden(spec, packages, arch);
    const excluded = (lock.lock.architectures[arch]?.excluded ?? []).map((name) => ({ name, wantedBy: [] }));
    return { arch, packages, excluded };
  }
  // A resolution depends only on the spec's inputs and the archive's signed Release files:
  // when neither changed, the cached answer is the answer (no index is loaded).
  const releases = await Promise.all(src.map((x) => loadRelease(x, archive)));
  const key = sha256Hex(
    JSON.stringify({
      v: `${RESOLVER_VERSION}.${RESOLUTION_VERSION}`,
      arch,
      inputs,
      sources: src.map((x, i) => [x.uri, x.suite, x.components, sha256Hex(releases[i].text)]),
    }),
  );
  const cacheFile = resolutionFile(cacheDir, key);
  const hit = await readFile(cacheFile, "utf8")
    .then((t) => JSON.parse(t) as { packages: BinaryPackage[]; excluded: ResolvedArch["excluded"] })
    .catch(() => undefined);
  if (hit) {
    info(`${arch}: ${hit.packages.length} packages (resolution unchanged since the archive's Release)`);
    checkForbidden(spec, hit.packages, arch);
    return { arch, packages: hit.packages, excluded: hit.excluded, releaseDate: releases[0].date };
  }
  info(`${arch}: loading package indices (${src.map((x) => x.suite).join(", ")})`);
  const universe = await loadUniverse(archive);
  trace(`${arch}: ${universe.packages.length} packages in the indices`);
  releaseMemory(); // what parsing the indices left behind
  trace(`${arch}: memory released`);
  const exclude = effectiveExcludes(spec);
  // base-files always: it ships the merged-/usr symlinks (/lib64 → usr/lib64, ...) without
  // which no dynamically linked program starts, and os-release/debian_version.
  let requests = [...spec.packages.include];
  if (!includeNames(spec).includes("base-files")) requests.unshift("base-files");
  let r = resolve(universe, requests, { exclude });
  const pins = Object.entries(spec.packages.pins).filter(([n, v]) =>
    r.packages.some((p) => p.name === n && p.version !== v),
  );
  if (pins.length) {
    requests = [
      ...requests.filter((q) => !pins.some(([n]) => q.split("=")[0] === n)),
      ...pins.map(([n, v]) => `${n}=${v}`),
    ];
    r = resolve(universe, requests, { exclude });
  }
  trace(`${arch}: resolved ${r.packages.length} packages`);
  checkForbidden(spec, r.packages, arch);
  const text = JSON.stringify({ packages: r.packages, excluded: r.excluded });
  await writeFileAtomic(cacheFile, text);
  // plain data, as a cache hit returns: the index's packages would keep the whole index alive
  const plain = JSON.parse(text) as { packages: BinaryPackage[]; excluded: ResolvedArch["excluded"] };
  return { arch, packages: plain.packages, excluded: plain.excluded, releaseDate: releases[0].date };
}

/** SOURCE_DATE_EPOCH from the suite's Release date. */
export function sourceDateEpochOf(releaseDate: Date | undefined): number {
  if (!releaseDate) {
    throw new BuildError("E_BUILD", "the suite's Release file has no Date to derive SOURCE_DATE_EPOCH from", {
      hint: "set SOURCE_DATE_EPOCH",
    });
  }
  return Math.floor(releaseDate.getTime() / 1000);
}
