/**
 * Issue 17, item 6: plain I/O errors on a path the user gave are one line naming the path and
 * the cause, exit 1 — never "internal error", exit 70 or a stack trace — and leave the file
 * system as it was. A read-only bind mount (RO) and a full tmpfs (FULL) under `lock`,
 * `build --cache-dir`, `fetch --out`, `debian extract --out`; a file where a directory belongs
 * (ENOTDIR), a directory where a file belongs (EISDIR), a missing input (ENOENT).
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Snapshot, snapshotTree } from "../../helpers/snapshot.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { CACHE, mustSucceed, runCommand, shellfree } from "../builder/common.ts";

let dir = "";
let RO = "";
let FULL = "";
let spec = "";
let deb = "";
const mounts: string[] = [];

before(async () => {
  dir = await tempDir("shellfree-ioerrors-");
  RO = join(dir, "ro");
  FULL = join(dir, "full");
  const roSrc = join(dir, "ro-src");
  for (const d of [RO, FULL, roSrc]) mkdirSync(d);
  writeFileSync(join(roSrc, "existing"), "was here\n");
  mustSucceed(await runCommand("mount", ["--bind", roSrc, RO]), "bind mount");
  mounts.push(RO);
  mustSucceed(await runCommand("mount", ["-o", "remount,bind,ro", RO]), "remount read-only");
  mustSucceed(await runCommand("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", FULL]), "mount tmpfs");
  mounts.push(FULL);
  // fill it to the last block
  await runCommand("dd", ["if=/dev/zero", `of=${join(FULL, "filler")}`, "bs=4k"], { allowFail: true });
  spec = join(dir, "shellfree.yaml");
  writeFileSync(spec, "name: io\npreset: static\narchitectures: [amd64]\n");
  const debs = join(CACHE, "debs", "sha256");
  deb = join(debs, readdirSync(debs).find((n) => /^[0-9a-f]{64}$/.test(n)) as string);
});
after(async () => {
  for (const m of mounts.reverse()) await runCommand("umount", [m], { allowFail: true });
  if (dir) await removeDir(dir);
});

async function state(): Promise<Snapshot[]> {
  return [await snapshotTree(RO), await snapshotTree(FULL)];
}

/** Run `args`; expect exit 1 and exactly `line` as the one error line; RO and FULL unchanged. */
async function expectIoError(args: string[], line: string): Promise<void> {
  const before = await state();
  const r = await shellfree(args);
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  const errs = r.stderr.split("\n").filter((l) => l.startsWith("shellfree: "));
  assert.deepEqual(errs, [line], r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, "no stack trace");
  assert.equal(r.stdout, "");
  assert.deepEqual(await state(), before, "the read-only and the full file system are as they were");
}

describe("plain I/O errors are one line naming the path and the cause", () => {
  test("lock into a read-only directory and onto a full disk", async () => {
    const base = ["lock", "-f", spec, "--cache-dir", CACHE];
    await expectIoError(
      [...base, "--lockfile", join(RO, "shellfree.lock")],
      `shellfree: cannot write ${RO}/shellfree.lock: read-only file system`,
    );
    await expectIoError(
      [...base, "--lockfile", join(FULL, "shellfree.lock")],
      `shellfree: cannot write ${FULL}/shellfree.lock: no space left on device`,
    );
    await expectIoError([...base, "--lockfile", dir], `shellfree: cannot read ${dir}: is a directory`);
  });

  test("build --cache-dir on a read-only file system, and on a file", async () => {
    await expectIoError(
      ["build", "-f", spec, "-o", `oci:${join(dir, "out")}`, "--cache-dir", join(RO, "cache")],
      `shellfree: cannot write the cache ${RO}/cache: read-only file system`,
    );
    await expectIoError(
      ["build", "-f", spec, "-o", `oci:${join(dir, "out")}`, "--cache-dir", join(RO, "existing")],
      `shellfree: cannot write the cache ${RO}/existing: a path component is not a directory (${RO}/existing/releases)`,
    );
  });

  test("fetch --out on a read-only and a full file system, and below a file", async () => {
    const base = ["fetch", "base-files", "--cache-dir", CACHE, "--out"];
    await expectIoError(
      [...base, join(RO, "debs")],
      `shellfree: cannot write --out ${RO}/debs: read-only file system`,
    );
    await expectIoError(
      [...base, join(FULL, "debs")],
      `shellfree: cannot write --out ${FULL}/debs: no space left on device`,
    );
    await expectIoError(
      [...base, join(RO, "existing", "debs")],
      `shellfree: cannot write --out ${RO}/existing/debs: a path component is not a directory`,
    );
  });

  test("debian extract --out on a read-only and a full file system; a missing .deb", async () => {
    await expectIoError(
      ["debian", "extract", deb, "--out", join(RO, "x")],
      `shellfree: cannot write --out ${RO}/x: read-only file system`,
    );
    await expectIoError(
      ["debian", "extract", deb, "--out", join(FULL, "x")],
      `shellfree: cannot write --out ${FULL}/x: no space left on device`,
    );
    await expectIoError(
      ["debian", "extract", join(dir, "missing.deb"), "--out", join(dir, "x")],
      `shellfree: cannot open ${dir}/missing.deb: no such file or directory`,
    );
  });
});
