/** The node preset: Debian's libc/libstdc++ plus the official Node.js binary, run by podman. */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { initBinaryPath } from "../../../src/init/index.ts";
import { withPodman } from "../../helpers/podman.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { type BuildJson, CACHE, mustSucceed, runCommand, shellfree } from "./common.ts";

describe("shellfree build --preset node", () => {
  let dir = "";
  let result: BuildJson;
  before(async () => {
    dir = await tempDir("shellfree-nodepreset-");
    const r = await shellfree([
      "build",
      "--preset",
      "node",
      "--output",
      `docker-archive:${dir}/node.tar`,
      "--cache-dir",
      CACHE,
      "--json",
    ]);
    mustSucceed(r, "build");
    result = JSON.parse(r.stdout);
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("packages: libc6, libgcc-s1, libstdc++6 and no libssl; a runtime layer", () => {
    const a = result.architectures[0];
    const names = a.packages.map((p) => p.name);
    for (const p of ["libc6", "libgcc-s1", "libstdc++6", "base-files", "tzdata", "ca-certificates"])
      assert.ok(names.includes(p), p);
    assert.ok(!names.some((n) => n.startsWith("libssl")), "Node carries its own OpenSSL");
    assert.deepEqual(
      a.layers.map((l) => l.name),
      ["debian", "runtime", "config"],
    );
    assert.match(a.node?.version ?? "", /^24\.\d+\.\d+$/);
    const cdx = readFileSync(join(dir, "node.tar.cdx.json"), "utf8");
    assert.ok(cdx.includes(`pkg:npm/node-linux-`), "the Node runtime is an SBOM component");
  });

  test("podman run prints node --version, as the non-root user", async () => {
    await withPodman(async (pm) => {
      await pm.run(["load", "-i", join(dir, "node.tar")]);
      const v = await pm.run(["run", "--rm", "--network=none", "node:latest", "--version"]);
      assert.equal(v.stdout.trim(), `v${result.architectures[0].node?.version}`);
      const e = await pm.run([
        "run",
        "--rm",
        "--network=none",
        "node:latest",
        "-e",
        "const os=require('node:os');console.log(process.getuid(), os.userInfo().username, require('node:tls').rootCertificates.length>100, new Intl.DateTimeFormat('de',{timeZone:'Europe/Berlin'}).resolvedOptions().timeZone)",
      ]);
      assert.equal(e.stdout.trim(), "65532 nonroot true Europe/Berlin");
    });
  });

  test("a spec with init: gets the native shellfree-init, its config, and the init's entrypoint", async () => {
    const specFile = join(dir, "shellfree.yaml");
    writeFileSync(
      specFile,
      [
        "name: withinit",
        "preset: node",
        "init:",
        "  main: [/usr/local/bin/node, -e, 'setInterval(() => {}, 1000)']",
        "  health: { port: 8080 }",
        "",
      ].join("\n"),
    );
    const r = await shellfree([
      "build",
      "-f",
      specFile,
      "--output",
      `oci:${dir}/withinit`,
      "--cache-dir",
      CACHE,
      "--json",
    ]);
    mustSucceed(r, "build with init");
    const j = JSON.parse(r.stdout) as BuildJson;
    assert.deepEqual(
      j.architectures[0].layers.map((l) => l.name),
      ["debian", "runtime", "init", "config"],
    );
    assert.ok(j.architectures[0].layers.find((l) => l.name === "runtime")?.cached, "runtime layer reused");
    mustSucceed(
      await runCommand("umoci", ["unpack", "--image", `${dir}/withinit:latest`, join(dir, "bundle")], {
        allowFail: true,
      }),
      "umoci",
    );
    const root = join(dir, "bundle/rootfs");
    const cfg = JSON.parse(readFileSync(join(root, "etc/shellfree/init.json"), "utf8"));
    assert.deepEqual(cfg.main, ["/usr/local/bin/node", "-e", "setInterval(() => {}, 1000)"]);
    assert.deepEqual(
      readFileSync(join(root, "usr/bin/shellfree-init")),
      readFileSync(initBinaryPath("amd64")),
    );
    assert.ok(!existsSync(join(root, "usr/lib/shellfree")), "no Node init bundle");
    // the preset's entrypoint (node) gives way to the init's, and the HEALTHCHECK is the init's probe
    const config = JSON.parse(readFileSync(join(dir, "bundle/config.json"), "utf8"));
    assert.deepEqual(config.process.args, ["/usr/bin/shellfree-init"]);
    const cdx = readFileSync(`${dir}/withinit.cdx.json`, "utf8");
    assert.ok(cdx.includes("pkg:generic/shellfree-init@"), "the init is an SBOM component");
  });
});
