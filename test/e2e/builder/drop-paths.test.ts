/**
 * packages.drop-paths end to end, on real packages (the static preset: base-files, netbase,
 * tzdata, ca-certificates): what the globs match is not in the image, dpkg's database no longer
 * lists it (`dpkg --verify` is silent, conffiles included), both SBOMs say what was left out, the
 * build output lists it with sizes, a kept symlink to a dropped file is a warning, and globs that
 * match nothing (or name a package not in the image) stop the build before anything is written.
 */
import assert from "node:assert/strict";
import { existsSync, lstatSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { CACHE, mustSucceed, runCommand, shellfree } from "./common.ts";

interface DropJson {
  glob: string;
  package?: string;
  files: number;
  bytes: number;
  paths: Array<{ path: string; package: string; type: string; size: number }>;
}

const SPEC = `name: dropped
preset: static
packages:
  drop-paths:
    - /usr/share/zoneinfo/Antarctica
    - /usr/share/zoneinfo/America/New_York
    - /etc/protocols
    - package: tzdata
      paths: [/usr/share/zoneinfo/*.tab]
`;

describe("packages.drop-paths", () => {
  let dir = "";
  let drops: DropJson[] = [];
  let text = "";
  let stderr = "";
  let rootfs = "";
  before(async () => {
    dir = await tempDir("shellfree-drop-");
    writeFileSync(join(dir, "shellfree.yaml"), SPEC);
    const args = ["build", "-f", join(dir, "shellfree.yaml"), "--arch", "amd64", "--cache-dir", CACHE];
    const r = await shellfree([...args, "--output", `oci:${dir}/img`, "--json"]);
    mustSucceed(r, "build");
    drops = JSON.parse(r.stdout).architectures[0].dropPaths;
    stderr = r.stderr;
    const t = await shellfree([...args, "--output", `oci:${dir}/img2`, "--no-sbom"]);
    mustSucceed(t, "build (text)");
    text = t.stdout;
    const u = await runCommand("umoci", ["unpack", "--image", `${dir}/img:latest`, join(dir, "bundle")], {
      allowFail: true,
    });
    assert.equal(u.code, 0, `umoci unpack: ${u.stderr}`);
    rootfs = join(dir, "bundle/rootfs");
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("what the globs match is left out; what is next to it stays", () => {
    for (const gone of [
      "usr/share/zoneinfo/Antarctica",
      "usr/share/zoneinfo/America/New_York",
      "usr/share/zoneinfo/zone.tab",
      "usr/share/zoneinfo/iso3166.tab",
      "etc/protocols",
    ])
      assert.ok(!existsSync(join(rootfs, gone)), `/${gone} is not in the image`);
    for (const kept of [
      "usr/share/zoneinfo/America/Chicago",
      "usr/share/zoneinfo/Europe/Berlin",
      "usr/share/zoneinfo/tzdata.zi",
      "etc/services",
    ])
      assert.ok(existsSync(join(rootfs, kept)), `/${kept} is kept`);
    assert.ok(lstatSync(join(rootfs, "usr/share/zoneinfo/posixrules")).isSymbolicLink(), "the link stays");
  });

  test("dpkg's database agrees: dpkg --verify is silent, the lists and conffiles name none of it", async () => {
    const v = await runCommand("dpkg", [`--root=${rootfs}`, "--verify"], { allowFail: true });
    assert.equal(v.stderr, "");
    assert.equal(v.stdout, "", "dpkg --verify reports nothing");
    assert.equal(v.code, 0);
    const info = join(rootfs, "var/lib/dpkg/info");
    const tzList = readFileSync(join(info, "tzdata.list"), "utf8");
    assert.ok(!tzList.includes("/usr/share/zoneinfo/Antarctica"));
    assert.ok(!tzList.includes("/usr/share/zoneinfo/zone.tab\n"));
    assert.ok(tzList.includes("/usr/share/zoneinfo/Europe/Berlin\n"), "the rest is listed");
    assert.ok(!readFileSync(join(info, "tzdata.md5sums"), "utf8").includes("America/New_York"));
    assert.ok(!readFileSync(join(info, "netbase.list"), "utf8").includes("/etc/protocols"));
    assert.ok(!readFileSync(join(info, "netbase.conffiles"), "utf8").includes("/etc/protocols"));
    const status = readFileSync(join(rootfs, "var/lib/dpkg/status"), "utf8");
    const netbase = status.split("\n\n").find((p) => p.startsWith("Package: netbase\n")) ?? "";
    const conffiles = /^Conffiles:\n((?: .*\n?)*)/m.exec(netbase)?.[1] ?? "";
    assert.doesNotMatch(conffiles, /^ \/etc\/protocols /m, "not a conffile in status");
    assert.match(conffiles, /^ \/etc\/services [0-9a-f]{32}$/m, "the other conffiles are");
  });

  test("the build reports each glob with what it matched and its size; a dangling link is a warning", () => {
    assert.deepEqual(
      drops.map((d) => [d.glob, d.package ?? "*", d.paths.length > 0]),
      [
        ["/usr/share/zoneinfo/Antarctica", "*", true],
        ["/usr/share/zoneinfo/America/New_York", "*", true],
        ["/etc/protocols", "*", true],
        ["/usr/share/zoneinfo/*.tab", "tzdata", true],
      ],
    );
    const antarctica = drops[0];
    assert.equal(antarctica.paths[0].path, "/usr/share/zoneinfo/Antarctica");
    assert.equal(antarctica.paths[0].type, "dir");
    assert.ok(antarctica.paths.some((p) => p.path === "/usr/share/zoneinfo/Antarctica/Casey"));
    assert.equal(
      antarctica.bytes,
      antarctica.paths.reduce((n, p) => n + p.size, 0),
    );
    assert.deepEqual(
      drops[2].paths.map((p) => [p.path, p.package]),
      [["/etc/protocols", "netbase"]],
    );
    assert.ok(drops[2].bytes > 1000);
    assert.ok(drops[3].paths.every((p) => p.package === "tzdata" && p.path.endsWith(".tab")));
    const files = drops.reduce((n, d) => n + d.files, 0);
    assert.match(text, new RegExp(`^ {2}drop-paths: ${files} files left out \\(`, "m"));
    assert.match(text, /^ {4}\/etc\/protocols +\d+(\.\d+)? KiB {2}netbase$/m);
    assert.match(text, /^ {4}\/usr\/share\/zoneinfo\/Antarctica \(\d+ entries, \d+ files\) .* tzdata$/m);
    assert.match(
      stderr,
      /warning: amd64: packages\.drop-paths: the symlink \/usr\/share\/zoneinfo\/posixrules → \/usr\/share\/zoneinfo\/America\/New_York now points at nothing/,
    );
  });

  test("both SBOMs name what was left out, per package", () => {
    const cdx = JSON.parse(readFileSync(`${dir}/img.cdx.json`, "utf8"));
    const props = (name: string): string[] =>
      cdx.components
        .find((c: { name: string }) => c.name === name)
        .properties.filter((p: { name: string }) => p.name === "shellfree:dropped-path")
        .map((p: { value: string }) => p.value);
    assert.deepEqual(props("netbase"), ["/etc/protocols"]);
    assert.ok(props("tzdata").includes("/usr/share/zoneinfo/America/New_York"));
    assert.deepEqual(props("base-files"), []);
    const spdx = JSON.parse(readFileSync(`${dir}/img.spdx.json`, "utf8"));
    const netbase = spdx.packages.find((p: { name: string }) => p.name === "netbase");
    assert.match(netbase.comment, /\(packages\.drop-paths\):\n\/etc\/protocols$/);
  });

  test("a glob that matches nothing, or a package not in the image, stops the build; nothing is written", async () => {
    const cases: Array<[string, RegExp]> = [
      [
        "    - /usr/share/zoneinfo/Atlantis\n",
        /^shellfree: .*bad\.yaml:5: packages\.drop-paths: \/usr\/share\/zoneinfo\/Atlantis matches nothing \(amd64\)$/m,
      ],
      [
        "    - { package: squid, paths: [/etc/squid] }\n",
        /^shellfree: .*bad\.yaml:5: packages\.drop-paths: package squid is not in the image$/m,
      ],
      [
        "    - { package: netbase, paths: [/usr/share/zoneinfo/UTC] }\n",
        /packages\.drop-paths: \/usr\/share\/zoneinfo\/UTC matches nothing in netbase \(amd64\)$/m,
      ],
    ];
    for (const [line, re] of cases) {
      writeFileSync(join(dir, "bad.yaml"), `name: bad\npreset: static\npackages:\n  drop-paths:\n${line}`);
      const r = await shellfree([
        "build",
        "-f",
        join(dir, "bad.yaml"),
        "--arch",
        "amd64",
        "--cache-dir",
        CACHE,
        "--output",
        `oci:${dir}/bad`,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.match(r.stderr, /^hint: /m);
      assert.ok(!existsSync(`${dir}/bad`), "no output");
    }
  });

  test("a glob that matches on one architecture only is fine (multi-architecture)", async () => {
    writeFileSync(
      join(dir, "multi.yaml"),
      "name: multi\npreset: base\narchitectures: [amd64, arm64]\npackages:\n  drop-paths: [/usr/lib/x86_64-linux-gnu/gconv/IBM*.so]\n",
    );
    const r = await shellfree([
      "build",
      "-f",
      join(dir, "multi.yaml"),
      "--arch",
      "amd64,arm64",
      "--cache-dir",
      CACHE,
      "--output",
      `oci:${dir}/multi`,
      "--no-sbom",
      "--json",
    ]);
    mustSucceed(r, "multi-architecture build");
    const [amd64, arm64] = JSON.parse(r.stdout).architectures as Array<{ dropPaths: DropJson[] }>;
    assert.ok(amd64.dropPaths[0].files > 10, `${amd64.dropPaths[0].files} IBM code pages`);
    assert.equal(arm64.dropPaths[0].files, 0);
  });
});
