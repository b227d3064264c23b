/**
 * verify's own tar reader (src/verify/tar-read.ts) reads what tar-stream reads: the same entries
 * (name, type, link name, mode, uid, gid, size, data) and the same error, on tars from shellfree's
 * writer (pax names, long links, hard links) and hand-made ones (GNU headers and long names,
 * global pax headers, base-256 numbers, empty blocks between entries, unknown types, a directory
 * with data, bad checksums, unknown formats, truncation at every kind of place, trailing bytes),
 * cut into chunks of every size.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import tar from "tar-stream";
import { type TarEntry, tarToBuffer } from "../../../src/oci/tar.ts";
import { type TarHeader, TarReader } from "../../../src/verify/tar-read.ts";

interface Seen {
  entries: string[];
  error?: string;
}

const sha = (parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest("hex").slice(0, 12);
// (tar-stream's headers have these fields too)
const describe = (h: TarHeader, data: string) =>
  JSON.stringify([h.name, h.type, h.linkname, h.mode, h.uid, h.gid, h.size, data]);

function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

async function withTarStream(buf: Buffer, size: number): Promise<Seen> {
  const seen: Seen = { entries: [] };
  const ex = tar.extract();
  const consume = (async () => {
    for await (const e of ex) {
      const parts: Buffer[] = [];
      // as verify read them: a directory's stream is never read (tar-stream never ends it
      // when the directory claims data)
      if (e.header.type === "directory") e.resume();
      else for await (const c of e) parts.push(c as Buffer);
      seen.entries.push(describe(e.header as never, sha(parts)));
    }
  })();
  try {
    await Promise.all([pipeline(Readable.from(chunks(buf, size)), ex), consume]);
  } catch (e) {
    seen.error = (e as Error).message;
  }
  return seen;
}

function withReader(buf: Buffer, size: number): Seen {
  const seen: Seen = { entries: [] };
  const r = new TarReader((h) => {
    const parts: Buffer[] = [];
    return { data: (c) => parts.push(c), end: () => seen.entries.push(describe(h, sha(parts))) };
  });
  try {
    for (const c of chunks(buf, size)) r.push(c);
    r.end();
  } catch (e) {
    seen.error = (e as Error).message;
  }
  return seen;
}

/** A header block, written by hand. */
function block(o: {
  name?: string;
  mode?: number;
  uid?: number | Buffer;
  size?: number | Buffer;
  type?: string;
  linkname?: string;
  magic?: "ustar" | "gnu" | "none";
  prefix?: string;
  badSum?: boolean;
}): Buffer {
  const b = Buffer.alloc(512);
  b.write(o.name ?? "file", 0, 100, "utf8");
  b.write(`${(o.mode ?? 0o644).toString(8).padStart(7, "0")}\0`, 100, "latin1");
  if (Buffer.isBuffer(o.uid)) o.uid.copy(b, 108);
  else b.write(`${(o.uid ?? 0).toString(8).padStart(7, "0")}\0`, 108, "latin1");
  b.write("0000000\0", 116, "latin1");
  if (Buffer.isBuffer(o.size)) o.size.copy(b, 124);
  else b.write(`${(o.size ?? 0).toString(8).padStart(11, "0")} `, 124, "latin1");
  b.write("00000000000 ", 136, "latin1");
  b.write(o.type ?? "0", 156, "latin1");
  if (o.linkname) b.write(o.linkname, 157, 100, "utf8");
  const magic = o.magic ?? "ustar";
  if (magic === "ustar") b.write("ustar\x0000", 257, "latin1");
  else if (magic === "gnu") b.write("ustar  \0", 257, "latin1");
  if (o.prefix) b.write(o.prefix, 345, 155, "utf8");
  let sum = 8 * 32;
  for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += b[i];
  b.write(`${(o.badSum ? sum + 1 : sum).toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return b;
}

function data(s: string | Buffer): Buffer {
  const d = Buffer.isBuffer(s) ? s : Buffer.from(s);
  const pad = (512 - (d.length % 512)) % 512;
  return Buffer.concat([d, Buffer.alloc(pad)]);
}

function pax(records: Record<string, string>): Buffer {
  let s = "";
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let n = body.length + 1;
    while (String(n).length + Buffer.byteLength(body) !== n) n = String(n).length + Buffer.byteLength(body);
    s += `${n}${body}`;
  }
  return Buffer.from(s);
}

const END = Buffer.alloc(1024);
const b256 = (n: number, len: number) => {
  const b = Buffer.alloc(len);
  b[0] = 0x80;
  for (let i = len - 1, v = n; i > 0; i--, v = Math.floor(v / 256)) b[i] = v & 0xff;
  return b;
};

async function cases(): Promise<Array<[string, Buffer]>> {
  const entries: TarEntry[] = [
    { type: "dir", path: "etc", mode: 0o755, uid: 0, gid: 0 },
    {
      type: "file",
      path: "etc/a",
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 3,
      content: { kind: "bytes", data: Buffer.from("abc") },
    },
    { type: "hardlink", path: "etc/b", target: "etc/a", mode: 0o644, uid: 0, gid: 0 },
    { type: "symlink", path: "etc/c", target: `${"t/".repeat(80)}x`, mode: 0o777, uid: 0, gid: 0 },
    {
      type: "file",
      path: `${"long-dir/".repeat(30)}file-ü`,
      mode: 0o4755,
      uid: 70000000,
      gid: 5,
      size: 1500,
      content: { kind: "bytes", data: Buffer.alloc(1500, 7) },
    },
    {
      type: "file",
      path: "empty",
      mode: 0o600,
      uid: 1,
      gid: 1,
      size: 0,
      content: { kind: "bytes", data: Buffer.alloc(0) },
    },
  ];
  const written = await tarToBuffer(entries, { sourceDateEpoch: 1_700_000_000 });
  const out: Array<[string, Buffer]> = [["shellfree's writer", written]];
  out.push([
    "GNU headers and long names and links",
    Buffer.concat([
      block({ name: "././@LongLink", type: "L", size: 150, magic: "gnu" }),
      data(`${"n".repeat(149)}\0`),
      block({ name: "short", magic: "gnu", size: 5 }),
      data("hello"),
      block({ name: "././@LongLink", type: "K", size: 120, magic: "gnu" }),
      data("k".repeat(120)),
      block({ name: "link", type: "2", linkname: "short", magic: "gnu" }),
      END,
    ]),
  ]);
  out.push([
    "global pax headers merge under the next x only; empty blocks between entries",
    Buffer.concat([
      block({ name: "g", type: "g", size: pax({ path: "global-name", uid: "9" }).length }),
      data(pax({ path: "global-name", uid: "9" })),
      block({ name: "plain", size: 2 }),
      data("hi"),
      Buffer.alloc(512),
      block({ name: "x", type: "x", size: pax({ linkpath: "pax-link" }).length }),
      data(pax({ linkpath: "pax-link" })),
      block({ name: "named-by-global", type: "1", linkname: "old" }),
      block({ name: "x", type: "x", size: pax({ size: "700" }).length }),
      data(pax({ size: "700" })),
      block({ name: "big", size: 1 }),
      data(Buffer.alloc(700, 1)),
      END,
    ]),
  ]);
  out.push([
    "base-256 numbers, a prefix, unknown type, a directory with data",
    Buffer.concat([
      block({ name: "b256", uid: b256(123456789, 8), size: b256(600, 12) }),
      data(Buffer.alloc(600, 2)),
      block({ name: "name", prefix: "some/prefix", size: 1 }),
      data("p"),
      block({ name: "volume", type: "V", size: 3 }),
      data("vol"),
      block({ name: "dir/", type: "5", size: 512 }),
      block({ name: "inside-dir-data", size: 0 }),
      block({ name: "old-dir/", type: "0" }),
      END,
    ]),
  ]);
  out.push([
    "bad checksum",
    Buffer.concat([block({ name: "a", size: 1 }), data("a"), block({ name: "b", badSum: true }), END]),
  ]);
  out.push(["unknown format", Buffer.concat([block({ name: "a", magic: "none" }), END])]);
  out.push([
    "pax size that is not a number",
    Buffer.concat([
      block({ name: "x", type: "x", size: pax({ size: "zz" }).length }),
      data(pax({ size: "zz" })),
      block({ name: "f", size: 1 }),
      data("f"),
      END,
    ]),
  ]);
  out.push([
    "negative base-256 size",
    Buffer.concat([block({ name: "neg", size: Buffer.from([0xff, ...Buffer.alloc(11, 0xff)]) }), END]),
  ]);
  out.push([
    "a long header over 4 MiB",
    Buffer.concat([block({ name: "x", type: "x", size: 5 * 1024 * 1024 }), END]),
  ]);
  out.push(["trailing bytes after the end", Buffer.concat([written, Buffer.from("junk")])]);
  // truncations: inside a header, inside data, inside padding, inside a long header, at the end
  for (const cut of [
    100,
    512,
    700,
    1024 + 3,
    2048 + 1,
    written.length - 1024,
    written.length - 600,
    written.length - 1,
  ])
    out.push([`cut at ${cut}`, written.subarray(0, cut)]);
  out.push(["no end blocks", written.subarray(0, written.length - 1024)]);
  out.push(["nothing", Buffer.alloc(0)]);
  return out;
}

test("verify's tar reader reads every case as tar-stream does, however the bytes are cut", async () => {
  for (const [what, buf] of await cases()) {
    for (const size of [1, 7, 100, 511, 512, 513, 4096, 1 << 20]) {
      if (size === 1 && buf.length > 20_000) continue;
      const want = await withTarStream(buf, size);
      const got = withReader(buf, size);
      assert.deepEqual(got, want, `${what}, chunks of ${size}`);
    }
  }
});

test("the reader's cases are not trivial: entries and errors of each kind are seen", async () => {
  const all = await cases();
  const errors = new Set<string>();
  let entries = 0;
  for (const [, buf] of all) {
    const s = withReader(buf, 4096);
    entries += s.entries.length;
    if (s.error) errors.add(s.error);
  }
  assert.ok(entries > 25, `${entries} entries`);
  assert.deepEqual([...errors].sort(), [
    "Header exceeds max size",
    "Invalid header",
    "Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?",
    "Invalid tar header: unknown format.",
    "Unexpected end of data",
  ]);
});
