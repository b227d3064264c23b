/**
 * The claim the builder's bytecode step rests on (src/builder/bytecode.ts, docs/design.md): the
 * .pyc bytes do not depend on the architecture between 64-bit little-endian builds of the same
 * CPython. The same sources — a spread of trixie's standard library with the modules that hold
 * frozenset constants, big integers and non-ASCII text — compiled by Debian's arm64 python3.13
 * (under qemu-user) and by the amd64 python3.13 of the SAME Debian version give identical
 * bytes. Then the builder: an arm64 image is compiled by the host's build of its exact version
 * (no qemu needed, and the result equals qemu's), and an image whose architecture has no such
 * shortcut (armhf: 32-bit hashes) with no qemu on PATH is built without bytecode, saying so.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BytecodeResult, compileBytecode, findPythonSources, which } from "../../../src/python/index.ts";
import { runCommand } from "../../helpers/run.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { CACHE, mustSucceed, shellfree } from "../builder/common.ts";
import { type ImageRoot, imageRoot } from "./common.ts";

function compiled(r: BytecodeResult): Extract<BytecodeResult, { status: "compiled" }> {
  assert.equal(r.status, "compiled", r.status === "skipped" ? r.reason : "");
  return r as Extract<BytecodeResult, { status: "compiled" }>;
}

/** Modules chosen for what makes bytecode differ if anything does. */
const PICKED = [
  "usr/lib/python3.13/_pydecimal.py", // big integer constants
  "usr/lib/python3.13/email/_header_value_parser.py", // frozenset/set constants
  "usr/lib/python3.13/html/entities.py", // non-ASCII strings, a large dict
  "usr/lib/python3.13/tokenize.py",
  "usr/lib/python3.13/typing.py",
  "usr/lib/python3.13/enum.py",
  "usr/lib/python3.13/locale.py",
  "usr/lib/python3.13/encodings/cp1252.py", // a decoding table of every code point
];

describe("bytecode does not depend on the architecture (trixie python3.13, amd64 vs arm64)", () => {
  let dir = "";
  let amd: ImageRoot;
  let arm: ImageRoot;
  let files: string[] = [];
  before(async () => {
    assert.ok(which("qemu-aarch64-static") ?? which("qemu-aarch64"), "qemu-user-static is installed");
    dir = await tempDir("shellfree-pyc-arch-");
    const pkgs = ["python3.13-minimal", "libpython3.13-stdlib"];
    amd = await imageRoot(join(dir, "amd64"), "trixie", "amd64", pkgs);
    arm = await imageRoot(join(dir, "arm64"), "trixie", "arm64", pkgs);
    const sources = (await findPythonSources(amd.root)).filter(
      (p) => p.startsWith("usr/lib/python3.13/") && !p.includes("_sysconfigdata_"),
    );
    // every 16th of the rest (about 45 files): under emulation the whole library takes minutes
    files = [...new Set([...PICKED, ...sources.filter((_, i) => i % 16 === 0)])].sort();
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("the same Debian version on both architectures compiles to identical bytes", async (t) => {
    const version = (r: ImageRoot) => r.packages.find((p) => p.name === "python3.13-minimal")?.version;
    assert.equal(version(amd), version(arm), "the archive has one python3.13 version for both");
    const a = compiled(await compileBytecode(amd.root, amd.target, { files }));
    const b = compiled(await compileBytecode(arm.root, arm.target, { files, jobs: 2 }));
    assert.equal(a.via, "loader");
    assert.equal(b.via, "qemu");
    t.diagnostic(`${files.length} files: amd64 ${a.seconds} s, arm64 under qemu ${b.seconds} s`);
    assert.deepEqual(a.failed, []);
    assert.deepEqual(b.failed, []);
    assert.equal(a.files.length, files.length);
    assert.deepEqual(
      a.files.map((f) => f.path),
      b.files.map((f) => f.path),
    );
    const differ = a.files.filter((f, i) => !Buffer.from(f.data).equals(Buffer.from(b.files[i].data)));
    assert.deepEqual(
      differ.map((f) => f.path),
      [],
      "every .pyc is byte-identical",
    );
    // and the host's interpreter run for the arm64 root (what the builder does) gives them too
    const c = compiled(
      await compileBytecode(arm.root, arm.target, { files, compiler: { root: amd.root, arch: "amd64" } }),
    );
    assert.equal(c.via, "loader");
    assert.ok(c.files.every((f, i) => Buffer.from(f.data).equals(Buffer.from(b.files[i].data))));
  });

  test("the builder compiles an arm64 image with the host's build of its exact python version", async () => {
    const r = await shellfree(
      [
        "build",
        "--preset",
        "python",
        "--arch",
        "arm64",
        "--output",
        `oci:${dir}/py-arm64`,
        "--cache-dir",
        CACHE,
        "--no-sbom",
        "--json",
      ],
      { timeoutMs: 600_000 },
    );
    mustSucceed(r, "arm64 build");
    const bc = JSON.parse(r.stdout).architectures[0].bytecode;
    assert.match(bc.status, /^(compiled|cached)$/);
    assert.match(bc.compiler, /^the amd64 build of the image's python3\.13 \S+$/);
    assert.ok(bc.files > 500, `${bc.files} .pyc`);
  });

  test("armhf with no qemu on PATH: built without bytecode, and the output says why", async () => {
    // PATH without qemu (the build itself needs nothing from PATH: xz falls back to wasm)
    const r = await shellfree(
      [
        "build",
        "--preset",
        "python",
        "--arch",
        "armhf",
        "--output",
        `oci:${dir}/py-armhf`,
        "--cache-dir",
        CACHE,
        "--no-sbom",
      ],
      { timeoutMs: 600_000, env: { PATH: "/nonexistent" } },
    );
    mustSucceed(r, "armhf build");
    assert.match(
      r.stderr,
      /armhf: bytecode left out: cannot run the image's python for armhf on this amd64 host \(install qemu-user-static\)/,
    );
    assert.match(r.stdout, /bytecode left out: cannot run/);
    assert.doesNotMatch(r.stdout, /layer bytecode/);
    const tags = await runCommand("jq", ["-r", ".manifests | length", `${dir}/py-armhf/index.json`]);
    assert.equal(tags.stdout.trim(), "1");
  });
});
