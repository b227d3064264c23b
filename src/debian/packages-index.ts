/**
 * The compact form of a Packages index and its streaming parser.
 *
 * A Packages file is 50–60 MB of deb822 text of which the resolver needs a few fields. The
 * parser takes the decompressed bytes in chunks as they arrive (so download, decompression and
 * parsing overlap and the whole text is never held), and keeps per package only the columns
 * below, each column one "\0"-joined string, plus the byte range of each paragraph in the raw
 * index (its full fields are read back from the raw file on demand).
 *
 * The deb822 rules are those of src/debian/deb822.ts (continuation lines, blank lines of
 * spaces, CRLF, `#` comment lines); this scanner only builds strings for the fields it keeps.
 */
import { DebianError } from "./errors.ts";

export const INDEX_FORMAT = 4;

/** Columns stored per package, in this order (one "\0"-joined string per column). */
export const COLS = [
  "name",
  "version",
  "architecture",
  "multiArch",
  "essential",
  "depends",
  "preDepends",
  "recommends",
  "provides",
  "conflicts",
  "breaks",
  "filename",
  "size",
  "sha256",
  "suggests",
  "replaces",
  "enhances",
  "priority",
  "important",
] as const;
export const NCOLS = COLS.length;

export interface ParsedIndex {
  format: number;
  count: number;
  /**
   * NCOLS columns, each a list of strings that hold, joined by "\0", the column's values of
   * consecutive runs of packages (one string per parsed block: never joined into one, which
   * would copy the whole column once more)
   */
  cols: string[][];
  /** [start, end) byte offsets of each paragraph in the raw index */
  offsets: Float64Array;
}

/** The fields read, by slot. */
const FIELDS = [
  "Package",
  "Version",
  "Architecture",
  "Multi-Arch",
  "Essential",
  "Depends",
  "Pre-Depends",
  "Recommends",
  "Provides",
  "Conflicts",
  "Breaks",
  "Filename",
  "Size",
  "SHA256",
  "Suggests",
  "Replaces",
  "Enhances",
  "Priority",
  "Important",
  "Protected",
] as const;
/** Kept fields by name length, then first character: candidates for a name in the text. */
const BY_LENGTH: Array<Array<[number, string, number]>> = [];
for (const [slot, f] of FIELDS.entries()) (BY_LENGTH[f.length] ??= []).push([f.charCodeAt(0), f, slot]);

/** The slot of the field named by text[start, end), or -1 (matched in place, no string made). */
function slotOf(text: string, start: number, end: number): number {
  const cands = BY_LENGTH[end - start];
  if (!cands) return -1;
  const c0 = text.charCodeAt(start);
  for (const [c, f, slot] of cands) if (c === c0 && text.startsWith(f, start)) return slot;
  return -1;
}

const isSpace = (c: number) => c === 32 || c === 9;

/** text[start, end) without surrounding blanks, sliced once. */
function value(text: string, start: number, end: number): string {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}
const F_IMPORTANT = 18;
const F_PROTECTED = 19;

const MULTI_ARCH = new Set(["same", "foreign", "allowed", "no"]);
const SHA_RE = /^[0-9a-f]{64}$/i;
const DIGITS_RE = /^\d+$/;

/** Raw bytes are gathered into blocks of about this size before they are scanned. */
const BLOCK = 1 << 20;

/**
 * Streaming Packages parser: `push` decompressed chunks in order, then `end()`. Errors are
 * DebianErrors naming `where` and the line (E_DEB822) or the package (E_INDEX).
 */
export class IndexParser {
  readonly #where: string;
  /** text not scanned yet (latin1: one character per byte) */
  #pending = "";
  /** pending length at which to look for a blank line again */
  #drainAt = BLOCK;
  /** bytes already scanned (the byte offset of the first pending byte) */
  #base = 0;
  /** lines already scanned */
  #line = 0;
  #count = 0;
  readonly #parts: string[][] = Array.from({ length: NCOLS }, () => []);
  #offsets: number[] = [];
  // per-block columns, joined at the end of each block (so a block's text can be freed)
  #block: string[][] = Array.from({ length: NCOLS }, () => []);
  #blockCount = 0;
  readonly #vals: Array<string | undefined> = new Array(FIELDS.length);

  constructor(where: string) {
    this.#where = where;
  }

  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    // Chunks become text at once and are gathered as text: the bytes are dropped as they come
    // (no large native buffers, whose freeing would leave the C heap fragmented), and a large
    // chunk is scanned block by block, so its text is never held whole.
    for (let at = 0; at < buf.length; at += BLOCK) {
      this.#pending += buf.toString("latin1", at, Math.min(buf.length, at + BLOCK));
      if (this.#pending.length >= this.#drainAt) this.#drain(false);
    }
  }

  end(): ParsedIndex {
    this.#drain(true);
    const cols = this.#parts;
    const offsets = Float64Array.from(this.#offsets);
    this.#offsets = [];
    return { format: INDEX_FORMAT, count: this.#count, cols, offsets };
  }

  #drain(final: boolean): void {
    const text = this.#pending;
    if (text.length === 0) return;
    // scan up to the last blank line; the paragraph after it may not be complete yet
    let cut = text.length;
    if (!final) {
      const blank = text.lastIndexOf("\n\n");
      if (blank < 0) {
        // (one long paragraph: look again one block later, not at every chunk)
        this.#drainAt = text.length + BLOCK;
        return;
      }
      cut = blank + 2;
      this.#drainAt = BLOCK;
    }
    this.#scan(cut === text.length ? text : text.slice(0, cut), final);
    this.#base += cut;
    this.#pending = cut === text.length ? "" : text.slice(cut);
  }

  #fail(line: number, what: string): never {
    throw new DebianError("E_DEB822", `${this.#where}:${line}: ${what}`);
  }

