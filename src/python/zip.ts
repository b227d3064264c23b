/**
 * Reading a wheel archive (a zip file, read with yauzl) into memory, refusing what could write
 * outside the installation directories or is not a plain file: absolute names, `..` or `.`
 * segments, backslashes, NUL, symlinks and other special files (Unix mode bits in the external
 * attributes), duplicate names, encrypted entries, and more than a size limit of content.
 * Names are decoded as Python's zipfile decodes them (UTF-8 when the flag says so, else only
 * ASCII is accepted), never through yauzl's Unicode-path extra field.
 */
import yauzl from "yauzl";
import { PythonError } from "./errors.ts";

export interface ZipFileEntry {
  name: string;
  data: Uint8Array;
  /** the owner's execute bit was set in the Unix mode the archive records */
  executable: boolean;
}

/** At most this much uncompressed content per wheel (default 4 GiB). */
export const MAX_WHEEL_CONTENT = 4 * 1024 ** 3;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

function bad(what: string, why: string): never {
  throw new PythonError("E_WHEEL", `${what}: ${why}`, {
    hint: "the wheel is unsafe or damaged; nothing was installed",
  });
}

/** Check an entry name; returns the name, or throws naming what is wrong. */
export function checkEntryName(name: string, what: string): string {
  const shown = JSON.stringify(name);
  if (name.includes("\0")) bad(what, `entry name ${shown} contains NUL`);
  if (name.includes("\\")) bad(what, `entry name ${shown} contains a backslash`);
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) bad(what, `entry ${shown} is an absolute path`);
  const parts = name.replace(/\/$/, "").split("/");
  if (parts.some((p) => p === "..")) bad(what, `entry ${shown} leaves the installation directory (..)`);
  if (parts.some((p) => p === "" || p === ".")) bad(what, `entry name ${shown} has an empty or "." segment`);
  return name;
}

function decodeName(raw: Buffer, flags: number, what: string): string {
  if (flags & 0x800) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      bad(what, `entry name ${JSON.stringify(raw.toString("latin1"))} is not valid UTF-8`);
    }
  }
  if (raw.some((b) => b > 0x7f))
    bad(what, `entry name ${JSON.stringify(raw.toString("latin1"))} is not UTF-8`);
  return raw.toString("ascii");
}

function openZip(path: string, what: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true }, (err, zf) => {
      if (err) reject(new PythonError("E_WHEEL", `${what}: not a readable zip archive (${err.message})`));
      else resolve(zf);
    });
  });
}

function readEntry(zf: yauzl.ZipFile, e: yauzl.Entry, what: string, name: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    zf.openReadStream(e, (err, stream) => {
      if (err) {
        reject(new PythonError("E_WHEEL", `${what}: cannot read ${name} (${err.message})`));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", (er) =>
        reject(new PythonError("E_WHEEL", `${what}: cannot read ${name} (${er.message})`)),
      );
      stream.on("end", () => resolve(Buffer.concat(chunks)));
    });
  });
}

/**
 * Every file entry of the archive at `path` (directories are skipped), in archive order.
 * `what` names the wheel in messages.
 */
export async function readZip(
  path: string,
  what: string,
  limit = MAX_WHEEL_CONTENT,
): Promise<ZipFileEntry[]> {
  const zf = await openZip(path, what);
  const out: ZipFileEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zf.on("error", (err: Error) =>
        reject(
          err instanceof PythonError
            ? err
            : new PythonError("E_WHEEL", `${what}: damaged zip archive (${err.message})`),
        ),
      );
      zf.on("end", () => resolve());
      zf.on("entry", (e: yauzl.Entry) => {
        (async () => {
          const raw = e.fileName as unknown as Buffer;
          const name = checkEntryName(decodeName(raw, e.generalPurposeBitFlag, what), what);
          const madeByUnix = e.versionMadeBy >> 8 === 3;
          const mode = madeByUnix ? (e.externalFileAttributes >>> 16) & 0xffff : 0;
          const type = mode & S_IFMT;
          if (type === S_IFLNK) bad(what, `entry ${JSON.stringify(name)} is a symbolic link`);
          const isDir = name.endsWith("/") || type === S_IFDIR;
          if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
            bad(what, `entry ${JSON.stringify(name)} is a special file (mode ${type.toString(8)})`);
          }
          if (isDir) {
            zf.readEntry();
            return;
          }
          if (e.isEncrypted()) bad(what, `entry ${JSON.stringify(name)} is encrypted`);
          if (seen.has(name)) bad(what, `entry ${JSON.stringify(name)} appears twice`);
          seen.add(name);
          total += e.uncompressedSize;
          if (total > limit) bad(what, `more than ${limit} bytes of content`);
          const data = await readEntry(zf, e, what, name);
          out.push({ name, data, executable: (mode & 0o100) !== 0 });
          zf.readEntry();
        })().catch(reject);
      });
      zf.readEntry();
    });
  } finally {
    zf.close();
  }
  return out;
}
