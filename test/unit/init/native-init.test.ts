/**
 * The native shellfree-init as built by scripts/build-init.ts (npm test builds it first):
 * one static binary per architecture, within 3 MiB, answering --version — the arm64 one under
 * qemu-aarch64-static.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { describe, test } from "node:test";
import { INIT_ARCHES, MAX_SIZE } from "../../../scripts/build-init.ts";
import { INIT_BINARY_ARCHES, initBinaryPath, initVersion, readInitBinary } from "../../../src/init/index.ts";
import { KNOWN_ARCHES } from "../../../src/spec/index.ts";

describe("native shellfree-init binaries", () => {
  test("one per architecture, statically linked, at most 3 MiB", () => {
    assert.deepEqual(Object.keys(INIT_ARCHES), [
      "amd64",
      "arm64",
      "armhf",
      "ppc64el",
      "s390x",
      "riscv64",
      "i386",
    ]);
    // the builder finds one for every architecture a spec may name
    assert.deepEqual(Object.keys(INIT_ARCHES), [...INIT_BINARY_ARCHES]);
    assert.deepEqual([...KNOWN_ARCHES].sort(), [...INIT_BINARY_ARCHES].sort());
    for (const arch of Object.keys(INIT_ARCHES)) {
      const bin = initBinaryPath(arch);
      assert.ok(existsSync(bin), `${bin} missing: run npm run build:init`);
      const size = statSync(bin).size;
      assert.ok(size <= MAX_SIZE && size > 1_000_000, `${arch}: ${size} bytes`);
      const kind = execFileSync("file", ["-b", bin], { encoding: "utf8" });
      assert.match(kind, /^ELF .*statically linked/, `${arch}: ${kind}`);
    }
  });

  test("readInitBinary: the bytes, their SHA256 and the version; a missing one names npm run build:init", () => {
    const b = readInitBinary("amd64");
    assert.equal(b.size, statSync(initBinaryPath("amd64")).size);
    assert.match(b.sha256, /^[0-9a-f]{64}$/);
    assert.equal(b.version, initVersion());
    assert.throws(() => readInitBinary("mips"), /not built for architecture mips/);
  });

  test("--version on amd64, and on arm64 under qemu-aarch64-static", () => {
    const want = `shellfree-init ${initVersion()}\n`;
    const amd64 = spawnSync(initBinaryPath("amd64"), ["--version"], { encoding: "utf8" });
    assert.equal(amd64.status, 0, amd64.stderr);
    assert.equal(amd64.stdout, want);
    const arm64 = spawnSync("qemu-aarch64-static", [initBinaryPath("arm64"), "--version"], {
      encoding: "utf8",
    });
    assert.equal(
      arm64.error,
      undefined,
      "qemu-aarch64-static missing: bash scripts/setup-host.sh installs it",
    );
    assert.equal(arm64.status, 0, arm64.stderr);
    assert.equal(arm64.stdout, want);
  });
});