  /**
   * Scan whole paragraphs of `text` (latin1: one character per byte, so offsets are byte
   * offsets; every kept field is ASCII in Debian indices).
   */
  #scan(text: string, final: boolean): void {
    const vals = this.#vals;
    const n = text.length;
    let pos = 0;
    let line = this.#line;
    let inPara = false;
    let start = 0;
    let end = 0;
    /** slot of the field being continued; -1: a field not kept; -2: none */
    let last = -2;
    const flush = () => {
      this.#emit(start, end);
      vals.fill(undefined);
      inPara = false;
      last = -2;
    };
    while (pos < n) {
      let nl = text.indexOf("\n", pos);
      if (nl < 0) nl = n;
      let e = nl;
      if (e > pos && text.charCodeAt(e - 1) === 13) e--;
      line++;
      const ls = pos;
      pos = nl + 1;
      if (e === ls) {
        if (inPara) flush();
        continue;
      }
      const c0 = text.charCodeAt(ls);
      if (c0 === 32 || c0 === 9) {
        let i = ls + 1;
        while (i < e) {
          const c = text.charCodeAt(i);
          if (c !== 32 && c !== 9) break;
          i++;
        }
        if (i === e) {
          if (inPara) flush();
          continue;
        }
        if (last === -2) this.#fail(line, "continuation line outside a field");
        if (last >= 0) vals[last] = `${vals[last]}\n${text.slice(ls, e).trimEnd()}`;
        end = pos < n ? pos : n;
        continue;
      }
      if (c0 === 35 /* # */) continue;
      const colon = text.indexOf(":", ls);
      if (colon < 0 || colon >= e)
        this.#fail(
          line,
          `expected "Field: value", got ${JSON.stringify(text.slice(ls, Math.min(e, ls + 60)))}`,
        );
      if (!inPara) {
        inPara = true;
        start = ls;
      }
      const slot = slotOf(text, ls, colon);
      if (slot < 0) {
        // (no string is made for a field that is not kept)
        if (colon === ls || /\s/.test(text.slice(ls, colon)))
          this.#fail(line, `invalid field name ${JSON.stringify(text.slice(ls, colon))}`);
        last = -1;
      } else {
        if (vals[slot] !== undefined) this.#fail(line, `duplicate field ${JSON.stringify(FIELDS[slot])}`);
        vals[slot] = value(text, colon + 1, e);
        last = slot;
      }
      end = pos < n ? pos : n;
    }
    if (inPara) {
      if (!final) this.#fail(line, "internal: paragraph split across blocks");
      flush();
    }
    this.#line = line;
    this.#endBlock();
  }

  #emit(start: number, end: number): void {
    const v = this.#vals;
    const where = this.#where;
    const name = v[0];
    if (name === undefined)
      throw new DebianError(
        "E_INDEX",
        `${where}: paragraph at byte ${this.#base + start} has no Package field`,
      );
    const version = v[1];
    const arch = v[2];
    const filename = v[11];
    const size = v[12];
    const sha = v[13];
    if (!version || !arch || !filename || !sha || !size) {
      const missing = (
        [
          ["Version", version],
          ["Architecture", arch],
          ["Filename", filename],
          ["SHA256", sha],
          ["Size", size],
        ] as const
      )
        .filter(([, x]) => !x)
        .map(([k]) => k);
      throw new DebianError("E_INDEX", `${where}: package ${name} lacks ${missing.join(", ")}`);
    }
    if (!SHA_RE.test(sha) || !DIGITS_RE.test(size))
      throw new DebianError("E_INDEX", `${where}: package ${name} has a malformed SHA256 or Size`);
    const ma = (v[3] ?? "").trim().toLowerCase();
    const flag = (f: string | undefined) => (f ?? "").trim().toLowerCase() === "yes";
    const b = this.#block;
    const put = (i: number, s: string) => {
      if (s.includes("\0")) throw new DebianError("E_INDEX", `${where}: NUL byte in a field`);
      b[i].push(s);
    };
    put(0, name);
    put(1, version);
    put(2, arch);
    put(3, MULTI_ARCH.has(ma) ? ma : "");
    put(4, (v[4] ?? "").toLowerCase() === "yes" ? "yes" : "");
    for (let i = 5; i <= 10; i++) put(i, v[i] ?? "");
    put(11, filename);
    put(12, size);
    put(13, sha.toLowerCase());
    for (let i = 14; i <= 17; i++) put(i, v[i] ?? "");
    put(18, flag(v[F_IMPORTANT]) || flag(v[F_PROTECTED]) ? "yes" : "");
    this.#offsets.push(this.#base + start, this.#base + end);
    this.#count++;
    this.#blockCount++;
  }

  #endBlock(): void {
    if (this.#blockCount === 0) return;
    for (let i = 0; i < NCOLS; i++) {
      this.#parts[i].push(this.#block[i].join("\0"));
      this.#block[i] = [];
    }
    this.#blockCount = 0;
  }
}

/** Parse a whole raw Packages index into the compact form. */
export function parseIndex(raw: Uint8Array, where: string): ParsedIndex {
  const p = new IndexParser(where);
  p.push(raw);
  return p.end();
}
