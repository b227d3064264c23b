/**
 * A tar file's regular members by name (offset and size), read from the headers alone: what
 * oci-archive and docker-archive files are opened with. ustar, GNU long names and pax headers.
 */
import { open } from "node:fs/promises";
import { errnoText } from "../../errors.ts";
import { OciError } from "../errors.ts";

/** The largest JSON document (index, manifest, config) read whole. */
export const MAX_JSON = 16 * 1024 * 1024;

export interface Member {
  offset: number;
  size: number;
}

function cstr(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return (z < 0 ? s : s.subarray(0, z)).toString("utf8");
}

function octal(b: Buffer, off: number, len: number): number {
  const f = b.subarray(off, off + len);
  if (f[0] & 0x80) {
    // base-256
    let n = 0;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i];
    return n;
  }
  const s = cstr(b, off, len).trim();
  return s === "" ? 0 : Number.parseInt(s, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = Number.parseInt(data.subarray(pos, sp).toString("ascii"), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.subarray(sp + 1, pos + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

export function cleanName(n: string): string {
  let s = n;
  while (s.startsWith("./")) s = s.slice(2);
  while (s.startsWith("/")) s = s.slice(1);
  return s.replace(/\/+$/, "");
}

/** Index the regular files of an uncompressed tar file by name (offset + size), reading only headers. */
export async function indexTar(file: string): Promise<Map<string, Member>> {
  const fh = await open(file, "r").catch((e: NodeJS.ErrnoException) => {
    throw new OciError("E_LAYOUT", `cannot open ${file}: ${errnoText(e)}`);
  });
  const members = new Map<string, Member>();
  try {
    const { size: fileSize } = await fh.stat();
    const h = Buffer.alloc(512);
    let pos = 0;
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    for (let guard = 0; guard < 10_000_000; guard++) {
      if (pos + 512 > fileSize) break;
      await fh.read(h, 0, 512, pos);
      if (h.every((x) => x === 0)) break;
      const magic = cstr(h, 257, 6);
      if (guard === 0 && magic !== "ustar" && !h.subarray(257, 263).equals(Buffer.from("ustar "))) {
        throw new OciError("E_LAYOUT", `${file} is not a tar archive`);
      }
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
      if (sum !== octal(h, 148, 8))
        throw new OciError("E_LAYOUT", `${file}: corrupt tar header at offset ${pos}`);
      const type = String.fromCharCode(h[156] || 0x30);
      let size = octal(h, 124, 12);
      if (pax.size) size = Number(pax.size);
      const dataOff = pos + 512;
      const next = dataOff + Math.ceil(size / 512) * 512;
      if (next > fileSize) throw new OciError("E_LAYOUT", `${file}: truncated tar archive`);
      if (type === "x" || type === "L") {
        const data = Buffer.alloc(size);
        await fh.read(data, 0, size, dataOff);
        if (type === "x") pax = parsePax(data);
        else longName = cstr(data, 0, size);
        pos = next;
        continue;
      }
      if (type !== "g") {
        const prefix = cstr(h, 345, 155);
        let name = pax.path ?? longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
        name = cleanName(name);
        if (type === "0" || type === "7") members.set(name, { offset: dataOff, size });
      }
      pax = {};
      longName = undefined;
      pos = next;
    }
  } finally {
    await fh.close();
  }
  return members;
}

/** The bytes of a small member (a JSON document). */
export async function readMember(file: string, m: Member | undefined, name: string): Promise<Buffer> {
  if (!m) throw new OciError("E_LAYOUT", `${file}: ${name} is missing from the archive`);
  if (m.size > MAX_JSON) throw new OciError("E_LAYOUT", `${file}: ${name} is too large`);
  const fh = await open(file, "r");
  try {
    const b = Buffer.alloc(m.size);
    await fh.read(b, 0, m.size, m.offset);
    return b;
  } finally {
    await fh.close();
  }
}
