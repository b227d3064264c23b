/**
 * The checker's primitives: they walk the YAML syntax tree by hand so that every message points
 * at the line of the offending key or value —
 *
 *   shellfree.yaml:12: config.entrypoint: must be an array (exec form); a shell-form string is not allowed
 *
 * Each takes the document (`SpecDoc`: file name and line counter), a node and the dotted field
 * name it is at, and returns the checked value or fails with E_SPEC.
 */
import { isMap, isScalar, isSeq, type LineCounter, type Node, type YAMLMap } from "yaml";
import { SpecError } from "./errors.ts";

export type YamlNode = Node | null | undefined;
/** key → what to do with its value (`field` is the dotted path, e.g. "config.env") */
export type Fields = Record<string, (value: YamlNode, field: string, keyNode: YamlNode) => void>;

/** The spec file being checked: for file:line messages. */
export class SpecDoc {
  readonly file: string;
  readonly lines: LineCounter;
  constructor(file: string, lines: LineCounter) {
    this.file = file;
    this.lines = lines;
  }
  line(node: YamlNode): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }
  fail(node: YamlNode, field: string, message: string): never {
    throw new SpecError("E_SPEC", `${this.file}:${this.line(node)}: ${field}: ${message}`);
  }
}

/**
 * The line of every field under `node`, by the dotted path a checker of that data names it with
 * ("health.port", "tasks[0].run", "tasks[0].run[1]"): for use by checkers outside the spec (the
 * init section is checked by src/init, whose messages name a field but know no lines).
 */
export function fieldLines(
  doc: SpecDoc,
  node: YamlNode,
  prefix = "",
  out: Record<string, number> = {},
): Record<string, number> {
  if (isMap(node)) {
    for (const pair of (node as YAMLMap<YamlNode, YamlNode>).items) {
      const keyNode = pair.key as YamlNode;
      if (!isScalar(keyNode)) continue;
      const path = prefix ? `${prefix}.${String(keyNode.value)}` : String(keyNode.value);
      out[path] ??= doc.line(keyNode);
      fieldLines(doc, pair.value as YamlNode, path, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const path = `${prefix}[${i}]`;
      out[path] ??= doc.line(item as YamlNode);
      fieldLines(doc, item as YamlNode, path, out);
    });
  }
  return out;
}

/** The line `lines` (from fieldLines) has for `field`, or for the nearest field above it. */
export function lineOfField(lines: Record<string, number>, field: string): number | undefined {
  for (let f = field; f !== ""; f = f.replace(/(\.[^.[\]]*|\[\d+\])$/, "")) {
    if (lines[f] !== undefined) return lines[f];
    if (!/(\.[^.[\]]*|\[\d+\])$/.test(f)) break;
  }
  return undefined;
}

/** The largest uid/gid (2^32 - 2: -1 means "unchanged" to chown). */
export const MAX_ID = 0xfffffffe;
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
export const SUITE_NAME = /^[a-z0-9][a-z0-9.-]*$/;
/** image and layer names */
export const SIMPLE_NAME = /^[a-z0-9][a-z0-9._-]*$/;
export const GO_DURATION = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;

/** The longest duration a spec may give (a timer of weeks is a typo; Node's timers overflow at 24.8 days). */
export const MAX_DURATION_MS = 86_400_000;

const GO_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("1m30s") in milliseconds (the string must match GO_DURATION). */
export function goDurationMs(s: string): number {
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)) total += Number(m[1]) * GO_UNITS_MS[m[2]];
  return total;
}

/** A Go duration of at most MAX_DURATION_MS. */
export function duration(doc: SpecDoc, node: YamlNode, field: string): string {
  const s = str(doc, node, field, GO_DURATION, "a duration such as 10s or 1m30s");
  if (!(goDurationMs(s) <= MAX_DURATION_MS))
    doc.fail(node, field, `${s} is longer than 24h, the most a duration may be`);
  return s;
}
const ABS_PATH = /^\/[^\0]*$/;

/** A mapping whose keys are the ones `fields` knows (each handled by its function). */
export function mapOf(doc: SpecDoc, node: YamlNode, field: string, fields: Fields): void {
  if (!isMap(node)) doc.fail(node, field, `must be a mapping (key: value)`);
  const seen = new Set<string>();
  for (const pair of (node as YAMLMap<YamlNode, YamlNode>).items) {
    const keyNode = pair.key as YamlNode;
    const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
    const sub = field ? `${field}.${key}` : String(key);
    if (key === undefined) doc.fail(keyNode ?? node, field || "spec", "keys must be plain strings");
    if (seen.has(key)) doc.fail(keyNode, sub, "duplicate key");
    seen.add(key);
    const handler = fields[key];
    if (!handler) {
      doc.fail(keyNode, sub, `unknown key "${key}" (allowed: ${Object.keys(fields).join(", ")})`);
    }
    handler(pair.value as YamlNode, sub, keyNode);
  }
}

