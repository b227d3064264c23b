/**
 * The portable regular-expression subset of `when-file-matches` (shellfree-init matches it with
 * Go's RE2; the builder checks it here). A pattern is accepted only when it is in a small grammar
 * both engines read the same way, so a regex valid in RE2 but not in JavaScript (or the reverse)
 * is caught at build time with the same message the init gives. Mirrored by init/regex.go; the
 * contract fixtures (scripts/init-contract.ts) check that both agree.
 *
 *   regex   := alt            alt := concat ('|' concat)*        concat := (atom quant?)*
 *   atom    := '(' alt ')' | '(?:' alt ')' | '[' '^'? item+ ']' | '.' | '^' | '$' | escape | char
 *   quant   := ('*' | '+' | '?' | '{n}' | '{n,}' | '{n,m}') '?'?     n <= m <= 1000
 *   escape  := '\' (d D w W s S b B t n r f v | one of ^ $ \ . * + ? ( ) [ ] { } | /)
 *   item    := char | char '-' char | escape (not b B; '\-' too) ; a literal '-' first or last
 *
 * Not in the subset: lookaround, backreferences, named groups, inline flags ((?i)), \p{..},
 * \x.., \u.., POSIX classes, unescaped { } ] outside their syntax. \d \w \s \b are ASCII.
 * Nested counted repetitions may multiply to at most 1000; at most 512 characters.
 */

export const REGEX_MAX_LENGTH = 512;
const MAX_REPEAT = 1000;
const SYNTAX = "^$\\.*+?()[]{}|/";
const CLASS_ESCAPES = "dDwWsS";
const CONTROL_ESCAPES = "tnrfv";

class RegexProblem extends Error {}

