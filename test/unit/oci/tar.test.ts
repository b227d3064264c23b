import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { normalizeEntries, tarStream, tarToBuffer } from "../../../src/oci/tar.ts";
import type { TreeEntry } from "../../../src/oci/types.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { collect, dir, file, hardlink, parseTar, symlink } from "./helpers.ts";

const SDE = 1_700_000_000;

function field(h: Buffer, off: number, len: number): string {
  const s = h.subarray(off, off + len);
  const z = s.indexOf(0);
  return (z < 0 ? s : s.subarray(0, z)).toString("latin1");
}

/** Walk raw 512-byte headers (no library) and return them with their offsets. */
function rawHeaders(buf: Buffer): Array<{ off: number; h: Buffer }> {
  const out: Array<{ off: number; h: Buffer }> = [];
  let pos = 0;
  while (pos + 512 <= buf.length) {
    const h = buf.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) break;
    out.push({ off: pos, h });
    const size = Number.parseInt(field(h, 124, 12), 8);
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe("tar writer", () => {
  const longDir = `usr/share/${"d".repeat(60)}/${"e".repeat(60)}`;
  const longFile = `${longDir}/${"f".repeat(90)}.txt`; // > 100 chars, splittable into prefix/name
  const hugeName = `opt/${"x".repeat(150)}`; // one component > 100: needs PAX
  const entries: TreeEntry[] = [
    file("usr/bin/su", "#!", 0o4755, 0, 0), // setuid preserved
    dir("usr/bin"),
    dir("usr"),
    dir("tmp", 0o1777),
    dir("usr/share"),
    dir(`usr/share/${"d".repeat(60)}`),
    dir(longDir),
    file(longFile, "long"),
    dir("opt"),
    file(hugeName, "huge"),
    file("usr/bin/a-b", "x", 0o755, 1000, 1000, SDE - 100), // older mtime kept
    file("usr/bin/new", "n", 0o755, 0, 0, SDE + 5000), // future mtime clamped
    symlink("usr/bin/sh-link", "../../opt/target"),
    symlink("usr/bin/longlink", `/${"t".repeat(120)}`),
    file("usr/bin/zz-real", "same inode content", 0o755),
    hardlink("usr/bin/aa-link", "usr/bin/zz-real"), // sorts before its target: roles swap
    file("usr/bin/caf\u00e9", "utf8 name"),
  ];

  it("sorts parents before children, then by name bytes", () => {
    const order = normalizeEntries([
      dir("a-b"),
      dir("a"),
      file("a/b", ""),
      file("a.b", ""),
      dir("a/c"),
      file("a/c/d", ""),
    ]).map((e) => e.path);
    assert.deepEqual(order, ["a", "a/b", "a/c", "a/c/d", "a-b", "a.b"]);
  });

  it("writes headers that an independent reader parses back exactly", async () => {
    const buf = await tarToBuffer(entries, { sourceDateEpoch: SDE });
    const parsed = await parseTar(buf);
    const byName = new Map(parsed.map((p) => [p.header.name, p]));
    assert.equal(parsed.length, entries.length);
    // directory names end with "/" in the raw header; tar-stream strips nothing for dirs' type
    const tmp = byName.get("tmp") ?? byName.get("tmp/");
    assert.ok(tmp, "tmp dir present");
    assert.equal(tmp.header.type, "directory");
    assert.equal(tmp.header.mode, 0o1777);
    const su = byName.get("usr/bin/su");
    assert.equal(su?.header.mode, 0o4755);
    assert.equal(su?.data.toString(), "#!");
    const long = byName.get(longFile);
    assert.ok(long, "long (prefix-split) name read back");
    assert.equal(long.data.toString(), "long");
    assert.equal(byName.get(hugeName)?.data.toString(), "huge");
    assert.equal(byName.get("usr/bin/caf\u00e9")?.data.toString(), "utf8 name");
    const ab = byName.get("usr/bin/a-b");
    assert.equal(ab?.header.uid, 1000);
    assert.equal(ab?.header.gid, 1000);
    assert.equal(ab?.header.mtime?.getTime(), (SDE - 100) * 1000);
    assert.equal(byName.get("usr/bin/new")?.header.mtime?.getTime(), SDE * 1000);
    assert.equal(
      byName.get("usr")?.header.mtime?.getTime() ?? byName.get("usr/")?.header.mtime?.getTime(),
      SDE * 1000,
    );
    const sl = byName.get("usr/bin/sh-link");
    assert.equal(sl?.header.type, "symlink");
    assert.equal(sl?.header.linkname, "../../opt/target");
    assert.equal(byName.get("usr/bin/longlink")?.header.linkname, `/${"t".repeat(120)}`);
    // hard link: the first path of the group carries the content, the other links to it
    const aa = byName.get("usr/bin/aa-link");
    const zz = byName.get("usr/bin/zz-real");
    assert.equal(aa?.header.type, "file");
    assert.equal(aa?.data.toString(), "same inode content");
    assert.equal(zz?.header.type, "link");
    assert.equal(zz?.header.linkname, "usr/bin/aa-link");
    for (const p of parsed) {
      assert.equal(p.header.uname ?? "", "");
      assert.equal(p.header.gname ?? "", "");
    }
  });

  it("raw bytes: ustar magic, valid checksums, empty uname/gname, dirs end in '/', PAX only where needed", async () => {
    const buf = await tarToBuffer(entries, { sourceDateEpoch: SDE });
    assert.equal(buf.length % 512, 0);
    assert.ok(
      buf.subarray(buf.length - 1024).every((b) => b === 0),
      "ends with two zero blocks",
    );
    const hs = rawHeaders(buf);
    const pax = hs.filter(({ h }) => String.fromCharCode(h[156]) === "x");
    // exactly: hugeName (path), longlink (linkpath), café (non-ASCII path)
    assert.equal(pax.length, 3);
    for (const { h } of hs) {
      assert.equal(field(h, 257, 6), "ustar");
      assert.equal(field(h, 263, 2), "00");
      assert.ok(
        h.subarray(265, 329).every((b) => b === 0),
        "uname and gname empty",
      );
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
      assert.equal(Number.parseInt(field(h, 148, 8), 8), sum);
      const type = String.fromCharCode(h[156]);
      const name = field(h, 345, 155) ? `${field(h, 345, 155)}/${field(h, 0, 100)}` : field(h, 0, 100);
      if (type === "5") assert.ok(name.endsWith("/"), `dir ${name} ends with /`);
      if (type === "x") assert.ok(name.startsWith("PaxHeaders/"), name);
    }
    const split = hs.find(({ h }) => field(h, 345, 155) !== "");
    assert.ok(split, "a long name used the ustar prefix field instead of PAX");
    // PAX records are well formed ("<len> key=value\n" with len counting itself)
    const first = pax[0];
    const size = Number.parseInt(field(first.h, 124, 12), 8);
    const data = buf.subarray(first.off + 512, first.off + 512 + size).toString("utf8");
    for (const rec of data.split(/(?<=\n)/).filter(Boolean)) {
      assert.equal(Buffer.byteLength(rec), Number.parseInt(rec, 10));
    }
  });

  it("is byte-identical for the same entries in any input order", async () => {
    const a = await tarToBuffer(entries, { sourceDateEpoch: SDE });
    const b = await tarToBuffer([...entries].reverse(), { sourceDateEpoch: SDE });
    assert.ok(a.equals(b));
    const c = await tarToBuffer(entries, { sourceDateEpoch: SDE + 1 });
    assert.ok(!a.equals(c), "SOURCE_DATE_EPOCH is part of the bytes");
  });

  it("streams file content from disk and rejects a file whose size changed", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const p = join(d, "blob");
    await writeFile(p, "0123456789");
    const ok = await collect(
      tarStream(
        [
          {
            type: "file",
            path: "f",
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 10,
            content: { kind: "file", path: p },
          },
        ],
        {
          sourceDateEpoch: SDE,
        },
      ),
    );
    assert.equal((await parseTar(ok))[0].data.toString(), "0123456789");
    for (const size of [9, 11]) {
      await assert.rejects(
        collect(
          tarStream(
            [
              {
                type: "file",
                path: "f",
                mode: 0o644,
                uid: 0,
                gid: 0,
                size,
                content: { kind: "file", path: p },
              },
            ],
            {
              sourceDateEpoch: SDE,
            },
          ),
        ),
        (e: Error & { code?: string }) =>
          e.code === "E_LAYER_CONTENT" && /changed during the build/.test(e.message),
      );
    }
    await assert.rejects(
      collect(
        tarStream(
          [
            {
              type: "file",
              path: "f",
              mode: 0o644,
              uid: 0,
              gid: 0,
              size: 1,
              content: { kind: "file", path: join(d, "nope") },
            },
          ],
          {
            sourceDateEpoch: SDE,
          },
        ),
      ),
      { code: "E_LAYER_CONTENT" },
    );
  });

  it("rejects bad trees with E_LAYER_ENTRY", () => {
    const bad: TreeEntry[][] = [
      [file("a", "1"), file("a", "2")],
      [file("/abs", "")],
      [file("a/../b", "")],
      [file("./a", "")],
      [file("a/", "")],
      [hardlink("l", "missing")],
      [dir("d"), hardlink("l", "d")],
      [{ ...file("m", ""), mode: 0o100644 }],
      [{ ...file("s", "abc"), size: 2 } as TreeEntry],
      [{ ...file("u", ""), uid: -1 }],
    ];
    for (const b of bad)
      assert.throws(
        () => normalizeEntries(b),
        { code: "E_LAYER_ENTRY" },
        JSON.stringify(b.map((e) => e.path)),
      );
  });
});
