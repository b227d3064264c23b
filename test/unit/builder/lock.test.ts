import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  diffLock,
  formatLock,
  type Lockfile,
  packagesFromLock,
  parseLock,
} from "../../../src/builder/lock.ts";
import type { BinaryPackage, PackageUniverse } from "../../../src/debian/types.ts";

const source = { uri: "file:///nowhere", suite: "trixie", components: ["main"] };
function pkg(name: string, version: string, sha: string): BinaryPackage {
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
    size: 100,
    sha256: sha.repeat(64).slice(0, 64),
    source,
    fields: {},
  };
}

const lock: Lockfile = {
  lockfileVersion: 1,
  inputs: "sha256:abc",
  suite: "trixie",
  sourceDateEpoch: 1700000000,
  architectures: {
    amd64: {
      excluded: ["debconf"],
      node: { version: "24.9.0", integrity: "sha512-xyz" },
      init: { version: "0.1.0", sha256: "c".repeat(64) },
      packages: [
        {
          name: "libc6",
          version: "2.41-12",
          architecture: "amd64",
          sha256: "a".repeat(64),
          size: 100,
          filename: "pool/x.deb",
          suite: "trixie",
        },
        {
          name: "base-files",
          version: "13.8",
          architecture: "amd64",
          sha256: "b".repeat(64),
          size: 100,
          filename: "pool/y.deb",
          suite: "trixie",
        },
      ],
    },
  },
};

describe("shellfree.lock", () => {
  test("format is deterministic, sorted, host-free and round-trips", () => {
    const t = formatLock(lock);
    assert.equal(formatLock(parseLock(t, "x")), t);
    assert.ok(t.indexOf('"base-files"') < t.indexOf('"libc6"'));
    assert.doesNotMatch(t, /https?:/);
    assert.equal(t.split("\n").filter((l) => l.includes('"name"')).length, 2, "one package per line");
    assert.match(t, /\n {6}"init": \{"version":"0\.1\.0","sha256":"c{64}"\},\n/);
    const noInit = { ...lock, architectures: { amd64: { ...lock.architectures.amd64, init: undefined } } };
    assert.doesNotMatch(formatLock(noInit), /"init"/);
  });
  test("bad lockfiles are clear errors", () => {
    assert.throws(() => parseLock("{", "shellfree.lock"), /shellfree\.lock: not valid JSON/);
    assert.throws(
      () => parseLock('{"lockfileVersion":9}', "shellfree.lock"),
      /unsupported lockfileVersion 9/,
    );
    const badInit = formatLock(lock).replace(/"sha256":"c{64}"/, '"sha256":"nope"');
    assert.throws(
      () => parseLock(badInit, "shellfree.lock"),
      /shellfree\.lock: architectures\.amd64\.init: expected \{"version", "sha256"\}/,
    );
  });
  test("--locked: spec change, missing and changed packages are named", () => {
    const universe: PackageUniverse = {
      arch: "amd64",
      packages: [pkg("libc6", "2.41-12", "a"), pkg("base-files", "13.8", "b")],
    };
    assert.deepEqual(
      packagesFromLock(lock, "shellfree.lock", "sha256:abc", "amd64", universe).map((p) => p.name),
      ["libc6", "base-files"],
    );
    assert.throws(
      () => packagesFromLock(lock, "shellfree.lock", "sha256:other", "amd64", universe),
      /does not match the spec/,
    );
    assert.throws(
      () => packagesFromLock(lock, "shellfree.lock", "sha256:abc", "arm64", universe),
      /no entry for architecture arm64/,
    );
    const moved: PackageUniverse = {
      arch: "amd64",
      packages: [pkg("libc6", "2.41-13", "c"), pkg("base-files", "13.8", "d")],
    };
    assert.throws(
      () => packagesFromLock(lock, "shellfree.lock", "sha256:abc", "amd64", moved),
      /libc6 2\.41-12 \(amd64\) is no longer in the archive \(it has 2\.41-13\); base-files 13\.8 \(amd64\): SHA256 differs/,
    );
  });
  test("diff names what changed", () => {
    const now = {
      excluded: [],
      packages: [
        { ...lock.architectures.amd64.packages[0], version: "2.41-13" },
        { ...lock.architectures.amd64.packages[0], name: "zlib1g" },
      ],
    };
    assert.deepEqual(diffLock(lock.architectures.amd64, now), [
      "+ zlib1g 2.41-12",
      "- base-files 13.8",
      "~ libc6 2.41-12 → 2.41-13",
      "~ node 24.9.0 → none",
      "~ shellfree-init 0.1.0 (sha256:cccccccccccc) → none",
    ]);
    const rebuilt = { ...lock.architectures.amd64, init: { version: "0.1.0", sha256: "d".repeat(64) } };
    assert.deepEqual(diffLock(lock.architectures.amd64, rebuilt), [
      "~ shellfree-init 0.1.0 (sha256:cccccccccccc) → 0.1.0 (sha256:dddddddddddd)",
    ]);
  });
});
