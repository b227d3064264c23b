/**
 * Installing a wheel the way pip does (PEP 427 / the binary distribution format), into an
 * in-memory list of files for the image instead of a live system:
 * - the archive is read safely (zip.ts: no `..`, absolute paths or links);
 * - exactly one `{name}-{version}.dist-info` matching the file name; WHEEL's Wheel-Version
 *   must be 1.x; METADATA's name and version must be the file name's;
 * - every file is listed in RECORD with a hash and size that match (a file missing from
 *   RECORD, or RECORD naming a file that is absent, is an error);
 * - root files go to purelib or platlib by Root-Is-Purelib; `{name}-{version}.data/SCHEME/…`
 *   to the scheme's directory (purelib, platlib, scripts, headers, data);
 * - scripts whose first line is `#!python` (or `#!pythonw`) get the image's interpreter;
 *   console_scripts and gui_scripts entry points become launchers (entrypoints.ts);
 * - INSTALLER says `shellfree`; RECORD is rewritten with every installed path (relative to
 *   the site directory, as pip writes it), hash and size.
 * Bytecode is not written here: bytecode.ts compiles it with the image's interpreter, and
 * `addToRecord` adds the .pyc files to RECORD afterwards.
 */
import { posix } from "node:path";
import { launcherScript, parseEntryPoints } from "./entrypoints.ts";
import { PythonError } from "./errors.ts";
import { recordHash } from "./hashes.ts";
import { header, parseHeaders, parseMetadata } from "./metadata.ts";
import { normalizeName } from "./names.ts";
import { formatRecord, parseRecord, type RecordRow } from "./record.ts";
import { debianScheme, type InstallScheme, type PythonTarget } from "./target.ts";
import type { InstalledDistribution, InstalledFile } from "./types.ts";
import { sameVersion } from "./version.ts";
import { parseWheelName } from "./wheelname.ts";
import { readZip, type ZipFileEntry } from "./zip.ts";

/**
 * What installing the same wheel for the same target produces changes only with this number:
 * bump it with any change here or in entrypoints.ts, record.ts (cached layers are keyed by it).
 */
export const INSTALL_VERSION = 1;

export interface WheelToInstall {
  /** path of the (verified) wheel file */
  path: string;
  /** its file name (the name carries the tags; the cached copy's path does not) */
  filename: string;
  /** sha256 of the file (hex) */
  sha256: string;
  /** the tag it was chosen by (informational) */
  tag?: string;
}

const SCHEMES = ["purelib", "platlib", "scripts", "headers", "data"] as const;
type SchemeKey = (typeof SCHEMES)[number];

const SIGNATURES = new Set(["RECORD", "RECORD.jws", "RECORD.p7s"]);

function fail(what: string, why: string): never {
  throw new PythonError("E_WHEEL", `${what}: ${why}`, { hint: "the wheel is damaged or not a valid wheel" });
}

const text = (d: Uint8Array) => new TextDecoder("utf-8").decode(d);

/** Rewrite a `#!python` first line to the image's interpreter (keeping arguments). */
export function fixShebang(data: Uint8Array, interpreter: string): Uint8Array {
  const nl = data.indexOf(0x0a);
  const first = Buffer.from(data.subarray(0, nl < 0 ? data.length : nl)).toString("latin1");
  const cr = first.endsWith("\r") ? "\r" : "";
  const m = /^#!pythonw?(\s.*)?$/.exec(cr ? first.slice(0, -1) : first);
  if (!m) return data;
  const args = (m[1] ?? "").trim();
  const line = Buffer.from(`#!${interpreter}${args ? ` ${args}` : ""}${cr}`, "latin1");
  return Buffer.concat([line, nl < 0 ? Buffer.alloc(0) : Buffer.from(data.subarray(nl))]);
}

