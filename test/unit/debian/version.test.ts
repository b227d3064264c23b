import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareLine } from "../../../src/cli/version-compare.ts";
import {
  compareVersions,
  formatVersion,
  parseVersion,
  satisfiesRelation,
  versionError,
} from "../../../src/debian/version.ts";

// [a, b, expected sign of compare(a, b)], checked by hand against deb-version(7) and dpkg's own
// test suite (lib/dpkg/t/t-version.c); test/e2e/debian/version-dpkg.test.ts checks far more
// pairs against the real dpkg.
const CASES: Array<[string, string, -1 | 0 | 1]> = [
  ["1.0", "1.0", 0],
  ["0:1.0", "1.0", 0],
  ["1.0-0", "1.0", 0], // an empty revision equals "0"
  ["1.0", "1.0-1", -1],
  ["1:0.1", "2.0", 1], // epoch first
  ["2:1", "10:0", -1], // epochs compare as numbers
  ["1.0~rc1", "1.0", -1], // ~ sorts before the end
  ["1.0~~", "1.0~", -1],
  ["1.0~~a", "1.0~~", 1],
  ["1.0~", "1.0", -1],
  ["1.0", "1.0+b1", -1],
  ["1.0a", "1.0", 1], // a letter after the end
  ["1.0a", "1.0+", -1], // letters before non-letters
  ["1.0+", "1.0.", -1], // '+' < '.' by ASCII among non-letters
  ["1.00", "1.0", 0], // leading zeros do not count
  ["1.010", "1.9", 1],
  ["1.2.3", "1.2.10", -1],
  ["99999999999999999999999999", "99999999999999999999999998", 1], // numbers of any size
  ["0000000000000000000000001", "1", 0],
  ["1:1.2-3", "1:1.2-3.1", -1],
  ["2.30-1", "2.30-1~bpo12+1", 1],
  ["7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1],
  ["3.0.13-1~deb12u1", "3.0.13-1", -1],
  ["1.2-3-4", "1.2-3-5", -1], // the last hyphen splits the revision
  ["1:2:3", "1:2:4", -1], // colons inside upstream after an epoch
  ["a", "b", -1], // only with lenient parsing (dpkg warns)
  ["1.A", "1.a", -1], // uppercase before lowercase (ASCII)
  ["1.z", "1.+", -1],
  ["1~", "1~~", 1],
  ["0.0", "0", 1],
];

describe("dpkg version order", () => {
  for (const [a, b, want] of CASES) {
    it(`${a} vs ${b} → ${want}`, () => {
      assert.equal(compareVersions(a, b), want);
      assert.equal(compareVersions(b, a), want === 0 ? 0 : -want);
    });
  }

  it("is a total order on a sorted list", () => {
    const sorted = ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0-0.1", "1.0-1", "1.0a", "1.0+", "1.0.1", "1:0"];
    for (let i = 0; i < sorted.length; i++) {
      for (let j = 0; j < sorted.length; j++) {
        assert.equal(compareVersions(sorted[i], sorted[j]), Math.sign(i - j), `${sorted[i]} vs ${sorted[j]}`);
      }
    }
  });

  it("parses epoch, upstream and revision", () => {
    assert.deepEqual(parseVersion("1:2.3-4"), { epoch: 1, upstream: "2.3", revision: "4" });
    assert.deepEqual(parseVersion("2.3"), { epoch: 0, upstream: "2.3", revision: "" });
    assert.deepEqual(parseVersion("0:2.3-4-5"), { epoch: 0, upstream: "2.3-4", revision: "5" });
    assert.deepEqual(parseVersion("  1.0  "), { epoch: 0, upstream: "1.0", revision: "" });
    assert.equal(formatVersion(parseVersion("0:1.0-1")), "1.0-1");
    assert.equal(formatVersion(parseVersion("3:1.0")), "3:1.0");
  });

  it("rejects invalid versions with dpkg's reasons", () => {
    const bad: Array<[string, string]> = [
      ["", "version string is empty"],
      ["   ", "version string is empty"],
      ["1.0 2", "version string has embedded spaces"],
      [":1.0", "epoch in version is empty"],
      ["a:1.0", "epoch in version is empty"],
      ["1a:1.0", "epoch in version is not number"],
      ["-1:1.0", "epoch in version is negative"],
      ["2147483648:1.0", "epoch in version is too big"],
      ["99999999999999999999:1", "epoch in version is too big"],
      ["1:", "nothing after colon in version number"],
      ["1.0-", "revision number is empty"],
      ["-1", "version number is empty"],
      ["1:-1", "version number is empty"],
      ["a1.0", "version number does not start with digit"],
      ["1.0_1", "invalid character in version number"],
      ["1.0-1_2", "invalid character in revision number"],
      ["1.0-a_b", "invalid character in revision number"],
    ];
    for (const [v, why] of bad) {
      assert.equal(versionError(v), why, JSON.stringify(v));
      assert.throws(
        () => parseVersion(v),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, "E_VERSION");
          assert.match(e.message, new RegExp(why));
          return true;
        },
      );
    }
    // accepted as dpkg accepts them
    assert.equal(versionError("2147483647:1"), undefined);
    assert.equal(versionError("+1:1"), undefined);
    assert.equal(versionError("-0:1"), undefined);
    // what dpkg only warns about is accepted when lenient
    assert.equal(versionError("a1.0", { lenient: true }), undefined);
    assert.equal(versionError("1.0_1", { lenient: true }), undefined);
  });

  it("throws for what dpkg refuses even when comparing", () => {
    assert.throws(() => compareVersions("1.0-", "1"), /revision number is empty/);
  });

  it("evaluates relations", () => {
    assert.ok(satisfiesRelation("1.0", ">=", "1.0"));
    assert.ok(satisfiesRelation("1.0", "<=", "1.0"));
    assert.ok(!satisfiesRelation("1.0", "<<", "1.0"));
    assert.ok(satisfiesRelation("1.0~rc1", "<<", "1.0"));
    assert.ok(satisfiesRelation("1:1", ">>", "9.9"));
    assert.ok(satisfiesRelation("1.0-0", "=", "1.0"));
    assert.ok(!satisfiesRelation("1.0-1", "=", "1.0"));
  });
});

describe("debian version-compare line format", () => {
  it("prints -1, 0, 1", () => {
    assert.deepEqual(compareLine("1.0\t1.1"), { out: "-1", error: false });
    assert.deepEqual(compareLine("1.0\t1.0-0"), { out: "0", error: false });
    assert.deepEqual(compareLine("1:0\t9\r"), { out: "1", error: false });
  });
  it("prints error: <reason> for invalid input", () => {
    assert.deepEqual(compareLine("1.0-\t1"), {
      out: "error: invalid version '1.0-': revision number is empty",
      error: true,
    });
    assert.equal(compareLine("1.0 1.1").error, true);
    assert.equal(compareLine("1\t2\t3").error, true);
    assert.equal(
      compareLine("x1\t1").out,
      "error: invalid version 'x1': version number does not start with digit",
    );
  });
});
