/**
 * `shellfree build`: spec → sources → universe → resolve (or lock) → fetch → package metadata →
 * rootfs plan → layers (package groups, runtime, generated config, app files) → image per
 * architecture → SBOMs (attached as attestation manifests, and beside the output) → one output
 * (an image index for several architectures, with their attestations in it; for one
 * architecture the image manifest, its attestation beside it in the layout's blobs).
 *
 * Layers are cached in the cache directory by the hash of their inputs (the .debs' SHA256s,
 * compression, SOURCE_DATE_EPOCH, builder layout version), so a warm rebuild reuses the
 * compressed OS layer without decompressing a single package. Nothing is written to the
 * output until every image is complete, and the output itself is written atomically.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink, rm, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve as resolvePath } from "node:path";
import { loadRelease, loadUniverse } from "../debian/archive.ts";
import { debCachePath, fetchDeb } from "../debian/cache.ts";
import { type DebContents, readDebs } from "../debian/deb.ts";
import { parseRelations } from "../debian/relation.ts";
import { RESOLVER_VERSION, resolve } from "../debian/resolve.ts";
import { configuredSources } from "../debian/sources.ts";
import type { AptSource, BinaryPackage } from "../debian/types.ts";
import { parseOsRelease } from "../formats/index.ts";
import { INIT_CONFIG_PATH, INIT_JS_PATH, parseInitConfig, toInitJson } from "../init/config.ts";
import {
  type BuiltAttestation,
  buildAttestation,
  PREDICATE_CYCLONEDX,
  PREDICATE_SPDX,
  subjectPurl,
} from "../oci/attest.ts";
import { type BuiltImage, buildImage, type ImageConfigInput } from "../oci/image.ts";
import { type Compression, LAYER_FORMAT_VERSION, type Layer, writeLayer } from "../oci/layer.ts";
import { writeOutput } from "../oci/output.ts";
import { parseTarget } from "../oci/ref.ts";
import type { TreeEntry } from "../oci/types.ts";
import {
  effectiveExcludes,
  FORBIDDEN_PACKAGES,
  includeNames,
  resolutionInputsHash,
  type Spec,
} from "../spec/index.ts";
import { cleanTemps, writeFileAtomic } from "../util/atomic.ts";
import { defaultCacheDir } from "../util/cache-dir.ts";
import { releaseMemory } from "../util/memory.ts";
import { humanBytes, info, progress, trace, warn } from "../util/progress.ts";
import { buildAccounts, NSSWITCH, resolveRunAs } from "./accounts.ts";
import { type AltChoice, type AltInstall, applyAlternatives } from "./alternatives.ts";
import { CA_BUNDLE_PATH, caBundle } from "./cacerts.ts";
import { parseCopyright } from "./copyright.ts";
import { DEBINFO_VERSION, type DebInfo, extractText, loadDebInfo } from "./debinfo.ts";
import { type DpkgPackage, dpkgDatabase, filterMd5sums } from "./dpkgdb.ts";
import { BuildError } from "./errors.ts";
import { bundleInit, initVersion } from "./init-bundle.ts";
import { LOCK_VERSION, type LockedArch, type Lockfile, lockedPackage, packagesFromLock } from "./lock.ts";
import { commonNodeVersion, fetchNodeRuntime, type NodeRuntime } from "./noderuntime.ts";
import { osRelease } from "./osrelease.ts";
import { GeneratedLayer, packageLayerEntries, planRootfs, ROOTFS_PLAN_VERSION } from "./rootfs.ts";
import { cyclonedxDocument } from "./sbom/cyclonedx.ts";
import { genericPurl, npmPurl } from "./sbom/purl.ts";
import { spdxDocument } from "./sbom/spdx.ts";
import type { SbomComponent, SbomInput, SbomPackage } from "./sbom/types.ts";

/**
 * Part of every cached resolution's key: the resolver's version and this file's (bump
 * RESOLUTION_VERSION with any change to how resolveArch turns a spec into requests).
 */
const RESOLUTION_VERSION = 1;
const RESOLUTION_KEY = `${RESOLVER_VERSION}.${RESOLUTION_VERSION}`;

/**
 * Part of every cached layer's key: the versions of the code that decides what a package layer
 * contains (the rootfs plan, the package metadata it reads) and how a layer is written. A change
 * there bumps its module's constant, which makes new layers, never stale ones.
 */
export const BUILDER_LAYOUT = `${ROOTFS_PLAN_VERSION}.${DEBINFO_VERSION}.${LAYER_FORMAT_VERSION}`;

export interface ArchiveSettings {
  mirror?: string;
  securityMirror?: string;
  keyring?: string;
  allowExpired?: boolean;
  cacheDir?: string;
}

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
  node?: { version: string; integrity: string; size: number; stripped: boolean };
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

