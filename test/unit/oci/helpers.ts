import { Readable } from "node:stream";
import * as tar from "tar-stream";
import type { TreeEntry } from "../../../src/oci/types.ts";

export const enc = (s: string) => new TextEncoder().encode(s);

export function dir(path: string, mode = 0o755, uid = 0, gid = 0, mtime?: number): TreeEntry {
  return { type: "dir", path, mode, uid, gid, ...(mtime !== undefined ? { mtime } : {}) };
}
export function file(
  path: string,
  data: string | Uint8Array,
  mode = 0o644,
  uid = 0,
  gid = 0,
  mtime?: number,
): TreeEntry {
  const b = typeof data === "string" ? enc(data) : data;
  return {
    type: "file",
    path,
    mode,
    uid,
    gid,
    size: b.length,
    content: { kind: "bytes", data: b },
    ...(mtime !== undefined ? { mtime } : {}),
  };
}
export function symlink(path: string, target: string): TreeEntry {
  return { type: "symlink", path, target, mode: 0o777, uid: 0, gid: 0 };
}
export function hardlink(path: string, target: string): TreeEntry {
  return { type: "hardlink", path, target, mode: 0o755, uid: 0, gid: 0 };
}

export interface ParsedEntry {
  header: tar.Header;
  data: Buffer;
}

/** Parse a tar (uncompressed) with tar-stream, an independent reader. */
export async function parseTar(buf: Uint8Array | Readable): Promise<ParsedEntry[]> {
  const ex = tar.extract();
  const out: ParsedEntry[] = [];
  const src = buf instanceof Readable ? buf : Readable.from([Buffer.from(buf)]);
  src.pipe(ex);
  for await (const e of ex) {
    const parts: Buffer[] = [];
    for await (const c of e) parts.push(c as Buffer);
    out.push({ header: e.header, data: Buffer.concat(parts) });
  }
  return out;
}

export async function collect(s: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** Deterministic pseudo-random bytes (xorshift) — incompressible test content without Math.random. */
export function pseudoRandom(n: number, seed = 12345): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}
