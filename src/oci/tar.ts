/**
 * Our own deterministic tar writer (POSIX ustar, with PAX extended headers only where ustar
 * cannot hold a value). Same entries + same SOURCE_DATE_EPOCH ⇒ same bytes:
 *  - entries sorted by path components (parents before children, then byte order of names);
 *  - mtime clamped to SOURCE_DATE_EPOCH; uid/gid from the entries; uname/gname empty;
 *    no device numbers, no atime/ctime, no host state at all;
 *  - directories end with "/"; symlinks and hard links preserved (a hard link always points
 *    to the entry of its group that sorts first, which carries the content);
 *  - PAX headers (path, linkpath, size, uid, gid, mtime) with records sorted by key, under a
 *    name derived only from the entry's path;
 *  - no padding beyond the two zero blocks that end the archive.
 * File content `{kind:"file"}` is read while writing (streamed); a file whose size changed
 * since the tree was made is an error, never a silently different layer.
 */
import { open } from "node:fs/promises";
import { OciError } from "./errors.ts";
import type { FileEntry, TreeContent, TreeEntry } from "./types.ts";

/** Content produced on demand (e.g. a decompressed layer copied into an archive). */
export type StreamContent = { kind: "stream"; open: () => AsyncIterable<Uint8Array> };
export type TarFileEntry = Omit<FileEntry, "content"> & { content: TreeContent | StreamContent };
/** What the tar writer accepts: a TreeEntry, or a file whose content is a stream. */
export type TarEntry = Exclude<TreeEntry, FileEntry> | TarFileEntry;

const BLOCK = 512;
const READ_CHUNK = 1 << 20;
/** (range reads are synchronous: smaller pieces, so that each is consumed before the next) */
const RANGE_CHUNK = 256 * 1024;
const MAX_OCTAL_11 = 0o77777777777; // 8 GiB - 1
const MAX_OCTAL_7 = 0o7777777;

export interface TarOptions {
  /** seconds; every mtime is clamped to it; entries without mtime get it */
  sourceDateEpoch: number;
}

const enc = new TextEncoder();

function sortKey(path: string): Buffer {
  // '/' → NUL so that "a/b" sorts right after "a" and before "a-b", "a.b", ...
  return Buffer.from(path.replaceAll("/", "\0"), "utf8");
}

export function comparePaths(a: string, b: string): number {
  return Buffer.compare(sortKey(a), sortKey(b));
}

function checkPath(p: string, what = "path"): void {
  if (typeof p !== "string" || p === "") throw new OciError("E_LAYER_ENTRY", `empty ${what} in layer tree`);
  if (p.startsWith("/") || p.endsWith("/") || p.includes("\0")) {
    throw new OciError(
      "E_LAYER_ENTRY",
      `invalid ${what} "${p}" in layer tree (relative, no leading or trailing "/")`,
    );
  }
  for (const seg of p.split("/")) {
    if (seg === "" || seg === "." || seg === "..") {
      throw new OciError(
        "E_LAYER_ENTRY",
        `invalid ${what} "${p}" in layer tree (empty, "." or ".." component)`,
      );
    }
  }
}

/**
 * Validate and order entries for a layer: unique paths, sorted, hard links pointing at an
 * earlier file entry. Does not modify the input.
 */
export function normalizeEntries<E extends TarEntry>(entries: E[]): E[] {
  const byPath = new Map<string, E>();
  for (const e of entries) {
    checkPath(e.path);
    if (byPath.has(e.path)) throw new OciError("E_LAYER_ENTRY", `duplicate path "${e.path}" in layer tree`);
    if (!Number.isInteger(e.mode) || e.mode < 0 || e.mode > 0o7777) {
      throw new OciError("E_LAYER_ENTRY", `"${e.path}": mode ${e.mode} is not permission bits (0..07777)`);
    }
    for (const k of ["uid", "gid"] as const) {
      if (!Number.isInteger(e[k]) || e[k] < 0 || e[k] > 0xffffffff) {
        throw new OciError("E_LAYER_ENTRY", `"${e.path}": invalid ${k} ${e[k]}`);
      }
    }
    if (e.type === "file" && (!Number.isInteger(e.size) || e.size < 0)) {
      throw new OciError("E_LAYER_ENTRY", `"${e.path}": invalid size ${e.size}`);
    }
    if (e.type === "file" && e.content.kind === "bytes" && e.content.data.length !== e.size) {
      throw new OciError(
        "E_LAYER_ENTRY",
        `"${e.path}": size ${e.size} but ${e.content.data.length} bytes of content`,
      );
    }
    if (
      e.type === "symlink" &&
      (typeof e.target !== "string" || e.target === "" || e.target.includes("\0"))
    ) {
      throw new OciError("E_LAYER_ENTRY", `"${e.path}": invalid symlink target`);
    }
    byPath.set(e.path, e);
  }
  // Hard link groups: the member that sorts first carries the content.
  const groups = new Map<string, string[]>(); // file path -> link paths
  for (const e of entries) {
    if (e.type !== "hardlink") continue;
    checkPath(e.target, "hard link target");
    let t = byPath.get(e.target);
    const seen = new Set<string>([e.path]);
    while (t && t.type === "hardlink" && !seen.has(t.path)) {
      seen.add(t.path);
      t = byPath.get(t.target);
    }
    if (t?.type !== "file") {
      throw new OciError(
        "E_LAYER_ENTRY",
        `hard link "${e.path}" → "${e.target}": the target is not a regular file in the same layer`,
      );
    }
    const g = groups.get(t.path) ?? [];
    g.push(e.path);
    groups.set(t.path, g);
  }
  const out = new Map(byPath);
  for (const [filePath, links] of groups) {
    const file = byPath.get(filePath) as E & TarFileEntry;
    const members = [filePath, ...links].sort(comparePaths);
    const first = members[0];
    if (first !== filePath) {
      out.set(first, { ...file, path: first });
    }
    for (const m of members.slice(1)) {
      const orig = byPath.get(m) as E;
      out.set(m, {
        type: "hardlink",
        path: m,
        target: first,
        mode: file.mode,
        uid: file.uid,
        gid: file.gid,
        mtime: orig.mtime,
      } as E);
    }
  }
  return [...out.values()].sort((a, b) => comparePaths(a.path, b.path));
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7e || s.charCodeAt(i) < 0x20) return false;
  return true;
}

