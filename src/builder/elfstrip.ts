/**
 * Remove debug information from an ELF64 little-endian file (x86-64, aarch64) without any host
 * tool: drop the non-allocated `.debug_*` / `.zdebug_*` sections and the static symbol table
 * (`.symtab` + its `.strtab`), keep every byte that a program header covers at its offset
 * (only the ELF header's e_shoff/e_shnum/e_shstrndx change, which the loader never reads),
 * rebuild `.shstrtab` and the section header table after the kept bytes.
 *
 * Safety rules:
 * - a section inside any segment's file range, or with SHF_ALLOC, is never removed or moved;
 * - sections referenced by a kept section (sh_link, or sh_info of REL/RELA/INFO_LINK) are kept;
 *   relocation sections that only apply to removed sections go with them;
 * - section numbers of allocated sections never change (`.dynsym` records section numbers in
 *   st_shndx and lives inside a segment, so it cannot be rewritten). A removed section that
 *   precedes a kept section which must keep its number becomes an SHT_NULL placeholder; when a
 *   kept static symbol table or section group refers to section numbers, nothing is renumbered.
 */
import { BuildError } from "./errors.ts";

export interface StripResult {
  data: Uint8Array;
  /** names of the removed sections, in section-header order */
  removed: string[];
  savedBytes: number;
}

export interface StripChunks {
  /** the output file, in order */
  chunks: Uint8Array[];
  /** total length of the chunks */
  size: number;
  removed: string[];
  savedBytes: number;
}

const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const SHT_NULL = 0;
const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_NOBITS = 8;
const SHT_REL = 9;
const SHT_GROUP = 17;
const SHT_SYMTAB_SHNDX = 18;
const SHF_ALLOC = 0x2;
const SHF_INFO_LINK = 0x40;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;
const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const PHDR_SIZE = 56;

interface Shdr {
  index: number;
  name: string;
  nameOff: number;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: bigint;
  entsize: bigint;
}

function bad(message: string): never {
  throw new BuildError("E_ELF", `not a valid ELF file: ${message}`, {
    hint: "only ELF64 little-endian x86-64 and aarch64 binaries can be stripped",
  });
}

function toNum(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(`${what} out of range`);
  return Number(v);
}

function readName(data: Uint8Array, strtab: Shdr, off: number): string {
  if (off >= strtab.size) bad(`section name offset ${off} outside the section name table`);
  const start = strtab.offset + off;
  const limit = strtab.offset + strtab.size;
  let end = start;
  while (end < limit && data[end] !== 0) end++;
  if (end >= limit) bad("unterminated section name");
  return new TextDecoder().decode(data.subarray(start, end));
}

function isDebugName(name: string): boolean {
  return name.startsWith(".debug_") || name.startsWith(".zdebug_") || name === ".debug";
}

/** Section header field that holds a section number for this section type. */
function infoIsSection(s: Shdr): boolean {
  return s.type === SHT_REL || s.type === SHT_RELA || (s.flags & BigInt(SHF_INFO_LINK)) !== 0n;
}

function alignUp(n: number, a: bigint): number {
  const al = a > 1n ? Number(a) : 1;
  return Math.ceil(n / al) * al;
}

