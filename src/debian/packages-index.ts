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
/** Kept fields by name length, then first byte: candidates for a name in the text. */
const BY_LENGTH: Array<Array<[number, Buffer, number]>> = [];
for (const [slot, f] of FIELDS.entries())
  (BY_LENGTH[f.length] ??= []).push([f.charCodeAt(0), Buffer.from(f, "latin1"), slot]);

/** The slot of the field named by b[start, end), or -1 (matched in place, no string made). */
function slotOf(b: Buffer, start: number, end: number): number {
  const cands = BY_LENGTH[end - start];
  if (!cands) return -1;
  const c0 = b[start];
  for (const [c, f, slot] of cands) {
    if (c !== c0) continue;
    let i = 1;
    while (i < f.length && b[start + i] === f[i]) i++;
    if (i === f.length) return slot;
  }
  return -1;
}

const isSpace = (c: number) => c === 32 || c === 9;
/** What JavaScript's `\s` matches among latin1 characters. */
const isJsSpace = (c: number) => (c >= 9 && c <= 13) || c === 32 || c === 160;

const F_IMPORTANT = 18;
const F_PROTECTED = 19;

const MULTI_ARCH = new Set(["same", "foreign", "allowed", "no"]);
const SHA_RE = /^[0-9a-f]{64}$/i;
const DIGITS_RE = /^\d+$/;
const NLNL = Buffer.from("\n\n");

/** Raw bytes are gathered into blocks of about this size before they are scanned. */
const BLOCK = 1 << 20;

/** One column's values of the current block, as latin1 bytes joined by NUL. */
class ColumnBytes {
  buf = Buffer.allocUnsafe(64 * 1024);
  len = 0;
  #room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  sep(first: boolean): void {
    if (first) return;
    this.#room(1);
    this.buf[this.len++] = 0;
  }
  bytes(src: Buffer, start: number, end: number): void {
    this.#room(end - start);
    this.len += src.copy(this.buf, this.len, start, end);
  }
  text(s: string): void {
    this.#room(s.length);
    this.len += this.buf.write(s, this.len, "latin1");
  }
  /** the block's values as one string; the bytes are reused for the next block */
  take(): string {
    const s = this.buf.toString("latin1", 0, this.len);
    this.len = 0;
    return s;
  }
}

/**
 * Streaming Packages parser: `push` decompressed chunks in order, then `end()`. Errors are
 * DebianErrors naming `where` and the line (E_DEB822) or the package (E_INDEX).
 *
 * It works on the bytes: a kept value is copied from the input into its column's bytes, and a
 * block's column becomes a string once (no string per value or per line: a 60 MB index would
 * otherwise make a million short-lived strings, and V8's heap would grow to several times what
 * the result needs).
 */
export class IndexParser {
  readonly #where: string;
  /** bytes not scanned yet: #buf[0, #len) */
  #buf = Buffer.allocUnsafe(BLOCK + 256 * 1024);
  #len = 0;
  /** pending length at which to look for a blank line again */
  #drainAt = BLOCK;
  /** bytes already scanned (the byte offset of #buf[0]) */
  #base = 0;
  /** lines already scanned */
  #line = 0;
  #count = 0;
  readonly #parts: string[][] = Array.from({ length: NCOLS }, () => []);
  #offsets: number[] = [];
  readonly #cols = Array.from({ length: NCOLS }, () => new ColumnBytes());
  #blockCount = 0;
  /** the paragraph's kept values: [start, end) in #buf, or a string (a continued value) */
  readonly #vs = new Int32Array(FIELDS.length).fill(-1);
  readonly #ve = new Int32Array(FIELDS.length);
  readonly #vstr: Array<string | undefined> = new Array(FIELDS.length);

  constructor(where: string) {
    this.#where = where;
  }

  push(chunk: Uint8Array): void {
    const all = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    // (a large chunk is taken block by block: the pending bytes stay about a block long)
    for (let at = 0; at < all.length; at += BLOCK) {
      const src = all.subarray(at, Math.min(all.length, at + BLOCK));
      if (this.#len + src.length > this.#buf.length) {
        const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + src.length));
        this.#buf.copy(next, 0, 0, this.#len);
        this.#buf = next;
      }
      this.#len += src.copy(this.#buf, this.#len);
      if (this.#len >= this.#drainAt) this.#drain(false);
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
    const n = this.#len;
    if (n === 0) return;
    // scan up to the last blank line; the paragraph after it may not be complete yet
    let cut = n;
    if (!final) {
      const blank = n >= 2 ? this.#buf.lastIndexOf(NLNL, n - 2) : -1;
      if (blank < 0) {
        // (one long paragraph: look again one block later, not at every chunk)
        this.#drainAt = n + BLOCK;
        return;
      }
      cut = blank + 2;
      this.#drainAt = BLOCK;
    }
    this.#scan(cut, final);
    this.#base += cut;
    this.#buf.copy(this.#buf, 0, cut, n);
    this.#len = n - cut;
  }