function writeStr(buf: Buffer, off: number, len: number, s: string): void {
  const b = enc.encode(s);
  if (b.length > len) throw new Error(`tar field overflow: ${s}`);
  buf.set(b, off);
}

function writeOctal(buf: Buffer, off: number, len: number, n: number): void {
  // len-1 octal digits, zero padded, then NUL
  const s = n.toString(8).padStart(len - 1, "0");
  if (s.length > len - 1) throw new Error(`tar numeric field overflow: ${n}`);
  writeStr(buf, off, len, s);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = enc.encode(body).length;
  let n = bodyLen + 1;
  while (String(n).length + bodyLen !== n) n = String(n).length + bodyLen;
  return `${n}${body}`;
}

/** Split a name into ustar prefix + name, or undefined when it does not fit. */
function splitUstar(name: string): { prefix: string; name: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { prefix: "", name };
  // choose the first '/' such that prefix ≤ 155 and the rest ≤ 100 (rest non-empty)
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length > 155) return undefined;
    if (rest.length <= 100 && rest.length > 0 && rest !== "/") return { prefix, name: rest };
  }
  return undefined;
}

interface HeaderFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: "0" | "1" | "2" | "5" | "x";
  linkname: string;
}

function rawHeader(f: HeaderFields, prefix: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeStr(h, 0, 100, f.name);
  writeOctal(h, 100, 8, f.mode);
  writeOctal(h, 108, 8, f.uid);
  writeOctal(h, 116, 8, f.gid);
  writeOctal(h, 124, 12, f.size);
  writeOctal(h, 136, 12, f.mtime);
  h.fill(0x20, 148, 156); // checksum placeholder: spaces
  writeStr(h, 156, 1, f.type);
  writeStr(h, 157, 100, f.linkname);
  writeStr(h, 257, 6, "ustar"); // + NUL
  writeStr(h, 263, 2, "00");
  // uname, gname empty; devmajor/devminor as zero octal (as most writers do)
  writeOctal(h, 329, 8, 0);
  writeOctal(h, 337, 8, 0);
  writeStr(h, 345, 155, prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  writeStr(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

function padding(size: number): Buffer | undefined {
  const r = size % BLOCK;
  return r === 0 ? undefined : Buffer.alloc(BLOCK - r);
}

/**
 * The header block(s) of one entry: a PAX 'x' header + its data when some value does not fit
 * ustar, then the ustar header.
 */
export function headerBlocks(f: HeaderFields): Buffer[] {
  const pax: Array<[string, string]> = [];
  let name = f.name;
  let prefix = "";
  const split = splitUstar(f.name);
  if (split) {
    name = split.name;
    prefix = split.prefix;
  } else {
    pax.push(["path", f.name]);
    name = asciiTruncate(f.name, 100);
  }
  let linkname = f.linkname;
  if (!isAscii(linkname) || linkname.length > 100) {
    pax.push(["linkpath", linkname]);
    linkname = asciiTruncate(linkname, 100);
  }
  let { size, uid, gid, mtime } = f;
  if (size > MAX_OCTAL_11) {
    pax.push(["size", String(size)]);
    size = 0;
  }
  if (uid > MAX_OCTAL_7) {
    pax.push(["uid", String(uid)]);
    uid = 0;
  }
  if (gid > MAX_OCTAL_7) {
    pax.push(["gid", String(gid)]);
    gid = 0;
  }
  if (mtime > MAX_OCTAL_11 || mtime < 0) {
    pax.push(["mtime", String(mtime)]);
    mtime = Math.min(Math.max(mtime, 0), MAX_OCTAL_11);
  }
  const blocks: Buffer[] = [];
  if (pax.length > 0) {
    pax.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const data = Buffer.from(pax.map(([k, v]) => paxRecord(k, v)).join(""), "utf8");
    const base = f.name.replace(/\/$/, "").split("/").pop() ?? "";
    const paxName = asciiTruncate(`PaxHeaders/${base}`, 100);
    blocks.push(
      rawHeader(
        { name: paxName, mode: 0o644, uid: 0, gid: 0, size: data.length, mtime, type: "x", linkname: "" },
        "",
      ),
    );
    blocks.push(data);
    const pad = padding(data.length);
    if (pad) blocks.push(pad);
  }
  blocks.push(rawHeader({ ...f, name, size, uid, gid, mtime, linkname }, prefix));
  return blocks;
}

function asciiTruncate(s: string, max: number): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0x5f;
    out += c >= 0x20 && c <= 0x7e ? ch : "_";
    if (out.length >= max) break;
  }
  return out.slice(0, max);
}

async function* fileContent(e: TarFileEntry): AsyncGenerator<Uint8Array> {
  if (e.content.kind === "bytes") {
    if (e.content.data.length > 0) yield e.content.data;
    return;
  }
  if (e.content.kind === "range") {
    const { store, offset } = e.content;
    for (let done = 0; done < e.size; ) {
      const buf = Buffer.allocUnsafe(Math.min(RANGE_CHUNK, e.size - done));
      const n = store.readInto(buf, offset + done, buf.length);
      if (n !== buf.length)
        throw new OciError(
          "E_LAYER_CONTENT",
          `/${e.path}: content has ${done + n} bytes, expected ${e.size}`,
        );
      done += n;
      yield buf;
    }
    return;
  }
  if (e.content.kind === "stream") {
    let n = 0;
    for await (const c of e.content.open()) {
      n += c.length;
      if (n > e.size) break;
      yield c;
    }
    if (n !== e.size) {
      throw new OciError(
        "E_LAYER_CONTENT",
        `/${e.path}: content has ${n > e.size ? "more" : n} bytes, expected ${e.size}`,
      );
    }
    return;
  }
  const src = e.content.path;
  const fh = await open(src, "r").catch((err: NodeJS.ErrnoException) => {
    throw new OciError(
      "E_LAYER_CONTENT",
      `cannot read "${e.content.kind === "file" ? e.content.path : ""}" for /${e.path}: ${err.code ?? err.message}`,
    );
  });
  try {
    let left = e.size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) {
        throw new OciError(
          "E_LAYER_CONTENT",
          `"${src}" (for /${e.path}) is shorter than its recorded size ${e.size}: it changed during the build`,
        );
      }
      left -= bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
    const extra = await fh.read(Buffer.alloc(1), 0, 1, null);
    if (extra.bytesRead !== 0) {
      throw new OciError(
        "E_LAYER_CONTENT",
        `"${src}" (for /${e.path}) is longer than its recorded size ${e.size}: it changed during the build`,
      );
    }
  } finally {
    await fh.close();
  }
}

