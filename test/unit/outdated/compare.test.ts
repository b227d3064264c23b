import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AptSource, BinaryPackage } from "../../../src/debian/index.ts";
import { compareInstalled, type InstalledPackage, OutdatedError } from "../../../src/outdated/index.ts";

const MAIN: AptSource = { uri: "http://127.0.0.1:1/debian", suite: "trixie", components: ["main"] };
const UPDATES: AptSource = {
  uri: "http://127.0.0.1:1/debian",
  suite: "trixie-updates",
  components: ["main"],
};
const SECURITY: AptSource = {
  uri: "http://127.0.0.1:2/debian-security",
  suite: "trixie-security",
  components: ["main"],
};
const isSecurity = (s: AptSource) => s.suite === SECURITY.suite && s.uri === SECURITY.uri;

function pkg(
  name: string,
  version: string,
  source: AptSource,
  more: Partial<BinaryPackage> = {},
): BinaryPackage {
  return {
    name,
    version,
    architecture: "amd64",
    essential: false,
    depends: "",
    preDepends: "",
    recommends: "",
    provides: "",
    conflicts: "",
    breaks: "",
    filename: `pool/main/${name[0]}/${name}/${name}_${version}_amd64.deb`,
    size: 1,
    sha256: "0".repeat(64),
    source,
    fields: { Package: name, Version: version },
    ...more,
  };
}

const inst = (name: string, version: string, architecture = "amd64"): InstalledPackage => ({
  name,
  version,
  architecture,
});