/** Install one wheel for the target; `scheme` defaults to Debian's python's (target.ts). */
export async function installWheel(
  wheel: WheelToInstall,
  target: PythonTarget,
  scheme: InstallScheme = debianScheme(target),
): Promise<InstalledDistribution> {
  const what = wheel.filename;
  const wn = parseWheelName(wheel.filename)!;
  const entries = await readZip(wheel.path, what);
  const byName = new Map(entries.map((e) => [e.name, e]));

  // the .dist-info directory
  const infoDirs = [...new Set(entries.map((e) => e.name.split("/")[0]))].filter((d) =>
    d.endsWith(".dist-info"),
  );
  if (infoDirs.length === 0) fail(what, "no .dist-info directory");
  if (infoDirs.length > 1) fail(what, `more than one .dist-info directory (${infoDirs.join(", ")})`);
  const distInfo = infoDirs[0];
  const infoName = distInfo.slice(0, -".dist-info".length);
  const dash = infoName.lastIndexOf("-");
  if (dash < 0 || normalizeName(infoName.slice(0, dash)) !== wn.name) {
    fail(what, `${distInfo} does not match the file name's project ${wn.distribution}`);
  }
  const file = (n: string): ZipFileEntry | undefined => byName.get(`${distInfo}/${n}`);

  // WHEEL
  const wheelMeta = file("WHEEL");
  if (!wheelMeta) fail(what, `${distInfo}/WHEEL is missing`);
  const wh = parseHeaders(text(wheelMeta.data));
  const wv = header(wh, "Wheel-Version");
  const wvm = wv ? /^(\d+)\.(\d+)$/.exec(wv) : null;
  if (!wvm) fail(what, `WHEEL has no valid Wheel-Version (${JSON.stringify(wv ?? "")})`);
  if (wvm[1] !== "1") fail(what, `Wheel-Version ${wv} is not supported (only 1.x)`);
  const purelib = (header(wh, "Root-Is-Purelib") ?? "").toLowerCase() === "true";

  // METADATA
  const metaEntry = file("METADATA");
  if (!metaEntry) fail(what, `${distInfo}/METADATA is missing`);
  const meta = parseMetadata(text(metaEntry.data));
  if (!meta.name || normalizeName(meta.name) !== wn.name) {
    fail(what, `METADATA names ${JSON.stringify(meta.name ?? "")}, the file name ${wn.distribution}`);
  }
  if (!meta.version || !sameVersion(meta.version, wn.version)) {
    fail(what, `METADATA says version ${JSON.stringify(meta.version ?? "")}, the file name ${wn.version}`);
  }

  // RECORD: every file listed with a matching hash and size
  const recordEntry = file("RECORD");
  if (!recordEntry) fail(what, `${distInfo}/RECORD is missing`);
  const parsed = parseRecord(text(recordEntry.data));
  if (!Array.isArray(parsed)) fail(what, `RECORD line ${parsed.badLine} is not path,hash,size`);
  const recorded = new Map<string, RecordRow>();
  for (const r of parsed) recorded.set(r.path, r);
  for (const e of entries) {
    const inInfo = e.name.startsWith(`${distInfo}/`) && SIGNATURES.has(e.name.slice(distInfo.length + 1));
    if (inInfo) continue;
    const r = recorded.get(e.name);
    if (!r) fail(what, `${e.name} is not listed in RECORD`);
    const m = /^(sha256|sha384|sha512)=([A-Za-z0-9_-]+)$/.exec(r.hash);
    if (!m) fail(what, `RECORD has no usable hash for ${e.name} (${JSON.stringify(r.hash)})`);
    const got = recordHash(e.data, m[1] as "sha256");
    if (got !== r.hash)
      fail(what, `${e.name} does not match its RECORD hash (RECORD ${r.hash}, content ${got})`);
    if (r.size !== "" && Number(r.size) !== e.data.length) {
      fail(what, `${e.name} is ${e.data.length} bytes, RECORD says ${r.size}`);
    }
  }
  for (const p of recorded.keys()) {
    if (!byName.has(p) && !(p.startsWith(`${distInfo}/`) && SIGNATURES.has(p.slice(distInfo.length + 1)))) {
      fail(what, `RECORD lists ${p}, which is not in the wheel`);
    }
  }

  // where each file goes
  const dataDir = `${infoName}.data/`;
  const site = scheme.purelib;
  const out = new Map<string, InstalledFile>();
  const put = (f: InstalledFile, from: string) => {
    if (out.has(f.path)) fail(what, `${from} and another file both install ${f.path}`);
    out.set(f.path, f);
  };
  const roots: Record<SchemeKey, string> = {
    purelib: scheme.purelib,
    platlib: scheme.platlib,
    scripts: scheme.scripts,
    headers: posix.join(scheme.headers, meta.name),
    data: scheme.data,
  };
  for (const e of entries) {
    if (
      e.name === `${distInfo}/RECORD` ||
      (e.name.startsWith(`${distInfo}/`) && SIGNATURES.has(e.name.slice(distInfo.length + 1)))
    ) {
      continue;
    }
    if (e.name.startsWith(dataDir)) {
      const rest = e.name.slice(dataDir.length);
      const slash = rest.indexOf("/");
      const key = rest.slice(0, slash < 0 ? rest.length : slash);
      if (!(SCHEMES as readonly string[]).includes(key))
        fail(what, `${e.name}: unknown .data scheme ${JSON.stringify(key)}`);
      if (slash < 0 || slash === rest.length - 1) continue;
      const rel = rest.slice(slash + 1);
      const dest = posix.join(roots[key as SchemeKey], rel);
      if (key === "scripts") {
        put({ path: dest, mode: 0o755, data: fixShebang(e.data, scheme.interpreter) }, e.name);
      } else put({ path: dest, mode: e.executable ? 0o755 : 0o644, data: e.data }, e.name);
      continue;
    }
    if (e.name.startsWith(`${infoName}.data`)) fail(what, `${e.name}: malformed .data path`);
    const dest = posix.join(purelib ? scheme.purelib : scheme.platlib, e.name);
    put({ path: dest, mode: e.executable ? 0o755 : 0o644, data: e.data }, e.name);
  }

  // entry points
  const epEntry = file("entry_points.txt");
  if (epEntry) {
    for (const ep of parseEntryPoints(text(epEntry.data), what)) {
      const dest = posix.join(scheme.scripts, ep.name);
      put(
        { path: dest, mode: 0o755, data: Buffer.from(launcherScript(ep, scheme.interpreter), "utf8") },
        `entry point ${ep.name}`,
      );
    }
  }

  // INSTALLER and the new RECORD
  const infoPath = posix.join(site, distInfo);
  out.set(posix.join(infoPath, "INSTALLER"), {
    path: posix.join(infoPath, "INSTALLER"),
    mode: 0o644,
    data: Buffer.from("shellfree\n"),
  });
  const recordPath = posix.join(infoPath, "RECORD");
  out.delete(recordPath);
  const files = [...out.values()];
  files.push({ path: recordPath, mode: 0o644, data: buildRecord(files, site, recordPath) });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  return {
    name: wn.name,
    displayName: meta.name,
    version: meta.version,
    wheel: wheel.filename,
    sha256: wheel.sha256,
    tag: wheel.tag ?? wn.tags[0],
    distInfo: infoPath,
    files,
    dirs: dirsOf(files.map((f) => f.path)),
    license: meta.licenseExpression
      ? { expression: meta.licenseExpression, classifiers: meta.licenseClassifiers }
      : meta.license || meta.licenseClassifiers.length
        ? { declared: meta.license, classifiers: meta.licenseClassifiers }
        : undefined,
    homepage: meta.homepage,
    summary: meta.summary,
  };
}

