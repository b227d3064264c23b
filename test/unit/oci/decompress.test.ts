import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { gzipSync, constants as zc, zstdCompressSync } from "node:zlib";
import { decompressor, zstdMultiFrame } from "../../../src/oci/decompress.ts";
import { buildImage } from "../../../src/oci/image.ts";
import { openImage } from "../../../src/oci/index.ts";
import { writeOutput } from "../../../src/oci/output.ts";
import { tarToBuffer } from "../../../src/oci/tar.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { collect, dir, file, pseudoRandom } from "./helpers.ts";

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

function skippable(payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(0x184d2a5e, 0);
  h.writeUInt32LE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

const decode = (b: Buffer, piece = 777) =>
  collect(
    Readable.from(
      (function* () {
        for (let i = 0; i < b.length; i += piece) yield b.subarray(i, i + piece);
      })(),
    ).pipe(zstdMultiFrame()),
  );

describe("zstd decoding of any number of frames", () => {
  it("decodes concatenated frames, skippable frames, RLE and raw blocks, in any chunking", async () => {
    const a = pseudoRandom(300_000, 9); // raw (incompressible) blocks, several 128 KiB blocks
    const b = Buffer.alloc(400_000, 7); // RLE-friendly
    const c = Buffer.from("tail");
    const stream = Buffer.concat([
      zstdCompressSync(a, { params: { [zc.ZSTD_c_checksumFlag]: 1 } }),
      skippable(Buffer.from("metadata")),
      zstdCompressSync(b, { params: { [zc.ZSTD_c_contentSizeFlag]: 0 } }),
      zstdCompressSync(c),
    ]);
    const want = Buffer.concat([a, b, c]);
    assert.ok((await decode(stream)).equals(want));
    assert.ok((await decode(stream, 1)).equals(want));
    assert.ok((await decode(stream, 1 << 20)).equals(want));
    assert.equal((await decode(Buffer.alloc(0))).length, 0);
  });

  it("fails on truncated or foreign input", async () => {
    const z = zstdCompressSync(pseudoRandom(10_000, 1));
    await assert.rejects(decode(z.subarray(0, z.length - 10)), /truncated/);
    await assert.rejects(decode(Buffer.from("not zstd at all")), /bad frame magic/);
  });

  it("gzip decoder reads multi-member streams", async () => {
    const g = Buffer.concat([gzipSync("one "), gzipSync("two")]);
    const d = decompressor("gzip");
    assert.ok(d);
    assert.equal((await collect(Readable.from([g]).pipe(d))).toString(), "one two");
    assert.equal(decompressor("none"), undefined);
  });

  it("openImage reads a layer made of several zstd frames", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const tar = await tarToBuffer(
      [dir("data"), file("data/x", pseudoRandom(200_000, 4)), file("data/y", "y")],
      {
        sourceDateEpoch: 1,
      },
    );
    const half = 512 * 100;
    const blob = Buffer.concat([
      zstdCompressSync(tar.subarray(0, half)),
      zstdCompressSync(tar.subarray(half)),
    ]);
    const blobDir = join(d, "blobs");
    const p = join(d, "layer.zst");
    await writeFile(p, blob);
    const layer = {
      digest: sha(blob),
      diffId: sha(tar),
      size: blob.length,
      uncompressedSize: tar.length,
      mediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
      path: p,
      entries: 3,
    };
    const im = await buildImage(
      { platform: { os: "linux", architecture: "amd64" }, layers: [layer], config: {}, created: new Date(0) },
      blobDir,
    );
    for (const target of [`oci:${join(d, "out")}`, `docker-archive:${join(d, "out.tar")}`]) {
      await writeOutput(target, [im]);
      const opened = await openImage(target);
      assert.equal(sha(await collect(await opened.layers[0].open())), layer.diffId, target);
    }
  });
});
