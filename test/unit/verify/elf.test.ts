import assert from "node:assert/strict";
import { open, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { test } from "node:test";
import { analyzeElf, bufferReader, ElfCollector, isElf, parseElfHeader } from "../../../src/verify/elf.ts";
import { makeElf } from "./helpers.ts";

test("synthetic ELF64: interpreter, DT_NEEDED, RUNPATH, SONAME, build-id", () => {
  const b = makeElf({
    interp: "/lib64/ld-linux-x86-64.so.2",
    needed: ["libfoo.so.1", "libc.so.6"],
    runpath: "$ORIGIN/../lib:/opt/x",
    soname: "libme.so.3",
    buildId: "0123456789abcdef0123",
  });
  const e = analyzeElf(b, bufferReader(b));
  assert.ok(e);
  assert.equal(e.bits, 64);
  assert.equal(e.machine, 62);
  assert.equal(e.interp, "/lib64/ld-linux-x86-64.so.2");
  assert.deepEqual(e.needed, ["libfoo.so.1", "libc.so.6"]);
  assert.deepEqual(e.runpath, ["$ORIGIN/../lib", "/opt/x"]);
  assert.deepEqual(e.rpath, []);
  assert.equal(e.soname, "libme.so.3");
  assert.equal(e.buildId, "0123456789abcdef0123");
  assert.equal(e.isStatic, false);
  assert.equal(e.incomplete, undefined);
});

test("synthetic ELF32 with RPATH, and a static ELF", () => {
  const b = makeElf({
    bits: 32,
    machine: 3,
    interp: "/lib/ld-linux.so.2",
    needed: ["libm.so.6"],
    rpath: "/usr/lib/app",
  });
  const e = analyzeElf(b, bufferReader(b));
  assert.equal(e?.bits, 32);
  assert.equal(e?.machine, 3);
  assert.deepEqual(e?.needed, ["libm.so.6"]);
  assert.deepEqual(e?.rpath, ["/usr/lib/app"]);
  const s = makeElf({ isStatic: true, type: 2 });
  const se = analyzeElf(s, bufferReader(s));
  assert.equal(se?.isStatic, true);
  assert.deepEqual(se?.needed, []);
  assert.equal(se?.interp, undefined);
});

test("not ELF / truncated input", () => {
  assert.equal(isElf(Buffer.from("#!/bin/sh\n")), false);
  assert.equal(parseElfHeader(Buffer.from("\x7fELF", "latin1")), undefined);
  const b = makeElf({ interp: "/lib64/ld.so", needed: ["liba.so"] });
  // cut inside the dynamic section: the analysis says what it could not read, never guesses
  const cut = b.subarray(0, b.length - 20);
  const e = analyzeElf(cut, bufferReader(cut));
  assert.ok(e?.incomplete, "truncated file is flagged incomplete");
});

test("ElfCollector fed in small chunks keeps only the needed ranges and agrees with the whole-buffer analysis", () => {
  const b = makeElf({
    interp: "/lib64/ld-linux-x86-64.so.2",
    needed: ["libx.so.1"],
    buildId: "aabbccdd",
    payload: "x".repeat(200_000),
  });
  const whole = analyzeElf(b, bufferReader(b));
  const c = new ElfCollector(256); // tiny head forces range capture beyond it
  for (let i = 0; i < b.length; i += 997) c.push(b.subarray(i, i + 997));
  assert.deepEqual(c.finish(), whole);
});

test("ElfCollector finds .dynstr in an R+X first segment when an RW segment precedes .dynamic (aarch64 layout)", () => {
  const b = makeElf({
    machine: 183,
    interp: "/lib/ld-linux-aarch64.so.1",
    needed: ["libc.so.6"],
    codeAndDataLoads: true,
    payload: "x".repeat(100_000),
  });
  const whole = analyzeElf(b, bufferReader(b));
  assert.deepEqual(whole?.needed, ["libc.so.6"]);
  const c = new ElfCollector(256);
  for (let i = 0; i < b.length; i += 4096) c.push(b.subarray(i, i + 4096));
  const streamed = c.finish();
  assert.equal(streamed?.incomplete, undefined);
  assert.deepEqual(streamed, whole);
});

test("the pinned Node.js binary: read by streaming, same answer as reading it whole", async () => {
  const path = createRequire(import.meta.url).resolve("node/bin/node");
  const fh = await open(path, "r");
  const c = new ElfCollector();
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      c.push(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  const streamed = c.finish();
  const whole = await readFile(path);
  assert.deepEqual(streamed, analyzeElf(whole, bufferReader(whole)));
  assert.equal(streamed?.interp?.startsWith("/lib"), true);
  assert.ok(streamed?.needed.includes("libc.so.6"), "node links libc.so.6");
  assert.ok(streamed?.needed.includes("libstdc++.so.6"), "node links libstdc++.so.6");
  assert.match(streamed?.buildId ?? "", /^[0-9a-f]{40}$/);
});
