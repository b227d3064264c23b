import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { fixedSlices, GZIP_CHUNK, parallelGzip, writeLayer, zstdCompressor } from "../../../src/oci/layer.ts";
import { tarToBuffer } from "../../../src/oci/tar.ts";
import type { TreeEntry } from "../../../src/oci/types.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { collect, dir, file, hardlink, parseTar, pseudoRandom, symlink } from "./helpers.ts";

const SDE = 1_700_000_000;
const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Count gzip members by decompressing member after member with zlib's own framing. */
function gzipMembers(buf: Buffer): number {
  let n = 0;
  let rest = buf;
  while (rest.length > 0) {
    assert.equal(rest[0], 0x1f);
    assert.equal(rest[1], 0x8b);
    // header fixed by us: no flags, mtime 0, OS 3
    assert.equal(rest[3], 0);
    assert.equal(rest.readUInt32LE(4), 0);
    assert.equal(rest[9], 3);
    // find the end of this member: try successive candidate ends (cheap for a few members)
    let end = -1;
    for (let i = 18; i <= rest.length; i++) {
      if (i < rest.length && !(rest[i] === 0x1f && rest[i + 1] === 0x8b && rest[i + 2] === 8)) continue;
      try {
        gunzipSync(rest.subarray(0, i));
        end = i;
        break;
      } catch {
        // not a member boundary
      }
    }
    assert.ok(end > 0, "member boundary found");
    n++;
    rest = rest.subarray(end);
  }
  return n;
}

async function tree(root: string): Promise<TreeEntry[]> {
  // 9 MiB incompressible + 3 MiB compressible file: > 2 gzip chunks of 4 MiB
  const big = join(root, "big.bin");
  await writeFile(big, pseudoRandom(9 * 1024 * 1024));
  const text = Buffer.alloc(3 * 1024 * 1024, "shellfree ");
  return [
    dir("usr"),
    dir("usr/lib"),
    {
      type: "file",
      path: "usr/lib/big.bin",
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 9 * 1024 * 1024,
      content: { kind: "file", path: big },
    },
    file("usr/lib/text", text),
    hardlink("usr/lib/text2", "usr/lib/text"),
    symlink("usr/lib/link", "text"),
    dir("tmp", 0o1777),
  ];
}

describe("writeLayer", () => {
  it("gzip: same digest across runs and temp dirs; multi-member gzip of the exact tar", async (t) => {
    const a = await tempDir("oci-unit-", t);
    const b = await tempDir("oci-unit-", t);
    const la = await writeLayer(await tree(a), {
      compression: "gzip",
      sourceDateEpoch: SDE,
      blobDir: join(a, "blobs"),
    });
    const lb = await writeLayer(await tree(b), {
      compression: "gzip",
      sourceDateEpoch: SDE,
      blobDir: join(b, "blobs"),
    });
    assert.equal(la.digest, lb.digest);
    assert.equal(la.diffId, lb.diffId);
    assert.equal(la.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert.equal(la.entries, 7);
    const blob = await readFile(la.path);
    assert.equal(la.path, join(a, "blobs", "sha256", la.digest.slice(7)));
    assert.equal(sha(blob), la.digest);
    assert.equal(blob.length, la.size);
    const tarBytes = gunzipSync(blob);
    assert.equal(tarBytes.length, la.uncompressedSize);
    assert.equal(sha(tarBytes), la.diffId);
    // the decompressed layer is exactly what the tar writer makes of the same tree
    const expected = await tarToBuffer(await tree(a), { sourceDateEpoch: SDE });
    assert.ok(tarBytes.equals(expected));
    assert.equal(gzipMembers(blob), Math.ceil(tarBytes.length / GZIP_CHUNK));
    const names = (await parseTar(tarBytes)).map((e) => e.header.name);
    assert.ok(names.includes("usr/lib/big.bin"));
    // nothing but the blob in the store
    assert.deepEqual(await readdir(join(a, "blobs", "sha256")), [la.digest.slice(7)]);
  });

  it("gzip level changes the bytes, not the diffId", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const entries = [file("a", Buffer.alloc(100_000, "abc"))];
    const l1 = await writeLayer(entries, {
      compression: "gzip",
      gzipLevel: 1,
      sourceDateEpoch: SDE,
      blobDir: d,
    });
    const l9 = await writeLayer(entries, {
      compression: "gzip",
      gzipLevel: 9,
      sourceDateEpoch: SDE,
      blobDir: d,
    });
    assert.notEqual(l1.digest, l9.digest);
    assert.equal(l1.diffId, l9.diffId);
    await assert.rejects(
      writeLayer(entries, { compression: "gzip", gzipLevel: 12, sourceDateEpoch: SDE, blobDir: d }),
      {
        code: "E_COMPRESSION",
      },
    );
  });

  it("zstd and none", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const entries = [dir("etc"), file("etc/x", Buffer.alloc(50_000, "z"))];
    const z1 = await writeLayer(entries, {
      compression: "zstd",
      sourceDateEpoch: SDE,
      blobDir: join(d, "1"),
    });
    const z2 = await writeLayer(entries, {
      compression: "zstd",
      sourceDateEpoch: SDE,
      blobDir: join(d, "2"),
    });
    assert.equal(z1.digest, z2.digest);
    assert.equal(z1.mediaType, "application/vnd.oci.image.layer.v1.tar+zstd");
    const zb = await readFile(z1.path);
    assert.equal(zb.readUInt32LE(0), 0xfd2fb528, "zstd frame magic");
    assert.equal(sha(zstdDecompressSync(zb)), z1.diffId);
    const n = await writeLayer(entries, { compression: "none", sourceDateEpoch: SDE, blobDir: d });
    assert.equal(n.digest, n.diffId);
    assert.equal(n.diffId, z1.diffId);
    assert.equal(n.mediaType, "application/vnd.oci.image.layer.v1.tar");
    await assert.rejects(
      writeLayer(entries, { compression: "lz4" as "gzip", sourceDateEpoch: SDE, blobDir: d }),
      { code: "E_COMPRESSION" },
    );
  });

  it("a failing layer leaves nothing in the blob store", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const blobDir = join(d, "blobs");
    const entries: TreeEntry[] = [
      file("a", Buffer.alloc(5 * 1024 * 1024, 1)),
      {
        type: "file",
        path: "b",
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 10,
        content: { kind: "file", path: join(d, "missing") },
      },
    ];
    await assert.rejects(writeLayer(entries, { compression: "gzip", sourceDateEpoch: SDE, blobDir }), {
      code: "E_LAYER_CONTENT",
    });
    assert.deepEqual(await readdir(join(blobDir, "sha256")), []);
  });
});

