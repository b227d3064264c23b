/**
 * The .deb reader: our own `ar` parser, then the control and data tarballs
 * (`.tar`, `.tar.gz`, `.tar.xz`, `.tar.zst`) streamed through their decompressor into a tar
 * reader. Malformed archives, oversized members and unsafe paths are rejected with E_DEB.
 */
import { createReadStream } from "node:fs";
import { chmod, chown, lchown, link, lstat, mkdir, open, symlink, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { createGunzip, createZstdDecompress } from "node:zlib";
import * as tar from "tar-stream";
import { errnoText } from "../errors.ts";
import { writeDirAtomic } from "../util/atomic.ts";
import { parseDeb822 } from "./deb822.ts";
import { DebianError } from "./errors.ts";
import type { ContentSpool } from "./spool.ts";
import { nativeXz, XZ_SMALL, xzDecompress, xzNativeStream } from "./xz.ts";

/**
 * What readDeb/readDebs return changes only with this number: bump it with any change to the
 * entries, control data or contents they report. The builder's package metadata cache is keyed
 * by it.
 */
export const DEB_READER_VERSION = 1;

export interface DebEntry {
  /** "usr/bin/x": relative, no leading "./" or "/", directories included */
  path: string;
  type: "file" | "dir" | "symlink" | "hardlink";
  /** permission bits incl. setuid/setgid/sticky, no type bits */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  /** symlink: target as stored; hardlink: normalized path of the target entry */
  linkTarget?: string;
  /** file content (read into memory) */
  data?: Uint8Array;
  /** file content: its offset in the reader's spool (read with a spool) */
  at?: number;
}

export interface DebContents {
  /** fields of DEBIAN/control in original case */
  control: Record<string, string>;
  /** the control file verbatim */
  controlText: string;
  /** md5sums, conffiles, postinst, ... by name */
  controlFiles: Map<string, Uint8Array>;
  entries: DebEntry[];
  /** where the files' contents are when they were read with a spool (DebEntry.at) */
  spool?: ContentSpool;
}

/** A file entry's content: in memory, or read back from the spool it was written to. */
export function entryContent(c: DebContents, e: DebEntry): Uint8Array {
  if (e.data) return e.data;
  if (c.spool && e.at !== undefined) return e.size === 0 ? new Uint8Array() : c.spool.read(e.at, e.size);
  return new Uint8Array();
}

export interface ArMember {
  name: string;
  /** offset of the member's data in the file */
  offset: number;
  size: number;
}

const AR_MAGIC = "!<arch>\n";
const AR_HEADER = 60;

function debError(path: string, what: string): DebianError {
  return new DebianError("E_DEB", `${path}: ${what}`, { exitCode: 3 });
}

function bad(path: string, what: string): never {
  throw debError(path, what);
}

/** List the members of an ar archive, validating every header against the file size. */
export async function readArMembers(path: string): Promise<ArMember[]> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw new DebianError("E_DEB", `cannot open ${path}: ${errnoText(e)}`);
  }
  try {
    const fileSize = (await fh.stat()).size;
    const head = Buffer.alloc(AR_HEADER);
    const { bytesRead } = await fh.read(head, 0, 8, 0);
    if (bytesRead < 8 || head.toString("latin1", 0, 8) !== AR_MAGIC)
      bad(path, "not a Debian package (no ar magic)");
    const members: ArMember[] = [];
    let pos = 8;
    while (pos < fileSize) {
      if (members.length >= 64) bad(path, "too many ar members");
      const r = await fh.read(head, 0, AR_HEADER, pos);
      if (r.bytesRead < AR_HEADER) bad(path, `truncated ar header at byte ${pos}`);
      if (head[58] !== 0x60 || head[59] !== 0x0a) bad(path, `malformed ar header at byte ${pos}`);
      const name = head.toString("latin1", 0, 16).trimEnd().replace(/\/$/, "");
      const sizeField = head.toString("latin1", 48, 58).trimEnd();
      if (!/^\d{1,10}$/.test(sizeField))
        bad(path, `malformed ar member size ${JSON.stringify(sizeField)} at byte ${pos}`);
      if (!/^[\x21-\x7e]+$/.test(name)) bad(path, `malformed ar member name at byte ${pos}`);
      const size = Number(sizeField);
      const offset = pos + AR_HEADER;
      if (offset + size > fileSize) {
        bad(
          path,
          `ar member ${name} claims ${size} bytes but only ${fileSize - offset} remain (oversized or truncated)`,
        );
      }
      members.push({ name, offset, size });
      pos = offset + size + (size % 2);
    }
    return members;
  } finally {
    await fh.close();
  }
}

