/** Test helpers: synthetic ELF files and image layers (real tar streams from src/oci/tar.ts). */
import { Readable } from "node:stream";
import type { TarEntry } from "../../../src/oci/tar.ts";
import { tarToBuffer } from "../../../src/oci/tar.ts";
import { type ImageFs, type LayerSource, readImageFs } from "../../../src/verify/image-fs.ts";

export interface ElfSpec {
  bits?: 32 | 64;
  machine?: number;
  type?: number;
  interp?: string;
  needed?: string[];
  runpath?: string;
  rpath?: string;
  soname?: string;
  buildId?: string;
  /** extra bytes placed after everything else (e.g. shell signature strings) */
  payload?: string;
  /** no PT_DYNAMIC / PT_INTERP at all */
  isStatic?: boolean;
  /**
   * segments as aarch64 links them (no -z separate-code): one R+X PT_LOAD holding headers,
   * .dynstr and code, then an RW PT_LOAD that starts before .dynamic
   */
  codeAndDataLoads?: boolean;
}

/** A small but well-formed little-endian ELF (64- or 32-bit) with the requested dynamic info. */
export function makeElf(s: ElfSpec = {}): Buffer {
  const bits = s.bits ?? 64;
  const is64 = bits === 64;
  const ehSize = is64 ? 64 : 52;
  const phEnt = is64 ? 56 : 32;
  const base = 0x400000;
  // string table
  const strs: string[] = [""];
  const strOff = (t: string) => {
    let off = 0;
    for (const x of strs) {
      if (x === t) return off;
      off += Buffer.byteLength(x) + 1;
    }
    strs.push(t);
    return off;
  };
  const dyn: Array<[number, number]> = [];
  if (!s.isStatic) {
    for (const n of s.needed ?? []) dyn.push([1, strOff(n)]);
    if (s.soname) dyn.push([14, strOff(s.soname)]);
    if (s.runpath) dyn.push([29, strOff(s.runpath)]);
    if (s.rpath) dyn.push([15, strOff(s.rpath)]);
  }
  const strtab = Buffer.concat(strs.map((x) => Buffer.from(`${x}\0`)));
  const interp = s.interp && !s.isStatic ? Buffer.from(`${s.interp}\0`) : undefined;
  let note: Buffer | undefined;
  if (s.buildId) {
    const id = Buffer.from(s.buildId, "hex");
    note = Buffer.alloc(12 + 4 + ((id.length + 3) & ~3));
    note.writeUInt32LE(4, 0);
    note.writeUInt32LE(id.length, 4);
    note.writeUInt32LE(3, 8);
    note.write("GNU\0", 12, "latin1");
    id.copy(note, 16);
  }
  const phdrs: Array<{ type: number; flags: number; off: number; size: number }> = [];
  const nPh = 1 + (interp ? 1 : 0) + (note ? 1 : 0) + (s.isStatic ? 0 : 1) + (s.codeAndDataLoads ? 1 : 0);
  let off = ehSize + nPh * phEnt;
  const chunks: Array<[number, Buffer]> = [];
  const place = (b: Buffer, align = 8) => {
    off = (off + align - 1) & ~(align - 1);
    const at = off;
    chunks.push([at, b]);
    off += b.length;
    return at;
  };
  if (interp) phdrs.push({ type: 3, flags: 4, off: place(interp, 1), size: interp.length });
  if (note) phdrs.push({ type: 4, flags: 4, off: place(note, 4), size: note.length });
  const strAt = place(strtab, 1);
  // the RW segment begins with some data placed before .dynamic
  const rwAt = s.codeAndDataLoads ? place(Buffer.alloc(16), 16) : undefined;
  if (!s.isStatic) {
    dyn.push([5, base + strAt], [10, strtab.length], [0, 0]);
    const ent = is64 ? 16 : 8;
    const d = Buffer.alloc(dyn.length * ent);
    dyn.forEach(([t, v], i) => {
      if (is64) {
        d.writeBigUInt64LE(BigInt(t), i * ent);
        d.writeBigUInt64LE(BigInt(v), i * ent + 8);
      } else {
        d.writeUInt32LE(t, i * ent);
        d.writeUInt32LE(v, i * ent + 4);
      }
    });
    phdrs.push({ type: 2, flags: 6, off: place(d), size: d.length });
  }
  if (s.payload) place(Buffer.from(s.payload, "latin1"), 1);
  const total = off;
  if (rwAt !== undefined) {
    phdrs.unshift(
      { type: 1, flags: 5, off: 0, size: rwAt },
      { type: 1, flags: 6, off: rwAt, size: total - rwAt },
    );
  } else {
    // PT_LOAD first (read-only, covers the whole file)
    phdrs.unshift({ type: 1, flags: 4, off: 0, size: total });
  }
  const out = Buffer.alloc(total);
  out.write("\x7fELF", 0, "latin1");
  out[4] = is64 ? 2 : 1;
  out[5] = 1;
  out[6] = 1;
  out.writeUInt16LE(s.type ?? 3, 16);
  out.writeUInt16LE(s.machine ?? 62, 18);
  out.writeUInt32LE(1, 20);
  if (is64) {
    out.writeBigUInt64LE(BigInt(ehSize), 32);
    out.writeUInt16LE(ehSize, 52);
    out.writeUInt16LE(phEnt, 54);
    out.writeUInt16LE(phdrs.length, 56);
  } else {
    out.writeUInt32LE(ehSize, 28);
    out.writeUInt16LE(ehSize, 40);
    out.writeUInt16LE(phEnt, 42);
    out.writeUInt16LE(phdrs.length, 44);
  }
  phdrs.forEach((p, i) => {
    const o = ehSize + i * phEnt;
    if (is64) {
      out.writeUInt32LE(p.type, o);
      out.writeUInt32LE(p.flags, o + 4);
      out.writeBigUInt64LE(BigInt(p.off), o + 8);
      out.writeBigUInt64LE(BigInt(base + p.off), o + 16);
      out.writeBigUInt64LE(BigInt(base + p.off), o + 24);
      out.writeBigUInt64LE(BigInt(p.size), o + 32);
      out.writeBigUInt64LE(BigInt(p.size), o + 40);
    } else {
      out.writeUInt32LE(p.type, o);
      out.writeUInt32LE(p.off, o + 4);
      out.writeUInt32LE(base + p.off, o + 8);
      out.writeUInt32LE(base + p.off, o + 12);
      out.writeUInt32LE(p.size, o + 16);
      out.writeUInt32LE(p.size, o + 20);
      out.writeUInt32LE(p.flags, o + 24);
    }
  });
  for (const [at, b] of chunks) b.copy(out, at);
  return out;
}

