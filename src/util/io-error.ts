/**
 * Operating-system file errors as one clear line: what failed, the path, the cause. The one
 * mechanism for them: a command wraps what it does on a path the user gave with `ioError(e,
 * "cannot write --out DIR")`; whatever reaches the CLI unwrapped is still turned into one line
 * when it is an error of the environment (no space, read-only, permissions: never a bug) by
 * `environmentIoError`. An E_IO error exits 1; only real bugs print a stack trace (exit 70).
 */
import { mkdirSync, rmdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { ERRNO_TEXT as CAUSES, ShellfreeError } from "../errors.ts";
import { TEMP_PREFIX } from "./atomic.ts";

/** Errors of the environment (never a bug in shellfree): turned into one line wherever caught. */
const ENVIRONMENT = new Set([
  "ENOSPC",
  "EDQUOT",
  "EROFS",
  "EACCES",
  "EPERM",
  "EIO",
  "EMFILE",
  "ENFILE",
  "EFBIG",
  "ENAMETOOLONG",
]);

/** An operating-system file error, as one line (E_IO, exit 1). */
export class IoError extends ShellfreeError {
  readonly errno: string;
  readonly path?: string;
  constructor(errno: string, message: string, opts: { path?: string; hint?: string; cause?: unknown } = {}) {
    super("E_IO", message, { hint: opts.hint, cause: opts.cause });
    this.errno = errno;
    this.path = opts.path;
  }
}

function errnoOf(e: unknown): NodeJS.ErrnoException | undefined {
  if (e instanceof ShellfreeError) return undefined;
  let cur: unknown = e;
  // a stream or fetch may wrap the system error as its cause
  for (let i = 0; i < 3 && cur; i++) {
    const code = (cur as NodeJS.ErrnoException).code;
    if (
      typeof code === "string" &&
      code in CAUSES &&
      typeof (cur as NodeJS.ErrnoException).syscall === "string"
    )
      return realCause(cur as NodeJS.ErrnoException);
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A recursive mkdir reports ENOENT where the real cause is a read-only file system or a
 * permission: find the first missing directory and try to create it alone, for its errno.
 */
function realCause(err: NodeJS.ErrnoException): NodeJS.ErrnoException {
  if (err.code !== "ENOENT" || err.syscall !== "mkdir" || !err.path) return err;
  let child = err.path;
  let parent = dirname(child);
  while (parent !== child && !statSync(parent, { throwIfNoEntry: false })) {
    child = parent;
    parent = dirname(child);
  }
  try {
    mkdirSync(child);
    rmdirSync(child);
    return err;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!code || code === "ENOENT") return err;
    return Object.assign(new Error((e as Error).message), { code, syscall: "mkdir", path: err.path });
  }
}

/** A temp file's path says nothing to the user: the directory it is in does. */
function shownPath(p: string): string {
  const parts = p.split("/");
  const i = parts.findIndex((x) => x.startsWith(TEMP_PREFIX));
  return i < 0 ? p : parts.slice(0, i).join("/") || "/";
}

function hintFor(code: string): string | undefined {
  if (code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG")
    return "free some space, or choose another location";
  if (code === "EROFS") return "choose a writable location";
  if (code === "EACCES" || code === "EPERM") return "check the permissions of that path";
  return undefined;
}

/**
 * An operating-system file error as one IoError: `WHAT: CAUSE` plus the path when `what`
 * does not already name it (`cannot write --out /x: read-only file system (/x/a.deb)`).
 * Anything else is returned unchanged.
 */
export function ioError(e: unknown, what: string): unknown {
  const err = errnoOf(e);
  if (!err) return e;
  const code = err.code as string;
  // copyFile and rename name both ends: the destination is where a write failed
  const raw = (err as { dest?: string }).dest ?? err.path;
  const path = raw ? shownPath(raw) : undefined;
  const where = path && !what.includes(path) ? ` (${path})` : "";
  return new IoError(code, `${what}: ${CAUSES[code]}${where}`, { path, hint: hintFor(code), cause: e });
}

/**
 * The last resort of the CLI: an error of the environment (no space, read-only, permissions...)
 * that no command wrapped, as one line naming the path and the cause; undefined for anything
 * else (a bug).
 */
export function environmentIoError(e: unknown): IoError | undefined {
  const err = errnoOf(e);
  if (!err || !ENVIRONMENT.has(err.code as string)) return undefined;
  const raw = (err as { dest?: string }).dest ?? err.path;
  const path = raw ? shownPath(raw) : undefined;
  const what = path ?? `${err.syscall} failed`;
  return ioError(e, what) as IoError;
}

/**
 * `ioError(e, what)` when the failed path is `dir` or inside it (or the error names no path:
 * a failed write to an open file); anything else unchanged. For a phase that writes to one
 * place the user chose (`--cache-dir`, `--out`).
 */
export function ioErrorUnder(e: unknown, dir: string, what: string): unknown {
  const err = errnoOf(e);
  if (!err) return e;
  const p = (err as { dest?: string }).dest ?? err.path;
  const d = dir.replace(/\/+$/, "");
  if (p && p !== d && !p.startsWith(`${d}/`)) return e;
  return ioError(e, what);
}
