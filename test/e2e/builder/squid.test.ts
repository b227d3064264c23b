/**
 * The first real image: Squid (OpenSSL build) from bench/squid/shellfree.yaml. Its
 * /usr/sbin/squid exists only as an alternative (squid-openssl's postinst), and it runs only if
 * /lib64 is there (base-files' merged-/usr symlink): `podman run … squid -v` proves both.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { withPodman } from "../../helpers/podman.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { type BuildJson, CACHE, mustSucceed, ROOT, runCommand, shellfree } from "./common.ts";

const SPEC = join(ROOT, "bench/squid/shellfree.yaml");

describe("squid-openssl image", () => {
  let dir = "";
  let result: BuildJson;
  before(async () => {
    dir = await tempDir("shellfree-squid-");
    const r = await shellfree([
      "build",
      "-f",
      SPEC,
      "--arch",
      "amd64",
      "--output",
      `oci:${dir}/squid`,
      "--cache-dir",
      CACHE,
      "--json",
    ]);
    mustSucceed(r, "build");
    result = JSON.parse(r.stdout);
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("the build reports packages, excluded script-only deps and the squid alternative", () => {
    const a = result.architectures[0];
    const names = a.packages.map((p) => p.name);
    for (const p of ["squid-openssl", "squid", "squid-common", "libssl3t64", "base-files"])
      assert.ok(names.includes(p), p);
    for (const p of ["perl-base", "logrotate", "adduser", "dash", "bash", "dpkg", "apt"])
      assert.ok(!names.includes(p), p);
    const ex = a.excluded.map((e) => e.name);
    for (const p of ["adduser", "logrotate", "libdbi-perl"]) assert.ok(ex.includes(p), `${p} excluded`);
    assert.deepEqual(
      a.alternatives.find((x) => x.name === "squid"),
      { name: "squid", link: "/usr/sbin/squid", path: "/usr/sbin/squid-openssl", priority: 70, mode: "auto" },
    );
    assert.deepEqual(
      a.layers.map((l) => l.name),
      ["debian", "squid", "config", "files"],
    );
  });

  test("unpacked: dpkg lists exactly the packages; only the replaced squid.conf differs", async () => {
    mustSucceed(
      await runCommand("umoci", ["unpack", "--image", `${dir}/squid:latest`, join(dir, "bundle")], {
        allowFail: true,
      }),
      "umoci",
    );
    const root = join(dir, "bundle/rootfs");
    const q = await runCommand("dpkg-query", [
      `--admindir=${root}/var/lib/dpkg`,
      "-W",
      "-f",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
      "${Package}\\n",
    ]);
    assert.deepEqual(
      q.stdout.split("\n").filter(Boolean).sort(),
      result.architectures[0].packages.map((p) => p.name).sort(),
    );
    const v = await runCommand("dpkg", [`--root=${root}`, "--verify"], { allowFail: true });
    assert.equal(v.stderr, "");
    assert.equal(
      v.stdout.trim(),
      "??5?????? c /etc/squid/squid.conf",
      "the spec's own squid.conf, nothing else",
    );
    assert.equal(readlinkSync(join(root, "usr/sbin/squid")), "/etc/alternatives/squid");
    assert.equal(readlinkSync(join(root, "etc/alternatives/squid")), "/usr/sbin/squid-openssl");
    assert.equal(readlinkSync(join(root, "lib64")), "usr/lib64");
    assert.match(
      readFileSync(join(root, "var/lib/dpkg/alternatives/squid"), "utf8"),
      /^auto\n\/usr\/sbin\/squid\n/,
    );
    assert.ok(!existsSync(join(root, "etc/init.d/squid")), "init script (a shell script) dropped");
    assert.match(
      readFileSync(join(root, "etc/passwd"), "utf8"),
      /^proxy:x:1000:0:proxy:\/var\/spool\/squid:\/sbin\/nologin$/m,
    );
  });

  test("podman runs /usr/sbin/squid -v and squid -k parse as UID 1000", async () => {
    const tar = join(dir, "squid.tar");
    mustSucceed(
      await shellfree([
        "build",
        "-f",
        SPEC,
        "--arch",
        "amd64",
        "--output",
        `docker-archive:${tar}`,
        "--cache-dir",
        CACHE,
        "--no-sbom",
      ]),
      "docker-archive",
    );
    await withPodman(async (pm) => {
      await pm.run(["load", "-i", tar]);
      const v = await pm.run([
        "run",
        "--rm",
        "--network=none",
        "--entrypoint",
        "/usr/sbin/squid",
        "squid-proxy:latest",
        "-v",
      ]);
      assert.match(v.stdout, /^Squid Cache: Version \d+\.\d+/m);
      assert.match(v.stdout, /--with-openssl/);
      const p = await pm.run(
        [
          "run",
          "--rm",
          "--network=none",
          "--entrypoint",
          "/usr/sbin/squid",
          "squid-proxy:latest",
          "-k",
          "parse",
          "-f",
          "/etc/squid/squid.conf",
        ],
        { allowFail: true },
      );
      assert.equal(p.code, 0, p.stderr);
      const user = JSON.parse((await pm.run(["image", "inspect", "squid-proxy:latest"])).stdout)[0].Config
        .User;
      assert.equal(user, "1000:0");
      const sh = await pm.run(
        ["run", "--rm", "--network=none", "--entrypoint", "/bin/sh", "squid-proxy:latest", "-c", "true"],
        {
          allowFail: true,
        },
      );
      assert.notEqual(sh.code, 0, "there is no shell");
    });
  });
});
