/**
 * Relationship fields (Depends, Pre-Depends, Recommends, Provides, Conflicts, Breaks, ...):
 * `a (>= 1) | b:any, c [amd64 !arm64] <!nocheck>` → a list of or-groups of alternatives.
 * Architecture restrictions are applied for the given architecture and build-profile
 * restrictions are evaluated with no profile active (binary indices carry neither, but a
 * source-style field must not break the parser).
 */
import { DebianError } from "./errors.ts";
import type { Relation } from "./version.ts";

export interface Dependency {
  /** package name as written, without the architecture qualifier */
  name: string;
  /** ":any", ":native" or an architecture name, without the colon; undefined when unqualified */
  archQualifier?: string;
  op?: Relation;
  version?: string;
}

/** One comma-separated item: its alternatives (`a | b`), in order of preference. */
export type OrGroup = Dependency[];

const NAME = /^[a-z0-9][a-z0-9+.-]*$/i;

const OPS: Record<string, Relation> = {
  "<<": "<<",
  "<=": "<=",
  "=": "=",
  ">=": ">=",
  ">>": ">>",
  // obsolete spellings, read as dpkg and apt read them
  "<": "<=",
  ">": ">=",
};

function relationError(field: string, why: string): DebianError {
  return new DebianError("E_INDEX", `cannot parse relationship field '${field}': ${why}`);
}

/** Parse one alternative; undefined when its architecture or profile restriction excludes it. */
function parseAlternative(text: string, whole: string, arch?: string): Dependency | undefined {
  let s = text.trim();
  let keep = true;
  // build profiles: <p1 p2> <p3>... — true when any list is fully satisfied with no profile active
  const profiles = [...s.matchAll(/<([^<>]*)>/g)];
  if (profiles.length) {
    s = s.replace(/<[^<>]*>/g, " ").trim();
    keep = profiles.some((m) =>
      m[1]
        .trim()
        .split(/\s+/)
        .every((t) => t.startsWith("!")),
    );
  }
  const archMatch = /\[([^\]]*)\]/.exec(s);
  if (archMatch) {
    s = (s.slice(0, archMatch.index) + s.slice(archMatch.index + archMatch[0].length)).trim();
    if (arch !== undefined) {
      const list = archMatch[1].trim().split(/\s+/).filter(Boolean);
      const negated = list.length > 0 && list[0].startsWith("!");
      const hit = list.some((a) => (a.startsWith("!") ? a.slice(1) : a) === arch);
      if (negated ? hit : !hit) keep = false;
    }
  }
  let op: Relation | undefined;
  let version: string | undefined;
  const paren = s.indexOf("(");
  if (paren !== -1) {
    const close = s.indexOf(")", paren);
    if (close === -1 || s.slice(close + 1).trim() !== "")
      throw relationError(whole, `bad version in '${text.trim()}'`);
    const inner = s.slice(paren + 1, close).trim();
    const m = /^(<<|<=|>=|>>|=|<|>)\s*([^\s<>=]\S*)$/.exec(inner);
    if (!m) throw relationError(whole, `bad version relation '(${inner})'`);
    op = OPS[m[1]];
    version = m[2];
    s = s.slice(0, paren).trim();
  }
  let name = s;
  let archQualifier: string | undefined;
  const colon = s.indexOf(":");
  if (colon !== -1) {
    name = s.slice(0, colon);
    archQualifier = s.slice(colon + 1);
    if (!/^[a-z0-9-]+$/i.test(archQualifier))
      throw relationError(whole, `bad architecture qualifier in '${s}'`);
  }
  if (!NAME.test(name)) throw relationError(whole, `bad package name '${name}'`);
  if (!keep) return undefined;
  const d: Dependency = { name };
  if (archQualifier !== undefined) d.archQualifier = archQualifier;
  if (op !== undefined) {
    d.op = op;
    d.version = version;
  }
  return d;
}

/**
 * Parse a relationship field into or-groups. `arch` applies `[arch]` restrictions (omit it to
 * keep every alternative). Groups left empty by restrictions are dropped. Throws
 * DebianError(E_INDEX) on syntax errors.
 */
export function parseRelations(field: string, arch?: string): OrGroup[] {
  const out: OrGroup[] = [];
  if (!field?.trim()) return out;
  // relationship fields may be folded over several lines
  const flat = field.replace(/\s*\n\s*/g, " ");
  for (const item of flat.split(",")) {
    if (!item.trim()) {
      // dpkg rejects empty items except a trailing comma; tolerate both like apt does
      continue;
    }
    const group: OrGroup = [];
    let any = false;
    for (const alt of item.split("|")) {
      if (!alt.trim()) throw relationError(field, "empty alternative");
      any = true;
      const d = parseAlternative(alt, field, arch);
      if (d) group.push(d);
    }
    if (any && group.length) out.push(group);
  }
  return out;
}

/** `name[:qual] (op version)`, as apt and dpkg print a dependency. */
export function formatDependency(d: Dependency): string {
  const q = d.archQualifier ? `:${d.archQualifier}` : "";
  return d.op ? `${d.name}${q} (${d.op} ${d.version})` : `${d.name}${q}`;
}

export function formatOrGroup(g: OrGroup): string {
  return g.map(formatDependency).join(" | ");
}

const isBlank = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const isSep = (c: number) => c === 44 /* , */ || c === 124 /* | */;
/** Ends a relation's package name (with `colon`) or its architecture qualifier. */
const ends = (c: number, colon: boolean) =>
  isBlank(c) || isSep(c) || c === 40 /* ( */ || c === 91 /* [ */ || c === 60 /* < */ || (colon && c === 58);

/**
 * Every alternative's target in a relationship field, in order: `onTarget(name, qualifier)`
 * (the qualifier without its colon, undefined when there is none). A quick hand scan that
 * checks nothing (parseRelations does): the resolver runs it over a whole archive to find the
 * order in which apt first meets each name.
 */
export function forEachRelationTarget(
  field: string,
  onTarget: (name: string, qualifier: string | undefined) => void,
): void {
  const n = field.length;
  let i = 0;
  while (i < n) {
    while (i < n && isBlank(field.charCodeAt(i))) i++;
    const s = i;
    while (i < n && !ends(field.charCodeAt(i), true)) i++;
    const name = field.slice(s, i);
    let qual: string | undefined;
    let ok = name.length > 0;
    if (ok && i < n && field.charCodeAt(i) === 58 /* : */) {
      const q = ++i;
      while (i < n && !ends(field.charCodeAt(i), false)) i++;
      qual = field.slice(q, i);
      ok = qual.length > 0;
    }
    if (ok) onTarget(name, qual);
    while (i < n && !isSep(field.charCodeAt(i))) i++;
    i++;
  }
}
