import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { compileBytecode, pycHeader } from "../../../src/python/bytecode.ts";
import { findImageInterpreter, resolveInRoot } from "../../../src/python/interpreter.ts";
import { hostArch } from "../../../src/python/target.ts";

const root = mkdtempSync(join(tmpdir(), "sf-interp-"));
after(() => rmSync(root, { recursive: true, force: true }));

describe("the image's interpreter", () => {
  test("paths resolve inside the root; absolute symlinks do not escape to the host", () => {
    mkdirSync(join(root, "usr/lib/x86_64-linux-gnu"), { recursive: true });
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    writeFileSync(join(root, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), "");
    symlinkSync("usr/lib", join(root, "lib"));
    mkdirSync(join(root, "usr/lib64"));
    symlinkSync("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", join(root, "usr/lib64/ld-linux-x86-64.so.2"));
    symlinkSync("/etc/passwd", join(root, "usr/bin/escape"));
    assert.equal(
      resolveInRoot(root, "/usr/lib64/ld-linux-x86-64.so.2"),
      join(root, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
    );
    assert.equal(resolveInRoot(root, "/usr/bin/escape"), undefined, "/etc/passwd is not in the root");
    assert.equal(
      resolveInRoot(root, "/usr/bin/../lib/x86_64-linux-gnu"),
      join(root, "usr/lib/x86_64-linux-gnu"),
    );
    symlinkSync("loop", join(root, "usr/bin/loop"));
    assert.equal(resolveInRoot(root, "/usr/bin/loop"), undefined);
  });
  test("another architecture without qemu: skipped, saying why", async () => {
    writeFileSync(join(root, "usr/bin/python3.13"), "");
    const other = hostArch() === "arm64" ? "amd64" : "arm64";
    const r = await findImageInterpreter(
      root,
      { python: "3.13", arch: other, glibc: "2.41" },
      { noQemu: true },
    );
    assert.deepEqual(r, {
      ok: false,
      reason: `cannot run the image's python for ${other} on this ${hostArch()} host (install qemu-user-static)`,
    });
    const c = await compileBytecode(root, { python: "3.13", arch: other, glibc: "2.41" }, { noQemu: true });
    assert.equal(c.status, "skipped");
  });
  test("no python in the image, or one that cannot run", async () => {
    const r = await findImageInterpreter(root, { python: "3.12", arch: hostArch()!, glibc: "2.41" });
    assert.deepEqual(r, { ok: false, reason: "the image has no /usr/bin/python3.12" });
    const broken = await findImageInterpreter(root, { python: "3.13", arch: hostArch()!, glibc: "2.41" });
    assert.equal(broken.ok, false);
    assert.match((broken as { reason: string }).reason, /^the image's python3\.13 does not run via loader: /);
  });
  test("the PEP 552 header", () => {
    const h = Buffer.alloc(16);
    h.writeUInt16LE(3571, 0);
    h.writeUInt32LE(3, 4);
    h.write("0102030405060708", 8, "hex");
    assert.deepEqual(pycHeader(h), {
      magic: 3571,
      hashBased: true,
      checked: true,
      sourceHash: "0102030405060708",
    });
    h.writeUInt32LE(0, 4);
    assert.deepEqual(pycHeader(h), { magic: 3571, hashBased: false, checked: false, sourceHash: undefined });
    assert.throws(() => pycHeader(new Uint8Array(3)), /shorter than its 16-byte header/);
  });
});
