/**
 * PEP 440 versions: parsing (with the normalisations PEP 440 allows: a leading `v`, `alpha` →
 * `a`, `-1` as a post-release, `.`/`-`/`_` separators ...), ordering, and the comparison
 * operators of version specifiers as environment markers use them.
 */
import { PythonError } from "./errors.ts";

export interface Pep440Version {
  epoch: number;
  release: number[];
  pre?: { label: "a" | "b" | "rc"; n: number };
  post?: number;
  dev?: number;
  /** local segments (`+ubuntu.1` → ["ubuntu", 1]) */
  local?: Array<string | number>;
}

const VERSION_RE = new RegExp(
  "^\\s*v?" +
    "(?:(\\d+)!)?" + // epoch
    "(\\d+(?:\\.\\d+)*)" + // release
    "(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\\d+)?)?" + // pre
    "(?:-(\\d+)|[-_.]?(post|rev|r)[-_.]?(\\d+)?)?" + // post
    "(?:[-_.]?(dev)[-_.]?(\\d+)?)?" + // dev
    "(?:\\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?" + // local
    "\\s*$",
  "i",
);

/** Parse a PEP 440 version; undefined when it is not one. */
export function tryParseVersion(s: string): Pep440Version | undefined {
  const m = VERSION_RE.exec(s);
  if (!m) return undefined;
  const v: Pep440Version = {
    epoch: m[1] ? Number(m[1]) : 0,
    release: m[2].split(".").map(Number),
  };
  if (m[3]) {
    const l = m[3].toLowerCase();
    const label = l === "alpha" ? "a" : l === "beta" ? "b" : l === "a" || l === "b" ? l : "rc";
    v.pre = { label, n: m[4] ? Number(m[4]) : 0 };
  }
  if (m[5] !== undefined) v.post = Number(m[5]);
  else if (m[6]) v.post = m[7] ? Number(m[7]) : 0;
  if (m[8]) v.dev = m[9] ? Number(m[9]) : 0;
  if (m[10]) {
    v.local = m[10]
      .toLowerCase()
      .split(/[-_.]/)
      .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  }
  return v;
}

export function parsePep440(s: string): Pep440Version {
  const v = tryParseVersion(s);
  if (!v) throw new PythonError("E_PY_VERSION", `${JSON.stringify(s)} is not a PEP 440 version`);
  return v;
}

/** The normalised text of a version (PEP 440 canonical form). */
export function formatPep440(v: Pep440Version): string {
  let s = v.epoch ? `${v.epoch}!` : "";
  s += v.release.join(".");
  if (v.pre) s += `${v.pre.label}${v.pre.n}`;
  if (v.post !== undefined) s += `.post${v.post}`;
  if (v.dev !== undefined) s += `.dev${v.dev}`;
  if (v.local) s += `+${v.local.join(".")}`;
  return s;
}

/** Canonical form of a version string, or the string itself when it is not PEP 440. */
export function normalizeVersion(s: string): string {
  const v = tryParseVersion(s);
  return v ? formatPep440(v) : s.trim();
}

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpRelease(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = cmpNum(a[i] ?? 0, b[i] ?? 0);
    if (c) return c;
  }
  return 0;
}

const PRE_ORDER = { a: 0, b: 1, rc: 2 };

/** Rank of the pre-release part: dev-only releases sort before any pre-release, finals after. */
function preKey(v: Pep440Version): [number, number] {
  if (v.pre) return [PRE_ORDER[v.pre.label], v.pre.n];
  if (v.post === undefined && v.dev !== undefined) return [-1, 0];
  return [3, 0];
}

function cmpLocal(a?: Array<string | number>, b?: Array<string | number>): number {
  if (!a && !b) return 0;
  if (!a) return -1;
  if (!b) return 1;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === "number" && typeof y === "number") {
      const c = cmpNum(x, y);
      if (c) return c;
    } else if (typeof x === "number")
      return 1; // numeric segments sort after alphanumeric
    else if (typeof y === "number") return -1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function comparePep440(a: Pep440Version, b: Pep440Version): number {
  let c = cmpNum(a.epoch, b.epoch);
  if (c) return c;
  c = cmpRelease(a.release, b.release);
  if (c) return c;
  const [pa, na] = preKey(a);
  const [pb, nb] = preKey(b);
  c = cmpNum(pa, pb) || cmpNum(na, nb);
  if (c) return c;
  c = cmpNum(a.post ?? -1, b.post ?? -1);
  if (c) return c;
  c = cmpNum(a.dev ?? Number.POSITIVE_INFINITY, b.dev ?? Number.POSITIVE_INFINITY);
  if (c) return c;
  return cmpLocal(a.local, b.local);
}