async function memberStream(path: string, m: ArMember, where: string): Promise<Readable> {
  if (m.size === 0) return Readable.from([]);
  const raw = () =>
    createReadStream(path, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 256 * 1024 });
  const ext = m.name.slice(m.name.indexOf(".tar") + 4);
  switch (ext) {
    case "":
      return raw();
    case ".gz":
      return raw().pipe(createGunzip());
    case ".zst":
      return raw().pipe(createZstdDecompress());
    case ".xz": {
      const xz = nativeXz();
      if (xz && m.size >= XZ_SMALL) {
        // (xz's own message, e.g. "Compressed data is corrupt", names what is wrong)
        return xzNativeStream(raw(), xz, (e) =>
          debError(where, `corrupt xz data in ${m.name}: ${e.message}`),
        );
      }
      // decompressed whole (see xz.ts: in this thread when small, else in a worker thread, so
      // that parallel readDeb calls use every core)
      const fh = await open(path, "r");
      const buf = Buffer.allocUnsafe(m.size);
      try {
        const { bytesRead } = await fh.read(buf, 0, m.size, m.offset);
        if (bytesRead !== m.size) bad(where, `short read of member ${m.name}`);
      } finally {
        await fh.close();
      }
      let out: Uint8Array;
      try {
        out = await xzDecompress(buf);
      } catch (e) {
        bad(where, `corrupt xz data in ${m.name}: ${(e as Error).message}`);
      }
      return Readable.from([Buffer.from(out.buffer, out.byteOffset, out.byteLength)]);
    }
    default:
      bad(where, `unsupported compression of member ${m.name}`);
  }
}

/** Normalize a tar path: strip "./" and "/"-ends; reject absolute paths and "..". "" is the root. */
export function normalizeDebPath(name: string, where: string): string {
  if (name.startsWith("/")) bad(where, `absolute path ${JSON.stringify(name)} in package`);
  if (name.includes("\0")) bad(where, `NUL in path ${JSON.stringify(name)}`);
  const parts: string[] = [];
  for (const p of name.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") bad(where, `path traversal ${JSON.stringify(name)} in package`);
    parts.push(p);
  }
  return parts.join("/");
}

type TarEntryFn = (header: tar.Header, body: AsyncIterable<Buffer> & { resume(): void }) => Promise<void>;

async function readTar(stream: Readable, where: string, onEntry: TarEntryFn): Promise<void> {
  const extract = tar.extract();
  const failOn = (e: unknown): never => {
    if (e instanceof DebianError) throw e;
    bad(where, `corrupt tar: ${(e as Error).message}`);
  };
  stream.on("error", (e) => extract.destroy(e));
  stream.pipe(extract);
  try {
    for await (const entry of extract) {
      await onEntry(entry.header, entry as unknown as AsyncIterable<Buffer> & { resume(): void });
    }
  } catch (e) {
    stream.destroy();
    failOn(e);
  }
}

/** Largest control.tar member read into memory (control files are small; this bounds a hostile one). */
const MAX_CONTROL_FILE = 64 * 1024 * 1024;

/**
 * An entry's bytes. Memory grows with the bytes really read, not with the size a (possibly
 * hostile) header claims; a header that disagrees with the data is E_DEB.
 */