/** Names in the closure that pull in `target`, as a chain from a requested package. */
export function dependencyChain(
  target: string,
  packages: BinaryPackage[],
  roots: string[],
  arch: string,
): string[] {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const providers = new Map<string, string[]>();
  for (const p of packages) {
    if (!p.provides) continue;
    try {
      for (const g of parseRelations(p.provides, arch)) {
        for (const d of g) providers.set(d.name, [...(providers.get(d.name) ?? []), p.name]);
      }
    } catch {
      // unparsable Provides: no edges
    }
  }
  const parent = new Map<string, string | null>();
  const queue: string[] = [];
  for (const r of roots) {
    if (byName.has(r) && !parent.has(r)) {
      parent.set(r, null);
      queue.push(r);
    }
  }
  while (queue.length) {
    const cur = queue.shift() as string;
    if (cur === target) break;
    const p = byName.get(cur);
    if (!p) continue;
    let groups: ReturnType<typeof parseRelations> = [];
    try {
      groups = [...parseRelations(p.preDepends, arch), ...parseRelations(p.depends, arch)];
    } catch {
      groups = [];
    }
    for (const g of groups) {
      for (const d of g) {
        const next = byName.has(d.name) ? [d.name] : (providers.get(d.name) ?? []);
        for (const n of next) {
          if (!parent.has(n)) {
            parent.set(n, cur);
            queue.push(n);
          }
        }
      }
    }
  }
  if (!parent.has(target)) return [target];
  const chain: string[] = [];
  for (let c: string | null | undefined = target; c; c = parent.get(c)) chain.unshift(c);
  return chain;
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
      v: RESOLUTION_KEY,
      arch,
      inputs,
      sources: src.map((x, i) => [x.uri, x.suite, x.components, sha256Hex(releases[i].text)]),
    }),
  );
  const cacheFile = join(cacheDir, "build", "resolutions", `${key}.json`);
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
    archs[arch] = la;
  }
  const sde = s.sourceDateEpoch ?? epochOf(resolved[0]?.releaseDate);
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

function epochOf(d: Date | undefined): number {
  if (!d) {
    throw new BuildError("E_BUILD", "the suite's Release file has no Date to derive SOURCE_DATE_EPOCH from", {
      hint: "set SOURCE_DATE_EPOCH",
    });
  }
  return Math.floor(d.getTime() / 1000);
}

function nodeArch(arch: string): "amd64" | "arm64" {
  if (arch !== "amd64" && arch !== "arm64") {
    throw new BuildError("E_BUILD", `runtime.node: no official Node.js binary for ${arch}`);
  }
  return arch;
}

function sha256Hex(s: string | Uint8Array): string {
  return createHash("sha256").update(s).digest("hex");
}

interface CachedLayerRecord {
  digest: string;
  diffId: string;
  size: number;
  uncompressedSize: number;
  mediaType: string;
  entries: number;
}

/** A layer from the cache by key, or made by `make` and recorded under the key. */
async function cachedLayer(
  cacheDir: string,
  blobDir: string,
  key: string,
  make: () => Promise<TreeEntry[]>,
  opts: { compression: Compression; sourceDateEpoch: number },
): Promise<{ layer: Layer; cached: boolean }> {
  const rec = join(cacheDir, "build", "layers", `${key}.json`);
  try {
    const r = JSON.parse(await readFile(rec, "utf8")) as CachedLayerRecord;
    const path = join(blobDir, "sha256", r.digest.replace(/^sha256:/, ""));
    const st = await stat(path);
    if (st.size === r.size) return { layer: { ...r, path }, cached: true };
  } catch {
    // miss
  }
  const entries = await make();
  const layer = await writeLayer(entries, {
    compression: opts.compression,
    sourceDateEpoch: opts.sourceDateEpoch,
    blobDir,
  });
  const r: CachedLayerRecord = {
    digest: layer.digest,
    diffId: layer.diffId,
    size: layer.size,
    uncompressedSize: layer.uncompressedSize,
    mediaType: layer.mediaType,
    entries: layer.entries,
  };
  await writeFileAtomic(rec, JSON.stringify(r));
  return { layer, cached: false };
}

/** Walk a local file or directory given in `files:` into entries under `dest`. */
async function addLocalFiles(gen: GeneratedLayer, f: Spec["files"][number]): Promise<void> {
  const st = await lstat(f.src).catch(() => null);
  if (!st) throw new BuildError("E_FILE_MISSING", `${f.where}: files: local file ${f.src} does not exist`);
  const add = async (src: string, dest: string) => {
    const s = await lstat(src);
    if (s.isSymbolicLink()) gen.symlink(dest, await readlink(src), f.uid, f.gid);
    else if (s.isDirectory()) {
      gen.dir(dest, f.mode !== undefined ? dirModeFor(f.mode) : s.mode & 0o7777, f.uid, f.gid);
      const names = (await readdir(src)).sort();
      for (const n of names) await add(join(src, n), `${dest}/${n}`);
    } else if (s.isFile()) {
      gen.diskFile(dest, src, s.size, f.mode ?? s.mode & 0o7777, f.uid, f.gid);
    } else {
      throw new BuildError("E_BUILD", `${f.where}: ${src} is not a regular file, directory or symlink`);
    }
  };
  await add(f.src, f.dest);
}