describe("compareInstalled", () => {
  test("nothing newer: no update, nothing unknown", () => {
    const r = compareInstalled(
      "amd64",
      [inst("libc6", "2.41-12"), inst("tzdata", "2025b-4", "all")],
      [pkg("libc6", "2.41-12", MAIN), pkg("tzdata", "2025b-4", MAIN, { architecture: "all" })],
      isSecurity,
    );
    assert.deepEqual(r, { updates: [], unknown: [] });
  });

  test("a newer version only in the security suite is a security update, with its source package", () => {
    const r = compareInstalled(
      "amd64",
      [inst("libc6", "2.41-12"), inst("zlib1g", "1:1.3.dfsg+really1.3.1-1+b1")],
      [
        pkg("libc6", "2.41-12", MAIN, { fields: { Source: "glibc" } }),
        pkg("libc6", "2.41-12+deb13u1", SECURITY, { fields: { Source: "glibc" } }),
        pkg("zlib1g", "1:1.3.dfsg+really1.3.1-1+b1", MAIN, {
          fields: { Source: "zlib (1:1.3.dfsg+really1.3.1-1)" },
        }),
      ],
      isSecurity,
    );
    assert.deepEqual(r.updates, [
      {
        architecture: "amd64",
        name: "libc6",
        installed: "2.41-12",
        candidate: "2.41-12+deb13u1",
        suite: "trixie-security",
        security: true,
        securityVersion: "2.41-12+deb13u1",
        source: "glibc",
        sourceVersion: "2.41-12+deb13u1",
      },
    ]);
    assert.deepEqual(r.unknown, []);
  });

  test("a newer version only in the main suite or -updates is not a security update", () => {
    const r = compareInstalled(
      "amd64",
      [inst("tzdata", "2025b-4", "all"), inst("libssl3t64", "3.5.1-1")],
      [
        pkg("tzdata", "2025b-4", MAIN, { architecture: "all" }),
        pkg("tzdata", "2025b-4+deb13u1", UPDATES, { architecture: "all" }),
        pkg("libssl3t64", "3.5.1-1+deb13u1", MAIN, { fields: { Source: "openssl (3.5.1-1+deb13u1)" } }),
        pkg("libssl3t64", "3.5.1-1", SECURITY),
      ],
      isSecurity,
    );
    assert.deepEqual(
      r.updates.map((u) => [
        u.name,
        u.candidate,
        u.suite,
        u.security,
        u.securityVersion,
        u.source,
        u.sourceVersion,
      ]),
      [
        ["tzdata", "2025b-4+deb13u1", "trixie-updates", false, null, "tzdata", "2025b-4+deb13u1"],
        ["libssl3t64", "3.5.1-1+deb13u1", "trixie", false, null, "openssl", "3.5.1-1+deb13u1"],
      ],
    );
  });

  test("the candidate is the newest version; a newer security version below it still makes it a security update", () => {
    const r = compareInstalled(
      "amd64",
      [inst("curl", "8.14.1-2")],
      [
        pkg("curl", "8.14.1-2", MAIN),
        pkg("curl", "8.14.1-2+deb13u1", SECURITY),
        pkg("curl", "8.14.1-2+deb13u2", UPDATES),
      ],
      isSecurity,
    );
    assert.equal(r.updates.length, 1);
    const u = r.updates[0];
    assert.equal(u.candidate, "8.14.1-2+deb13u2");
    assert.equal(u.suite, "trixie-updates");
    assert.equal(u.security, true);
    assert.equal(u.securityVersion, "8.14.1-2+deb13u1");
  });

  test("the same candidate version in the main and security suites names the security suite", () => {
    const r = compareInstalled(
      "amd64",
      [inst("libc6", "2.41-12")],
      [pkg("libc6", "2.41-13", MAIN), pkg("libc6", "2.41-13", SECURITY)],
      isSecurity,
    );
    assert.equal(r.updates[0].suite, "trixie-security");
    assert.equal(r.updates[0].security, true);
  });

  test("versions compare as dpkg does (epochs, ~), never as strings", () => {
    const r = compareInstalled(
      "amd64",
      [inst("a", "1:1.0-1"), inst("b", "1.0~rc1-1"), inst("c", "1.10-1")],
      [pkg("a", "2.0-1", SECURITY), pkg("b", "1.0-1", MAIN), pkg("c", "1.9-1", SECURITY)],
      isSecurity,
    );
    assert.deepEqual(
      r.updates.map((u) => [u.name, u.candidate]),
      [["b", "1.0-1"]],
    );
  });

  test("an installed version newer than the archive's is not an update", () => {
    const r = compareInstalled("amd64", [inst("x", "2.0-1")], [pkg("x", "1.0-1", MAIN)], isSecurity);
    assert.deepEqual(r, { updates: [], unknown: [] });
  });

  test("other architectures never match; a package the archive does not have is reported as unknown", () => {
    const r = compareInstalled(
      "amd64",
      [inst("libfoo", "1.0-1"), inst("gone", "1.0-1")],
      [pkg("libfoo", "9.0-1", SECURITY, { architecture: "arm64" }), pkg("other", "1.0-1", MAIN)],
      isSecurity,
    );
    assert.deepEqual(r.updates, []);
    assert.deepEqual(r.unknown, [
      { architecture: "amd64", name: "libfoo", installed: "1.0-1" },
      { architecture: "amd64", name: "gone", installed: "1.0-1" },
    ]);
  });

  test("a package that moved between arch:all and the native architecture is still compared", () => {
    const r = compareInstalled(
      "amd64",
      [inst("p", "1.0-1", "all"), inst("q", "1.0-1")],
      [pkg("p", "1.1-1", MAIN), pkg("q", "1.1-1", MAIN, { architecture: "all" })],
      isSecurity,
    );
    assert.deepEqual(
      r.updates.map((u) => [u.name, u.candidate]),
      [
        ["p", "1.1-1"],
        ["q", "1.1-1"],
      ],
    );
  });

  test("an invalid installed version is an error naming the package", () => {
    assert.throws(
      () =>
        compareInstalled("amd64", [inst("bad", "not a version")], [pkg("bad", "1.0-1", MAIN)], isSecurity),
      (e: unknown) => e instanceof OutdatedError && /^bad \(amd64\): /.test(e.message) && e.exitCode === 1,
    );
  });
});
