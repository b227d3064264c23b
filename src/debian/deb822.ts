/**
 * deb822 (RFC 822-like) paragraphs as used by Debian control files, Packages and Release
 * indices and apt's `.sources` files.
 *
 * - A paragraph is a run of `Field: value` lines; paragraphs are separated by blank lines
 *   (lines that are empty or only whitespace).
 * - A line starting with a space or tab continues the previous field. The value keeps the first
 *   line's text (trimmed) and each continuation line verbatim (including its leading space),
 *   joined by "\n" — the form dpkg writes back.
 * - Lines starting with `#` at column 0 are comments (apt sources files) and are skipped.
 * - CRLF line ends are accepted. Field names keep their original case; unknown fields are kept.
 */
import { DebianError } from "./errors.ts";

export type Paragraph = Record<string, string>;

function fail(where: string | undefined, line: number, what: string): never {
  throw new DebianError("E_DEB822", `${where ?? "deb822 input"}:${line}: ${what}`);
}

/**
 * Calls `onParagraph(fields, startOffset, endOffset)` for each paragraph of `text`; offsets are
 * the UTF-16 offsets of the paragraph's first character and one past its last line.
 *
 * With `want`, only those fields get their values (the others are still checked, and appear
 * with the value ""): a reader of a few fields of a large index builds no other strings.
 */
export function forEachParagraph(
  text: string,
  onParagraph: (p: Paragraph, start: number, end: number) => void,
  where?: string,
  want?: ReadonlySet<string>,
): void {
  const n = text.length;
  let pos = 0;
  let lineNo = 0;
  let cur: Paragraph | null = null;
  let curStart = 0;
  let curEnd = 0;
  let lastField: string | null = null;
  let keep = true;
  while (pos < n) {
    let nl = text.indexOf("\n", pos);
    if (nl < 0) nl = n;
    let end = nl;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    lineNo++;
    const lineStart = pos;
    pos = nl + 1;
    const c0 = text.charCodeAt(lineStart);
    if (c0 === 35 /* # */) continue;
    if (c0 === 32 || c0 === 9) {
      // continuation or whitespace-only line
      let i = lineStart;
      while (i < end) {
        const c = text.charCodeAt(i);
        if (c !== 32 && c !== 9) break;
        i++;
      }
      if (i === end) {
        // blank line: ends the paragraph
        if (cur) {
          onParagraph(cur, curStart, curEnd);
          cur = null;
          lastField = null;
        }
        continue;
      }
      if (!cur || lastField === null) fail(where, lineNo, "continuation line outside a field");
      if (keep) cur[lastField] = `${cur[lastField]}\n${text.slice(lineStart, end).trimEnd()}`;
      curEnd = Math.min(pos, n);
      continue;
    }
    if (end === lineStart) {
      if (cur) {
        onParagraph(cur, curStart, curEnd);
        cur = null;
        lastField = null;
      }
      continue;
    }
    const colon = text.indexOf(":", lineStart);
    if (colon < 0 || colon >= end)
      fail(
        where,
        lineNo,
        `expected "Field: value", got ${JSON.stringify(text.slice(lineStart, Math.min(end, lineStart + 60)))}`,
      );
    const name = text.slice(lineStart, colon);
    if (name.length === 0 || name === "__proto__" || /\s/.test(name))
      fail(where, lineNo, `invalid field name ${JSON.stringify(name)}`);
    if (!cur) {
      cur = {};
      curStart = lineStart;
    }
    if (Object.hasOwn(cur, name)) fail(where, lineNo, `duplicate field ${JSON.stringify(name)}`);
    keep = want === undefined || want.has(name);
    cur[name] = keep ? text.slice(colon + 1, end).trim() : "";
    lastField = name;
    curEnd = Math.min(pos, n);
  }
  if (cur) onParagraph(cur, curStart, curEnd);
}

/** All paragraphs of `text`; throws DebianError E_DEB822 naming `where` and the line. */
export function parseDeb822(text: string, where?: string): Array<Record<string, string>> {
  const out: Paragraph[] = [];
  forEachParagraph(text, (p) => out.push(p), where);
  return out;
}

/** Field lookup ignoring case (deb822 field names are case-insensitive). */
export function field(p: Paragraph, name: string): string | undefined {
  const v = p[name];
  if (v !== undefined) return v;
  const lower = name.toLowerCase();
  for (const k of Object.keys(p)) if (k.toLowerCase() === lower) return p[k];
  return undefined;
}