/** RECORD text listing `files` (paths relative to `site`) and itself. */
function buildRecord(files: InstalledFile[], site: string, recordPath: string): Uint8Array {
  const rows: RecordRow[] = files.map((f) => ({
    path: posix.relative(site, f.path),
    hash: recordHash(f.data),
    size: String(f.data.length),
  }));
  rows.push({ path: posix.relative(site, recordPath), hash: "", size: "" });
  rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return Buffer.from(formatRecord(rows), "utf8");
}

/** Every ancestor directory of `paths`, sorted (parents before children). */
export function dirsOf(paths: string[]): string[] {
  const dirs = new Set<string>();
  for (const p of paths) {
    let d = posix.dirname(p);
    while (d !== "." && d !== "/" && !dirs.has(d)) {
      dirs.add(d);
      d = posix.dirname(d);
    }
  }
  return [...dirs].sort();
}

/**
 * Add files written after installation (the .pyc files bytecode.ts compiled) to the RECORD
 * of the distribution that owns their directory, as pip lists the bytecode it compiles.
 * Returns a new InstalledDistribution; files outside the distribution are ignored.
 */
export function addToRecord(
  dist: InstalledDistribution,
  extra: InstalledFile[],
  site: string,
): InstalledDistribution {
  const own = new Set(dist.files.map((f) => f.path));
  const mine = extra.filter((f) => {
    // dir/__pycache__/mod.cpython-313.pyc belongs to whoever installed dir/mod.py
    const m = /^(.+)\.[a-z]+-\d+(?:\.opt-\d+)?\.pyc$/.exec(posix.basename(f.path));
    const cache = posix.dirname(f.path);
    if (!m || posix.basename(cache) !== "__pycache__") return false;
    return own.has(posix.join(posix.dirname(cache), `${m[1]}.py`)) && !own.has(f.path);
  });
  if (!mine.length) return dist;
  const recordPath = posix.join(dist.distInfo, "RECORD");
  const files = [...dist.files.filter((f) => f.path !== recordPath), ...mine];
  files.push({ path: recordPath, mode: 0o644, data: buildRecord(files, site, recordPath) });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ...dist, files, dirs: dirsOf(files.map((f) => f.path)) };
}