describe("zstd", () => {
  it("one frame, the same bytes for any input chunking, decodes to the input", async (t) => {
    const data = Buffer.concat([pseudoRandom(3 * 1024 * 1024, 3), Buffer.alloc(3 * 1024 * 1024, "zstd ")]);
    async function compress(sizes: number[]): Promise<Buffer> {
      async function* pieces() {
        let off = 0;
        let i = 0;
        while (off < data.length) {
          const n = sizes[i++ % sizes.length];
          yield data.subarray(off, off + n);
          off += n;
        }
      }
      return collect(Readable.from(fixedSlices(pieces())).pipe(zstdCompressor(3)));
    }
    const a = await compress([1 << 20]);
    const b = await compress([4093, 65536, 7]);
    assert.ok(a.equals(b), "independent of input chunking");
    assert.equal(a.readUInt32LE(0), 0xfd2fb528);
    assert.ok(zstdDecompressSync(a).equals(data), "a single frame: Node's own decoder reads all of it");
    // a layer much bigger than zstd's job size still decodes completely with Node's decoder
    const d = await tempDir("oci-unit-", t);
    const l = await writeLayer(await tree(d), { compression: "zstd", sourceDateEpoch: SDE, blobDir: d });
    assert.equal(sha(zstdDecompressSync(await readFile(l.path))), l.diffId);
  });
});

describe("parallelGzip", () => {
  it("cuts at fixed offsets whatever the input chunking; each member is one slice", async () => {
    const data = pseudoRandom(10_000, 7);
    async function* pieces(sizes: number[]) {
      let off = 0;
      let i = 0;
      while (off < data.length) {
        const n = sizes[i++ % sizes.length];
        yield data.subarray(off, off + n);
        off += n;
      }
    }
    const a = await collect(parallelGzip(pieces([1]), 6, 1000, 3));
    const b = await collect(parallelGzip(pieces([4096, 3, 777]), 6, 1000, 2));
    assert.ok(a.equals(b), "same bytes for different input chunking and parallelism");
    assert.ok(gunzipSync(a).equals(data));
    const members: Buffer[] = [];
    for await (const m of parallelGzip(pieces([333]), 6, 1000)) members.push(m);
    assert.equal(members.length, 10);
    members.forEach((m, i) => {
      assert.ok(gunzipSync(m).equals(data.subarray(i * 1000, (i + 1) * 1000)));
    });
  });

  it("empty input is one valid empty member", async () => {
    const out = await collect(parallelGzip((async function* () {})(), 6, 1000));
    assert.equal(gunzipSync(out).length, 0);
  });
});