/** For a directory copied with a file mode, directories get the x bits where r is set. */
function dirModeFor(mode: number): number {
  let m = mode & 0o7777;
  if (m & 0o400) m |= 0o100;
  if (m & 0o040) m |= 0o010;
  if (m & 0o004) m |= 0o001;
  return m;
}

interface ArchWork {
  resolved: ResolvedArch;
  image: BuiltImage;
  report: ArchReport;
  node?: NodeRuntime;
  infos: Map<string, DebInfo>;
}

/** Build the spec's image(s) and write the output. */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  try {
    return await buildImages(opts);
  } catch (e) {
    throw ioError(e, "build failed");
  }
}

async function buildImages(opts: BuildOptions): Promise<BuildResult> {
  const spec = opts.spec;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const blobDir = join(cacheDir, "build", "blobs");
  const compression = opts.compression ?? "gzip";
  const settings: ArchiveSettings = { ...opts, cacheDir };
  const archs = opts.architectures?.length ? opts.architectures : spec.architectures;
  for (const a of archs) {
    if (!spec.architectures.includes(a)) {
      throw new BuildError("E_SPEC", `--arch ${a}: the spec builds only ${spec.architectures.join(", ")}`, {
        exitCode: 2,
      });
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
  // init config first: a bad init section fails before any download
  let initJson: string | undefined;
  if (spec.init !== undefined) {
    try {
      initJson = toInitJson(parseInitConfig(spec.init, `${spec.source}: init`));
    } catch (e) {
      throw new BuildError("E_SPEC", (e as Error).message.split("\n")[0]);
    }
  }
  const work: ArchWork[] = [];
  let sde = opts.sourceDateEpoch ?? opts.lock?.lock.sourceDateEpoch;
  const locked: Record<string, LockedArch> = {};
  const nodeVersion =
    spec.runtime.node && !opts.lock
      ? await commonNodeVersion(spec.runtime.node, archs.map(nodeArch))
      : spec.runtime.node;
  for (const arch of archs) {
    const resolved = await resolveArch(spec, arch, settings, opts.lock);
    sde ??= epochOf(resolved.releaseDate);
    const w = await buildArch(spec, resolved, {
      cacheDir,
      blobDir,
      compression,
      sde,
      initJson,
      lock: opts.lock,
      nodeVersion,
    });
    work.push(w);
    locked[arch] = {
      packages: resolved.packages.map(lockedPackage),
      excluded: resolved.excluded.map((e) => e.name),
      node: w.node ? { version: w.node.version, integrity: w.node.integrity } : undefined,
    };
  }
  const epoch = sde as number;
  info(`writing ${opts.output}`);
  const annotations: Record<string, string> = {
    "org.opencontainers.image.created": new Date(epoch * 1000).toISOString().replace(/\.000Z$/, "Z"),
    ...spec.config.annotations,
  };
  const t = parseTarget(opts.output);
  const target = t.tag
    ? opts.output
    : t.transport === "docker-archive"
      ? `${opts.output}:${spec.name}:latest`
      : `${opts.output}:latest`;
  await removeDeadTemps(outputPath(opts.output));
  // SBOMs first (they only need the manifest digests): as attestation manifests attached to the
  // image (in the image index, or named by the one image's index.json entry), and as files
  // beside the output; if the output cannot be written, the files go too: all or nothing.
  const sboms: string[] = [];
  const docs =
    opts.sbom !== false ? work.map((w) => sbomDocuments(spec, w, epoch, initJson !== undefined)) : [];
  const attestations: BuiltAttestation[] = [];
  if (t.transport !== "docker-archive") {
    for (const [i, d] of docs.entries()) attestations.push(await attachSboms(spec, work[i], d, blobDir));
  }
  let out: Awaited<ReturnType<typeof writeOutput>>;
  try {
    if (docs.length) sboms.push(...(await writeSboms(opts.output, work, docs)));
    out = await writeOutput(
      target,
      work.map((w) => w.image),
      { annotations, attestations },
    );
  } catch (e) {
    await Promise.all(sboms.map((f) => rm(f, { force: true })));
    throw ioError(e, `cannot write ${opts.output}`);
  }
  const lock: Lockfile = {
    lockfileVersion: LOCK_VERSION,
    inputs: resolutionInputsHash(spec),
    suite: spec.suite,
    sourceDateEpoch: epoch,
    architectures: locked,
  };
  return {
    name: spec.name,
    target: out.target,
    digest: out.digest,
    mediaType: out.mediaType,
    manifests: out.manifests,
    sourceDateEpoch: epoch,
    compression,
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
    lock,
  };
}

const IO_ERRORS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a path component is not a directory",
  EISDIR: "is a directory",
};

/** An operating-system write failure as one clear BuildError (E_IO); anything else unchanged. */
export function ioError(e: unknown, what: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !(code in IO_ERRORS) || e instanceof BuildError) return e;
  const path = (e as NodeJS.ErrnoException).path;
  return new BuildError("E_IO", `${what}: ${IO_ERRORS[code]}${path ? ` (${path})` : ""}`, {
    hint:
      code === "ENOSPC" || code === "EDQUOT"
        ? "free some space (or choose another --output / --cache-dir)"
        : undefined,
    cause: e,
  });
}