/** Compare two version strings (PEP 440). */
export function compareVersionStrings(a: string, b: string): number {
  return comparePep440(parsePep440(a), parsePep440(b));
}

/** Are these two strings the same PEP 440 version (`1.0` and `1.0.0` are)? */
export function sameVersion(a: string, b: string): boolean {
  const x = tryParseVersion(a);
  const y = tryParseVersion(b);
  if (!x || !y) return a.trim() === b.trim();
  return comparePep440(x, y) === 0;
}

function isPre(v: Pep440Version): boolean {
  return v.pre !== undefined || v.dev !== undefined;
}

function withoutLocal(v: Pep440Version): Pep440Version {
  return { ...v, local: undefined };
}

export type SpecOp = "==" | "!=" | "<=" | ">=" | "<" | ">" | "~=" | "===";

/**
 * Does `version` satisfy `op spec` (one PEP 440 clause)? Handles `==X.*`/`!=X.*` prefix
 * matching, `~=`, and the exclusive-ordering rules (`<V` does not admit V's pre-releases,
 * `>V` not V's post-releases). Undefined when either side is not a version (callers then
 * compare strings, as PEP 508 says for markers).
 */
export function versionSatisfies(version: string, op: SpecOp, spec: string): boolean | undefined {
  if (op === "===") return version.trim().toLowerCase() === spec.trim().toLowerCase();
  const v = tryParseVersion(version);
  if (!v) return undefined;
  if ((op === "==" || op === "!=") && /\.\*\s*$/.test(spec)) {
    const p = tryParseVersion(spec.replace(/\.\*\s*$/, ""));
    if (!p || p.local) return undefined;
    const prefix = p.release;
    const rel = [...v.release];
    while (rel.length < prefix.length) rel.push(0);
    let match = v.epoch === p.epoch && prefix.every((n, i) => rel[i] === n);
    // `==1.0rc1.*`-style prefixes are not valid PEP 440; only release prefixes are compared
    if (match && (p.pre || p.post !== undefined || p.dev !== undefined)) match = false;
    return op === "==" ? match : !match;
  }
  const s = tryParseVersion(spec);
  if (!s) return undefined;
  switch (op) {
    case "==":
      return comparePep440(s.local ? v : withoutLocal(v), s) === 0;
    case "!=":
      return comparePep440(s.local ? v : withoutLocal(v), s) !== 0;
    case "<=":
      return comparePep440(withoutLocal(v), s) <= 0;
    case ">=":
      return comparePep440(withoutLocal(v), s) >= 0;
    case "<": {
      if (comparePep440(withoutLocal(v), s) >= 0) return false;
      if (!isPre(s) && isPre(v) && cmpRelease(v.release, s.release) === 0 && v.epoch === s.epoch)
        return false;
      return true;
    }
    case ">": {
      if (comparePep440(withoutLocal(v), s) <= 0) return false;
      if (s.post === undefined && v.post !== undefined && cmpRelease(v.release, s.release) === 0) {
        return false;
      }
      return true;
    }
    case "~=": {
      if (s.release.length < 2) return undefined;
      if (comparePep440(withoutLocal(v), s) < 0) return false;
      const prefix = s.release.slice(0, -1);
      const rel = [...v.release];
      while (rel.length < prefix.length) rel.push(0);
      return v.epoch === s.epoch && prefix.every((n, i) => rel[i] === n);
    }
  }
}

/**
 * Does `version` satisfy a PEP 440 specifier set ("`>=3.9, <4`", "`~=3.12`")? Undefined when
 * the set cannot be parsed.
 */
export function satisfiesSpecifierSet(version: string, set: string): boolean | undefined {
  const clauses = set
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
  for (const c of clauses) {
    const m = /^(===|==|!=|<=|>=|~=|<|>)\s*(\S+)$/.exec(c);
    if (!m) return undefined;
    const ok = versionSatisfies(version, m[1] as SpecOp, m[2]);
    if (ok === undefined) return undefined;
    if (!ok) return false;
  }
  return true;
}