function plan(elf: Uint8Array): StripChunks {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < EHDR_SIZE) bad("too short");
  if (elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46) bad("no ELF magic");
  if (elf[4] !== 2) bad("not 64-bit (ELFCLASS64)");
  if (elf[5] !== 1) bad("not little-endian");
  const machine = dv.getUint16(18, true);
  if (machine !== EM_X86_64 && machine !== EM_AARCH64) bad(`unsupported machine ${machine}`);
  const phoff = toNum(dv.getBigUint64(32, true), "e_phoff");
  const shoff = toNum(dv.getBigUint64(40, true), "e_shoff");
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const shentsize = dv.getUint16(58, true);
  let shnum = dv.getUint16(60, true);
  let shstrndx = dv.getUint16(62, true);

  // ---- program headers: byte ranges that must stay put
  const fixedRanges: Array<[number, number]> = [[0, EHDR_SIZE]];
  if (phnum > 0) {
    if (phentsize !== PHDR_SIZE) bad(`program header size ${phentsize}`);
    if (phoff + phnum * PHDR_SIZE > elf.length) bad("program headers beyond the end of the file");
    fixedRanges.push([phoff, phoff + phnum * PHDR_SIZE]);
    for (let i = 0; i < phnum; i++) {
      const b = phoff + i * PHDR_SIZE;
      const off = toNum(dv.getBigUint64(b + 8, true), "p_offset");
      const filesz = toNum(dv.getBigUint64(b + 32, true), "p_filesz");
      if (off + filesz > elf.length) bad(`segment ${i} extends beyond the end of the file`);
      if (filesz > 0) fixedRanges.push([off, off + filesz]);
    }
  }

  if (shoff === 0) return { chunks: [elf], size: elf.length, removed: [], savedBytes: 0 };
  if (shentsize !== SHDR_SIZE) bad(`section header size ${shentsize}`);
  if (shoff + SHDR_SIZE > elf.length) bad("section headers beyond the end of the file");
  // extended numbering: the real counts live in section header 0
  if (shnum === 0) shnum = toNum(dv.getBigUint64(shoff + 32, true), "sh_size[0]");
  if (shstrndx === SHN_XINDEX) shstrndx = dv.getUint32(shoff + 40, true);
  if (shnum === 0) return { chunks: [elf], size: elf.length, removed: [], savedBytes: 0 };
  if (shoff + shnum * SHDR_SIZE > elf.length) bad("section headers beyond the end of the file");
  if (shstrndx >= shnum) bad("section name table index out of range");

  const secs: Shdr[] = [];
  for (let i = 0; i < shnum; i++) {
    const b = shoff + i * SHDR_SIZE;
    const s: Shdr = {
      index: i,
      name: "",
      nameOff: dv.getUint32(b, true),
      type: dv.getUint32(b + 4, true),
      flags: dv.getBigUint64(b + 8, true),
      addr: dv.getBigUint64(b + 16, true),
      offset: toNum(dv.getBigUint64(b + 24, true), "sh_offset"),
      size: toNum(dv.getBigUint64(b + 32, true), "sh_size"),
      link: dv.getUint32(b + 40, true),
      info: dv.getUint32(b + 44, true),
      addralign: dv.getBigUint64(b + 48, true),
      entsize: dv.getBigUint64(b + 56, true),
    };
    if (s.type !== SHT_NOBITS && s.type !== SHT_NULL && s.offset + s.size > elf.length) {
      bad(`section ${i} extends beyond the end of the file`);
    }
    secs.push(s);
  }
  const shstr = secs[shstrndx];
  if (shstr.type === SHT_NOBITS) bad("section name table has no contents");
  for (const s of secs) if (s.index !== 0) s.name = readName(elf, shstr, s.nameOff);

  const alloc = (s: Shdr) => (s.flags & BigInt(SHF_ALLOC)) !== 0n;
  const inSegment = (s: Shdr) =>
    s.type !== SHT_NOBITS &&
    s.size > 0 &&
    fixedRanges.some(([a, z]) => s.offset < z && s.offset + s.size > a && !(a === 0 && z === EHDR_SIZE));
  const pinned = (s: Shdr) => alloc(s) || inSegment(s);

  // ---- choose what to remove
  const remove = new Set<number>();
  const symtabs = new Set<number>();
  for (const s of secs) {
    if (s.index === 0 || s.index === shstrndx || pinned(s)) continue;
    if (isDebugName(s.name)) remove.add(s.index);
    if (s.type === SHT_SYMTAB && s.name === ".symtab") {
      remove.add(s.index);
      symtabs.add(s.index);
      const str = secs[s.link];
      if (str && str.index !== shstrndx && str.index !== 0 && !pinned(str)) remove.add(str.index);
    }
  }
  // relocation / extended-index sections whose subject is removed go with it
  for (const s of secs) {
    if (s.index === 0 || pinned(s)) continue;
    if ((s.type === SHT_REL || s.type === SHT_RELA) && remove.has(s.info)) remove.add(s.index);
    if (s.type === SHT_SYMTAB_SHNDX && remove.has(s.link)) remove.add(s.index);
  }
  // anything a kept section still points at must stay (e.g. a .rela.text → .symtab in a .o)
  for (let changed = true, guard = 0; changed && guard < shnum + 2; guard++) {
    changed = false;
    for (const s of secs) {
      if (s.index === 0 || remove.has(s.index)) continue;
      const refs = [s.link];
      if (infoIsSection(s)) refs.push(s.info);
      for (const r of refs) {
        if (r > 0 && r < shnum && remove.has(r)) {
          remove.delete(r);
          changed = true;
          // a kept symbol table keeps its string table
          const t = secs[r];
          if (t.type === SHT_SYMTAB && t.link > 0 && remove.has(t.link)) remove.delete(t.link);
        }
      }
    }
  }
  if (remove.size === 0) return { chunks: [elf], size: elf.length, removed: [], savedBytes: 0 };

  // ---- numbering: which removed sections leave a placeholder
  const keptSymtab = secs.some(
    (s) =>
      !remove.has(s.index) && (s.type === SHT_SYMTAB || s.type === SHT_GROUP || s.type === SHT_SYMTAB_SHNDX),
  );
  let lastPinnedNumber = 0;
  for (const s of secs) if (!remove.has(s.index) && pinned(s)) lastPinnedNumber = s.index;
  let lastKept = 0;
  for (const s of secs) if (!remove.has(s.index)) lastKept = s.index;
  // placeholder when renumbering is not allowed at all, or when an allocated section follows
  const placeholder = (i: number) => (keptSymtab ? i < lastKept : i < lastPinnedNumber);

  const newIndex = new Map<number, number>();
  const outSecs: Array<{ s: Shdr; placeholder: boolean }> = [];
  for (const s of secs) {
    if (remove.has(s.index) && !placeholder(s.index)) continue;
    newIndex.set(s.index, outSecs.length);
    outSecs.push({ s, placeholder: remove.has(s.index) });
  }
  const mapIdx = (i: number) => {
    if (i === 0) return 0;
    const n = newIndex.get(i);
    if (n === undefined) bad(`internal: reference to dropped section ${i}`);
    return n;
  };

  // ---- layout: the prefix up to the last fixed byte is copied verbatim
  let firstRemovedOff = elf.length;
  for (const i of remove) {
    const s = secs[i];
    if (s.type !== SHT_NOBITS && s.size > 0) firstRemovedOff = Math.min(firstRemovedOff, s.offset);
  }
  let prefixEnd = 0;
  for (const [, z] of fixedRanges) prefixEnd = Math.max(prefixEnd, z);
  const movable: Shdr[] = [];
  for (const { s, placeholder: ph } of outSecs) {
    if (ph || s.index === 0 || s.index === shstrndx) continue;
    if (s.type === SHT_NOBITS || s.size === 0) continue;
    if (pinned(s) || s.offset + s.size <= firstRemovedOff) prefixEnd = Math.max(prefixEnd, s.offset + s.size);
    else movable.push(s);
  }
  // movable sections that sit before prefixEnd anyway stay where they are
  const stay = movable.filter((s) => s.offset + s.size <= prefixEnd);
  const move = movable.filter((s) => s.offset + s.size > prefixEnd).sort((a, b) => a.offset - b.offset);
  const newOffset = new Map<number, number>();
  for (const s of stay) newOffset.set(s.index, s.offset);
  let cursor = prefixEnd;
  for (const s of move) {
    cursor = alignUp(cursor, s.addralign);
    newOffset.set(s.index, cursor);
    cursor += s.size;
  }
  // new section name table
  const names: number[] = [0];
  const nameOff = new Map<string, number>([["", 0]]);
  const enc = new TextEncoder();
  for (const { s, placeholder: ph } of outSecs) {
    if (ph || s.index === 0 || nameOff.has(s.name)) continue;
    nameOff.set(s.name, names.length);
    names.push(...enc.encode(s.name), 0);
  }
  const shstrOff = cursor;
  cursor += names.length;
  const outShoff = alignUp(cursor, 8n);
  const outShnum = outSecs.length;
  const total = outShoff + outShnum * SHDR_SIZE;

  // the output is: a copy of the ELF header (its section-table fields change), the input's
  // bytes up to prefixEnd as a view (no copy), and a new tail
  const head = Uint8Array.from(elf.subarray(0, EHDR_SIZE));
  const tail = new Uint8Array(total - prefixEnd);
  for (const s of move) {
    const at = newOffset.get(s.index) as number;
    tail.set(elf.subarray(s.offset, s.offset + s.size), at - prefixEnd);
  }
  tail.set(names, shstrOff - prefixEnd);
  const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  // ELF header: section header table position and counts
  hv.setBigUint64(40, BigInt(outShoff), true);
  const newShstrndx = mapIdx(shstrndx);
  const extended = outShnum >= SHN_LORESERVE;
  hv.setUint16(60, extended ? 0 : outShnum, true);
  hv.setUint16(62, newShstrndx >= SHN_LORESERVE ? SHN_XINDEX : newShstrndx, true);
  const ov = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);

  for (let n = 0; n < outSecs.length; n++) {
    const { s, placeholder: ph } = outSecs[n];
    const b = outShoff - prefixEnd + n * SHDR_SIZE;
    if (ph) continue; // all zero: SHT_NULL
    if (s.index === 0) {
      // header 0 carries the extended counts, if any
      if (extended) ov.setBigUint64(b + 32, BigInt(outShnum), true);
      if (newShstrndx >= SHN_LORESERVE) ov.setUint32(b + 40, newShstrndx, true);
      continue;
    }
    const isShstr = s.index === shstrndx;
    ov.setUint32(b, nameOff.get(s.name) as number, true);
    ov.setUint32(b + 4, s.type, true);
    ov.setBigUint64(b + 8, s.flags, true);
    ov.setBigUint64(b + 16, s.addr, true);
    const off = isShstr ? shstrOff : (newOffset.get(s.index) ?? s.offset);
    ov.setBigUint64(b + 24, BigInt(s.type === SHT_NOBITS && !pinned(s) ? Math.min(off, total) : off), true);
    ov.setBigUint64(b + 32, BigInt(isShstr ? names.length : s.size), true);
    ov.setUint32(b + 40, s.link === 0 ? 0 : mapIdx(s.link), true);
    ov.setUint32(b + 44, infoIsSection(s) && s.info !== 0 ? mapIdx(s.info) : s.info, true);
    ov.setBigUint64(b + 48, isShstr ? 1n : s.addralign, true);
    ov.setBigUint64(b + 56, s.entsize, true);
  }
  const removed = secs.filter((s) => remove.has(s.index)).map((s) => s.name);
  return {
    chunks: [head, elf.subarray(EHDR_SIZE, prefixEnd), tail],
    size: total,
    removed,
    savedBytes: elf.length - total,
  };
}

/**
 * The stripped file as a list of chunks to write in order (the big middle one is a view into
 * `elf`, so no second copy of a large binary is made). `chunks` is [elf] when nothing changes.
 */
export function stripDebugChunks(elf: Uint8Array): StripChunks {
  return plan(elf);
}

export function stripDebug(elf: Uint8Array): StripResult {
  const r = plan(elf);
  if (r.chunks.length === 1 && r.chunks[0] === elf) return { data: elf, removed: [], savedBytes: 0 };
  const data = new Uint8Array(r.size);
  let at = 0;
  for (const c of r.chunks) {
    data.set(c, at);
    at += c.length;
  }
  return { data, removed: r.removed, savedBytes: r.savedBytes };
}