/** Run at most `n` of the functions given to the returned limiter at once. */
/** At most `n` calls at once; a freed slot goes to the waiting call of highest `priority`. */
function priorityLimiter(n: number): <R>(priority: number, fn: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: Array<{ priority: number; go: () => void }> = [];
  return async <R>(priority: number, fn: () => Promise<R>): Promise<R> => {
    if (active < n) active++;
    else {
      // (stable: equal priorities keep their order; the slot is handed over, not re-counted)
      await new Promise<void>((go) => {
        const at = waiting.findIndex((w) => w.priority < priority);
        waiting.splice(at < 0 ? waiting.length : at, 0, { priority, go });
      });
    }
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next.go();
      else active--;
    }
  };
}

/** At most `n` calls at once, in call order. */
function limiter(n: number): <R>(fn: () => Promise<R>) => Promise<R> {
  const run = priorityLimiter(n);
  return (fn) => run(0, fn);
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
  for (const n of names) {
    const m = /^\.tmp-(.+)\.(\d+)\.[0-9a-f]{8}$/.exec(n);
    if (!m || !(m[1] === base || m[1].startsWith(`${base}.`))) continue;
    if (alive(Number(m[2]))) continue;
    await rm(join(dir, n), { recursive: true, force: true });
    removed.push(join(dir, n));
  }
  return removed;
}

/** Where an output's files live on disk ("oci:DIR:TAG" → DIR). */
export function outputPath(target: string): string {
  return parseTarget(target).path;
}

/** The copyright file of a package, following a usr/share/doc/NAME → OTHER symlink. */
function copyrightOf(name: string, infos: Map<string, DebInfo>): string | undefined {
  const own = infos.get(name);
  if (!own) return undefined;
  const direct = extractText(own, `usr/share/doc/${name}/copyright`);
  if (direct !== undefined) return direct;
  const link = own.entries.find((e) => e.type === "symlink" && e.path === `usr/share/doc/${name}`);
  if (!link?.linkTarget) return undefined;
  const other = link.linkTarget.replace(/\/+$/, "").split("/").pop() as string;
  for (const inf of infos.values()) {
    const t = extractText(inf, `usr/share/doc/${other}/copyright`);
    if (t !== undefined) return t;
  }
  return undefined;
}

/** SBOM input for one architecture's image. */
export function sbomInput(spec: Spec, w: ArchWork, epoch: number, hasInit: boolean): SbomInput {
  const { resolved, infos } = w;
  const bf = infos.get("base-files");
  const osr = parseOsRelease(bf ? (extractText(bf, "usr/lib/os-release") ?? "") : "");
  const packages: SbomPackage[] = resolved.packages.map((p) => {
    const inf = infos.get(p.name);
    const c = inf?.control ?? {};
    const text = copyrightOf(p.name, infos);
    const cr = text ? parseCopyright(text) : undefined;
    const src = (c.Source ?? "").trim();
    const m = /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(src);
    return {
      name: p.name,
      version: p.version,
      arch: p.architecture,
      source: m && m[1] !== p.name ? m[1] : undefined,
      sourceVersion: m?.[2],
      licenses: cr?.licenses ?? [],
      copyright: cr?.copyrights.length ? cr.copyrights.join("\n") : undefined,
      sha256: p.sha256,
      maintainer: c.Maintainer,
      homepage: c.Homepage,
      description: c.Description?.split("\n")[0],
    };
  });
  const components: SbomComponent[] = [];
  if (w.node) {
    components.push({
      name: "node",
      version: w.node.version,
      purl: npmPurl(w.node.packageName, w.node.version),
      type: "application",
      licenses: [w.node.license],
      sha256: w.node.sha256,
      path: "/usr/local/bin/node",
      description: "Node.js runtime (official binary)",
      properties: w.node.stripped
        ? { "shellfree:stripped": `debug sections removed: ${w.node.removedSections.join(" ")}` }
        : undefined,
    });
  }
  if (hasInit) {
    components.push({
      name: "shellfree-init",
      version: initVersion(),
      purl: genericPurl("shellfree-init", initVersion()),
      type: "application",
      licenses: ["Apache-2.0"],
      path: INIT_JS_PATH,
      description: "shellfree's in-image supervisor",
    });
  }
  return {
    imageName: spec.name,
    created: new Date(epoch * 1000),
    arch: resolved.arch,
    distro: {
      id: "debian",
      versionId: osr.get("VERSION_ID") ?? "",
      codename: osr.get("VERSION_CODENAME") ?? spec.suite,
    },
    packages,
    components,
    imageDigest: w.image.manifest.digest,
    toolVersion: initVersion(),
  };
}

