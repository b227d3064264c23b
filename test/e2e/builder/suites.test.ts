/**
 * Other suites: bookworm's base-files has no merged-/usr symlinks (usrmerge made them there),
 * so the builder makes them — the dynamic loader at /lib64 must run. forky's Release has an
 * expired Valid-Until: refused unless --allow-expired.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { withPodman } from "../../helpers/podman.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { type BuildJson, CACHE, mustSucceed, runCommand, shellfree } from "./common.ts";

describe("suites other than trixie", () => {
  let dir = "";
  before(async () => {
    dir = await tempDir("shellfree-suites-");
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("bookworm: merged /usr made by the builder, ld.so runs, dpkg is consistent", async () => {
    const spec = join(dir, "bookworm.yaml");
    writeFileSync(
      spec,
      "name: bw\nsuite: bookworm\narchitectures: [amd64]\npackages: { include: [libc6, netbase] }\n",
    );
    const r = await shellfree([
      "build",
      "-f",
      spec,
      "--output",
      `oci:${dir}/bw`,
      "--cache-dir",
      CACHE,
      "--json",
    ]);
    mustSucceed(r, "bookworm build");
    const j = JSON.parse(r.stdout) as BuildJson;
    assert.match(j.architectures[0].packages.find((p) => p.name === "base-files")?.version ?? "", /^12\./);
    mustSucceed(
      await runCommand("umoci", ["unpack", "--image", `${dir}/bw:latest`, join(dir, "bundle")], {
        allowFail: true,
      }),
      "umoci",
    );
    const v = await runCommand("dpkg", [`--root=${join(dir, "bundle/rootfs")}`, "--verify"], {
      allowFail: true,
    });
    assert.equal(`${v.stdout}${v.stderr}`, "");
    const tar = join(dir, "bw.tar");
    mustSucceed(
      await shellfree([
        "build",
        "-f",
        spec,
        "--output",
        `docker-archive:${tar}`,
        "--cache-dir",
        CACHE,
        "--no-sbom",
      ]),
      "tar",
    );
    await withPodman(async (pm) => {
      await pm.run(["load", "-i", tar]);
      const ld = await pm.run([
        "run",
        "--rm",
        "--network=none",
        "--entrypoint",
        "/lib64/ld-linux-x86-64.so.2",
        "bw:latest",
        "--version",
      ]);
      assert.match(ld.stdout, /^ld\.so \(Debian GLIBC 2\.36/);
    });
  });

  test("forky: an expired Release is refused, and accepted with --allow-expired", async () => {
    const spec = join(dir, "forky.yaml");
    writeFileSync(spec, "name: fk\nsuite: forky\narchitectures: [amd64]\npackages: { include: [netbase] }\n");
    const no = await shellfree(["build", "-f", spec, "--output", `oci:${dir}/fk`, "--cache-dir", CACHE]);
    assert.equal(no.code, 3, "a verification failure");
    assert.match(no.stderr, /^shellfree: .*forky.*expired/m);
    const yes = await shellfree([
      "build",
      "-f",
      spec,
      "--allow-expired",
      "--output",
      `oci:${dir}/fk`,
      "--cache-dir",
      CACHE,
    ]);
    mustSucceed(yes, "forky with --allow-expired");
  });
});
