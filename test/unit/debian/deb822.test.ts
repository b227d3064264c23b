import assert from "node:assert/strict";
import { test } from "node:test";
import { field, forEachParagraph, parseDeb822 } from "../../../src/debian/deb822.ts";
import { DebianError } from "../../../src/debian/errors.ts";

const REAL = `Package: libfoo1
Source: foo (1.2-3)
Version: 1:1.2-3+deb13u1
Installed-Size: 123
Maintainer: J. Doe <jdoe@example.invalid>
Architecture: amd64
Multi-Arch: same
Provides: libfoo (= 1:1.2-3+deb13u1), foo-virtual (= 2)
Pre-Depends: libc6 (>= 2.34)
Depends: libbar2 (>= 2.0~rc1) | libbaz,
 libqux (<< 3)
X-Unknown-Field: kept as is
Description: the foo library
 Long text, line one.
 .
 Line after an empty paragraph.
Filename: pool/main/f/foo/libfoo1_1.2-3+deb13u1_amd64.deb
Size: 4242
SHA256: ${"ab".repeat(32)}

Package: foo-doc
Version: 1.2-3
Architecture: all
Filename: pool/main/f/foo/foo-doc_1.2-3_all.deb
Size: 1
SHA256: ${"cd".repeat(32)}
`;

test("parses real-shaped Packages paragraphs: continuation lines, unknown fields, versioned Provides", () => {
  const ps = parseDeb822(REAL, "Packages");
  assert.equal(ps.length, 2);
  const p = ps[0];
  assert.equal(p.Package, "libfoo1");
  assert.equal(p.Version, "1:1.2-3+deb13u1");
  assert.equal(p["Multi-Arch"], "same");
  assert.equal(p.Provides, "libfoo (= 1:1.2-3+deb13u1), foo-virtual (= 2)");
  assert.equal(p["Pre-Depends"], "libc6 (>= 2.34)");
  assert.equal(p.Depends, "libbar2 (>= 2.0~rc1) | libbaz,\n libqux (<< 3)");
  assert.equal(p["X-Unknown-Field"], "kept as is");
  assert.equal(p.Description, "the foo library\n Long text, line one.\n .\n Line after an empty paragraph.");
  assert.equal(ps[1].Architecture, "all");
  assert.deepEqual(Object.keys(ps[1]), ["Package", "Version", "Architecture", "Filename", "Size", "SHA256"]);
});

test("CRLF line ends give the same result as LF", () => {
  assert.deepEqual(parseDeb822(REAL.replace(/\n/g, "\r\n")), parseDeb822(REAL));
});

test("comments are skipped; several blank or whitespace-only lines separate paragraphs", () => {
  const t = "# a comment\nA: 1\n# inside\nB: 2\n\n  \t\n\n\nA: 3\n";
  assert.deepEqual(parseDeb822(t), [{ A: "1", B: "2" }, { A: "3" }]);
});

test("no trailing newline, empty value, and value colons", () => {
  assert.deepEqual(parseDeb822("URIs: http://h.example.invalid/debian\nEmpty:"), [
    { URIs: "http://h.example.invalid/debian", Empty: "" },
  ]);
  assert.deepEqual(parseDeb822(""), []);
  assert.deepEqual(parseDeb822("\n\n"), []);
});

test("field() looks names up case-insensitively", () => {
  const [p] = parseDeb822("Package: x\nmulti-arch: foreign\n");
  assert.equal(field(p, "Multi-Arch"), "foreign");
  assert.equal(field(p, "Nope"), undefined);
});

test("forEachParagraph reports offsets that slice out each paragraph", () => {
  const t = "A: 1\nB: 2\n continued\n\nA: 3\n";
  const got: string[] = [];
  forEachParagraph(t, (_p, s, e) => got.push(t.slice(s, e)));
  assert.deepEqual(got, ["A: 1\nB: 2\n continued\n", "A: 3\n"]);
});

function throwsAt(text: string, re: RegExp) {
  assert.throws(
    () => parseDeb822(text, "test.sources"),
    (e: unknown) => e instanceof DebianError && e.code === "E_DEB822" && re.test(e.message),
  );
}

test("malformed input: a clear E_DEB822 naming the file and line", () => {
  throwsAt("A: 1\nno colon here\n", /^test\.sources:2: expected "Field: value"/);
  throwsAt(" leading continuation\n", /^test\.sources:1: continuation line outside a field/);
  throwsAt("A: 1\nA: 2\n", /^test\.sources:2: duplicate field "A"/);
  throwsAt("A: 1\n\nBad Name: 2\n", /^test\.sources:3: invalid field name "Bad Name"/);
  throwsAt(": empty\n", /^test\.sources:1: invalid field name ""/);
});