  #fail(line: number, what: string): never {
    throw new DebianError("E_DEB822", `${this.#where}:${line}: ${what}`);
  }

  /** A kept value as a string (for checks and messages). */
  #str(slot: number): string | undefined {
    const s = this.#vstr[slot];
    if (s !== undefined) return s;
    const a = this.#vs[slot];
    return a < 0 ? undefined : this.#buf.toString("latin1", a, this.#ve[slot]);
  }

  /**
   * Scan whole paragraphs of #buf[0, n) (latin1: one character per byte, so offsets are byte
   * offsets; every kept field is ASCII in Debian indices).
   */
  #scan(n: number, final: boolean): void {
    const b = this.#buf;
    const vs = this.#vs;
    const ve = this.#ve;
    const vstr = this.#vstr;
    let pos = 0;
    let line = this.#line;
    let inPara = false;
    let start = 0;
    let end = 0;
    /** slot of the field being continued; -1: a field not kept; -2: none */
    let last = -2;
    const flush = () => {
      this.#emit(start, end);
      vs.fill(-1);
      vstr.fill(undefined);
      inPara = false;
      last = -2;
    };
    while (pos < n) {
      let nl = pos;
      while (nl < n && b[nl] !== 10) nl++;
      let e = nl;
      if (e > pos && b[e - 1] === 13) e--;
      line++;
      const ls = pos;
      pos = nl + 1;
      if (e === ls) {
        if (inPara) flush();
        continue;
      }
      const c0 = b[ls];
      if (c0 === 32 || c0 === 9) {
        let i = ls + 1;
        while (i < e && isSpace(b[i])) i++;
        if (i === e) {
          if (inPara) flush();
          continue;
        }
        if (last === -2) this.#fail(line, "continuation line outside a field");
        if (last >= 0) vstr[last] = `${this.#str(last)}\n${b.toString("latin1", ls, e).trimEnd()}`;
        end = pos < n ? pos : n;
        continue;
      }
      if (c0 === 35 /* # */) continue;
      let colon = ls;
      while (colon < e && b[colon] !== 58) colon++;
      if (colon >= e)
        this.#fail(
          line,
          `expected "Field: value", got ${JSON.stringify(b.toString("latin1", ls, Math.min(e, ls + 60)))}`,
        );
      if (!inPara) {
        inPara = true;
        start = ls;
      }
      const slot = slotOf(b, ls, colon);
      if (slot < 0) {
        // (no string is made for a field that is not kept)
        let bad = colon === ls;
        for (let i = ls; !bad && i < colon; i++) bad = isJsSpace(b[i]);
        if (bad) this.#fail(line, `invalid field name ${JSON.stringify(b.toString("latin1", ls, colon))}`);
        last = -1;
      } else {
        if (vs[slot] >= 0 || vstr[slot] !== undefined)
          this.#fail(line, `duplicate field ${JSON.stringify(FIELDS[slot])}`);
        let a = colon + 1;
        let z = e;
        while (a < z && isSpace(b[a])) a++;
        while (z > a && isSpace(b[z - 1])) z--;
        vs[slot] = a;
        ve[slot] = z;
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

  /** Whether a kept value has a NUL byte (which would break the "\0"-joined columns). */
  #hasNul(slot: number): boolean {
    const s = this.#vstr[slot];
    if (s !== undefined) return s.includes("\0");
    const a = this.#vs[slot];
    if (a < 0) return false;
    const b = this.#buf;
    for (let i = a, z = this.#ve[slot]; i < z; i++) if (b[i] === 0) return true;
    return false;
  }

  /** Append kept value `slot` (absent: "") to column `col`. */
  #put(col: number, slot: number, first: boolean): void {
    const out = this.#cols[col];
    out.sep(first);
    const s = this.#vstr[slot];
    if (s !== undefined) out.text(s);
    else if (this.#vs[slot] >= 0) out.bytes(this.#buf, this.#vs[slot], this.#ve[slot]);
  }

  #emit(start: number, end: number): void {
    const where = this.#where;
    const name = this.#str(0);
    if (name === undefined)
      throw new DebianError(
        "E_INDEX",
        `${where}: paragraph at byte ${this.#base + start} has no Package field`,
      );
    const version = this.#str(1);
    const arch = this.#str(2);
    const filename = this.#str(11);
    const size = this.#str(12);
    const sha = this.#str(13);
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
    // (Multi-Arch and Essential are stored normalized, the SHA256 and Size are checked above)
    for (let slot = 0; slot < F_IMPORTANT; slot++)
      if (slot !== 3 && slot !== 4 && this.#hasNul(slot))
        throw new DebianError("E_INDEX", `${where}: NUL byte in a field`);
    const ma = (this.#str(3) ?? "").trim().toLowerCase();
    const flag = (f: string | undefined) => (f ?? "").trim().toLowerCase() === "yes";
    const first = this.#blockCount === 0;
    const c = this.#cols;
    this.#put(0, 0, first);
    this.#put(1, 1, first);
    this.#put(2, 2, first);
    c[3].sep(first);
    c[3].text(MULTI_ARCH.has(ma) ? ma : "");
    c[4].sep(first);
    c[4].text((this.#str(4) ?? "").toLowerCase() === "yes" ? "yes" : "");
    for (let i = 5; i <= 12; i++) this.#put(i, i, first);
    c[13].sep(first);
    c[13].text(sha.toLowerCase());
    for (let i = 14; i <= 17; i++) this.#put(i, i, first);
    c[18].sep(first);
    c[18].text(flag(this.#str(F_IMPORTANT)) || flag(this.#str(F_PROTECTED)) ? "yes" : "");
    this.#offsets.push(this.#base + start, this.#base + end);
    this.#count++;
    this.#blockCount++;
  }

  #endBlock(): void {
    if (this.#blockCount === 0) return;
    for (let i = 0; i < NCOLS; i++) this.#parts[i].push(this.#cols[i].take());
    this.#blockCount = 0;
  }
}

/** Parse a whole raw Packages index into the compact form. */
export function parseIndex(raw: Uint8Array, where: string): ParsedIndex {
  const p = new IndexParser(where);
  p.push(raw);
  return p.end();
}
