/**
 * Regular expressions as container-structure-test compiles them: Go's `regexp.Compile(pattern)`,
 * RE2 syntax, no flags added. So `^`/`$` anchor at the start/end of the whole text (not of each
 * line: `(?m)` turns that on), `.` does not match a newline (`(?s)`), `(?i)`, `[[:digit:]]`,
 * `\Q…\E` and `\pL` work, and Perl-only syntax (look-around, back-references) is refused.
 * re2js is a faithful JavaScript port of RE2 (via RE2/J, itself a port of Go's package).
 */
import { RE2JS } from "re2js";

export interface Re2 {
  readonly pattern: string;
  /** does the pattern match anywhere in `text` (Go's MatchString) */
  test(text: string): boolean;
  /** the first match, for messages */
  firstMatch(text: string): string | undefined;
}

/** Compile `pattern` as Go's regexp.Compile does; throws an Error with RE2's message when invalid. */
export function compileRe2(pattern: string): Re2 {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new Error((e as Error).message);
  }
  return {
    pattern,
    test: (text) => re.test(text),
    firstMatch: (text) => {
      const m = re.exec(text);
      return m ? String(m[0]) : undefined;
    },
  };
}

/** The RE2 error message for `pattern`, or undefined when it compiles. */
export function re2Error(pattern: string): string | undefined {
  try {
    compileRe2(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
