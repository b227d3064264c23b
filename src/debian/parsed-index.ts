/**
 * A parsed Packages index: its columns in memory (each value sliced out of its block on use), the
 * packages read off them (`fields` parsed from the raw index only when asked for), and its
 * compact form on disk, the parsed-index cache (archive.ts decides when to use it).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { Readable } from "node:stream";
import { deserialize, serialize } from "node:v8";
import { writeStreamAtomic } from "../util/atomic.ts";
import { parseDeb822 } from "./deb822.ts";
import { DebianError } from "./errors.ts";
import { INDEX_FORMAT, NCOLS, type ParsedIndex } from "./packages-index.ts";
import type { AptSource, BinaryPackage } from "./types.ts";

const C_ARCH = 2;

/** Where each "\0"-separated value of `part` starts, and its length + 1 at the end. */
function valueStarts(part: string): Int32Array {
  let n = 1;
  for (let i = part.indexOf("\0"); i >= 0; i = part.indexOf("\0", i + 1)) n++;
  const starts = new Int32Array(n + 1);
  let j = 1;
  for (let i = part.indexOf("\0"); i >= 0; i = part.indexOf("\0", i + 1)) starts[j++] = i + 1;
  starts[n] = part.length + 1;
  return starts;
}

/**
 * One loaded index: its values are sliced out of the columns on use (a resolver reads a few columns of every
 * package but the rest only for the closure), and the raw index on disk is read only when a
 * package's full `fields` are asked for.
 */
