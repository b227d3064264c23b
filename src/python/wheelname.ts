/**
 * Wheel file names (PEP 427, PEP 491 escaping):
 *   {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl
 * Each tag may be a compressed set (`py2.py3-none-any`, `manylinux_2_17_x86_64.manylinux2014_x86_64`)
 * that stands for every combination (PEP 425). Also tells source distributions apart, for the
 * error that says only wheels are installed.
 */
import { PythonError } from "./errors.ts";
import { normalizeName } from "./names.ts";
import { tryParseVersion } from "./version.ts";

export interface WheelName {
  /** the distribution as written in the file name (`_` for runs of `-_.`) */
  distribution: string;
  /** PEP 503-normalised */
  name: string;
  version: string;
  /** the optional build tag: number first, then the rest (they sort by both) */
  build?: { n: number; rest: string };
  pythonTags: string[];
  abiTags: string[];
  platformTags: string[];
  /** every `python-abi-platform` combination the name stands for */
  tags: string[];
}

/**
 * Parse a wheel file name; a malformed one is an E_WHEEL_NAME error (or undefined when
 * `lenient`).
 */
export function parseWheelName(filename: string, opts: { lenient?: boolean } = {}): WheelName | undefined {
  const bad = (why: string): undefined => {
    if (opts.lenient) return undefined;
    throw new PythonError("E_WHEEL_NAME", `${filename}: not a valid wheel file name (${why})`);
  };
  if (!filename.endsWith(".whl")) return bad("it does not end in .whl");
  const parts = filename.slice(0, -4).split("-");
  if (parts.length !== 5 && parts.length !== 6)
    return bad(`${parts.length} dash-separated parts, not 5 or 6`);
  const [distribution, version] = parts;
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?$/.test(distribution))
    return bad("invalid distribution name");
  if (!tryParseVersion(version)) return bad(`version ${JSON.stringify(version)} is not PEP 440`);
  let build: WheelName["build"];
  if (parts.length === 6) {
    const m = /^(\d+)(.*)$/.exec(parts[2]);
    if (!m) return bad(`build tag ${JSON.stringify(parts[2])} does not start with a digit`);
    build = { n: Number(m[1]), rest: m[2] };
  }
  const [py, abi, plat] = parts.slice(-3);
  const split = (s: string) => s.split(".");
  const pythonTags = split(py);
  const abiTags = split(abi);
  const platformTags = split(plat);
  for (const t of [...pythonTags, ...abiTags, ...platformTags]) {
    if (!/^[A-Za-z0-9_]+$/.test(t)) return bad(`invalid tag ${JSON.stringify(t)}`);
  }
  const tags: string[] = [];
  for (const p of pythonTags) {
    for (const a of abiTags) for (const pl of platformTags) tags.push(`${p}-${a}-${pl}`.toLowerCase());
  }
  return {
    distribution,
    name: normalizeName(distribution),
    version,
    build,
    pythonTags,
    abiTags,
    platformTags,
    tags,
  };
}

const SDIST_EXT = /\.(tar\.gz|tgz|zip|tar\.bz2|tar\.xz|tar)$/i;

/** Is this a source distribution's file name (`foo-1.0.tar.gz`, legacy `.zip`)? */
export function isSdistName(filename: string): boolean {
  return SDIST_EXT.test(filename);
}

/** Name and version from an sdist name (`foo_bar-1.0.tar.gz`), as far as it can be read. */
export function parseSdistName(filename: string): { name: string; version: string } | undefined {
  const stem = filename.replace(SDIST_EXT, "");
  const m = /^(.+)-([^-]+)$/.exec(stem);
  if (!m || !tryParseVersion(m[2])) return undefined;
  return { name: normalizeName(m[1]), version: m[2] };
}
