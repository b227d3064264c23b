/**
 * Nothing half-written: every file shellfree produces is written to a temp name in the same
 * directory and renamed into place. A killed process leaves at most a `.tmp-*` file that no
 * reader ever looks at (and `cleanTemps` removes).
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export const TEMP_PREFIX = ".tmp-";

/** A fresh temp path beside `dest` (same directory, so rename is atomic). */
export function tempPathFor(dest: string): string {
  return join(
    dirname(dest),
    `${TEMP_PREFIX}${basename(dest)}.${process.pid}.${randomBytes(4).toString("hex")}`,
  );
}

/** Write `data` to `dest` atomically (temp + fsync + rename). */
export async function writeFileAtomic(dest: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  try {
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Stream into a temp file, let `check` inspect the finished temp file (e.g. compare a digest
 * computed while streaming) and only then rename it into place. If the stream or the check
 * throws, the temp file is removed and `dest` is untouched.
 */
export async function writeStreamAtomic(
  dest: string,
  source: Readable | AsyncIterable<Uint8Array>,
  check?: (tmpPath: string) => Promise<void> | void,
  mode = 0o644,
): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  // The file is opened before the stream starts: a write stream opening it by name could
  // still create it after a failing source has made us remove it (a temp file left behind).
  const fh = await open(tmp, "wx", mode);
  try {
    // (the stream syncs the file before it closes it, and closes it on failure too)
    await pipeline(source, fh.createWriteStream({ flush: true }));
    if (check) await check(tmp);
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Build a directory atomically: `fill` populates a temp directory beside `dest`, which then
 * replaces `dest` (an existing `dest` is moved aside and removed only after the swap).
 */
export async function writeDirAtomic(dest: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  await mkdir(tmp);
  try {
    await fill(tmp);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = await stat(dest).then(
    () => tempPathFor(dest),
    () => null,
  );
  if (old) await rename(dest, old);
  try {
    await rename(tmp, dest);
  } catch (e) {
    if (old) await rename(old, dest);
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  if (old) await rm(old, { recursive: true, force: true });
}

/** Remove stale temp files (older than `olderThanMs`) left in `dir` by killed processes. */
export async function cleanTemps(dir: string, olderThanMs = 60 * 60 * 1000): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const now = Date.now();
  for (const n of names) {
    if (!n.startsWith(TEMP_PREFIX)) continue;
    const p = join(dir, n);
    const st = await stat(p).catch(() => null);
    if (st && now - st.mtimeMs > olderThanMs) await rm(p, { recursive: true, force: true });
  }
}