export class LoadedIndex {
  readonly source: AptSource;
  readonly rawPath: string;
  readonly offsets: Float64Array;
  readonly #parts: string[][];
  /** per column, per block: where each value starts in the block's string (and one past the end + 1) */
  readonly #starts: Array<Array<Int32Array | undefined>>;
  /** index of the first package of each block, and one past the last */
  readonly #blockStart: Int32Array;
  /** the block of each package */
  readonly #blockOf: Uint16Array | Int32Array;
  constructor(idx: ParsedIndex, source: AptSource, rawPath: string) {
    this.source = source;
    this.rawPath = rawPath;
    this.offsets = idx.offsets;
    this.#parts = idx.cols;
    const names = idx.cols[0];
    this.#starts = Array.from({ length: NCOLS }, () => new Array(names.length));
    // every column has the same blocks of packages: count them in the names column
    this.#blockStart = new Int32Array(names.length + 1);
    this.#blockOf = names.length < 65536 ? new Uint16Array(idx.count) : new Int32Array(idx.count);
    let k = 0;
    for (let b = 0; b < names.length; b++) {
      const part = names[b];
      let n = 1;
      for (let i = part.indexOf("\0"); i >= 0; i = part.indexOf("\0", i + 1)) n++;
      this.#blockStart[b] = k;
      this.#blockOf.fill(b, k, k + n);
      k += n;
    }
    this.#blockStart[names.length] = k;
    if (k !== idx.count)
      throw new DebianError("E_INDEX", `${rawPath}: parsed index is inconsistent; run again`);
  }
  /**
   * Column `i` of package `k`, sliced out of its block's string. Where each value of a block
   * starts is found on the block's first use (one Int32Array per block and column): no array
   * of strings per block, so a scan over every package (the resolver reads nine columns of most
   * of the archive) leaves only the values it keeps.
   */
  get(i: number, k: number): string {
    const b = this.#blockOf[k];
    const part = this.#parts[i][b];
    const starts = (this.#starts[i][b] ??= valueStarts(part));
    const j = k - this.#blockStart[b];
    return part.slice(starts[j], starts[j + 1] - 1);
  }
  /** The paragraph's full fields: only its bytes are read from the raw index on disk. */
  paragraph(k: number): Record<string, string> {
    const start = this.offsets[2 * k];
    const len = this.offsets[2 * k + 1] - start;
    const buf = Buffer.allocUnsafe(len);
    try {
      const fd = openSync(this.rawPath, "r");
      try {
        let got = 0;
        while (got < len) {
          const n = readSync(fd, buf, got, len - got, start + got);
          if (n === 0) break;
          got += n;
        }
        if (got !== len) throw Object.assign(new Error("short read"), { code: "ETRUNCATED" });
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw new DebianError(
        "E_INDEX",
        `cached index ${this.rawPath} is unreadable (${(e as NodeJS.ErrnoException).code ?? e}); run again to re-fetch it`,
      );
    }
    return parseDeb822(buf.toString("utf8"), this.rawPath)[0] ?? {};
  }
}

type MultiArch = "same" | "foreign" | "allowed" | "no";

/** A package of an index: plain data read from the index's columns; `fields` parsed on first use. */
class IndexedPackage implements BinaryPackage {
  readonly #ix: LoadedIndex;
  readonly #k: number;
  #fields?: Record<string, string>;
  constructor(ix: LoadedIndex, k: number) {
    this.#ix = ix;
    this.#k = k;
  }
  get name(): string {
    return this.#ix.get(0, this.#k);
  }
  get version(): string {
    return this.#ix.get(1, this.#k);
  }
  get architecture(): string {
    return this.#ix.get(2, this.#k);
  }
  get multiArch(): MultiArch | undefined {
    return (this.#ix.get(3, this.#k) || undefined) as MultiArch | undefined;
  }
  get essential(): boolean {
    return this.#ix.get(4, this.#k) === "yes";
  }
  get depends(): string {
    return this.#ix.get(5, this.#k);
  }
  get preDepends(): string {
    return this.#ix.get(6, this.#k);
  }
  get recommends(): string {
    return this.#ix.get(7, this.#k);
  }
  get provides(): string {
    return this.#ix.get(8, this.#k);
  }
  get conflicts(): string {
    return this.#ix.get(9, this.#k);
  }
  get breaks(): string {
    return this.#ix.get(10, this.#k);
  }
  get filename(): string {
    return this.#ix.get(11, this.#k);
  }
  get size(): number {
    return Number(this.#ix.get(12, this.#k));
  }
  get sha256(): string {
    return this.#ix.get(13, this.#k);
  }
  get suggests(): string {
    return this.#ix.get(14, this.#k);
  }
  get replaces(): string {
    return this.#ix.get(15, this.#k);
  }
  get enhances(): string {
    return this.#ix.get(16, this.#k);
  }
  get priority(): string {
    return this.#ix.get(17, this.#k);
  }
  get important(): boolean {
    return this.#ix.get(18, this.#k) === "yes";
  }
  get source(): AptSource {
    return this.#ix.source;
  }
  get fields(): Record<string, string> {
    this.#fields ??= this.#ix.paragraph(this.#k);
    return this.#fields;
  }
  /** A plain-object copy (every property of BinaryPackage as an own enumerable property). */
  toJSON(): BinaryPackage {
    const o: BinaryPackage = {
      name: this.name,
      version: this.version,
      architecture: this.architecture,
      essential: this.essential,
      depends: this.depends,
      preDepends: this.preDepends,
      recommends: this.recommends,
      provides: this.provides,
      conflicts: this.conflicts,
      breaks: this.breaks,
      filename: this.filename,
      size: this.size,
      sha256: this.sha256,
      source: this.source,
      fields: this.fields,
    };
    if (this.multiArch) o.multiArch = this.multiArch;
    return o;
  }
}

export function materialize(ix: LoadedIndex, count: number, arch: string, out: BinaryPackage[]): void {
  if (count === 0) return;
  for (let k = 0; k < count; k++) {
    const a = ix.get(C_ARCH, k);
    if (a !== arch && a !== "all") continue;
    out.push(new IndexedPackage(ix, k));
  }
}

/*
 * The parsed form on disk: frames of [u32 LE length][V8-serialized value] — first
 * {format, count, offsets}, then one frame per column (its list of "\0"-joined strings).
 * Frames, not one value: no single buffer of the whole form (~30 MB) is ever allocated.
 */

function* parsedFrames(p: ParsedIndex): Generator<Buffer> {
  const frame = (v: unknown) => {
    const body = serialize(v);
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(body.length, 0);
    return [head, body];
  };
  yield* frame({ format: p.format, count: p.count, offsets: p.offsets });
  for (const c of p.cols) yield* frame(c);
}

export async function writeParsed(path: string, p: ParsedIndex): Promise<void> {
  // (one frame at a time: the serialized columns are never all held at once)
  await writeStreamAtomic(path, Readable.from(parsedFrames(p), { highWaterMark: 1 }));
}

export async function readParsed(path: string): Promise<ParsedIndex | null> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch {
    return null;
  }
  try {
    let pos = 0;
    const next = async (): Promise<unknown> => {
      const head = Buffer.alloc(4);
      if ((await fh.read(head, 0, 4, pos)).bytesRead !== 4) throw new Error("short");
      const len = head.readUInt32LE(0);
      const body = Buffer.allocUnsafe(len);
      if ((await fh.read(body, 0, len, pos + 4)).bytesRead !== len) throw new Error("short");
      pos += 4 + len;
      return deserialize(body);
    };
    const h = (await next()) as { format?: unknown; count?: unknown; offsets?: unknown };
    if (
      h?.format !== INDEX_FORMAT ||
      typeof h.count !== "number" ||
      !(h.offsets instanceof Float64Array) ||
      h.offsets.length !== 2 * h.count
    )
      return null;
    const cols: string[][] = [];
    for (let i = 0; i < NCOLS; i++) {
      const c = await next();
      if (!Array.isArray(c) || !c.every((x) => typeof x === "string")) return null;
      cols.push(c as string[]);
    }
    return { format: INDEX_FORMAT, count: h.count, cols, offsets: h.offsets };
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}
