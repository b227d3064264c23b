/**
 * Our own ELF reader: just what verify needs — class, byte order, machine, type, the program
 * interpreter (PT_INTERP), the dynamic section (DT_NEEDED, DT_RUNPATH, DT_RPATH, DT_SONAME) and
 * the GNU build-id note. It works on *ranges* of a file so that a file streamed out of a layer
 * never has to be held in memory whole: `ElfCollector` looks at the head of the file, decides
 * which byte ranges matter (program headers, PT_INTERP, PT_NOTE, PT_DYNAMIC and the first
 * read-only PT_LOAD that holds .dynstr) and keeps only those while the rest streams past.
 */

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;

export const DT_NULL = 0;
export const DT_NEEDED = 1;
export const DT_STRTAB = 5;
export const DT_STRSZ = 10;
export const DT_SONAME = 14;
export const DT_RPATH = 15;
export const DT_RUNPATH = 29;

export const ET_EXEC = 2;
export const ET_DYN = 3;

/** ELF e_machine → Debian multiarch triplet (the directory name under /usr/lib). */
export const MULTIARCH: Record<number, { name: string; triplet: string }> = {
  3: { name: "i386", triplet: "i386-linux-gnu" },
  8: { name: "mips", triplet: "mips64el-linux-gnuabi64" },
  21: { name: "ppc64", triplet: "powerpc64le-linux-gnu" },
  22: { name: "s390x", triplet: "s390x-linux-gnu" },
  40: { name: "arm", triplet: "arm-linux-gnueabihf" },
  62: { name: "x86_64", triplet: "x86_64-linux-gnu" },
  183: { name: "aarch64", triplet: "aarch64-linux-gnu" },
  243: { name: "riscv64", triplet: "riscv64-linux-gnu" },
  258: { name: "loongarch64", triplet: "loongarch64-linux-gnu" },
};

export interface ElfHeader {
  /** 32 or 64 */
  bits: 32 | 64;
  little: boolean;
  type: number;
  machine: number;
  phoff: number;
  phentsize: number;
  phnum: number;
}

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfInfo {
  bits: 32 | 64;
  little: boolean;
  machine: number;
  /** ET_EXEC, ET_DYN, ... */
  type: number;
  interp?: string;
  needed: string[];
  runpath: string[];
  rpath: string[];
  soname?: string;
  buildId?: string;
  /** true when there is no PT_DYNAMIC and no PT_INTERP */
  isStatic: boolean;
  /** why some of the above could not be read (truncated, odd layout), if so */
  incomplete?: string;
}

function u16(b: Buffer, off: number, little: boolean): number {
  return little ? b.readUInt16LE(off) : b.readUInt16BE(off);
}
function u32(b: Buffer, off: number, little: boolean): number {
  return little ? b.readUInt32LE(off) : b.readUInt32BE(off);
}
function u64(b: Buffer, off: number, little: boolean): number {
  const v = little ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off);
  // Offsets and addresses beyond 2^53 do not occur in real files; clamp rather than lose precision silently.
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}
function word(b: Buffer, off: number, bits: 32 | 64, little: boolean): number {
  return bits === 64 ? u64(b, off, little) : u32(b, off, little);
}