class Parser {
  readonly cps: string[];
  pos = 0;
  constructor(src: string) {
    this.cps = Array.from(src);
  }
  fail(problem: string, at = this.pos): never {
    throw new RegexProblem(`${problem} at offset ${at}`);
  }
  peek(k = 0): string | undefined {
    return this.cps[this.pos + k];
  }
  /** alt: returns the largest product of repetition counts inside */
  alt(depth: number): number {
    let most = this.concat(depth);
    while (this.peek() === "|") {
      this.pos++;
      most = Math.max(most, this.concat(depth));
    }
    return most;
  }
  concat(depth: number): number {
    let most = 1;
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") return most;
      const start = this.pos;
      const atom = this.atom(depth);
      let product = atom.inner;
      const q = this.quantifier();
      if (q !== null) {
        if (!atom.repeatable) this.fail("nothing to repeat", start);
        product = atom.inner * q;
        if (product > MAX_REPEAT) this.fail("nested repetition counts multiply to more than 1000", start);
      }
      most = Math.max(most, product);
    }
  }
  /** quantifier after an atom: its count (1 for * + ?), or null when there is none */
  quantifier(): number | null {
    const c = this.peek();
    let count: number;
    if (c === "*" || c === "+" || c === "?") {
      this.pos++;
      count = 1;
    } else if (c === "{") {
      const at = this.pos;
      this.pos++;
      const n = this.number();
      if (n === null) this.fail("a literal { must be escaped as \\{", at);
      let m: number | null = n;
      if (this.peek() === ",") {
        this.pos++;
        if (this.peek() === "}") m = null;
        else {
          m = this.number();
          if (m === null) this.fail("a literal { must be escaped as \\{", at);
        }
      }
      if (this.peek() !== "}") this.fail("a literal { must be escaped as \\{", at);
      this.pos++;
      if (n > MAX_REPEAT || (m !== null && m > MAX_REPEAT)) this.fail("repetition count above 1000", at);
      if (m !== null && n > m) this.fail("repetition {n,m} with n > m", at);
      count = Math.max(n, m ?? n, 1);
    } else return null;
    if (this.peek() === "?") this.pos++; // lazy
    const next = this.peek();
    if (next === "*" || next === "+" || next === "?" || next === "{") this.fail("nothing to repeat");
    return count;
  }
  /** digits → number (anything above 4 digits counts as too many); null when there are none */
  number(): number | null {
    let s = "";
    while (this.peek() !== undefined && /^[0-9]$/.test(this.peek()!)) s += this.cps[this.pos++];
    if (s === "") return null;
    return s.length > 4 ? MAX_REPEAT + 1 : Number(s);
  }
  atom(depth: number): { repeatable: boolean; inner: number } {
    const at = this.pos;
    const c = this.cps[this.pos++];
    switch (c) {
      case "(": {
        if (this.peek() === "?") {
          if (this.peek(1) === ":") this.pos += 2;
          else this.fail(`unsupported group (?${this.peek(1) ?? ""}: only (...) and (?:...) are allowed`, at);
        }
        const inner = this.alt(depth + 1);
        if (this.peek() !== ")") this.fail("missing )", at);
        this.pos++;
        return { repeatable: true, inner };
      }
      case ")":
        return this.fail("unbalanced )", at);
      case "[":
        this.klass(at);
        return { repeatable: true, inner: 1 };
      case "]":
        return this.fail("a literal ] must be escaped as \\]", at);
      case "}":
        return this.fail("a literal } must be escaped as \\}", at);
      case "{":
        return this.fail("a literal { must be escaped as \\{", at);
      case "*":
      case "+":
      case "?":
        return this.fail("nothing to repeat", at);
      case "^":
      case "$":
        return { repeatable: false, inner: 1 };
      case "\\": {
        const e = this.cps[this.pos++];
        if (e === undefined) this.fail("trailing \\", at);
        if (e === "b" || e === "B") return { repeatable: false, inner: 1 };
        if (CLASS_ESCAPES.includes(e) || CONTROL_ESCAPES.includes(e) || SYNTAX.includes(e))
          return { repeatable: true, inner: 1 };
        return this.fail(`unsupported escape \\${e}`, at);
      }
      default:
        return { repeatable: true, inner: 1 };
    }
  }
  /** a character class; `at` is the offset of its '[' */
  klass(at: number): void {
    if (this.peek() === "^") this.pos++;
    if (this.peek() === "]")
      this.fail(this.cps[this.pos - 1] === "^" ? "[^] is not supported" : "empty class []", at);
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail("missing ]", at);
      if (c === "]") {
        this.pos++;
        return;
      }
      const itemAt = this.pos;
      const lo = this.classItem();
      if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== undefined) {
        // a range: both ends characters, not class escapes
        this.pos++;
        const hiAt = this.pos;
        const hi = this.classItem();
        if (lo === null || hi === null)
          this.fail("a - between escapes in a class must be escaped as \\-", itemAt);
        if (lo.ch.codePointAt(0)! > hi.ch.codePointAt(0)!) this.fail(`bad range ${lo.ch}-${hi.ch}`, hiAt);
      } else if (lo !== null && lo.ch === "-" && !lo.escaped && !first && this.peek() !== "]") {
        this.fail("a - in the middle of a class must be escaped as \\-", itemAt);
      }
      first = false;
    }
  }
  /** one class item: the character it stands for, or null for a class escape (\d ...) */
  classItem(): { ch: string; escaped: boolean } | null {
    const at = this.pos;
    const c = this.cps[this.pos++];
    if (c === "[") this.fail("[ inside a class must be escaped as \\[", at);
    if (c !== "\\") return { ch: c, escaped: false };
    const e = this.cps[this.pos++];
    if (e === undefined) this.fail("missing ]", at);
    if (CLASS_ESCAPES.includes(e)) return null;
    if (CONTROL_ESCAPES.includes(e))
      return { ch: { t: "\t", n: "\n", r: "\r", f: "\f", v: "\v" }[e]!, escaped: true };
    if (SYNTAX.includes(e) || e === "-") return { ch: e, escaped: true };
    return this.fail(`unsupported escape \\${e}`, at);
  }
}

/** Why `src` is not in the portable subset, or null when it is (and JavaScript compiles it). */
export function portableRegexProblem(src: string): string | null {
  const length = Array.from(src).length;
  if (length === 0) return "is empty";
  if (length > REGEX_MAX_LENGTH) return `is longer than ${REGEX_MAX_LENGTH} characters`;
  const p = new Parser(src);
  try {
    p.alt(0);
    if (p.pos < p.cps.length) p.fail("unbalanced )");
  } catch (e) {
    if (e instanceof RegexProblem) return e.message;
    throw e;
  }
  try {
    new RegExp(src, "u");
  } catch (e) {
    return `not valid: ${(e as Error).message}`;
  }
  return null;
}
