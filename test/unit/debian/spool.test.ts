import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { entryContent, readDeb, readDebs } from "../../../src/debian/deb.ts";
import { DebianError } from "../../../src/debian/errors.ts";
import { ContentSpool } from "../../../src/debian/spool.ts";
import { tarStream } from "../../../src/oci/tar.ts";
import { arArchive, buildDeb, compress, tarball } from "../../fixtures/debian/fake-archive.ts";

const tmp = mkdtempSync(join(tmpdir(), "sf-spool-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const big = randomBytes(3 * 1024 * 1024 + 17); // spans many tar-stream chunks

async function debFile(name: string, extra = ""): Promise<string> {
  const p = join(tmp, `${name}.deb`);
  writeFileSync(
    p,
    await buildDeb({
      name,
      version: "1.0-1",
      data: [
        { name: "./", type: "directory" },
        { name: "./usr/", type: "directory" },
        { name: "./usr/bin/", type: "directory" },
        { name: `./usr/bin/${name}`, data: `#${name}${extra}\n`, mode: 0o755 },
        { name: `./usr/bin/${name}-link`, type: "link", linkname: `./usr/bin/${name}` },
        { name: "./usr/empty", data: "" },
        { name: "./usr/big", data: big },
      ],
    }),
  );
  return p;
}

test("readDeb with a spool: the same entries, each file's bytes in the spool instead of memory", async () => {
  const spool = ContentSpool.create(join(tmp, "spool-dir"));
  try {
    // the scratch file is unlinked at once: nothing is left in its directory
    assert.deepEqual(readdirSync(join(tmp, "spool-dir")), []);
    const paths = await Promise.all(["a", "b", "c", "d"].map((n) => debFile(n, "x".repeat(n.charCodeAt(0)))));
    // read concurrently: each file's range is reserved up front, so they never interleave
    const spooled = await readDebs(paths, { spool, concurrency: 4 });
    for (const [i, p] of paths.entries()) {
      const mem = await readDeb(p);
      const sp = spooled[i];
      assert.equal(sp.spool, spool);
      assert.deepEqual(
        sp.entries.map(({ data: _d, at: _a, ...e }) => e),
        mem.entries.map(({ data: _d, at: _a, ...e }) => e),
      );
      for (const [j, e] of sp.entries.entries()) {
        if (e.type !== "file") continue;
        assert.equal(e.data, undefined, "no bytes in memory");
        assert.equal(typeof e.at, "number");
        assert.deepEqual(Buffer.from(entryContent(sp, e)), Buffer.from(mem.entries[j].data ?? []));
      }
    }
    assert.ok(spool.size >= 4 * big.length);
    // the layer writer reads a range as it writes the tar
    const file = spooled[0].entries.find((e) => e.path === "usr/big");
    assert.ok(file?.at !== undefined);
    const chunks: Uint8Array[] = [];
    for await (const c of tarStream(
      [
        {
          path: "big",
          type: "file",
          mode: 0o644,
          uid: 0,
          gid: 0,
          size: file.size,
          content: { kind: "range", store: spool, offset: file.at },
        },
      ],
      { sourceDateEpoch: 0 },
    ))
      chunks.push(c);
    const tar = Buffer.concat(chunks);
    assert.deepEqual(tar.subarray(512, 512 + big.length), big);
  } finally {
    spool.close();
  }
  assert.throws(() => spool.read(0, 1), /used after close/);
});

test("readDeb with a spool: a truncated entry is still E_DEB", async () => {
  const data = await tarball([{ name: "./f", data: "0123456789" }]);
  const p = join(tmp, "trunc.deb");
  writeFileSync(
    p,
    arArchive([
      { name: "debian-binary", data: Buffer.from("2.0\n") },
      {
        name: "control.tar.gz",
        data: compress(await tarball([{ name: "./control", data: "Package: t\nVersion: 1\n" }]), "gz"),
      },
      { name: "data.tar", data: data.subarray(0, 512 + 5) },
    ]),
  );
  const spool = ContentSpool.create(tmp);
  try {
    await assert.rejects(
      readDeb(p, { spool }),
      (e: unknown) => e instanceof DebianError && e.code === "E_DEB",
    );
  } finally {
    spool.close();
  }
});
