/**
 * PEP 508 environment markers: `python_version >= "3.9" and sys_platform == "linux"`.
 * Parsed into a small tree and evaluated against a target's environment (target.ts). Version
 * operators compare as PEP 440 versions when both sides are versions, else as strings (as
 * packaging does; `~=` on non-versions is an error). `extra` compares PEP 685-normalised
 * names. PEP 751's set-valued `extras` and `dependency_groups` take `"name" in extras`.
 */
import { PythonError } from "./errors.ts";
import { normalizeName } from "./names.ts";
import { type SpecOp, versionSatisfies } from "./version.ts";

type Op = SpecOp | "in" | "not in";

type Value = { kind: "var"; name: string } | { kind: "str"; value: string };

export type Marker =
  | { kind: "cmp"; left: Value; op: Op; right: Value }
  | { kind: "and"; left: Marker; right: Marker }
  | { kind: "or"; left: Marker; right: Marker };

const VARIABLES = new Set([
  "python_version",
  "python_full_version",
  "os_name",
  "sys_platform",
  "platform_release",
  "platform_system",
  "platform_version",
  "platform_machine",
  "platform_python_implementation",
  "implementation_name",
  "implementation_version",
  "extra",
  "extras",
  "dependency_groups",
]);

/** Older spellings still found in the wild (setuptools, PEP 345). */
const ALIASES: Record<string, string> = {
  "os.name": "os_name",
  "sys.platform": "sys_platform",
  "platform.version": "platform_version",
  "platform.machine": "platform_machine",
  "platform.python_implementation": "platform_python_implementation",
  python_implementation: "platform_python_implementation",
};

type Token = { t: "str" | "var" | "op" | "(" | ")" | "and" | "or"; v: string; at: number };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new PythonError("E_MARKER", `marker ${JSON.stringify(s)}: ${why} at column ${i + 1}`);
  };
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "(" || c === ")") {
      out.push({ t: c, v: c, at: i });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = s.indexOf(c, i + 1);
      if (end < 0) fail("unterminated string");
      out.push({ t: "str", v: s.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const op = /^(===|==|!=|<=|>=|~=|<|>)/.exec(s.slice(i));
    if (op) {
      out.push({ t: "op", v: op[1], at: i });
      i += op[1].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(s.slice(i));
    if (!word) fail(`unexpected ${JSON.stringify(c)}`);
    const w = word![0];
    const at = i;
    i += w.length;
    if (w === "and" || w === "or") out.push({ t: w, v: w, at });
    else if (w === "in") out.push({ t: "op", v: "in", at });
    else if (w === "not") {
      const rest = /^\s+in\b/.exec(s.slice(i));
      if (!rest) fail(`"not" must be followed by "in"`);
      i += rest![0].length;
      out.push({ t: "op", v: "not in", at });
    } else {
      const name = ALIASES[w] ?? w;
      if (!VARIABLES.has(name)) {
        i = at;
        fail(`unknown marker variable ${JSON.stringify(w)}`);
      }
      out.push({ t: "var", v: name, at });
    }
  }
  return out;
}

/** Parse a marker expression (the part after `;`). */
export function parseMarker(s: string): Marker {
  const toks = tokenize(s);
  let p = 0;
  const fail = (why: string): never => {
    const at = p < toks.length ? `at column ${toks[p].at + 1}` : "at the end";
    throw new PythonError("E_MARKER", `marker ${JSON.stringify(s)}: ${why} ${at}`);
  };
  const value = (): Value => {
    const t = toks[p];
    if (t?.t === "str") {
      p++;
      return { kind: "str", value: t.v };
    }
    if (t?.t === "var") {
      p++;
      return { kind: "var", name: t.v };
    }
    return fail("expected a variable or a quoted string");
  };
  const expr = (): Marker => {
    if (toks[p]?.t === "(") {
      p++;
      const m = or();
      if (toks[p]?.t !== ")") fail(`expected ")"`);
      p++;
      return m;
    }
    const left = value();
    const op = toks[p];
    if (op?.t !== "op") fail("expected an operator");
    p++;
    const right = value();
    if (left.kind === "str" && right.kind === "str") fail("a comparison needs a variable");
    return { kind: "cmp", left, op: op.v as Op, right };
  };
  const and = (): Marker => {
    let m = expr();
    while (toks[p]?.t === "and") {
      p++;
      m = { kind: "and", left: m, right: expr() };
    }
    return m;
  };
  const or = (): Marker => {
    let m = and();
    while (toks[p]?.t === "or") {
      p++;
      m = { kind: "or", left: m, right: and() };
    }
    return m;
  };
  if (!toks.length) fail("empty marker");
  const m = or();
  if (p < toks.length) fail("unexpected token");
  return m;
}

/** The environment a marker is evaluated in: strings, and sets for `extras`/`dependency_groups`. */
export type MarkerEnv = Record<string, string | ReadonlySet<string> | undefined>;

function resolve(v: Value, env: MarkerEnv, expr: string): string | ReadonlySet<string> {
  if (v.kind === "str") return v.value;
  const x = env[v.name];
  if (x === undefined) {
    if (v.name === "extra") return "";
    if (v.name === "extras" || v.name === "dependency_groups") return new Set();
    throw new PythonError("E_MARKER", `marker ${JSON.stringify(expr)}: ${v.name} is not defined here`);
  }
  return x;
}

function compare(m: Extract<Marker, { kind: "cmp" }>, env: MarkerEnv, expr: string): boolean {
  let l = resolve(m.left, env, expr);
  let r = resolve(m.right, env, expr);
  const isExtra = (v: Value) => v.kind === "var" && v.name === "extra";
  if (isExtra(m.left) || isExtra(m.right)) {
    if (typeof l === "string") l = normalizeName(l);
    if (typeof r === "string") r = normalizeName(r);
  }
  if (m.op === "in" || m.op === "not in") {
    let has: boolean;
    if (typeof r === "string") has = typeof l === "string" && r.includes(l);
    else has = typeof l === "string" && (r.has(l) || r.has(normalizeName(l)));
    return m.op === "in" ? has : !has;
  }
  if (typeof l !== "string" || typeof r !== "string") {
    throw new PythonError("E_MARKER", `marker ${JSON.stringify(expr)}: ${m.op} cannot compare a set`);
  }
  const v = versionSatisfies(l, m.op, r);
  if (v !== undefined) return v;
  // not both versions: plain string comparison, as packaging does
  switch (m.op) {
    case "==":
    case "===":
      return l === r;
    case "!=":
      return l !== r;
    case "<":
      return l < r;
    case "<=":
      return l <= r;
    case ">":
      return l > r;
    case ">=":
      return l >= r;
    default:
      throw new PythonError(
        "E_MARKER",
        `marker ${JSON.stringify(expr)}: ${JSON.stringify(l)} ${m.op} ${JSON.stringify(r)} compares non-versions`,
      );
  }
}

/** Evaluate a parsed marker. `expr` is the text, for messages. */
export function evaluateMarker(m: Marker, env: MarkerEnv, expr = ""): boolean {
  switch (m.kind) {
    case "and":
      return evaluateMarker(m.left, env, expr) && evaluateMarker(m.right, env, expr);
    case "or":
      return evaluateMarker(m.left, env, expr) || evaluateMarker(m.right, env, expr);
    case "cmp":
      return compare(m, env, expr);
  }
}

/** Parse and evaluate a marker expression. */
export function markerMatches(expr: string, env: MarkerEnv): boolean {
  return evaluateMarker(parseMarker(expr), env, expr);
}
