/**
 * A lock file for read-modify-write of a shared file (an OCI layout's index.json): created with
 * O_EXCL, holding its owner (`PID-START-HOST`, owner.ts) and a random token. A lock whose owner
 * is gone (killed, crashed) is stale and broken by the next writer, so a crash never leaves a
 * directory locked. A second writer waits — with a line on stderr saying for whom — and gives
 * up with a clear error after a bounded time (default 5 minutes, SHELLFREE_LOCK_WAIT seconds).
 */
import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { ShellfreeError } from "../errors.ts";
import { ownerAlive, ownerString, parseOwner } from "./owner.ts";
import { info } from "./progress.ts";

export interface LockOptions {
  /** what is locked, for messages ("the OCI layout /x/out") */
  what: string;
  /** give up after this long (default: SHELLFREE_LOCK_WAIT seconds, else 300 s) */
  waitMs?: number;
}

/** A lock file created but never written (its writer died at once) is stale after this. */
const EMPTY_LOCK_STALE_MS = 10_000;

export function lockWaitMs(): number {
  const v = Number(process.env.SHELLFREE_LOCK_WAIT);
  return Number.isFinite(v) && v >= 0 && process.env.SHELLFREE_LOCK_WAIT !== "" ? v * 1000 : 300_000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lock file's content: owner and token; undefined when it is gone. */
async function readHolder(path: string): Promise<{ text: string; mtimeMs: number } | undefined> {
  try {
    const [text, st] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    return { text, mtimeMs: st.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

function isStale(h: { text: string; mtimeMs: number }): boolean {
  const o = parseOwner(h.text.split(" ")[0]?.trim() ?? "");
  if (!o) return Date.now() - h.mtimeMs > EMPTY_LOCK_STALE_MS;
  return !ownerAlive(o);
}

/**
 * Remove a stale lock whose content is `seen`: moved aside first (atomic), and removed only if
 * what was moved is that stale lock; a live lock taken meanwhile is put back.
 */
async function breakStale(path: string, seen: string): Promise<void> {
  const aside = `${path}.stale.${randomBytes(4).toString("hex")}`;
  try {
    await rename(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  const moved = await readFile(aside, "utf8").catch(() => "");
  if (moved !== seen) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
}

/**
 * Take the lock file `path`; resolves with its release. Waits while another live process
 * holds it (a progress line, then one every 15 s), breaks a stale one, and fails with E_BUSY
 * after the bounded wait.
 */
export async function acquireLock(path: string, opts: LockOptions): Promise<() => Promise<void>> {
  const mine = `${ownerString()} ${randomBytes(8).toString("hex")}\n`;
  const waitMs = opts.waitMs ?? lockWaitMs();
  const started = Date.now();
  let told = 0;
  for (let round = 0; ; round++) {
    try {
      const fh = await open(path, "wx", 0o644);
      try {
        await fh.writeFile(mine);
      } finally {
        await fh.close();
      }
      return async () => {
        const now = await readFile(path, "utf8").catch(() => undefined);
        if (now === mine) await rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const h = await readHolder(path);
    if (!h) continue;
    if (isStale(h)) {
      await breakStale(path, h.text);
      continue;
    }
    const waited = Date.now() - started;
    const holder = parseOwner(h.text.split(" ")[0]?.trim() ?? "");
    const who = holder ? `process ${holder.pid}` : "another process";
    if (waited >= waitMs) {
      throw new ShellfreeError(
        "E_BUSY",
        `${opts.what} is locked by ${who} (${path}); gave up after ${Math.round(waited / 1000)} s`,
        {
          hint: `let that process finish (or, if no such process runs, remove ${path}); SHELLFREE_LOCK_WAIT=SECONDS waits longer`,
        },
      );
    }
    if (waited >= told) {
      info(`waiting for ${opts.what}: ${who} is writing it`);
      told = waited + 15_000;
    }
    await sleep(Math.min(50 + round * 25, 250) + Math.floor(Math.random() * 50));
  }
}

/** Run `fn` holding the lock file `path`. */
export async function withLock<T>(path: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}
