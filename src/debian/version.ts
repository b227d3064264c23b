/**
 * Debian version numbers, ordered exactly as dpkg orders them ([epoch:]upstream[-revision];
 * deb-version(7)). The comparison is a port of dpkg's verrevcmp(): runs of non-digits compare
 * character by character with `~` before everything (even the end of the string) and letters
 * before other characters; runs of digits compare as numbers of any size (never converted to
 * a JS number, so "99999999999999999999" works).
 *
 * Parsing follows dpkg's parseversion(): the same checks, the same messages. dpkg treats two of
 * them ("does not start with digit", "invalid character") as warnings; `parseVersion` rejects
 * them too unless `{ lenient: true }` (used when reading archive indices, where one odd
 * version must not make a whole suite unusable).
 */
import { DebianError } from "./errors.ts";

export interface Version {
  epoch: number;
  upstream: string;
  /** "" when the version has no revision */
  revision: string;
}

export interface ParseVersionOptions {
  /** accept what dpkg only warns about (upstream not starting with a digit, odd characters) */
  lenient?: boolean;
}

const INT_MAX = 2147483647;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isBlank(c: string): boolean {
  return c === " " || c === "\t";
}

/** Why `s` is not a valid version, or undefined when it is. Same wording as dpkg. */
export function versionError(s: string, opts: ParseVersionOptions = {}): string | undefined {
  const r = parse(s, opts);
  return typeof r === "string" ? r : undefined;
}

/** Parse a version; throws DebianError(E_VERSION) with dpkg's reason when invalid. */
export function parseVersion(s: string, opts: ParseVersionOptions = {}): Version {
  const r = parse(s, opts);
  if (typeof r === "string") {
    throw new DebianError("E_VERSION", `invalid version '${s}': ${r}`);
  }
  return r;
}

function parse(input: string, opts: ParseVersionOptions): Version | string {
  let start = 0;
  while (start < input.length && isBlank(input[start])) start++;
  if (start === input.length) return "version string is empty";
  let end = start;
  while (end < input.length && !isBlank(input[end])) end++;
  let p = end;
  while (p < input.length && isBlank(input[p])) p++;
  if (p < input.length) return "version string has embedded spaces";
  let s = input.slice(start, end);

  let epoch = 0;
  const colon = s.indexOf(":");
  if (colon !== -1) {
    // strtol(3): optional sign, then decimal digits, stopping at the first non-digit
    const m = /^([+-]?)(\d*)/.exec(s)!;
    if (m[2] === "") return "epoch in version is empty";
    if (m[0].length !== colon) return "epoch in version is not number";
    const digits = m[2].replace(/^0+(?=\d)/, "");
    const negative = m[1] === "-" && /[1-9]/.test(digits);
    if (negative) return "epoch in version is negative";
    if (digits.length > 10 || Number(digits) > INT_MAX) return "epoch in version is too big";
    if (colon + 1 === s.length) return "nothing after colon in version number";
    epoch = Number(digits);
    s = s.slice(colon + 1);
  }

  let upstream = s;
  let revision = "";
  const hyphen = s.lastIndexOf("-");
  if (hyphen !== -1) {
    upstream = s.slice(0, hyphen);
    revision = s.slice(hyphen + 1);
    if (revision === "") return "revision number is empty";
  }
  if (upstream === "") return "version number is empty";
  if (!opts.lenient) {
    if (!isDigit(upstream.charCodeAt(0))) return "version number does not start with digit";
    for (let i = 1; i < upstream.length; i++) {
      const c = upstream.charCodeAt(i);
      if (!isDigit(c) && !isAlpha(c) && !".-+~:".includes(upstream[i])) {
        return "invalid character in version number";
      }
    }
    for (let i = 0; i < revision.length; i++) {
      const c = revision.charCodeAt(i);
      if (!isDigit(c) && !isAlpha(c) && !".+~".includes(revision[i])) {
        return "invalid character in revision number";
      }
    }
  }
  return { epoch, upstream, revision };
}

/** dpkg's order(): weight of one character in a non-digit run (0 = end of string or digit). */
function order(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126 /* ~ */) return -1;
  return c + 256;
}

/** dpkg's verrevcmp(): compares one upstream or revision part. Returns <0, 0 or >0. */
export function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(a, i);
      const bc = order(b, j);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 48) i++;
    while (b.charCodeAt(j) === 48) j++;
    while (i < a.length && j < b.length && isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a.charCodeAt(i))) return 1;
    if (j < b.length && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Compare two parsed versions: -1, 0 or 1. */
export function compareParsed(a: Version, b: Version): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  const u = compareFragment(a.upstream, b.upstream);
  if (u !== 0) return u > 0 ? 1 : -1;
  const r = compareFragment(a.revision, b.revision);
  return r > 0 ? 1 : r < 0 ? -1 : 0;
}

const cache = new Map<string, Version>();

function cachedParse(s: string): Version {
  let v = cache.get(s);
  if (v === undefined) {
    v = parseVersion(s, { lenient: true });
    if (cache.size > 200_000) cache.clear();
    cache.set(s, v);
  }
  return v;
}

/**
 * Compare two version strings as dpkg does: -1, 0 or 1. Lenient about what dpkg only warns
 * about; throws DebianError(E_VERSION) for what dpkg refuses.
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  return compareParsed(cachedParse(a), cachedParse(b));
}

/** The relation operators of Depends & co. ("<" and ">" are the obsolete spellings of "<=" and ">="). */
export type Relation = "<<" | "<=" | "=" | ">=" | ">>";

/** Does `version` satisfy `version OP wanted`? */
export function satisfiesRelation(version: string, op: Relation, wanted: string): boolean {
  const c = compareVersions(version, wanted);
  switch (op) {
    case "<<":
      return c < 0;
    case "<=":
      return c <= 0;
    case "=":
      return c === 0;
    case ">=":
      return c >= 0;
    case ">>":
      return c > 0;
  }
}

/** Format a parsed version back to its canonical string (epoch 0 omitted). */
export function formatVersion(v: Version): string {
  return `${v.epoch ? `${v.epoch}:` : ""}${v.upstream}${v.revision ? `-${v.revision}` : ""}`;
}
