/**
 * The state of a directory tree, for "nothing changed" assertions: every entry under `root` by
 * relative path — a file's mode and bytes, a directory's mode, a symlink's target. Compare two
 * snapshots with assert.deepEqual (byte for byte), or `lostOrChanged(before, after)` to allow
 * new entries but nothing that existed before gone or different.
 */
import assert from "node:assert/strict";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";

export type Snapshot = Map<string, string | Buffer>;

export async function snapshotTree(
  root: string,
  skip: (rel: string) => boolean = () => false,
): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const walk = async (dir: string, rel: string) => {
    const names = (await readdir(dir).catch(() => [] as string[])).sort();
    for (const n of names) {
      const p = join(dir, n);
      const r = rel ? `${rel}/${n}` : n;
      if (skip(r)) continue;
      const st = await lstat(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out.set(`${r}/`, `dir ${mode}`);
        await walk(p, r);
      } else if (st.isSymbolicLink()) out.set(r, `symlink → ${await readlink(p)}`);
      else if (st.isFile()) out.set(r, Buffer.concat([Buffer.from(`file ${mode}\n`), await readFile(p)]));
      else out.set(r, `other ${st.mode.toString(8)}`);
    }
  };
  await walk(root, "");
  return out;
}

/** Paths of `before` that are gone or different in `after` (new paths are allowed). */
export function lostOrChanged(before: Snapshot, after: Snapshot): string[] {
  const bad: string[] = [];
  for (const [k, v] of before) {
    const w = after.get(k);
    if (w === undefined) bad.push(`${k}: gone`);
    else if (Buffer.isBuffer(v) ? !Buffer.isBuffer(w) || !v.equals(w) : v !== w) bad.push(`${k}: changed`);
  }
  return bad;
}

/** Assert that two snapshots are identical, naming the paths that differ. */
export function assertSameTree(before: Snapshot, after: Snapshot, what: string): void {
  const diff = [
    ...lostOrChanged(before, after),
    ...[...after.keys()].filter((k) => !before.has(k)).map((k) => `${k}: new`),
  ];
  assert.deepEqual(diff, [], `${what}: ${diff.join(", ")}`);
}