interface SbomDocuments {
  spdx: unknown;
  cyclonedx: unknown;
}

function sbomDocuments(spec: Spec, w: ArchWork, epoch: number, hasInit: boolean): SbomDocuments {
  const input = sbomInput(spec, w, epoch, hasInit);
  return { spdx: spdxDocument(input), cyclonedx: cyclonedxDocument(input) };
}

/** One attestation manifest (SPDX + CycloneDX in-toto statements) about an architecture's image. */
function attachSboms(spec: Spec, w: ArchWork, d: SbomDocuments, blobDir: string): Promise<BuiltAttestation> {
  const im = w.image;
  return buildAttestation(
    {
      subject: {
        digest: im.manifest.digest,
        size: im.manifest.size,
        mediaType: im.manifest.mediaType,
        platform: im.platform,
      },
      subjectName: subjectPurl(spec.name, im.platform),
      predicates: [
        { predicateType: PREDICATE_SPDX, predicate: d.spdx },
        { predicateType: PREDICATE_CYCLONEDX, predicate: d.cyclonedx },
      ],
    },
    blobDir,
  );
}

/** SPDX and CycloneDX files beside the output: PATH.spdx.json (PATH.ARCH.spdx.json for several). */
async function writeSboms(target: string, work: ArchWork[], docs: SbomDocuments[]): Promise<string[]> {
  const base = outputPath(target).replace(/\/+$/, "");
  const out: string[] = [];
  for (const [i, w] of work.entries()) {
    const stem = work.length > 1 ? `${base}.${w.resolved.arch}` : base;
    await writeFileAtomic(`${stem}.spdx.json`, `${JSON.stringify(docs[i].spdx, null, 2)}\n`);
    await writeFileAtomic(`${stem}.cdx.json`, `${JSON.stringify(docs[i].cyclonedx, null, 2)}\n`);
    out.push(`${stem}.spdx.json`, `${stem}.cdx.json`);
  }
  return out;
}

