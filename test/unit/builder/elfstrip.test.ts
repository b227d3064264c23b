import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stripDebug, stripDebugChunks } from "../../../src/builder/elfstrip.ts";

const NODE = new URL("../../../node_modules/node/bin/node", import.meta.url).pathname;

function readelf(args: string[], file: string): string {
  return execFileSync("readelf", [...args, file], { encoding: "utf8", maxBuffer: 64 << 20 });
}
function sectionNames(file: string): string[] {
  const out = readelf(["-SW"], file);
  return [...out.matchAll(/^\s*\[\s*\d+\]\s+(\S*)\s+[A-Z_]+/gm)].map((m) => m[1]);
}
/** program headers without the "Section to Segment mapping" (section numbering may change) */
function programHeaders(file: string): string {
  const out = readelf(["-lW"], file);
  return out.split("\n Section to Segment mapping")[0];
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "shellfree-elfstrip-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("stripDebug on the official Node.js binary", () => {
  test("drops debug sections and the symbol table; the result runs the same", () => {
    const original = readFileSync(NODE);
    const r = stripDebug(original);
    const out = join(dir, "node");
    writeFileSync(out, r.data, { mode: 0o755 });

    assert.ok(
      r.removed.some((n) => n.startsWith(".debug_")),
      `removed: ${r.removed.join(" ")}`,
    );
    assert.ok(r.removed.includes(".symtab") && r.removed.includes(".strtab"));
    assert.equal(r.savedBytes, original.length - r.data.length);
    assert.ok(r.savedBytes > 15_000_000, `saved only ${r.savedBytes}`);
    // ~108 MB: well below the original, far above anything that lost code
    assert.ok(r.data.length > 100_000_000 && r.data.length < 115_000_000, `size ${r.data.length}`);

    const names = sectionNames(out);
    assert.deepEqual(
      names.filter((n) => n.startsWith(".debug") || n === ".symtab" || n === ".strtab"),
      [],
    );
    for (const keep of [
      ".text",
      ".rodata",
      ".dynsym",
      ".dynstr",
      ".data",
      ".bss",
      ".shstrtab",
      ".eh_frame",
    ]) {
      assert.ok(names.includes(keep), `${keep} kept`);
    }
    assert.equal(programHeaders(out), programHeaders(NODE));
    // section numbers of allocated sections unchanged (.dynsym st_shndx refers to them)
    const before = sectionNames(NODE);
    for (const [i, n] of before.entries()) {
      if ([".text", ".data", ".bss", ".rodata", ".dynsym"].includes(n)) assert.equal(names[i], n);
    }

    const version = execFileSync(out, ["--version"], { encoding: "utf8" }).trim();
    assert.equal(version, execFileSync(NODE, ["--version"], { encoding: "utf8" }).trim());
    const script = `
      const c = require("node:crypto"), z = require("node:zlib");
      const h = c.createHash("sha256").update("shellfree").digest("hex");
      const back = z.gunzipSync(z.gzipSync(Buffer.from("x".repeat(1000)))).length;
      const d = new Intl.DateTimeFormat("de-DE", { timeZone: "UTC", dateStyle: "full" }).format(new Date(0));
      const k = c.generateKeyPairSync("ec", { namedCurve: "P-256" });
      const sig = c.sign("sha256", Buffer.from("m"), k.privateKey);
      console.log(JSON.stringify({ h, back, d, ok: c.verify("sha256", Buffer.from("m"), k.publicKey, sig) }));`;
    const res = JSON.parse(execFileSync(out, ["-e", script], { encoding: "utf8" }));
    assert.deepEqual(res, {
      h: createHash("sha256").update("shellfree").digest("hex"),
      back: 1000,
      d: "Donnerstag, 1. Januar 1970",
      ok: true,
    });

    // stripping again changes nothing
    const again = stripDebug(r.data);
    assert.equal(again.data, r.data);
    assert.deepEqual(again.removed, []);
    assert.equal(again.savedBytes, 0);
  });
});

describe("stripDebug on binaries compiled here with gcc -g", () => {
  const src = `#include <stdio.h>
#include <string.h>
static int counter = 41;
int helper(const char *s) { return (int)strlen(s) + counter; }
int main(int argc, char **argv) { printf("hello %d\\n", helper(argv[0]) - (int)strlen(argv[0]) + 1); return argc - 1; }
`;

  test("an executable keeps its program headers and still runs", () => {
    const c = join(dir, "hello.c");
    writeFileSync(c, src);
    const exe = join(dir, "hello");
    execFileSync("gcc", ["-g", "-O1", "-o", exe, c]);
    const before = sectionNames(exe);
    assert.ok(
      before.some((n) => n.startsWith(".debug_")),
      "gcc -g produced debug sections",
    );
    const r = stripDebug(readFileSync(exe));
    const out = join(dir, "hello.stripped");
    writeFileSync(out, r.data, { mode: 0o755 });
    assert.equal(programHeaders(out), programHeaders(exe));
    const after = sectionNames(out);
    assert.deepEqual(
      after.filter((n) => n.startsWith(".debug")),
      [],
    );
    assert.ok(!after.includes(".symtab") && !after.includes(".strtab"));
    assert.ok(r.savedBytes > 0 && r.data.length < readFileSync(exe).length);
    assert.equal(execFileSync(out, [], { encoding: "utf8" }), "hello 42\n");
    // readelf finds nothing to complain about in the rebuilt header table
    const warnings = execFileSync("sh", ["-c", `readelf -a "${out}" 2>&1 >/dev/null`], { encoding: "utf8" });
    assert.equal(warnings, "");
  });

  test("a relocatable object keeps its symbol table and still links", () => {
    const c = join(dir, "obj.c");
    writeFileSync(c, src);
    const obj = join(dir, "obj.o");
    execFileSync("gcc", ["-g", "-c", "-o", obj, c]);
    const r = stripDebug(readFileSync(obj));
    assert.ok(
      r.removed.length > 0 && r.removed.every((n) => n.startsWith(".debug_") || n.startsWith(".rela.debug_")),
    );
    const out = join(dir, "obj.stripped.o");
    writeFileSync(out, r.data);
    const names = sectionNames(out);
    assert.ok(names.includes(".symtab") && names.includes(".strtab") && names.includes(".rela.text"));
    const exe = join(dir, "linked");
    execFileSync("gcc", ["-o", exe, out]);
    assert.equal(execFileSync(exe, [], { encoding: "utf8" }), "hello 42\n");
  });
});

