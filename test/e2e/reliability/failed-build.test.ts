/**
 * Issue 17, item 2: a failed build changes nothing that was there before. On a small tmpfs,
 * `build -o oci:SMALL/img:v1` succeeds; then builds that do not fit — into a new tag and into
 * the same tag — fail with one line (exit 1) and every file on the file system (the layout,
 * both SBOM files of v1) is byte for byte what it was. SBOM files are named per tag, so a second
 * tag's build keeps the first tag's.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { assertSameTree, snapshotTree } from "../../helpers/snapshot.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { CACHE, mustSucceed, ROOT, runCommand, shellfree } from "../builder/common.ts";

let dir = "";
let small = "";
before(async () => {
  dir = await tempDir("shellfree-failedbuild-");
  small = join(dir, "small");
  mkdirSync(small);
  mustSucceed(await runCommand("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", small]), "mount tmpfs");
});
after(async () => {
  if (small) await runCommand("umount", [small], { allowFail: true });
  if (dir) await removeDir(dir);
});

const SQUID = join(ROOT, "bench/squid/shellfree.yaml");

describe("a build that fails on a full disk", () => {
  test("leaves the previous build's layout and SBOM files exactly as they were", async () => {
    const img = join(small, "img");
    const v1 = await shellfree([
      "build",
      "--preset",
      "static",
      "-o",
      `oci:${img}:v1`,
      "--cache-dir",
      CACHE,
      "--json",
    ]);
    mustSucceed(v1, "build v1");
    const before = await snapshotTree(small);
    assert.ok(before.has("img/index.json"));
    assert.equal(JSON.parse(v1.stdout).sboms.length, 2);

    for (const tag of ["big", "v1"]) {
      const r = await shellfree([
        "build",
        "-f",
        SQUID,
        "--arch",
        "amd64",
        "-o",
        `oci:${img}:${tag}`,
        "--cache-dir",
        CACHE,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assertSameTree(before, await snapshotTree(small), `after the failed build into :${tag}`);
      const errs = r.stderr.split("\n").filter((l) => l.startsWith("shellfree: "));
      assert.deepEqual(
        errs,
        [`shellfree: cannot write oci:${img}:${tag}: no space left on device`],
        r.stderr,
      );
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      assert.equal(r.stdout, "");
    }
    // the tag is in their names (another tag's build keeps them, see below)
    assert.deepEqual(JSON.parse(v1.stdout).sboms.sort(), [`${img}.v1.cdx.json`, `${img}.v1.spdx.json`]);
  });

  test("two tags in one layout keep both tags' SBOM files", async () => {
    const img = join(small, "img");
    const v1spdx = readFileSync(`${img}.v1.spdx.json`);
    const r = await shellfree([
      "build",
      "--preset",
      "static",
      "-o",
      `oci:${img}:v2`,
      "--cache-dir",
      CACHE,
      "--json",
    ]);
    mustSucceed(r, "build v2");
    assert.deepEqual(JSON.parse(r.stdout).sboms.sort(), [`${img}.v2.cdx.json`, `${img}.v2.spdx.json`]);
    assert.deepEqual(readFileSync(`${img}.v1.spdx.json`), v1spdx, "v1's SBOM unchanged");
    assert.equal(JSON.parse(readFileSync(`${img}.v2.spdx.json`, "utf8")).spdxVersion, "SPDX-2.3");
  });
});