/**
 * The tar archive of `entries` as a stream of chunks. Entries are normalized (validated,
 * sorted) first unless `normalized` says they already are.
 */
export async function* tarStream(
  entries: TarEntry[],
  opts: TarOptions & { normalized?: boolean; onEntry?: (e: TarEntry) => void },
): AsyncGenerator<Uint8Array> {
  const sde = Math.floor(opts.sourceDateEpoch);
  if (!Number.isFinite(sde) || sde < 0)
    throw new OciError("E_LAYER_ENTRY", `invalid SOURCE_DATE_EPOCH ${opts.sourceDateEpoch}`);
  const list = opts.normalized ? entries : normalizeEntries(entries);
  for (const e of list) {
    const mtime = e.mtime === undefined ? sde : Math.min(Math.floor(e.mtime), sde);
    const base = { mode: e.mode, uid: e.uid, gid: e.gid, mtime, size: 0, linkname: "" };
    switch (e.type) {
      case "dir":
        yield* headerBlocks({ ...base, name: `${e.path}/`, type: "5" });
        break;
      case "symlink":
        yield* headerBlocks({ ...base, name: e.path, type: "2", linkname: e.target });
        break;
      case "hardlink":
        yield* headerBlocks({ ...base, name: e.path, type: "1", linkname: e.target });
        break;
      case "file": {
        yield* headerBlocks({ ...base, name: e.path, type: "0", size: e.size });
        yield* fileContent(e);
        const pad = padding(e.size);
        if (pad) yield pad;
        break;
      }
      default:
        throw new OciError("E_LAYER_ENTRY", `unknown entry type ${(e as { type: string }).type}`);
    }
    opts.onEntry?.(e);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** A tar of in-memory files (for archives of small metadata files); same rules as tarStream. */
export async function tarToBuffer(entries: TarEntry[], opts: TarOptions): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of tarStream(entries, opts)) parts.push(c);
  return Buffer.concat(parts);
}
