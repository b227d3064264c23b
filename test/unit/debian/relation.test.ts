import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatOrGroup, parseRelations } from "../../../src/debian/relation.ts";

describe("relationship fields", () => {
  it("parses or-groups, versions and qualifiers", () => {
    const r = parseRelations(
      "libc6 (>= 2.38), python3:any (>= 3.11~) | python3-minimal, perl:native,debconf",
    );
    assert.deepEqual(r, [
      [{ name: "libc6", op: ">=", version: "2.38" }],
      [{ name: "python3", archQualifier: "any", op: ">=", version: "3.11~" }, { name: "python3-minimal" }],
      [{ name: "perl", archQualifier: "native" }],
      [{ name: "debconf" }],
    ]);
  });

  it("reads the obsolete < and > as <= and >=, and tolerates odd spacing and folding", () => {
    const r = parseRelations("a (<1.0),\n b( >>2 ) ,c (= 1:2-3)  |  d,");
    assert.deepEqual(r, [
      [{ name: "a", op: "<=", version: "1.0" }],
      [{ name: "b", op: ">>", version: "2" }],
      [{ name: "c", op: "=", version: "1:2-3" }, { name: "d" }],
    ]);
    assert.equal(formatOrGroup(r[2]), "c (= 1:2-3) | d");
  });

  it("applies architecture restrictions and build profiles", () => {
    const f = "a [amd64], b [!amd64], c [arm64 amd64] <!nocheck>, d <nocheck>, e | f [arm64]";
    assert.deepEqual(
      parseRelations(f, "amd64").map((g) => g.map((d) => d.name)),
      [["a"], ["c"], ["e"]],
    );
    assert.deepEqual(
      parseRelations(f, "arm64").map((g) => g.map((d) => d.name)),
      [["b"], ["c"], ["e", "f"]],
    );
  });

  it("rejects malformed fields with E_INDEX", () => {
    for (const bad of ["a (>= )", "a (~ 1)", "a | | b", "a (>= 1", "-a", "a:"]) {
      assert.throws(
        () => parseRelations(bad),
        (e: Error & { code?: string }) => e.code === "E_INDEX",
        bad,
      );
    }
    assert.deepEqual(parseRelations(""), []);
    assert.deepEqual(parseRelations("  "), []);
  });
});
