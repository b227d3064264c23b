// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${NAME} syntax is what this file reads and names in its messages
/**
 * Environment expansion in init.json strings: `${NAME}`, `${NAME:-default}` and `$$` (a literal
 * `$`), nothing else — no `$NAME` without braces, no command substitution, no globbing, no
 * nesting. Every `$` must start one of those three forms; any other `$` is an error (so a shell
 * habit such as `$HOME` or `$(hostname)` is caught at build time rather than passed on as text).
 *
 *   ${NAME}           the variable's value; an error at start-up when it is not set (it may be
 *                     set to the empty string)
 *   ${NAME:-default}  the value, or `default` when the variable is unset or empty; the default
 *                     is literal text up to the first `}`, in which `$$` is a `$` and any other
 *                     `$` is an error
 *   NAME              letters, digits and `_`, not starting with a digit
 *
 * The builder checks the syntax (src/init/config.ts); the native init expands from its own
 * environment at start (init/expand.go, the same grammar and messages; the contract fixtures of
 * scripts/init-contract.ts hold both to it). Pure: no I/O, no imports.
 */

/** A piece of a string: literal text, or a variable with an optional default. */
export type Piece = { text: string } | { name: string; default?: string };

/** A malformed string: `problem` is the part of the message before ", got ...". */
export class TemplateProblem extends Error {}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

export const BARE_DOLLAR = 'a "$" must start ${NAME}, ${NAME:-default} or $$ (a literal "$")';
export const UNTERMINATED = '"${" has no closing "}"';
export const UNSUPPORTED = "only ${NAME} and ${NAME:-default} are supported";
export const NESTED = 'a default cannot contain "${"';

function badName(name: string): string {
  return `bad variable name ${JSON.stringify(name)} (letters, digits and "_", not starting with a digit)`;
}

/** `$$` → `$` in a default's text; any other `$` is a problem. */
function defaultText(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "$") {
      out += s[i];
      continue;
    }
    if (s[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    throw new TemplateProblem(s[i + 1] === "{" ? NESTED : BARE_DOLLAR);
  }
  return out;
}

/** Splits s into pieces; throws a TemplateProblem when it is malformed. */
export function parseTemplate(s: string): Piece[] {
  const pieces: Piece[] = [];
  let lit = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== "$") {
      lit += c;
      i++;
      continue;
    }
    if (s[i + 1] === "$") {
      lit += "$";
      i += 2;
      continue;
    }
    if (s[i + 1] !== "{") throw new TemplateProblem(BARE_DOLLAR);
    const close = s.indexOf("}", i + 2);
    if (close < 0) throw new TemplateProblem(UNTERMINATED);
    let j = i + 2;
    while (j < close && NAME_CHAR.test(s[j])) j++;
    const name = s.slice(i + 2, j);
    const rest = s.slice(j, close);
    if (rest !== "" && !rest.startsWith(":-")) throw new TemplateProblem(UNSUPPORTED);
    if (name === "" || !NAME_START.test(name[0])) throw new TemplateProblem(badName(name));
    if (lit !== "") pieces.push({ text: lit });
    lit = "";
    pieces.push(rest === "" ? { name } : { name, default: defaultText(rest.slice(2)) });
    i = close + 1;
  }
  if (lit !== "") pieces.push({ text: lit });
  return pieces;
}

/** The variables of a template, each once, in order of appearance. */
export function templateNames(pieces: Piece[]): string[] {
  const names: string[] = [];
  for (const p of pieces) if ("name" in p && !names.includes(p.name)) names.push(p.name);
  return names;
}

/** A variable with no default and no value: `main[3]: environment variable X is not set ...`. */
export class UnsetVariable extends Error {
  readonly variable: string;
  constructor(name: string) {
    super(
      `environment variable ${name} is not set and \${${name}} has no default (write \${${name}:-default})`,
    );
    this.variable = name;
  }
}

/**
 * The value of a template: variables from lookup (undefined: not set); a default applies when
 * its variable is unset or empty. Throws UnsetVariable for a `${NAME}` whose NAME is not set.
 */
export function expandPieces(pieces: Piece[], lookup: (name: string) => string | undefined): string {
  let out = "";
  for (const p of pieces) {
    if ("text" in p) {
      out += p.text;
      continue;
    }
    const v = lookup(p.name);
    if (p.default !== undefined) out += v === undefined || v === "" ? p.default : v;
    else if (v === undefined) throw new UnsetVariable(p.name);
    else out += v;
  }
  return out;
}

/**
 * What is known of a template before run time (every variable unset): defaults substituted,
 * and `known` is the text up to the first `${NAME}` without a default (`complete` when there is
 * none). `shown` keeps such variables as written, for messages.
 */
export function withDefaults(pieces: Piece[]): { known: string; complete: boolean; shown: string } {
  let known = "";
  let shown = "";
  let complete = true;
  for (const p of pieces) {
    let t: string;
    if ("text" in p) t = p.text;
    else if (p.default !== undefined) t = p.default;
    else {
      complete = false;
      shown += `\${${p.name}}`;
      continue;
    }
    if (complete) known += t;
    shown += t;
  }
  return { known, complete, shown };
}
