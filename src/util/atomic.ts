/**
 * Nothing half-written: every file shellfree produces is written to a temp name in the same
 * directory and renamed into place. A killed process leaves at most a `.tmp-*` file that no
 * reader ever looks at. Temp names carry their owner (`.tmp-NAME.PID-START-HOST.RAND`, see
 * owner.ts), so `cleanTemps` (one directory) and `sweepTemps` (a whole tree, e.g. the cache)
 * remove exactly those whose process is gone — at the next run, whatever their age.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ownerAlive, ownerString, parseOwner, pidAlive } from "./owner.ts";

export const TEMP_PREFIX = ".tmp-";

/** A fresh temp path beside `dest` (same directory, so rename is atomic), named by its owner. */
export function tempPathFor(dest: string): string {
  return join(
    dirname(dest),
    `${TEMP_PREFIX}${basename(dest)}.${ownerString()}.${randomBytes(4).toString("hex")}`,
  );
}

/** Temps of owners that cannot be checked (another machine, an unknown name) go after this. */
const FOREIGN_TEMP_AGE_MS = 60 * 60 * 1000;

/**
 * Whether the temp entry `name` (with mtime `mtimeMs`) was left by a process that is gone:
 * `.tmp-NAME.PID-START-HOST.RAND` when that owner is not running; the older
 * `.tmp-NAME.PID.RAND` when that PID is not running; any other `.tmp-*` (and temps of another
 * machine) after an hour.
 */
export function isDeadTemp(name: string, mtimeMs: number, now = Date.now()): boolean {
  if (!name.startsWith(TEMP_PREFIX)) return false;
  const m = /\.([0-9]+-[0-9]+-[0-9a-f]{6}|[0-9]+)\.[0-9a-f]{8}$/.exec(name);
  const old = now - mtimeMs > FOREIGN_TEMP_AGE_MS;
  if (!m) return old;
  if (!m[1].includes("-")) return !pidAlive(Number(m[1])) || old;
  const o = parseOwner(m[1]);
  return o ? !ownerAlive(o) : old;
}

/** Write `data` to `dest` atomically (temp + fsync + rename). */
export async function writeFileAtomic(dest: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const staged = await stageFile(dest, data, mode);
  try {
    await staged.commit();
  } catch (e) {
    await staged.abort();
    throw e;
  }
}

/** A file written under its temp name, renamed into place by `commit` or removed by `abort`. */
export interface StagedFile {
  dest: string;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Write `data` to a temp file beside `dest` (fsynced) without touching `dest`: for outputs that
 * must appear together with another (SBOM files with their image) or not at all.
 */
export async function stageFile(dest: string, data: string | Uint8Array, mode = 0o644): Promise<StagedFile> {
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
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return {
    dest,
    commit: () => rename(tmp, dest),
    abort: () => rm(tmp, { force: true }),
  };
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

/**
 * Remove the temp files and directories in `dir` whose process is gone (see isDeadTemp);
 * returns their paths. `only` limits it to temps of that destination name (`.tmp-ONLY.*`,
 * `.tmp-ONLY.*.*`). Errors (a read-only directory) leave things as they are.
 */
export async function cleanTemps(dir: string, only?: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const now = Date.now();
  for (const n of names) {
    if (!n.startsWith(TEMP_PREFIX)) continue;
    if (only !== undefined && !n.startsWith(`${TEMP_PREFIX}${only}.`)) continue;
    const p = join(dir, n);
    const st = await stat(p).catch(() => null);
    if (!st || !isDeadTemp(n, st.mtimeMs, now)) continue;
    try {
      await rm(p, { recursive: true, force: true });
      removed.push(p);
    } catch {
      // not ours to remove (permissions, a read-only file system): left as it is
    }
  }
  return removed;
}

const swept = new Map<string, Promise<string[]>>();

/**
 * `cleanTemps` in `root` and every directory below it (temp directories themselves are not
 * entered), once per process and root: the one clean-up of the cache, run by every command
 * that uses it.
 */
export function sweepTemps(root: string): Promise<string[]> {
  const key = resolve(root);
  let p = swept.get(key);
  if (!p) {
    p = (async () => {
      const removed: string[] = [];
      const walk = async (dir: string, depth: number): Promise<void> => {
        removed.push(...(await cleanTemps(dir)));
        if (depth >= 6) return;
        const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
        for (const e of entries) {
          if (e.isDirectory() && !e.name.startsWith(TEMP_PREFIX)) await walk(join(dir, e.name), depth + 1);
        }
      };
      await walk(key, 0);
      return removed;
    })();
    swept.set(key, p);
  }
  return p;
}
