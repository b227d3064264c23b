import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { selectWheel } from "../../../src/python/select.ts";
import { platformTags, supportedTags, tagPriorities } from "../../../src/python/tags.ts";
import { type PythonTarget, targetFromDebian } from "../../../src/python/target.ts";
import type { DistFile, PinnedRequirement } from "../../../src/python/types.ts";
import { isSdistName, parseWheelName } from "../../../src/python/wheelname.ts";

const trixieAmd64: PythonTarget = { python: "3.13.5", arch: "amd64", glibc: "2.41" };
const trixieArm64: PythonTarget = { python: "3.13.5", arch: "arm64", glibc: "2.41" };
const bookworm: PythonTarget = { python: "3.11.2", arch: "amd64", glibc: "2.36" };

describe("wheel file names", () => {
  test("compressed tag sets expand; build tags; escaping", () => {
    const w = parseWheelName(
      "Foo_Bar-1.0.post1-2b-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    )!;
    assert.equal(w.name, "foo-bar");
    assert.equal(w.version, "1.0.post1");
    assert.deepEqual(w.build, { n: 2, rest: "b" });
    assert.deepEqual(w.tags, ["cp313-cp313-manylinux_2_17_x86_64", "cp313-cp313-manylinux2014_x86_64"]);
    assert.deepEqual(parseWheelName("six-1.16.0-py2.py3-none-any.whl")!.tags, [
      "py2-none-any",
      "py3-none-any",
    ]);
  });
  test("malformed names are one-line errors", () => {
    for (const [n, re] of [
      ["foo-1.0-py3-none.whl", /4 dash-separated parts/],
      ["foo-1.0-x-y-py3-none-any.whl", /7 dash-separated parts/],
      ["foo-1.0-b1-py3-none-any.whl", /build tag "b1" does not start with a digit/],
      ["foo-one-py3-none-any.whl", /version "one" is not PEP 440/],
      ["foo-1.0-py3-none-any.zip", /does not end in \.whl/],
    ] as const) {
      assert.throws(
        () => parseWheelName(n),
        (e: Error) => re.test(e.message) && e.message.startsWith(`${n}: `),
      );
    }
    assert.equal(parseWheelName("nope.whl", { lenient: true }), undefined);
    assert.ok(isSdistName("foo-1.0.tar.gz"));
    assert.ok(!isSdistName("foo-1.0-py3-none-any.whl"));
  });
});

describe("the target's tags, in pip's order", () => {
  test("platforms: manylinux_2_N down from the suite's glibc, legacy aliases after their 2_N, then linux", () => {
    const p = platformTags(trixieAmd64);
    assert.equal(p[0], "manylinux_2_41_x86_64");
    assert.deepEqual(p.slice(p.indexOf("manylinux_2_17_x86_64"), p.indexOf("manylinux_2_17_x86_64") + 2), [
      "manylinux_2_17_x86_64",
      "manylinux2014_x86_64",
    ]);
    assert.ok(p.indexOf("manylinux2010_x86_64") === p.indexOf("manylinux_2_12_x86_64") + 1);
    assert.ok(p.indexOf("manylinux1_x86_64") === p.indexOf("manylinux_2_5_x86_64") + 1);
    assert.equal(p.at(-1), "linux_x86_64");
    assert.ok(!p.includes("manylinux_2_42_x86_64"));
    const a = platformTags(trixieArm64);
    assert.equal(a.at(-2), "manylinux2014_aarch64", "aarch64 stops at 2_17");
    assert.ok(!a.some((t) => t.startsWith("manylinux2010") || t.startsWith("manylinux1_")));
    assert.equal(platformTags({ python: "3.13", arch: "armhf", glibc: "2.41" })[0], "manylinux_2_41_armv7l");
    assert.equal(platformTags({ python: "3.13", arch: "ppc64el", glibc: "2.41" }).at(-1), "linux_ppc64le");
  });
  test("interpreter, abi3, none, older abi3, py3X, then any", () => {
    const t = supportedTags(trixieAmd64);
    const n = platformTags(trixieAmd64).length;
    assert.equal(t[0], "cp313-cp313-manylinux_2_41_x86_64");
    assert.equal(t[n], "cp313-abi3-manylinux_2_41_x86_64");
    assert.equal(t[2 * n], "cp313-none-manylinux_2_41_x86_64");
    assert.equal(t[3 * n], "cp312-abi3-manylinux_2_41_x86_64");
    assert.ok(t.includes("cp32-abi3-linux_x86_64"));
    assert.ok(!t.includes("cp31-abi3-linux_x86_64"));
    const i = (s: string) => {
      const k = t.indexOf(s);
      assert.ok(k >= 0, s);
      return k;
    };
    assert.ok(i("cp32-abi3-linux_x86_64") < i("py313-none-manylinux_2_41_x86_64"));
    assert.ok(i("py313-none-linux_x86_64") < i("py3-none-manylinux_2_41_x86_64"));
    assert.ok(i("py30-none-linux_x86_64") < i("cp313-none-any"));
    assert.deepEqual(t.slice(i("cp313-none-any"), i("cp313-none-any") + 4), [
      "cp313-none-any",
      "py313-none-any",
      "py3-none-any",
      "py312-none-any",
    ]);
    assert.equal(t.at(-1), "py30-none-any");
    assert.equal(new Set(t).size, t.length, "no duplicates");
  });
  test("the target from Debian package versions", () => {
    assert.deepEqual(
      targetFromDebian({ arch: "arm64", pythonVersion: "3.13.5-2+deb13u5", libcVersion: "2.41-12+deb13u5" }),
      {
        python: "3.13.5",
        arch: "arm64",
        glibc: "2.41",
      },
    );
    assert.throws(
      () => targetFromDebian({ arch: "mips", pythonVersion: "3.13", libcVersion: "2.41" }),
      /architecture "mips" is not supported/,
    );
    assert.throws(
      () => targetFromDebian({ arch: "amd64", pythonVersion: "x", libcVersion: "2.41" }),
      /cannot read a Python version/,
    );
  });
});

const H = (c: string) => ({ algorithm: "sha256" as const, hex: c.repeat(64) });
const req = (o: Partial<PinnedRequirement> = {}): PinnedRequirement => ({
  name: "sfext",
  displayName: "sfext",
  version: "2.0",
  extras: [],
  hashes: [H("a"), H("b"), H("c"), H("d"), H("e")],
  where: "req.txt:1",
  ...o,
});
const file = (filename: string, hash?: string, extra: Partial<DistFile> = {}): DistFile => ({
  filename,
  url: `http://127.0.0.1/${filename}`,
  hashes: hash ? [H(hash)] : [],
  origin: "index http://127.0.0.1/simple",
  ...extra,
});

describe("choosing a wheel", () => {
  const pri = tagPriorities(trixieAmd64);
  const files = [
    file("sfext-2.0.tar.gz", "a"),
    file("sfext-2.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "b"),
    file("sfext-2.0-cp313-cp313-manylinux_2_28_x86_64.whl", "c"),
    file("sfext-2.0-cp313-cp313-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", "d"),
    file("sfext-2.0-cp39-abi3-manylinux_2_17_x86_64.whl", "e"),
    file("sfext-2.0-cp313-cp313-manylinux_2_42_x86_64.whl", "e"),
    file("sfext-1.0-py3-none-any.whl", "e"),
  ];
  test("the best tag the target accepts", () => {
    const c = selectWheel(req(), files, trixieAmd64, pri)!;
    assert.equal(c.file.filename, "sfext-2.0-cp313-cp313-manylinux_2_28_x86_64.whl");
    assert.equal(c.tag, "cp313-cp313-manylinux_2_28_x86_64");
    const a = selectWheel(req(), files, trixieArm64, tagPriorities(trixieArm64))!;
    assert.equal(a.file.filename, "sfext-2.0-cp313-cp313-manylinux_2_17_aarch64.manylinux2014_aarch64.whl");
    // bookworm's glibc 2.36 and Python 3.11: only the abi3 wheel fits
    const b = selectWheel(req(), files, bookworm, tagPriorities(bookworm))!;
    assert.equal(b.file.filename, "sfext-2.0-cp39-abi3-manylinux_2_17_x86_64.whl");
  });
  test("a file whose stated hash is not allowed is never chosen; a known-good hash beats an unknown one", () => {
    const c = selectWheel(req({ hashes: [H("b")] }), files, trixieAmd64, pri)!;
    assert.equal(c.file.filename, "sfext-2.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
    const unknown = [file("sfext-2.0-cp313-cp313-manylinux_2_28_x86_64.whl"), files[1]];
    assert.equal(selectWheel(req({ hashes: [H("b")] }), unknown, trixieAmd64, pri)!.file, files[1]);
    assert.throws(
      () => selectWheel(req({ hashes: [H("f")] }), files, trixieAmd64, pri),
      (e: Error & { exitCode?: number }) =>
        /^sfext==2\.0 \(req\.txt:1\): sfext-2\.0-cp313-cp313-manylinux_2_28_x86_64\.whl from index http:\/\/127\.0\.0\.1\/simple has sha256:c{64}, which is none of the allowed sha256:f{64}$/.test(
          e.message,
        ) && e.exitCode === 3,
    );
  });
  test("build tags: the higher wins", () => {
    const c = selectWheel(
      req({ hashes: [] }),
      [
        file("sfext-2.0-1-py3-none-any.whl"),
        file("sfext-2.0-12-py3-none-any.whl"),
        file("sfext-2.0-3-py3-none-any.whl"),
      ],
      trixieAmd64,
      pri,
    )!;
    assert.equal(c.file.filename, "sfext-2.0-12-py3-none-any.whl");
  });
  test("requires-python excludes a wheel", () => {
    assert.throws(
      () =>
        selectWheel(
          req({ hashes: [] }),
          [file("sfext-2.0-py3-none-any.whl", undefined, { requiresPython: ">=3.14" })],
          trixieAmd64,
          pri,
        ),
      /no wheel admits Python 3\.13\.5: sfext-2\.0-py3-none-any\.whl \(requires-python >=3\.14\)/,
    );
  });
  test("only an sdist, no wheel for the architecture, nothing at all: errors naming package, version, arch and tags", () => {
    assert.throws(
      () => selectWheel(req(), [files[0]], trixieAmd64, pri),
      (e: Error & { hint?: string }) =>
        e.message ===
          "sfext==2.0 (req.txt:1): only a source distribution is available (sfext-2.0.tar.gz); shellfree installs wheels only" &&
        /python\.wheels/.test(e.hint ?? ""),
    );
    assert.throws(
      () => selectWheel(req(), [files[3], files[0]], trixieAmd64, pri),
      (e: Error) =>
        e.message ===
          "sfext==2.0 (req.txt:1): no wheel for Python 3.13 (cp313), amd64/x86_64, glibc 2.41; available tags: cp313-cp313-manylinux_2_17_aarch64, cp313-cp313-manylinux2014_aarch64" &&
        !e.message.includes("\n"),
    );
    assert.throws(
      () => selectWheel(req(), [], trixieAmd64, pri),
      /sfext==2\.0 \(req\.txt:1\): no file of this version was found/,
    );
    assert.equal(selectWheel(req(), [], trixieAmd64, pri, { allowMissing: true }), undefined);
  });
});
