/**
 * The static preset, end to end: build it, then let skopeo, umoci, dpkg and podman judge the
 * result (our layout itself: one architecture with attached SBOMs is still one index.json
 * entry). Also: its compressed size against distroless static, a two-architecture index, and
 * the SBOMs beside the output.
 */
import assert from "node:assert/strict";
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { withPodman } from "../../helpers/podman.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { type BuildJson, CACHE, mustSucceed, runCommand, shellfree } from "./common.ts";

/** distroless static (debian12), compressed, as published: about 2 MiB. */
const DISTROLESS_STATIC_COMPRESSED = 2 * 1024 * 1024;

describe("shellfree build --preset static", () => {
  let dir = "";
  let result: BuildJson;
  let rootfs = "";
  before(async () => {
    dir = await tempDir("shellfree-static-");
    const r = await shellfree([
      "build",
      "--preset",
      "static",
      "--output",
      `oci:${dir}/static`,
      "--cache-dir",
      CACHE,
      "--json",
    ]);
    mustSucceed(r, "build");
    result = JSON.parse(r.stdout);
    const u = await runCommand("umoci", ["unpack", "--image", `${dir}/static:latest`, join(dir, "bundle")], {
      allowFail: true,
    });
    assert.equal(u.code, 0, `umoci unpack: ${u.stderr}`);
    rootfs = join(dir, "bundle/rootfs");
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("skopeo inspect accepts the OCI layout", async () => {
    const s = await runCommand("skopeo", ["inspect", `oci:${dir}/static`]);
    const info = JSON.parse(s.stdout);
    assert.equal(info.Digest, result.digest);
    assert.equal(info.Architecture, process.arch === "arm64" ? "arm64" : "amd64");
    assert.equal(info.Layers.length, result.architectures[0].layers.length);
  });

  test("the image has exactly the static packages, and dpkg agrees", async () => {
    const a = result.architectures[0];
    assert.deepEqual(a.packages.map((p) => p.name).sort(), [
      "base-files",
      "ca-certificates",
      "netbase",
      "tzdata",
    ]);
    assert.ok(a.excluded.some((e) => e.name === "openssl" && e.wantedBy.includes("ca-certificates")));
    const q = await runCommand("dpkg-query", [
      `--admindir=${rootfs}/var/lib/dpkg`,
      "-W",
      "-f",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
      "${Package} ${Version} ${db:Status-Abbrev}\\n",
    ]);
    assert.deepEqual(
      q.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.trimEnd())
        .sort(),
      a.packages.map((p) => `${p.name} ${p.version} ii`).sort(),
    );
    const v = await runCommand("dpkg", [`--root=${rootfs}`, "--verify"], { allowFail: true });
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout, "", "dpkg --verify reports nothing");
    assert.equal(v.stderr, "");
    const d = await runCommand("dpkg-divert", [`--admindir=${rootfs}/var/lib/dpkg`, "--list"]);
    assert.match(d.stdout, /local diversion of \/usr\/lib\/os-release to \/usr\/lib\/os-release\.debian/);
  });

  test("accounts, os-release, CA bundle, merged /usr, /tmp", () => {
    const passwd = readFileSync(join(rootfs, "etc/passwd"), "utf8");
    assert.match(passwd, /^root:x:0:0:/m);
    assert.match(passwd, /^nobody:x:65534:65534:/m);
    assert.match(passwd, /^nonroot:x:65532:65532:nonroot:\/home\/nonroot:\/sbin\/nologin$/m);
    for (const l of passwd.trim().split("\n")) assert.equal(l.split(":")[6], "/sbin/nologin");
    assert.equal(statSync(join(rootfs, "home/nonroot")).uid, 65532);
    const osr = readFileSync(join(rootfs, "etc/os-release"), "utf8");
    assert.match(osr, /^PRETTY_NAME="shellfree image on Debian GNU\/Linux 13 \(trixie\)"$/m);
    assert.match(osr, /^ID="?debian"?$/m);
    assert.match(osr, /^VERSION_ID="13"$/m);
    assert.equal(readFileSync(join(rootfs, "usr/lib/os-release"), "utf8"), osr);
    assert.match(readFileSync(join(rootfs, "etc/debian_version"), "utf8"), /^13\.\d+/);
    const ca = readFileSync(join(rootfs, "etc/ssl/certs/ca-certificates.crt"), "utf8");
    assert.ok((ca.match(/BEGIN CERTIFICATE/g) ?? []).length > 100, "CA bundle has the Mozilla roots");
    for (const [l, t] of [
      ["bin", "usr/bin"],
      ["lib", "usr/lib"],
      ["sbin", "usr/sbin"],
    ]) {
      assert.ok(lstatSync(join(rootfs, l)).isSymbolicLink(), `/${l} is a symlink`);
      assert.equal(readlinkSync(join(rootfs, l)), t);
    }
    assert.equal(statSync(join(rootfs, "tmp")).mode & 0o7777, 0o1777);
    assert.ok(existsSync(join(rootfs, "usr/share/zoneinfo/Europe/Berlin")));
    assert.ok(existsSync(join(rootfs, "usr/share/doc/tzdata/copyright")), "copyright files kept");
    assert.ok(!existsSync(join(rootfs, "usr/share/doc/tzdata/changelog.Debian.gz")), "docs dropped");
    assert.ok(
      !existsSync(join(rootfs, "usr/bin/mawk")),
      "no awk: base-files' script-only dependency dropped",
    );
  });

  test("compressed size is at most distroless static + 10%", () => {
    const a = result.architectures[0];
    process.stderr.write(
      `static preset: ${a.uncompressedSize} bytes uncompressed, ${a.size} bytes compressed ` +
        `(distroless static ≈ ${DISTROLESS_STATIC_COMPRESSED}; ratio ${(a.size / DISTROLESS_STATIC_COMPRESSED).toFixed(2)})\n`,
    );
    assert.ok(a.size <= DISTROLESS_STATIC_COMPRESSED * 1.1, `${a.size} bytes`);
    assert.ok(a.size > 100 * 1024, "not implausibly small");
  });

  test("SBOMs beside the output name every package", () => {
    assert.deepEqual(result.sboms.sort(), [`${dir}/static.cdx.json`, `${dir}/static.spdx.json`]);
    const spdx = JSON.parse(readFileSync(`${dir}/static.spdx.json`, "utf8"));
    assert.equal(spdx.spdxVersion, "SPDX-2.3");
    const text = JSON.stringify(spdx);
    for (const p of result.architectures[0].packages)
      assert.ok(text.includes(`pkg:deb/debian/${p.name}@`), p.name);
    const cdx = JSON.parse(readFileSync(`${dir}/static.cdx.json`, "utf8"));
    assert.equal(cdx.bomFormat, "CycloneDX");
  });

  test("docker-archive loads into podman; two architectures give an index", async () => {
    const r = await shellfree([
      "build",
      "--preset",
      "static",
      "--arch",
      "amd64,arm64",
      "--output",
      `docker-archive:${dir}/static.tar`,
      "--cache-dir",
      CACHE,
      "--json",
      "--no-sbom",
    ]);
    assert.equal(r.code, 2, "several architectures into a docker-archive is a usage error");
    assert.match(r.stderr, /^shellfree: docker-archive holds one image, but 2 architectures/m);
    assert.ok(!existsSync(`${dir}/static.tar`), "nothing written");
    const one = await shellfree([
      "build",
      "--preset",
      "static",
      "--output",
      `docker-archive:${dir}/static.tar`,
      "--cache-dir",
      CACHE,
      "--no-sbom",
    ]);
    mustSucceed(one, "docker-archive build");
    await withPodman(async (pm) => {
      const l = await pm.run(["load", "-i", `${dir}/static.tar`]);
      assert.match(l.stdout, /Loaded image.*static:latest/);
      const img = JSON.parse((await pm.run(["image", "inspect", "static:latest"])).stdout)[0];
      assert.equal(img.Config.User, "65532:65532");
    });
    const multi = await shellfree([
      "build",
      "--preset",
      "static",
      "--arch",
      "amd64,arm64",
      "--output",
      `oci:${dir}/multi`,
      "--cache-dir",
      CACHE,
      "--json",
    ]);
    mustSucceed(multi, "multi-arch build");
    const m = JSON.parse(multi.stdout) as BuildJson;
    assert.deepEqual(
      m.architectures.map((a) => a.architecture),
      ["amd64", "arm64"],
    );
    const raw = JSON.parse((await runCommand("skopeo", ["inspect", "--raw", `oci:${dir}/multi`])).stdout);
    assert.equal(raw.mediaType, "application/vnd.oci.image.index.v1+json");
    // the two images, then their attestation manifests (the attached SBOMs)
    assert.deepEqual(
      raw.manifests.map((x: { platform: { architecture: string } }) => x.platform.architecture),
      ["amd64", "arm64", "unknown", "unknown"],
    );
    const arm = await runCommand("skopeo", ["--override-arch", "arm64", "inspect", `oci:${dir}/multi`]);
    assert.equal(JSON.parse(arm.stdout).Architecture, "arm64");
    assert.ok(existsSync(`${dir}/multi.arm64.spdx.json`));
  });
});
