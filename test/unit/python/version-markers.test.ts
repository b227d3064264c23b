import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { markerMatches, parseMarker } from "../../../src/python/markers.ts";
import { normalizeName } from "../../../src/python/names.ts";
import { markerEnvironment, targetFromDebian } from "../../../src/python/target.ts";
import {
  compareVersionStrings,
  normalizeVersion,
  sameVersion,
  satisfiesSpecifierSet,
  tryParseVersion,
  versionSatisfies,
} from "../../../src/python/version.ts";

describe("PEP 503 names", () => {
  test("lower case, runs of -_. become one -", () => {
    assert.equal(normalizeName("Foo.Bar__baz-QUX"), "foo-bar-baz-qux");
    assert.equal(normalizeName("zope.interface"), "zope-interface");
  });
});

describe("PEP 440 versions", () => {
  test("normalisation", () => {
    assert.equal(normalizeVersion("v1.0-ALPHA.1"), "1.0a1");
    assert.equal(normalizeVersion("1.0-1"), "1.0.post1");
    assert.equal(normalizeVersion("1.0.rev2"), "1.0.post2");
    assert.equal(normalizeVersion("2!1.0c3.dev4+Ubuntu-1"), "2!1.0rc3.dev4+ubuntu.1");
    assert.equal(tryParseVersion("1.0.x"), undefined);
    assert.equal(tryParseVersion("not a version"), undefined);
  });
  test("ordering", () => {
    const sorted = [
      "1.0.dev1",
      "1.0a1",
      "1.0a2.dev1",
      "1.0a2",
      "1.0b1",
      "1.0rc1",
      "1.0",
      "1.0+local.1",
      "1.0.post1",
      "1.1",
      "1!0.1",
    ];
    for (let i = 0; i + 1 < sorted.length; i++) {
      assert.equal(compareVersionStrings(sorted[i], sorted[i + 1]), -1, `${sorted[i]} < ${sorted[i + 1]}`);
    }
    assert.ok(sameVersion("1.0", "1.0.0"));
    assert.ok(!sameVersion("1.0", "1.0.post0"));
  });
  test("specifiers", () => {
    assert.equal(versionSatisfies("3.13", ">=", "3.9"), true);
    assert.equal(versionSatisfies("3.13.5", "<", "3.13"), false);
    assert.equal(versionSatisfies("3.13.0rc1", "<", "3.13"), false, "<V excludes V's pre-releases");
    assert.equal(versionSatisfies("3.13.post1", ">", "3.13"), false, ">V excludes V's post-releases");
    assert.equal(versionSatisfies("3.13.5", "==", "3.13.*"), true);
    assert.equal(versionSatisfies("3.14.0", "==", "3.13.*"), false);
    assert.equal(versionSatisfies("3.13.5", "!=", "3.12.*"), true);
    assert.equal(versionSatisfies("2.2.5", "~=", "2.2"), true);
    assert.equal(versionSatisfies("3.0", "~=", "2.2"), false);
    assert.equal(versionSatisfies("1.0+abc", "==", "1.0"), true);
    assert.equal(versionSatisfies("x", ">=", "1"), undefined);
    assert.equal(satisfiesSpecifierSet("3.13.5", ">=3.9, <4"), true);
    assert.equal(satisfiesSpecifierSet("3.13.5", ">=3.14"), false);
    assert.equal(satisfiesSpecifierSet("3.13.5", "garbage"), undefined);
  });
});

describe("PEP 508 markers", () => {
  const amd64 = markerEnvironment(
    targetFromDebian({ arch: "amd64", pythonVersion: "3.13.5-2", libcVersion: "2.41-12" }),
  );
  const arm64 = markerEnvironment({ python: "3.11.2", arch: "arm64", glibc: "2.36" });
  test("the target's environment", () => {
    assert.equal(amd64.python_version, "3.13");
    assert.equal(amd64.python_full_version, "3.13.5");
    assert.equal(amd64.platform_machine, "x86_64");
    assert.equal(arm64.platform_machine, "aarch64");
    assert.equal(amd64.sys_platform, "linux");
  });
  test("evaluation", () => {
    assert.equal(markerMatches('python_version >= "3.9"', amd64), true);
    assert.equal(markerMatches("python_version < '3.12'", amd64), false);
    assert.equal(markerMatches("python_version < '3.12'", arm64), true);
    assert.equal(markerMatches('sys_platform == "win32"', amd64), false);
    assert.equal(markerMatches('platform_machine == "aarch64" or platform_machine == "arm64"', arm64), true);
    assert.equal(markerMatches('platform_machine == "aarch64" or platform_machine == "arm64"', amd64), false);
    assert.equal(
      markerMatches(
        '(sys_platform == "linux" and platform_machine != "x86_64") or python_full_version < "3.10.1"',
        amd64,
      ),
      false,
    );
    assert.equal(markerMatches('"linux" in sys_platform', amd64), true);
    assert.equal(markerMatches('"win" not in sys_platform', amd64), true);
    assert.equal(markerMatches('extra == "socks"', amd64), false);
    assert.equal(markerMatches('extra == "Socks_X"', { ...amd64, extra: "socks-x" }), true);
    assert.equal(
      markerMatches('"dev" in dependency_groups', { ...amd64, dependency_groups: new Set(["dev"]) }),
      true,
    );
    assert.equal(markerMatches('"test" in extras', { ...amd64, extras: new Set(["dev"]) }), false);
    assert.equal(markerMatches("os.name == 'posix'", amd64), true, "legacy dotted names");
    assert.equal(
      markerMatches(
        "implementation_name == 'cpython' and platform_python_implementation == 'CPython'",
        amd64,
      ),
      true,
    );
  });
  test("bad markers are one-line errors", () => {
    for (const bad of [
      'python_version >= "3.9',
      "python_version >=",
      "nonsense == 'x'",
      "(python_version > '3'",
      "'a' == 'b'",
      "",
    ]) {
      assert.throws(
        () => parseMarker(bad),
        (e: Error) => e.message.startsWith("marker ") && !e.message.includes("\n"),
        bad,
      );
    }
  });
});