/** Shell signature strings, as a POSIX shell binary carries them. */
export const SHELL_STRINGS = "\0esac\0OPTIND\0OPTARG\0getopts\0PPID\0PS4\0IFS\0";

export type E =
  | { f: string; data?: string | Buffer; mode?: number; uid?: number; gid?: number }
  | { d: string; mode?: number; uid?: number; gid?: number }
  | { l: string; target: string }
  | { h: string; target: string };

const rel = (p: string) => p.replace(/^\/+/, "");

export function entries(list: E[]): TarEntry[] {
  return list.map((e): TarEntry => {
    if ("f" in e) {
      const data = typeof e.data === "string" ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
      return {
        type: "file",
        path: rel(e.f),
        mode: e.mode ?? 0o644,
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        size: data.length,
        content: { kind: "bytes", data },
      };
    }
    if ("d" in e)
      return { type: "dir", path: rel(e.d), mode: e.mode ?? 0o755, uid: e.uid ?? 0, gid: e.gid ?? 0 };
    if ("l" in e) return { type: "symlink", path: rel(e.l), target: e.target, mode: 0o777, uid: 0, gid: 0 };
    return { type: "hardlink", path: rel(e.h), target: rel(e.target), mode: 0o755, uid: 0, gid: 0 };
  });
}

export async function layerOf(list: E[]): Promise<LayerSource> {
  const buf = await tarToBuffer(entries(list), { sourceDateEpoch: 1_700_000_000 });
  return { open: async () => Readable.from([buf]) };
}

export async function fsOf(...layers: E[][]): Promise<ImageFs> {
  return readImageFs(await Promise.all(layers.map(layerOf)));
}
