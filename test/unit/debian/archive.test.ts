import assert from "node:assert/strict";
import { test } from "node:test";
import { DebianError } from "../../../src/debian/errors.ts";
import { parseIndex } from "../../../src/debian/packages-index.ts";

const SHA = "ab".repeat(32);
const para = (name: string, extra = "") =>
  `Package: ${name}\nVersion: 1.0-1\nArchitecture: amd64\n${extra}Filename: pool/main/${name}.deb\nSize: 10\nSHA256: ${SHA}\n`;

test("parseIndex keeps the resolver's columns and each paragraph's byte range", () => {
  const raw = Buffer.from(
    `${para("a", "Multi-Arch: same\nEssential: yes\nDepends: b (>= 1),\n c\nProvides: v (= 2)\n")}\n${para("b", "Description: caf\u00e9\n more\n")}\n${para("c")}`,
  );
  const idx = parseIndex(raw, "Packages");
  assert.equal(idx.count, 3);
  const col = (i: number) => idx.cols[i].flatMap((p) => p.split("\0"));
  assert.deepEqual(col(0), ["a", "b", "c"]);
  assert.deepEqual(col(3), ["same", "", ""]);
  assert.deepEqual(col(4), ["yes", "", ""]);
  assert.deepEqual(col(5), ["b (>= 1),\n c", "", ""]);
  assert.deepEqual(col(8), ["v (= 2)", "", ""]);
  assert.deepEqual(col(13), [SHA, SHA, SHA]);
  // byte offsets (not UTF-16): the raw paragraph decodes back as UTF-8
  const b = raw.toString("utf8", idx.offsets[2], idx.offsets[3]);
  assert.match(b, /^Package: b\n[\s\S]*Description: caf\u00e9\n more\n/);
});

test("parseIndex rejects paragraphs without the fields a download needs", () => {
  const bad = (text: string, re: RegExp, code = "E_INDEX") =>
    assert.throws(
      () => parseIndex(Buffer.from(text), "Packages.xz"),
      (e: unknown) => e instanceof DebianError && e.code === code && re.test(e.message),
    );
  bad("Version: 1\n", /Packages\.xz: paragraph at byte 0 has no Package field/);
  bad("Package: a\nVersion: 1\nArchitecture: amd64\n", /package a lacks Filename, SHA256, Size/);
  bad(para("a").replace(SHA, "zz"), /package a has a malformed SHA256 or Size/);
  bad("Package: a\nbroken line\n", /Packages\.xz:2: expected "Field: value"/, "E_DEB822");
});
