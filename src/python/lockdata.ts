/**
 * What the two lockfile readers (pylock.ts, uvlock.ts) share: TOML parsing with one-line
 * errors, the options that choose what to install, file names and hash tables.
 */
import { parse, TomlError } from "smol-toml";
import { PythonError } from "./errors.ts";
import { parseHashSpec } from "./hashes.ts";
import type { MarkerEnv } from "./markers.ts";
import type { HashSpec } from "./types.ts";

export interface LockOptions {
  /** marker environment of the target (target.ts `markerEnvironment`) */
  env: MarkerEnv;
  /** extras of the project to install (PEP 751 `extras`, uv optional-dependencies of the root) */
  extras?: string[];
  /** dependency groups to install (default: pylock's `default-groups`; none for uv.lock) */
  groups?: string[];
}

export type TomlTable = Record<string, unknown>;

/** Parse TOML; a syntax error is one line naming the file, line and column. */
export function parseToml(text: string, file: string): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      throw new PythonError("E_PYLOCK", `${file}:${e.line}:${e.column}: invalid TOML: ${first}`);
    }
    throw e;
  }
}

/** The last path segment of a URL or path (a file's name), without query or fragment. */
export function fileNameOf(urlOrPath: string): string {
  const noFrag = urlOrPath.replace(/[?#].*$/, "");
  const last = noFrag.split("/").pop() ?? "";
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** A `{ sha256 = "…" }` table (PEP 751) as HashSpecs; unusable algorithms are skipped. */
export function hashTable(t: unknown): HashSpec[] {
  if (!t || typeof t !== "object") return [];
  const out: HashSpec[] = [];
  for (const [algo, hex] of Object.entries(t as Record<string, unknown>)) {
    if (typeof hex !== "string") continue;
    const h = parseHashSpec(`${algo}:${hex}`);
    if (typeof h !== "string") out.push(h);
  }
  return out;
}