async function collect(
  body: AsyncIterable<Buffer>,
  size: number,
  where: string,
  limit = Number.MAX_SAFE_INTEGER,
): Promise<Uint8Array> {
  if (size > limit) bad(where, `oversized entry (${size} bytes)`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > size) bad(where, "tar entry longer than its header says");
    chunks.push(c);
  }
  if (n !== size) bad(where, "truncated tar entry");
  // a lone chunk that owns its whole buffer is kept; anything else is copied so that a small
  // file does not pin a large decompression buffer
  if (
    chunks.length === 1 &&
    chunks[0].byteOffset === 0 &&
    chunks[0].byteLength === chunks[0].buffer.byteLength
  )
    return chunks[0];
  return Buffer.concat(chunks, n);
}

/** An entry's bytes written to `spool` as they come (never held whole); returns their offset. */
async function spoolEntry(body: AsyncIterable<Buffer>, size: number, where: string, spool: ContentSpool) {
  const at = spool.reserve(size);
  let n = 0;
  for await (const c of body) {
    if (n + c.length > size) bad(where, "tar entry longer than its header says");
    spool.write(c, at + n);
    n += c.length;
  }
  if (n !== size) bad(where, "truncated tar entry");
  return at;
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) {
    /* discard */
  }
}

export interface ReadDebOptions {
  /** false: entries without contents */
  data?: boolean;
  /** write file contents here (DebEntry.at) instead of holding them in memory (DebEntry.data) */
  spool?: ContentSpool;
}

/**
 * Read a .deb: control fields and files, and every data entry (with contents unless data:false;
 * in memory, or in `spool` when given).
 */
export async function readDeb(path: string, opts: ReadDebOptions = {}): Promise<DebContents> {
  const wantData = opts.data !== false;
  const spool = wantData ? opts.spool : undefined;
  const members = await readArMembers(path);
  if (members[0]?.name !== "debian-binary") bad(path, "first ar member is not debian-binary");
  const fh = await open(path, "r");
  let version: string;
  try {
    const m = members[0];
    if (m.size > 64) bad(path, "debian-binary member is oversized");
    const b = Buffer.alloc(m.size);
    await fh.read(b, 0, m.size, m.offset);
    version = b.toString("latin1").trim();
  } finally {
    await fh.close();
  }
  if (!/^2\.\d+$/.test(version)) bad(path, `unsupported package format version ${JSON.stringify(version)}`);
  const control = members.find((m) => /^control\.tar(\.(gz|xz|zst))?$/.test(m.name));
  const data = members.find((m) => /^data\.tar(\.(gz|xz|zst|bz2|lzma))?$/.test(m.name));
  if (!control) bad(path, "missing control.tar member");
  if (!data) bad(path, "missing data.tar member");
  for (const m of members.slice(1)) {
    if (m !== control && m !== data && !m.name.startsWith("_")) bad(path, `unexpected ar member ${m.name}`);
  }
  if (members.indexOf(control) > members.indexOf(data)) bad(path, "data.tar comes before control.tar");

  const controlFiles = new Map<string, Uint8Array>();
  const cwhere = `${path} (${control.name})`;
  await readTar(await memberStream(path, control, cwhere), cwhere, async (h, body) => {
    const name = normalizeDebPath(h.name, cwhere);
    if ((h.type === "file" || h.type === "contiguous-file") && name && !name.includes("/")) {
      controlFiles.set(name, await collect(body, h.size ?? 0, `${cwhere}: ${name}`, MAX_CONTROL_FILE));
    } else await drain(body);
  });
  const controlBytes = controlFiles.get("control");
  if (!controlBytes) bad(path, "control.tar has no control file");
  const controlText = Buffer.from(controlBytes).toString("utf8");
  const paras = parseDeb822(controlText, `${path}: control`);
  if (paras.length !== 1 || !paras[0].Package)
    bad(path, "control file is not one paragraph with a Package field");

  const entries: DebEntry[] = [];
  const seen = new Map<string, DebEntry>();
  const dwhere = `${path} (${data.name})`;
  await readTar(await memberStream(path, data, dwhere), dwhere, async (h, body) => {
    const p = normalizeDebPath(h.name, dwhere);
    const base = {
      mode: (h.mode ?? 0) & 0o7777,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      mtime: h.mtime ? Math.floor(h.mtime.getTime() / 1000) : 0,
    };
    let e: DebEntry;
    switch (h.type) {
      case "file":
      case "contiguous-file": {
        const size = h.size ?? 0;
        e = { path: p, type: "file", ...base, size };
        if (spool) e.at = await spoolEntry(body, size, dwhere, spool);
        else if (wantData) e.data = await collect(body, size, dwhere);
        else await drain(body);
        break;
      }
      case "directory":
        await drain(body);
        if (p === "") return; // the root "./"
        e = { path: p, type: "dir", ...base, size: 0 };
        break;
      case "symlink":
        await drain(body);
        if (!h.linkname) bad(dwhere, `symlink ${p} has no target`);
        e = { path: p, type: "symlink", ...base, size: 0, linkTarget: h.linkname };
        break;
      case "link": {
        await drain(body);
        const target = normalizeDebPath(h.linkname ?? "", dwhere);
        const t = seen.get(target);
        if (!target || !t || t.type !== "file")
          bad(dwhere, `hard link ${p} → ${h.linkname} does not name an earlier file`);
        e = { path: p, type: "hardlink", ...base, size: 0, linkTarget: target };
        break;
      }
      default:
        await drain(body);
        bad(dwhere, `unsupported tar entry type ${h.type} for ${JSON.stringify(h.name)}`);
    }
    if (p === "") bad(dwhere, `entry ${JSON.stringify(h.name)} names the root`);
    entries.push(e);
    seen.set(p, e);
  });
  const out: DebContents = { control: paras[0], controlText, controlFiles, entries };
  if (spool) out.spool = spool;
  return out;
}

