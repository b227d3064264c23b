/**
 * Same spec + same lockfile + same SOURCE_DATE_EPOCH ⇒ the same manifest digest and the same
 * SBOMs, built in two different directories with two different caches (so no layer is reused
 * from the first build): the first from an empty cache (indices loaded, .debs downloaded), the
 * second with those .debs cached (the packages then come from the lock alone).
 * And `--locked` holds the build to the lock: a spec change is named and refused.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { type BuildJson, CACHE, mustSucceed, shellfree } from "./common.ts";

const SPEC = `name: repro
suite: trixie
architectures: [amd64]
packages:
  include: [base-files, netbase, tzdata, ca-certificates, libc6]
accounts:
  users: [{ name: app, uid: 1000, gid: 0, home: /srv/app }]
  run-as: app
paths:
  - { path: /srv/app/data, type: directory, uid: 1000, gid: 0, mode: "0770" }
files:
  - { src: ./app.conf, dest: /etc/app/app.conf, mode: "0640", owner: "0:0" }
config:
  entrypoint: [/usr/bin/true]
  env: { TZ: UTC }
layers:
  - { name: libc, packages: [libc6] }
`;

describe("reproducible builds", () => {
  let dir = "";
  before(async () => {
    dir = await tempDir("shellfree-repro-");
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("same spec + lock + SOURCE_DATE_EPOCH in different dirs ⇒ same digest", async () => {
    const a = join(dir, "a");
    const b = join(dir, "elsewhere", "b");
    for (const d of [a, b]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, "shellfree.yaml"), SPEC);
      writeFileSync(join(d, "app.conf"), "listen 8080\n");
    }
    mustSucceed(await shellfree(["lock", "-f", join(a, "shellfree.yaml"), "--cache-dir", CACHE]), "lock");
    const lock = readFileSync(join(a, "shellfree.lock"), "utf8");
    assert.doesNotMatch(lock, /https?:\/\//, "no host name in the lock");
    copyFileSync(join(a, "shellfree.lock"), join(b, "shellfree.lock"));
    // the first build starts from an empty cache; the second gets its own cache with only the
    // first one's verified .debs
    const cache1 = join(dir, "cache1");
    const cache2 = join(dir, "cache2");
    mkdirSync(join(cache2, "debs"), { recursive: true });
    const env = { SOURCE_DATE_EPOCH: "1767225600" };
    const r1 = await shellfree(
      [
        "build",
        "-f",
        join(a, "shellfree.yaml"),
        "--locked",
        "--output",
        `oci:${a}/image`,
        "--cache-dir",
        cache1,
        "--json",
      ],
      { env },
    );
    mustSucceed(r1, "build 1");
    symlinkSync(join(cache1, "debs", "sha256"), join(cache2, "debs", "sha256"));
    const r2 = await shellfree(
      [
        "build",
        "-f",
        join(b, "shellfree.yaml"),
        "--locked",
        "--output",
        `oci:${b}/image`,
        "--cache-dir",
        cache2,
        "--json",
      ],
      { env },
    );
    mustSucceed(r2, "build 2");
    const j1 = JSON.parse(r1.stdout) as BuildJson;
    const j2 = JSON.parse(r2.stdout) as BuildJson;
    assert.ok(
      j2.architectures[0].layers.every((l) => !l.cached),
      "second build made every layer itself",
    );
    assert.equal(j1.sourceDateEpoch, 1767225600);
    assert.deepEqual(
      j1.architectures[0].layers.map((l) => l.name),
      ["debian", "libc", "config", "files"],
    );
    assert.equal(j1.digest, j2.digest);
    for (const sbom of ["image.spdx.json", "image.cdx.json"]) {
      assert.equal(readFileSync(`${a}/${sbom}`, "utf8"), readFileSync(`${b}/${sbom}`, "utf8"), sbom);
    }
    // (the dependency edges, from the .debs' own control files whichever way the packages came)
    const spdx = JSON.parse(readFileSync(`${b}/image.spdx.json`, "utf8")) as {
      relationships: Array<{ spdxElementId: string; relationshipType: string; relatedSpdxElement: string }>;
    };
    assert.ok(
      spdx.relationships.some(
        (r) =>
          r.relationshipType === "DEPENDS_ON" &&
          r.spdxElementId === "SPDXRef-Package-deb-libc6-amd64" &&
          r.relatedSpdxElement === "SPDXRef-Package-deb-libgcc-s1-amd64",
      ),
      "libc6 DEPENDS_ON libgcc-s1 in the SPDX",
    );
    // without SOURCE_DATE_EPOCH, --locked uses the lock's epoch: still the same bytes twice
    const r3 = await shellfree([
      "build",
      "-f",
      join(a, "shellfree.yaml"),
      "--locked",
      "--output",
      `oci:${a}/image3`,
      "--cache-dir",
      cache1,
      "--json",
    ]);
    const r4 = await shellfree([
      "build",
      "-f",
      join(b, "shellfree.yaml"),
      "--locked",
      "--output",
      `oci:${b}/image4`,
      "--cache-dir",
      cache2,
      "--json",
    ]);
    mustSucceed(r3, "build 3");
    mustSucceed(r4, "build 4");
    assert.equal((JSON.parse(r3.stdout) as BuildJson).digest, (JSON.parse(r4.stdout) as BuildJson).digest);
    assert.equal((JSON.parse(r3.stdout) as BuildJson).sourceDateEpoch, JSON.parse(lock).sourceDateEpoch);
    // an app file change leaves the package layers alone
    writeFileSync(join(a, "app.conf"), "listen 9090\n");
    const r5 = await shellfree(
      [
        "build",
        "-f",
        join(a, "shellfree.yaml"),
        "--locked",
        "--output",
        `oci:${a}/image5`,
        "--cache-dir",
        cache1,
        "--json",
      ],
      { env },
    );
    mustSucceed(r5, "build 5");
    const j5 = JSON.parse(r5.stdout) as BuildJson;
    assert.notEqual(j5.digest, j1.digest);
    assert.deepEqual(
      j5.architectures[0].layers.map((l) => l.cached),
      [true, true, false, false],
    );
    assert.equal(j5.architectures[0].layers[0].size, j1.architectures[0].layers[0].size);
  });

  test("--locked refuses a spec that changed since the lock", async () => {
    const a = join(dir, "a");
    writeFileSync(join(a, "shellfree.yaml"), SPEC.replace("libc6]", "libc6, zlib1g]"));
    const r = await shellfree([
      "build",
      "-f",
      join(a, "shellfree.yaml"),
      "--locked",
      "--output",
      `oci:${a}/changed`,
      "--cache-dir",
      CACHE,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^shellfree: .*shellfree\.lock does not match the spec/m);
    assert.match(r.stderr, /^hint: run `shellfree lock`/m);
    const c = await shellfree(["lock", "-f", join(a, "shellfree.yaml"), "--cache-dir", CACHE, "--check"]);
    assert.equal(c.code, 1);
    assert.match(c.stdout, /out of date/);
    assert.match(c.stdout, /\+ zlib1g /);
  });
});
