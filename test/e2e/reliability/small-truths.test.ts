/**
 * Issue 17, item 10: smaller truths. `--mirror ''` is an error, not the host's sources;
 * `lock --check` on a corrupt lockfile says it is corrupt, not "out of date", and leaves it
 * as it was; a build without --locked warns about a corrupt shellfree.lock beside its spec
 * (and leaves it); a malformed auth-file entry for the registry is named as such, not "no
 * credentials were given". (Layer numbers and the blob in "incorrect header check":
 * hostile-layers.test.ts.)
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { CACHE, shellfree } from "../builder/common.ts";

let dir = "";
before(async () => {
  dir = await tempDir("shellfree-truths-");
});
after(async () => {
  if (dir) await removeDir(dir);
});

const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("shellfree: "));

describe("smaller truths", () => {
  test("--mirror '' is an error naming the flag (exit 2), not a fallback", async () => {
    const r = await shellfree(["resolve", "--mirror", "", "--cache-dir", join(dir, "c"), "base-files"]);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(errorLines(r.stderr), ["shellfree: --mirror is empty"], r.stderr);
    assert.equal(r.stdout, "");
  });

  test("lock --check on a corrupt lockfile says corrupt (not out of date); the file is as it was", async () => {
    const work = join(dir, "check");
    mkdirSync(work);
    writeFileSync(join(work, "shellfree.yaml"), "name: c\npreset: static\narchitectures: [amd64]\n");
    const lock = join(work, "shellfree.lock");
    writeFileSync(lock, "{ this is not json\n");
    const r = await shellfree(["lock", "--check", "-f", join(work, "shellfree.yaml"), "--cache-dir", CACHE]);
    assert.equal(r.code, 1, r.stderr);
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^shellfree: ${lock}: not valid JSON`));
    assert.doesNotMatch(r.stdout + r.stderr, /out of date/);
    assert.equal(readFileSync(lock, "utf8"), "{ this is not json\n");
  });

  test("an unlocked build warns about a corrupt shellfree.lock beside its spec and leaves it", async () => {
    const work = join(dir, "build");
    mkdirSync(work);
    const spec = join(work, "shellfree.yaml");
    writeFileSync(spec, "name: b\npreset: static\narchitectures: [amd64]\n");
    const lock = join(work, "shellfree.lock");
    writeFileSync(lock, "{ this is not json\n");
    const r = await shellfree(["build", "-f", spec, "-o", `oci:${join(work, "out")}`, "--cache-dir", CACHE]);
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("shellfree: warning: "));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(
      warnings[0],
      new RegExp(
        `^shellfree: warning: ${lock}: not valid JSON .*; not used by this build \\(without --locked\\); \`shellfree lock\` writes a new one$`,
      ),
    );
    assert.equal(readFileSync(lock, "utf8"), "{ this is not json\n");
  });

  for (const [entry, field, why] of [
    [{ auth: "!!not base64!!" }, ".auth", "is not base64"],
    [
      { auth: Buffer.from("no-colon-here").toString("base64") },
      ".auth",
      "does not decode to USER:PASSWORD (no colon)",
    ],
    [{ username: "alice" }, "", 'has "username"/"password" that are not both strings'],
  ] as const) {
    test(`a malformed auth-file entry (${why}) is named, not "no credentials were given"`, async () => {
      const file = join(dir, `auth-${why.replace(/\W+/g, "-")}.json`);
      const host = "127.0.0.1:9";
      writeFileSync(file, JSON.stringify({ auths: { [host]: entry } }));
      const r = await shellfree(["pull", `${host}/r:t`, "-o", `oci:${join(dir, "pulled")}`], {
        env: { REGISTRY_AUTH_FILE: file, SHELLFREE_REGISTRY_USER: "", SHELLFREE_REGISTRY_PASSWORD: "" },
      });
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(
        errorLines(r.stderr),
        [`shellfree: ${file}: auths[${JSON.stringify(host)}]${field} ${why}`],
        r.stderr,
      );
      assert.doesNotMatch(r.stderr, /no credentials were given|internal error|\n\s+at /);
    });
  }
});
