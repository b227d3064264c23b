import assert from "node:assert/strict";
import { test } from "node:test";
import { DebianError } from "../../../src/debian/errors.ts";
import { IndexParser, parseIndex } from "../../../src/debian/packages-index.ts";

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

test("IndexParser: the same result whatever the chunking (paragraphs split across chunks and blocks)", () => {
  const paras = Array.from({ length: 3000 }, (_, i) =>
    para(
      `p${i}`,
      `Depends: libx${i % 7} (>= 1.${i}),\n dep${i}\nDescription: package ${i}\n ${"long text ".repeat((i % 150) + 1)}\n`,
    ),
  );
  const raw = Buffer.from(paras.join("\n"));
  assert.ok(raw.length > 2 * 1024 * 1024, "the input spans several 1 MiB blocks");
  const whole = parseIndex(raw, "Packages");
  for (const size of [1, 7, 4096, 65536, 1_500_000]) {
    const p = new IndexParser("Packages");
    // (a prime-ish stride over a large input: every kind of split point occurs)
    const step = size === 1 ? 997 : size;
    for (let at = 0; at < raw.length; at += step) p.push(raw.subarray(at, at + step));
    const got = p.end();
    assert.equal(got.count, 3000);
    for (let i = 0; i < whole.cols.length; i++)
      assert.equal(got.cols[i].join("\0"), whole.cols[i].join("\0"), `column ${i}, chunks of ${step}`);
    assert.deepEqual([...got.offsets], [...whole.offsets]);
  }
  const col5 = whole.cols[5].flatMap((c) => c.split("\0"));
  assert.equal(col5[2999], "libx3 (>= 1.2999),\n dep2999");
  // an error names the line, counted across blocks
  const bad = Buffer.concat([raw, Buffer.from("\nPackage: z\nbroken line\n")]);
  assert.throws(
    () => parseIndex(bad, "Packages"),
    (e: unknown) =>
      e instanceof DebianError &&
      e.code === "E_DEB822" &&
      e.message.startsWith(`Packages:${raw.toString("latin1").split("\n").length + 2}:`),
  );
});