export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/** Parse the ELF file header; undefined when `head` is not a (complete) ELF header. */
export function parseElfHeader(head: Buffer): ElfHeader | undefined {
  if (!isElf(head) || head.length < 52) return undefined;
  const cls = head[4];
  const data = head[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  const bits = cls === 2 ? 64 : 32;
  const little = data === 1;
  if (bits === 64 && head.length < 64) return undefined;
  const type = u16(head, 16, little);
  const machine = u16(head, 18, little);
  if (bits === 64) {
    return {
      bits,
      little,
      type,
      machine,
      phoff: u64(head, 32, little),
      phentsize: u16(head, 54, little),
      phnum: u16(head, 56, little),
    };
  }
  return {
    bits,
    little,
    type,
    machine,
    phoff: u32(head, 28, little),
    phentsize: u16(head, 42, little),
    phnum: u16(head, 44, little),
  };
}

/** Parse program headers from a buffer that starts at file offset 0 and covers the table. */
export function parseProgramHeaders(buf: Buffer, h: ElfHeader): ProgramHeader[] | undefined {
  const need = h.bits === 64 ? 56 : 32;
  if (h.phnum === 0) return [];
  if (h.phentsize < need || h.phoff + h.phnum * h.phentsize > buf.length) return undefined;
  const out: ProgramHeader[] = [];
  for (let i = 0; i < h.phnum; i++) {
    const o = h.phoff + i * h.phentsize;
    if (h.bits === 64) {
      out.push({
        type: u32(buf, o, h.little),
        flags: u32(buf, o + 4, h.little),
        offset: u64(buf, o + 8, h.little),
        vaddr: u64(buf, o + 16, h.little),
        filesz: u64(buf, o + 32, h.little),
        memsz: u64(buf, o + 40, h.little),
      });
    } else {
      out.push({
        type: u32(buf, o, h.little),
        offset: u32(buf, o + 4, h.little),
        vaddr: u32(buf, o + 8, h.little),
        filesz: u32(buf, o + 16, h.little),
        memsz: u32(buf, o + 20, h.little),
        flags: u32(buf, o + 24, h.little),
      });
    }
  }
  return out;
}

/** Map a virtual address to a file offset through the PT_LOAD segments. */
export function vaddrToOffset(phdrs: ProgramHeader[], vaddr: number): number | undefined {
  for (const p of phdrs) {
    if (p.type === PT_LOAD && vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz) {
      return p.offset + (vaddr - p.vaddr);
    }
  }
  return undefined;
}

/** A set of retained byte ranges of one file. */
export interface RangeReader {
  /** the bytes [off, off+len) if they were retained, else undefined */
  read(off: number, len: number): Buffer | undefined;
}

export function bufferReader(buf: Buffer): RangeReader {
  return {
    read(off, len) {
      if (off < 0 || len < 0 || off + len > buf.length) return undefined;
      return buf.subarray(off, off + len);
    },
  };
}

function cstring(b: Buffer, off: number): string | undefined {
  if (off < 0 || off >= b.length) return undefined;
  const end = b.indexOf(0, off);
  if (end < 0) return undefined;
  return b.toString("utf8", off, end);
}

function parseBuildId(note: Buffer, little: boolean): string | undefined {
  let o = 0;
  while (o + 12 <= note.length) {
    const namesz = u32(note, o, little);
    const descsz = u32(note, o + 4, little);
    const type = u32(note, o + 8, little);
    const nameOff = o + 12;
    const descOff = nameOff + ((namesz + 3) & ~3);
    const next = descOff + ((descsz + 3) & ~3);
    if (next > note.length || descOff + descsz > note.length) return undefined;
    const name = note.toString("latin1", nameOff, nameOff + Math.max(0, namesz - 1));
    if (name === "GNU" && type === 3) return note.toString("hex", descOff, descOff + descsz);
    o = next;
  }
  return undefined;
}

/**
 * Analyse an ELF file from its retained ranges. `head` must hold the file header and program
 * header table (the first few KiB are always enough in practice).
 */
export function analyzeElf(head: Buffer, reader: RangeReader): ElfInfo | undefined {
  const h = parseElfHeader(head);
  if (!h) return undefined;
  const info: ElfInfo = {
    bits: h.bits,
    little: h.little,
    machine: h.machine,
    type: h.type,
    needed: [],
    runpath: [],
    rpath: [],
    isStatic: true,
  };
  const phdrs =
    parseProgramHeaders(head, h) ??
    parseProgramHeaders(reader.read(0, h.phoff + h.phnum * h.phentsize) ?? Buffer.alloc(0), h);
  if (!phdrs) {
    info.incomplete = "program header table not readable";
    return info;
  }
  const notes: string[] = [];
  for (const p of phdrs) {
    if (p.type === PT_INTERP) {
      info.isStatic = false;
      const b = reader.read(p.offset, p.filesz);
      const s = b ? (cstring(b, 0) ?? b.toString("utf8").replace(/\0+$/, "")) : undefined;
      if (s === undefined) notes.push("PT_INTERP not readable");
      else info.interp = s;
    } else if (p.type === PT_NOTE && info.buildId === undefined) {
      const b = reader.read(p.offset, p.filesz);
      if (b) info.buildId = parseBuildId(b, h.little);
    }
  }
  const dyn = phdrs.find((p) => p.type === PT_DYNAMIC);
  if (dyn) {
    info.isStatic = false;
    const b = reader.read(dyn.offset, dyn.filesz);
    if (!b) notes.push("dynamic section not readable");
    else {
      const entSize = h.bits === 64 ? 16 : 8;
      const entries: Array<[number, number]> = [];
      for (let o = 0; o + entSize <= b.length; o += entSize) {
        const tag = word(b, o, h.bits, h.little);
        const val = word(b, o + entSize / 2, h.bits, h.little);
        if (tag === DT_NULL) break;
        entries.push([tag, val]);
      }
      const strtabAddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
      const strsz = entries.find(([t]) => t === DT_STRSZ)?.[1];
      const strOff = strtabAddr === undefined ? undefined : vaddrToOffset(phdrs, strtabAddr);
      const strtab = strOff === undefined || strsz === undefined ? undefined : reader.read(strOff, strsz);
      const want = entries.some(
        ([t]) => t === DT_NEEDED || t === DT_RUNPATH || t === DT_RPATH || t === DT_SONAME,
      );
      if (want && !strtab) notes.push("dynamic string table not readable");
      if (strtab) {
        for (const [tag, val] of entries) {
          if (tag !== DT_NEEDED && tag !== DT_RUNPATH && tag !== DT_RPATH && tag !== DT_SONAME) continue;
          const s = cstring(strtab, val);
          if (s === undefined) {
            notes.push("dynamic string out of range");
            continue;
          }
          if (tag === DT_NEEDED) info.needed.push(s);
          else if (tag === DT_SONAME) info.soname = s;
          else if (tag === DT_RUNPATH) info.runpath.push(...s.split(":").filter((x) => x !== ""));
          else info.rpath.push(...s.split(":").filter((x) => x !== ""));
        }
      }
    }
  }
  if (notes.length) info.incomplete = notes.join("; ");
  return info;
}

/** Largest part of the first PT_LOAD segment kept to find .dynstr (node's is ~12 MB). */
export const MAX_STRTAB_SEGMENT = 48 * 1024 * 1024;

/**
 * Streaming collector: feed the file's bytes in order with `push`; it keeps the head and the
 * ranges that `analyzeElf` needs, nothing else. `finish()` returns the analysis.
 */
export class ElfCollector {
  private head: Buffer;
  private headLen = 0;
  private pos = 0;
  private ranges: Array<{ off: number; len: number; buf: Buffer; filled: number }> = [];
  private planned = false;
  private headSize: number;

  constructor(headSize = 64 * 1024) {
    this.headSize = headSize;
    this.head = Buffer.allocUnsafe(headSize);
  }

  private plan(): void {
    this.planned = true;
    const head = this.head.subarray(0, this.headLen);
    const h = parseElfHeader(head);
    if (!h) return;
    const phdrs = parseProgramHeaders(head, h);
    if (!phdrs) return;
    const want: Array<{ off: number; len: number }> = [];
    for (const p of phdrs) {
      if (p.type === PT_INTERP || p.type === PT_NOTE || p.type === PT_DYNAMIC) {
        if (p.filesz > 0 && p.filesz < 1 << 20) want.push({ off: p.offset, len: p.filesz });
      }
    }
    // .dynstr lives in a PT_LOAD before .dynamic: the first read-only one where the linker
    // separates code (x86-64), else the first one, which holds headers, .dynstr and code together
    // (aarch64 links without -z separate-code).
    const dyn = phdrs.find((p) => p.type === PT_DYNAMIC);
    if (dyn) {
      const before = phdrs.filter((p) => p.type === PT_LOAD && p.offset < dyn.offset);
      const seg = before.find((p) => (p.flags & 3) === 0) ?? before[0];
      if (seg) want.push({ off: seg.offset, len: Math.min(seg.filesz, MAX_STRTAB_SEGMENT) });
    }
    for (const w of want) {
      if (w.off + w.len <= this.headLen) continue; // already in head
      this.ranges.push({ ...w, buf: Buffer.allocUnsafe(w.len), filled: 0 });
    }
  }

  push(chunk: Buffer): void {
    const start = this.pos;
    const end = start + chunk.length;
    if (this.headLen < this.headSize) {
      const n = Math.min(this.headSize - this.headLen, chunk.length);
      chunk.copy(this.head, this.headLen, 0, n);
      this.headLen += n;
    }
    this.pos = end;
    if (!this.planned) {
      if (this.headLen < this.headSize) {
        // still filling the head: plan once we have it (or at finish)
        return;
      }
      // the program header table must be in the head: grow the head once if it is not
      const h = parseElfHeader(this.head);
      const phEnd = h ? h.phoff + h.phnum * h.phentsize : 0;
      if (phEnd > this.headSize && phEnd <= 1 << 20) {
        const grown = Buffer.allocUnsafe(phEnd);
        this.head.copy(grown, 0, 0, this.headLen);
        this.head = grown;
        this.headSize = phEnd;
        const rest = chunk.subarray(chunk.length - (end - this.headLen));
        const n = Math.min(this.headSize - this.headLen, rest.length);
        rest.copy(this.head, this.headLen, 0, n);
        this.headLen += n;
        if (this.headLen < this.headSize) return;
      }
      this.plan();
      // ranges were planned after we saw [0, end): copy what overlaps this and earlier data from head
      for (const r of this.ranges) this.copyFromHead(r);
    }
    for (const r of this.ranges) {
      const a = Math.max(r.off, start);
      const b = Math.min(r.off + r.len, end);
      if (a < b) {
        chunk.copy(r.buf, a - r.off, a - start, b - start);
        r.filled = Math.max(r.filled, b - r.off);
      }
    }
  }

  private copyFromHead(r: { off: number; len: number; buf: Buffer; filled: number }): void {
    const b = Math.min(r.off + r.len, this.headLen);
    if (r.off < b) {
      this.head.copy(r.buf, 0, r.off, b);
      r.filled = Math.max(r.filled, b - r.off);
    }
  }

  /** First bytes of the file (up to the head size). */
  headBytes(): Buffer {
    return this.head.subarray(0, this.headLen);
  }

  finish(): ElfInfo | undefined {
    if (!this.planned) {
      this.plan();
      for (const r of this.ranges) this.copyFromHead(r);
    }
    const head = this.headBytes();
    const ranges = this.ranges;
    const headLen = this.headLen;
    const total = this.pos;
    return analyzeElf(head, {
      read(off, len) {
        if (off < 0 || len < 0 || off + len > total) return undefined;
        if (off + len <= headLen) return head.subarray(off, off + len);
        for (const r of ranges) {
          if (off >= r.off && off + len <= r.off + r.filled)
            return r.buf.subarray(off - r.off, off - r.off + len);
        }
        return undefined;
      },
    });
  }
}