async function buildArch(
  spec: Spec,
  resolved: ResolvedArch,
  o: {
    cacheDir: string;
    blobDir: string;
    compression: Compression;
    sde: number;
    initJson?: string;
    lock?: { file: string; lock: Lockfile };
    /** the Node.js version for every architecture (see commonNodeVersion) */
    nodeVersion?: string;
  },
): Promise<ArchWork> {
  const { arch, packages } = resolved;
  releaseMemory(); // a loaded index and the resolver's state are garbage from here on
  trace(`${arch}: memory released`);
  // Download and read in one pipeline: each .deb is read (xz in worker threads, several at
  // once) as soon as it is in the cache, while the others are still downloading.
  await cleanTemps(join(o.cacheDir, "debs", "sha256"));
  const dl = limiter(8);
  // reading is the bottleneck (downloads finish long before): the largest waiting package is
  // read next, so that the long reads overlap the short ones instead of ending the phase alone
  const cpu = priorityLimiter(Math.min(4, Math.max(2, availableParallelism())));
  const bar = progress(`${arch}: fetching and reading packages`, packages.length);
  const loaded = await Promise.all(
    packages.map(async (p) => {
      const f = await dl(() => fetchDeb(p, o.cacheDir));
      const r = await cpu(p.size, () => loadDebInfo(f.path, p.sha256, o.cacheDir, p.name));
      bar.tick(1, p.name);
      return { f, r };
    }),
  );
  bar.done(`${packages.length} packages`);
  // package metadata (cached by .deb SHA256); contents kept only for packages read now
  const infos = new Map<string, DebInfo>();
  const contents = new Map<string, DebContents>();
  const debPaths = new Map<string, string>();
  let read = 0;
  for (const { f, r } of loaded) {
    infos.set(f.pkg.name, r.info);
    debPaths.set(f.pkg.name, f.path);
    if (r.contents) {
      contents.set(f.pkg.name, r.contents);
      read++;
    }
  }
  info(
    `${arch}: ${packages.length} packages (${read} read, ${packages.length - read} from the metadata cache)`,
  );
  const plan = planRootfs(
    packages.map((p) => ({
      name: p.name,
      architecture: p.architecture,
      multiArch: (infos.get(p.name) as DebInfo).control["Multi-Arch"] ?? p.multiArch,
      info: infos.get(p.name) as DebInfo,
    })),
    { arch },
  );
  const layerOpts = { compression: o.compression, sourceDateEpoch: o.sde };
  const closureKey = packages
    .map((p) => p.sha256)
    .sort()
    .join(",");
  const layers: Array<{ name: string; layer: Layer; cached: boolean; comment: string }> = [];

  // package groups: the spec's named groups, the rest in "debian" first
  const assigned = new Map<string, string>();
  for (const l of spec.layers) for (const p of l.packages) assigned.set(p, l.name);
  for (const [n, l] of assigned) {
    if (!packages.some((p) => p.name === n)) warn(`layers: "${n}" (layer ${l}) is not in the ${arch} image`);
  }
  const groups: Array<{ name: string; pkgs: string[] }> = [
    { name: "debian", pkgs: packages.filter((p) => !assigned.has(p.name)).map((p) => p.name) },
    ...spec.layers.map((l) => ({
      name: l.name,
      pkgs: l.packages.filter((n) => packages.some((p) => p.name === n)),
    })),
  ].filter((g) => g.pkgs.length > 0);
  // The groups' layers are written concurrently: one's tar is made while the other's chunks
  // are being compressed.
  const built = await Promise.all(
    groups.map(async (g) => {
      const key = sha256Hex(
        JSON.stringify({
          v: BUILDER_LAYOUT,
          kind: "packages",
          c: o.compression,
          sde: o.sde,
          closure: closureKey,
          group: [...g.pkgs].sort(),
        }),
      );
      const { layer, cached } = await cachedLayer(
        o.cacheDir,
        o.blobDir,
        key,
        async () => {
          const byPkg = new Map<string, Map<string, Uint8Array>>();
          const contentOf = (pkg: string, debPath: string): Uint8Array => {
            const d = byPkg.get(pkg)?.get(debPath);
            if (!d) throw new BuildError("E_BUILD", `${pkg}: /${debPath} has no content`);
            return d;
          };
          // packages whose content is needed: the group's, plus owners of hard-link targets
          const need = new Set(g.pkgs);
          for (const e of plan.tree.values()) {
            if (e.type === "hardlink" && g.pkgs.includes(e.pkg)) {
              const t = plan.tree.get(e.target ?? "");
              if (t) need.add(t.pkg);
            }
          }
          const take = (n: string, c: DebContents) => {
            const m = new Map<string, Uint8Array>();
            for (const e of c.entries) if (e.type === "file") m.set(e.path, e.data ?? new Uint8Array());
            byPkg.set(n, m);
          };
          // contents read above are taken at once (another group may drop them when it is done);
          // packages whose metadata came from the cache are read now, in parallel
          const unread: string[] = [];
          for (const n of need) {
            const c = contents.get(n);
            if (c) take(n, c);
            else unread.push(n);
          }
          const read = await readDebs(
            unread.map((n) => debPaths.get(n) as string),
            { concurrency: Math.min(4, Math.max(2, availableParallelism())) },
          );
          for (const [i, n] of unread.entries()) take(n, read[i]);
          return packageLayerEntries(plan, new Set(g.pkgs), contentOf);
        },
        layerOpts,
      );
      for (const n of g.pkgs) contents.delete(n);
      trace(`${arch}: layer ${g.name} ${cached ? "from the cache" : "written"}`);
      return { name: g.name, layer, cached, comment: `Debian packages: ${g.pkgs.join(" ")}` };
    }),
  );
  layers.push(...built);
  contents.clear();

  // the Node.js runtime
  let node: NodeRuntime | undefined;
  if (spec.runtime.node) {
    const lockedNode = o.lock?.lock.architectures[arch]?.node;
    node = await fetchNodeRuntime({
      version: o.nodeVersion ?? spec.runtime.node,
      arch: nodeArch(arch),
      cacheDir: o.cacheDir,
      locked: lockedNode,
    });
    const n = node;
    const key = sha256Hex(
      JSON.stringify({ v: BUILDER_LAYOUT, kind: "node", c: o.compression, sde: o.sde, sha: n.sha256 }),
    );
    const { layer, cached } = await cachedLayer(
      o.cacheDir,
      o.blobDir,
      key,
      async () => {
        const gen = new GeneratedLayer(plan);
        gen.diskFile("/usr/local/bin/node", n.path, n.size, 0o755);
        return gen.list();
      },
      layerOpts,
    );
    layers.push({ name: "runtime", layer, cached, comment: `Node.js ${n.version} (${n.packageName})` });
  }

  // generated configuration
  const gen = new GeneratedLayer(plan);
  const acc = buildAccounts(spec.accounts);
  gen.file("/etc/passwd", acc.passwd);
  gen.file("/etc/group", acc.group);
  gen.file("/etc/nsswitch.conf", NSSWITCH);
  gen.dir("/tmp", 0o1777);
  for (const h of acc.homes) gen.dir(h.path, h.mode, h.uid, h.gid);
  const baseFiles = infos.get("base-files");
  const osr = osRelease(
    baseFiles
      ? (extractText(baseFiles, "usr/lib/os-release") ?? extractText(baseFiles, "etc/os-release"))
      : undefined,
    baseFiles ? extractText(baseFiles, "etc/debian_version") : undefined,
    spec.suite,
  );
  // Debian's own os-release stays in the image as a local dpkg diversion (as an admin would do
  // with dpkg-divert), so `dpkg --verify` still checks base-files' bytes and finds them intact.
  const diversions: Array<{ from: string; to: string }> = [];
  const debianOsr = plan.tree.get("usr/lib/os-release");
  if (debianOsr?.type === "file" && baseFiles?.extracts["usr/lib/os-release"] !== undefined) {
    gen.file(
      "/usr/lib/os-release.debian",
      Buffer.from(baseFiles.extracts["usr/lib/os-release"], "base64"),
      debianOsr.mode,
    );
    diversions.push({ from: "/usr/lib/os-release", to: "/usr/lib/os-release.debian" });
  }
  gen.file("/usr/lib/os-release", osr);
  const etcOs = plan.tree.get("etc/os-release");
  if (etcOs?.type !== "symlink") gen.file("/etc/os-release", osr);
  if (!plan.tree.has("etc/debian_version")) gen.file("/etc/debian_version", `${spec.suite}\n`);
  // CA bundle
  const certs = new Map<string, Uint8Array>();
  for (const [, inf] of infos) {
    for (const [p, b64] of Object.entries(inf.extracts)) {
      if (p.startsWith("usr/share/ca-certificates/") && plan.tree.get(p)?.type === "file") {
        certs.set(p, Buffer.from(b64, "base64"));
      }
    }
  }
  const bundle = caBundle(certs);
  if (bundle) gen.file(`/${CA_BUNDLE_PATH}`, bundle);
  // alternatives
  const installs: AltInstall[] = [];
  for (const [, inf] of infos) installs.push(...inf.alternatives);
  const alts = applyAlternatives(installs, spec.alternatives, (p) => gen.exists(p));
  for (const l of alts.symlinks) gen.symlink(l.path, l.target);
  for (const a of alts.adminFiles) gen.file(`/var/lib/dpkg/alternatives/${a.name}`, a.content);
  // dpkg database
  const dpkgPkgs: DpkgPackage[] = packages.map((p) => {
    const inf = infos.get(p.name) as DebInfo;
    const pp = plan.packages.get(p.name);
    const installed = new Set(pp?.installed ?? []);
    const md5 = new Map(inf.entries.filter((e) => e.type === "file").map((e) => [e.path, e.md5 ?? ""]));
    const conff = new Set(inf.conffiles);
    const md5sums =
      inf.md5sums !== undefined
        ? filterMd5sums(inf.md5sums, (x) => installed.has(x))
        : [...installed]
            .filter((x) => md5.has(x) && !conff.has(x))
            .map((x) => `${md5.get(x)}  ${x}\n`)
            .join("");
    return {
      name: p.name,
      architecture: p.architecture,
      multiArch: (infos.get(p.name) as DebInfo).control["Multi-Arch"] ?? p.multiArch,
      controlText: inf.controlText,
      paths: pp?.installed ?? [],
      md5sums,
      conffiles: inf.conffiles
        .filter((c) => installed.has(c))
        .map((c) => ({ path: c, md5: md5.get(c) ?? "newconffile" })),
    };
  });
  const db = dpkgDatabase(dpkgPkgs);
  for (const d of db.dirs) gen.dir(`/${d}`);
  for (const f of db.files) gen.file(`/${f.path}`, f.data);
  gen.file("/var/lib/dpkg/diversions", diversions.map((d) => `${d.from}\n${d.to}\n:\n`).join(""));
  // shellfree-init
  if (o.initJson !== undefined) {
    gen.file(INIT_JS_PATH, await bundleInit());
    gen.file(INIT_CONFIG_PATH, o.initJson);
  }
  // spec paths
  for (const p of spec.paths) {
    if (p.type === "directory") gen.dir(p.path, p.mode, p.uid, p.gid);
    else if (p.type === "symlink") gen.symlink(p.path, p.target, p.uid, p.gid);
    else gen.file(p.path, p.content, p.mode, p.uid, p.gid);
  }
  const cfgLayer = await writeLayer(gen.list(), { ...layerOpts, blobDir: o.blobDir });
  layers.push({
    name: "config",
    layer: cfgLayer,
    cached: false,
    comment: "generated: accounts, os-release, CA bundle, alternatives, dpkg database",
  });

  // app files
  if (spec.files.length) {
    const app = new GeneratedLayer(plan);
    for (const f of spec.files) await addLocalFiles(app, f);
    const appLayer = await writeLayer(app.list(), { ...layerOpts, blobDir: o.blobDir });
    layers.push({
      name: "files",
      layer: appLayer,
      cached: false,
      comment: `files: ${spec.files.map((f) => f.dest).join(" ")}`,
    });
  }

  // image config
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ...(bundle ? { SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt" } : {}),
    ...spec.config.env,
  };
  const user =
    spec.config.user ??
    (spec.accounts.runAs !== undefined ? resolveRunAs(spec.accounts.runAs, acc) : undefined);
  const config: ImageConfigInput = {
    entrypoint: spec.config.entrypoint,
    cmd: spec.config.cmd,
    env,
    workingDir: spec.config.workdir,
    user,
    exposedPorts: spec.config.exposedPorts,
    volumes: spec.config.volumes,
    labels: spec.config.labels,
    stopSignal: spec.config.stopSignal,
    healthcheck: spec.config.healthcheck,
  };
  const platform = {
    os: "linux" as const,
    architecture: arch,
    ...(arch === "arm64" ? { variant: "v8" } : {}),
  };
  const image = await buildImage(
    {
      platform,
      layers: layers.map((l) => l.layer),
      config,
      created: new Date(o.sde * 1000),
      history: layers.map((l) => ({ created_by: `shellfree build (${l.name})`, comment: l.comment })),
    },
    o.blobDir,
  );
  const report: ArchReport = {
    architecture: arch,
    manifest: image.manifest.digest,
    layers: layers.map((l) => ({
      name: l.name,
      digest: l.layer.digest,
      diffId: l.layer.diffId,
      size: l.layer.size,
      uncompressedSize: l.layer.uncompressedSize,
      entries: l.layer.entries,
      cached: l.cached,
    })),
    packages: packages.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture })),
    excluded: resolved.excluded,
    alternatives: alts.choices.map((c: AltChoice) => ({
      name: c.name,
      link: c.link,
      path: c.path,
      priority: c.priority,
      mode: c.mode,
    })),
    dropped: plan.dropped,
    node: node
      ? { version: node.version, integrity: node.integrity, size: node.size, stripped: node.stripped }
      : undefined,
    size: layers.reduce((s, l) => s + l.layer.size, 0),
    uncompressedSize: layers.reduce((s, l) => s + l.layer.uncompressedSize, 0),
  };
  info(
    `${arch}: ${layers.length} layers, ${humanBytes(report.uncompressedSize)} uncompressed, ${humanBytes(report.size)} compressed`,
  );
  return { resolved, image, report, node, infos };
}