/**
 * Extract a package's data into `outDir` (which appears atomically, replacing any existing
 * directory). Entries are written without following symlinks: an entry below a symlink the
 * package itself ships is rejected. Ownership is applied only when running as root.
 */
export async function extractDeb(path: string, outDir: string): Promise<DebContents> {
  const deb = await readDeb(path);
  const isRoot = process.getuid?.() === 0;
  await writeDirAtomic(outDir, async (tmp) => {
    const links = new Set<string>();
    const dirs: DebEntry[] = [];
    for (const e of deb.entries) {
      const parts = e.path.split("/");
      for (let i = 1; i < parts.length; i++) {
        if (links.has(parts.slice(0, i).join("/")))
          bad(path, `entry ${e.path} lies below a symlink the package ships`);
      }
      const dest = join(tmp, e.path);
      await mkdir(dirname(dest), { recursive: true });
      const existing = await lstat(dest).catch(() => null);
      if (existing && !(existing.isDirectory() && e.type === "dir")) bad(path, `duplicate entry ${e.path}`);
      switch (e.type) {
        case "dir":
          await mkdir(dest, { recursive: true });
          dirs.push(e);
          break;
        case "file": {
          const fh = await open(dest, "wx", 0o600);
          try {
            await fh.writeFile(e.data ?? new Uint8Array());
          } finally {
            await fh.close();
          }
          if (isRoot) await chown(dest, e.uid, e.gid);
          await chmod(dest, e.mode);
          await utimes(dest, e.mtime, e.mtime);
          break;
        }
        case "symlink":
          await symlink(e.linkTarget!, dest);
          links.add(e.path);
          if (isRoot) await lchown(dest, e.uid, e.gid);
          break;
        case "hardlink":
          await link(join(tmp, e.linkTarget!), dest);
          break;
      }
    }
    // directories last (children change their mtime), deepest first
    for (const d of dirs.reverse()) {
      const dest = join(tmp, d.path);
      if (isRoot) await chown(dest, d.uid, d.gid);
      await chmod(dest, d.mode);
      await utimes(dest, d.mtime, d.mtime);
    }
  });
  return deb;
}

/**
 * readDeb for many files with bounded parallelism (default: 4), results in input order. xz
 * members decompress in worker threads, so this uses every core where a loop of readDeb cannot.
 */
export async function readDebs(
  paths: string[],
  opts: ReadDebOptions & { concurrency?: number } = {},
): Promise<DebContents[]> {
  const out: DebContents[] = new Array(paths.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < paths.length) {
      const i = next++;
      try {
        out[i] = await readDeb(paths[i], opts);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 4, paths.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failed !== undefined) throw failed;
  return out;
}