describe("stripDebug rejects what it cannot edit", () => {
  /** the error's code and message, or "no error" */
  const failure = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return `${(e as { code?: string }).code}: ${(e as Error).message}`;
    }
    return "no error";
  };
  let tiny: Uint8Array;
  before(() => {
    const c = join(dir, "tiny.c");
    writeFileSync(c, "int main(void) { return 0; }\n");
    const exe = join(dir, "tiny");
    execFileSync("gcc", ["-g", "-o", exe, c]);
    tiny = readFileSync(exe);
  });
  const patched = (edit: (d: Uint8Array, v: DataView) => void) => {
    const d = Uint8Array.from(tiny);
    edit(d, new DataView(d.buffer));
    return d;
  };

  test("the unpatched tiny binary strips fine (control)", () => {
    assert.ok(stripDebug(tiny).removed.length > 0);
  });

  test("not an ELF file", () => {
    assert.match(
      failure(() => stripDebug(new TextEncoder().encode("#!/bin/sh\necho hi\n".repeat(10)))),
      /^E_ELF: .*no ELF magic/,
    );
    assert.match(
      failure(() => stripDebug(new Uint8Array(3))),
      /^E_ELF: .*too short/,
    );
  });

  test("32-bit, big-endian or foreign machine", () => {
    assert.match(
      failure(() =>
        stripDebug(
          patched((d) => {
            d[4] = 1;
          }),
        ),
      ),
      /^E_ELF: .*64-bit/,
    );
    assert.match(
      failure(() =>
        stripDebug(
          patched((d) => {
            d[5] = 2;
          }),
        ),
      ),
      /^E_ELF: .*little-endian/,
    );
    assert.match(
      failure(() => stripDebug(patched((_d, v) => v.setUint16(18, 243, true)))),
      /^E_ELF: .*machine 243/,
    );
  });

  test("truncated file", () => {
    assert.match(
      failure(() => stripDebug(tiny.subarray(0, tiny.length - 100))),
      /^E_ELF: .*beyond the end/,
    );
    assert.match(
      failure(() => stripDebug(readFileSync(NODE).subarray(0, 1 << 20))),
      /^E_ELF: .*beyond the end/,
    );
  });

  test("random corruption of headers: a result or E_ELF, never a crash (deterministic fuzz)", () => {
    const dv = new DataView(tiny.buffer, tiny.byteOffset, tiny.byteLength);
    const shoff = Number(dv.getBigUint64(40, true));
    let seed = 4242;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const other: string[] = [];
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const d = Uint8Array.from(tiny);
      for (let k = 1 + (rnd() % 4); k > 0; k--) {
        const region = rnd() % 3;
        const at =
          region === 0
            ? rnd() % 64
            : region === 1
              ? shoff + (rnd() % (d.length - shoff))
              : 64 + (rnd() % 728);
        d[at] = rnd() & 0xff;
      }
      try {
        stripDebug(d);
      } catch (e) {
        if ((e as { code?: string }).code === "E_ELF") rejected++;
        else other.push(String(e));
      }
    }
    assert.deepEqual(other, []);
    assert.ok(rejected > 100, `only ${rejected} corruptions were detected`);
  });

  test("corrupt section name table index or name offset", () => {
    assert.match(
      failure(() => stripDebug(patched((_d, v) => v.setUint16(62, 0x7fff, true)))),
      /^E_ELF: .*index out of range/,
    );
    const shoff = Number(new DataView(tiny.buffer, tiny.byteOffset).getBigUint64(40, true));
    assert.match(
      failure(() => stripDebug(patched((_d, v) => v.setUint32(shoff + 64, 0x7fffffff, true)))),
      /^E_ELF: .*name offset/,
    );
  });
});

describe("stripDebugChunks", () => {
  test("the chunks concatenate to stripDebug's bytes, and the input is left untouched", () => {
    const dir2 = mkdtempSync(join(tmpdir(), "shellfree-elfchunks-"));
    try {
      const c = join(dir2, "x.c");
      writeFileSync(c, "int main(void) { return 3; }\n");
      execFileSync("gcc", ["-g", "-o", join(dir2, "x"), c]);
      const input = readFileSync(join(dir2, "x"));
      const before = Buffer.from(input);
      const r = stripDebugChunks(input);
      assert.ok(r.chunks.length > 1 && r.removed.length > 0);
      const joined = Buffer.concat(r.chunks);
      assert.equal(joined.length, r.size);
      assert.ok(joined.equals(stripDebug(input).data));
      assert.ok(input.equals(before), "input not modified");
      // nothing to strip: the input itself, one chunk
      const again = stripDebugChunks(joined);
      assert.equal(again.chunks.length, 1);
      assert.equal(again.chunks[0], joined);
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