/** Human-readable summary (stdout of `shellfree build`). */
export function formatBuildResult(r: BuildResult): string {
  const lines: string[] = [];
  lines.push(`${r.name}: ${r.target}`);
  lines.push(`digest ${r.digest}  (SOURCE_DATE_EPOCH=${r.sourceDateEpoch}, ${r.compression})`);
  for (const a of r.architectures) {
    lines.push(`${a.architecture}: manifest ${a.manifest}, ${a.packages.length} packages`);
    for (const l of a.layers) {
      lines.push(
        `  layer ${l.name.padEnd(8)} ${humanBytes(l.uncompressedSize).padStart(10)} → ${humanBytes(l.size).padStart(10)}  ${l.entries} entries${l.cached ? " (cached)" : ""}`,
      );
    }
    lines.push(
      `  total    ${humanBytes(a.uncompressedSize).padStart(10)} → ${humanBytes(a.size).padStart(10)} compressed`,
    );
    if (a.excluded.length) {
      lines.push(
        `  excluded (maintainer-script-only): ${a.excluded.map((e) => (e.wantedBy.length ? `${e.name} (wanted by ${e.wantedBy.join(", ")})` : e.name)).join(", ")}`,
      );
    }
    for (const alt of a.alternatives)
      lines.push(`  alternative ${alt.link} → ${alt.path} (${alt.mode}, priority ${alt.priority})`);
    if (a.dropped.files)
      lines.push(
        `  dropped ${a.dropped.files} doc/man/locale and shell-only files (${humanBytes(a.dropped.bytes)})`,
      );
    if (a.node) lines.push(`  node ${a.node.version}${a.node.stripped ? " (debug sections removed)" : ""}`);
  }
  for (const s of r.sboms) lines.push(`sbom ${s}`);
  for (const a of r.attestations) {
    const kinds = a.statements.map((x) =>
      x.predicateType === PREDICATE_SPDX
        ? "SPDX"
        : x.predicateType === PREDICATE_CYCLONEDX
          ? "CycloneDX"
          : x.predicateType,
    );
    lines.push(`sbom attached ${a.architecture}: ${kinds.join(" + ")} in ${a.digest} (about ${a.subject})`);
  }
  return lines.join("\n");
}

/** Machine-readable summary for --json. */
export function buildResultJson(r: BuildResult): unknown {
  const { lock: _lock, ...rest } = r;
  return rest;
}