/** A mapping with free-form keys (env, labels, alternatives): key → scalar as a string. */
export function stringMap(
  doc: SpecDoc,
  node: YamlNode,
  field: string,
  keyPattern?: RegExp,
  what?: string,
): Record<string, string> {
  if (!isMap(node)) doc.fail(node, field, "must be a mapping (key: value)");
  const out: Record<string, string> = {};
  for (const pair of (node as YAMLMap<YamlNode, YamlNode>).items) {
    const keyNode = pair.key as YamlNode;
    if (!isScalar(keyNode) || keyNode.value === null)
      doc.fail(keyNode ?? node, field, "keys must be strings");
    const key = String(keyNode.value);
    if (keyPattern && !keyPattern.test(key)) doc.fail(keyNode, `${field}.${key}`, `invalid ${what ?? "key"}`);
    if (key in out) doc.fail(keyNode, `${field}.${key}`, "duplicate key");
    out[key] = scalarString(doc, pair.value as YamlNode, `${field}.${key}`);
  }
  return out;
}

/** A scalar turned into a string (numbers and booleans allowed: env values, labels). */
export function scalarString(doc: SpecDoc, node: YamlNode, field: string): string {
  if (!isScalar(node) || node.value === null || typeof node.value === "object") {
    doc.fail(node, field, "must be a string");
  }
  return String(node.value);
}

/** A non-empty string, matching `pattern` when given (`what` describes it in messages). */
export function str(doc: SpecDoc, node: YamlNode, field: string, pattern?: RegExp, what?: string): string {
  if (!isScalar(node) || typeof node.value !== "string") {
    doc.fail(node, field, `must be a string${what ? ` (${what})` : ""}`);
  }
  const value = node.value as string;
  if (value === "") doc.fail(node, field, "must not be empty");
  if (pattern && !pattern.test(value))
    doc.fail(node, field, `invalid value ${JSON.stringify(value)}${what ? `: expected ${what}` : ""}`);
  return value;
}

export function bool(doc: SpecDoc, node: YamlNode, field: string): boolean {
  if (!isScalar(node) || typeof node.value !== "boolean") doc.fail(node, field, "must be true or false");
  return node.value as boolean;
}

export function int(doc: SpecDoc, node: YamlNode, field: string, min: number, max: number): number {
  if (!isScalar(node) || typeof node.value !== "number" || !Number.isInteger(node.value)) {
    doc.fail(node, field, "must be an integer");
  }
  const value = node.value as number;
  if (value < min || value > max) doc.fail(node, field, `must be between ${min} and ${max}`);
  return value;
}

/** A sequence; `item` checks each element (its field is `field[i]`). */
export function list<T>(
  doc: SpecDoc,
  node: YamlNode,
  field: string,
  item: (node: YamlNode, field: string) => T,
): T[] {
  if (!isSeq(node)) doc.fail(node, field, "must be a list");
  return node.items.map((element, i) => item(element as YamlNode, `${field}[${i}]`));
}

/** An absolute path in the image, without "." or ".." (a trailing "/" is dropped). */
export function absPath(doc: SpecDoc, node: YamlNode, field: string): string {
  const path = str(doc, node, field);
  if (!ABS_PATH.test(path)) doc.fail(node, field, `must be an absolute path (got ${JSON.stringify(path)})`);
  if (path.split("/").some((c) => c === ".." || c === "."))
    doc.fail(node, field, `must not contain "." or ".."`);
  return path.replace(/\/+$/, "") || "/";
}

/** A file mode written as a quoted octal string ("0644"). */
export function mode(doc: SpecDoc, node: YamlNode, field: string): number {
  if (isScalar(node) && typeof node.value === "number") {
    doc.fail(node, field, `must be a quoted octal string such as "0644" (a bare number is read as decimal)`);
  }
  const text = str(doc, node, field);
  if (!/^0?[0-7]{3,4}$/.test(text)) doc.fail(node, field, `must be an octal mode such as "0644" or "1777"`);
  return Number.parseInt(text, 8);
}

/** A non-empty argv list; a shell-form string is refused. */
export function execForm(doc: SpecDoc, node: YamlNode, field: string): string[] {
  if (isScalar(node) && typeof node.value === "string") {
    doc.fail(node, field, "must be an array (exec form); a shell-form string is not allowed");
  }
  const argv = list(doc, node, field, (element, at) => scalarString(doc, element, at));
  if (argv.length === 0) doc.fail(node, field, "must not be empty");
  return argv;
}
