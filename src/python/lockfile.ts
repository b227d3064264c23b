/**
 * Lockfiles as a second input form: PEP 751 `pylock.toml` (and `pylock.NAME.toml`) and
 * uv's `uv.lock`, told apart by their file name. Both give the same RequirementSet a
 * requirements file gives, with the files each package may be installed from.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { PythonError } from "./errors.ts";
import type { LockOptions } from "./lockdata.ts";
import { parsePylock } from "./pylock.ts";
import type { RequirementSet } from "./types.ts";
import { parseUvLock } from "./uvlock.ts";

/** Read `pylock.toml`/`pylock.*.toml` or `uv.lock`, chosen by the file name. */
export function readLockfile(path: string, opts: LockOptions): RequirementSet {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new PythonError(
      "E_PYLOCK",
      `cannot read lockfile ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  const name = basename(path);
  if (name === "uv.lock") return parseUvLock(text, path, opts);
  if (/^pylock\.([^.]+\.)?toml$/.test(name)) return parsePylock(text, path, opts);
  throw new PythonError(
    "E_PYLOCK",
    `${path}: not a lockfile name shellfree knows (pylock.toml, pylock.NAME.toml or uv.lock)`,
  );
}
