import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type BuiltImage, buildImage } from "../../../src/oci/image.ts";
import { listManifests, openImage } from "../../../src/oci/index.ts";
import { type Compression, writeLayer } from "../../../src/oci/layer.ts";
import { blobPath, readIndex, writeBlobStream } from "../../../src/oci/layout.ts";
import { writeOutput } from "../../../src/oci/output.ts";
import { parseTarget } from "../../../src/oci/ref.ts";
import { tarToBuffer } from "../../../src/oci/tar.ts";
import type { TreeEntry } from "../../../src/oci/types.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { collect, dir, file, parseTar, symlink } from "./helpers.ts";

const SDE = 1_700_000_000;
const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

function entriesFor(arch: string): TreeEntry[] {
  return [
    dir("etc"),
    file("etc/arch", arch),
    dir("usr"),
    dir("usr/bin"),
    file("usr/bin/app", "#bin", 0o755, 0, 0),
    symlink("bin", "usr/bin"),
  ];
}

async function image(
  blobDir: string,
  arch = "amd64",
  compression: Compression = "gzip",
): Promise<BuiltImage> {
  const l1 = await writeLayer(entriesFor(arch), { compression, sourceDateEpoch: SDE, blobDir });
  const l2 = await writeLayer([dir("srv"), file("srv/data", "x".repeat(3000), 0o640, 1000, 0)], {
    compression,
    sourceDateEpoch: SDE,
    blobDir,
  });
  return buildImage(
    {
      platform: { os: "linux", architecture: arch },
      layers: [l1, l2],
      config: { entrypoint: ["/usr/bin/app"], user: "1000" },
      created: new Date(SDE * 1000),
    },
    blobDir,
  );
}

/** All files below `root` with their contents, for byte-for-byte comparisons. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string, rel: string) {
    for (const n of (await readdir(d)).sort()) {
      const p = join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      if ((await stat(p)).isDirectory()) await walk(p, r);
      else out[r] = sha(await readFile(p));
    }
  }
  await walk(root, "");
  return out;
}

async function layerTar(ref: string, platform?: string): Promise<Buffer[]> {
  const im = await openImage(ref, platform ? { platform } : {});
  try {
    const out: Buffer[] = [];
    for (const l of im.layers) out.push(await collect(await l.open()));
    return out;
  } finally {
    await im.close();
  }
}

describe("parseTarget", () => {
  it("parses the three transports", () => {
    assert.deepEqual(parseTarget("oci:out/img"), { transport: "oci", path: "out/img" });
    assert.deepEqual(parseTarget("oci:out/img:v1"), { transport: "oci", path: "out/img", tag: "v1" });
    assert.deepEqual(parseTarget("oci-archive:/tmp/a.tar:latest"), {
      transport: "oci-archive",
      path: "/tmp/a.tar",
      tag: "latest",
    });
    assert.deepEqual(parseTarget("docker-archive:a.tar:my/app:1.0"), {
      transport: "docker-archive",
      path: "a.tar",
      tag: "my/app:1.0",
    });
    for (const bad of ["out/img", "docker:x", "oci:", "oci::tag", "oci:dir:bad tag", "registry:x"]) {
      assert.throws(() => parseTarget(bad), { code: "E_TARGET" }, bad);
    }
  });
});

describe("writeOutput + openImage", () => {
  it("oci dir: spec layout, byte-identical across runs, round trip", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const res: string[] = [];
    for (const run of ["r1", "r2"]) {
      const im = await image(join(d, run, "cache"));
      const r = await writeOutput(`oci:${join(d, run, "out")}:v1`, [im]);
      assert.equal(r.digest, im.manifest.digest);
      assert.deepEqual(r.manifests, [
        {
          platform: { os: "linux", architecture: "amd64" },
          digest: im.manifest.digest,
          size: im.manifest.size,
        },
      ]);
      res.push(JSON.stringify(await snapshot(join(d, run, "out"))));
    }
    assert.equal(res[0], res[1]);
    const out = join(d, "r1", "out");
    assert.equal(await readFile(join(out, "oci-layout"), "utf8"), '{"imageLayoutVersion":"1.0.0"}');
    const idx = await readIndex(out);
    assert.equal(idx.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.equal(idx.manifests.length, 1);
    assert.equal(idx.manifests[0].annotations?.["org.opencontainers.image.ref.name"], "v1");
    assert.equal(idx.manifests[0].mediaType, "application/vnd.oci.image.manifest.v1+json");
    // every blob is stored under its own digest
    for (const n of await readdir(join(out, "blobs", "sha256"))) {
      assert.equal(sha(await readFile(join(out, "blobs", "sha256", n))), `sha256:${n}`);
    }
    const im = await openImage(`oci:${out}:v1`);
    assert.equal(im.manifestDigest, idx.manifests[0].digest);
    assert.deepEqual(im.config.config?.Entrypoint, ["/usr/bin/app"]);
    const tars = await layerTar(`oci:${out}`);
    assert.equal(tars.length, 2);
    assert.ok(tars[0].equals(await tarToBuffer(entriesFor("amd64"), { sourceDateEpoch: SDE })));
    assert.equal(sha(tars[1]), im.layers[1].diffId);
    const byDigest = await openImage(`oci:${out}@${im.manifestDigest}`);
    assert.equal(byDigest.config.rootfs.diff_ids[0], im.layers[0].diffId);
    await assert.rejects(openImage(`oci:${out}:nope`), { code: "E_NOT_FOUND" });
    await assert.rejects(openImage(`oci:${join(d, "nothing")}`), { code: "E_LAYOUT" });
  });

  it("multi-platform: nested index, platform choice, clear errors", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const cache = join(d, "cache");
    const imgs = [await image(cache, "arm64"), await image(cache, "amd64")];
    const out = join(d, "multi");
    const r = await writeOutput(`oci:${out}:multi`, imgs);
    assert.deepEqual(
      r.manifests.map((m) => m.platform.architecture),
      ["amd64", "arm64"],
    );
    const idx = await readIndex(out);
    assert.equal(idx.manifests.length, 1);
    assert.equal(idx.manifests[0].mediaType, "application/vnd.oci.image.index.v1+json");
    assert.equal(idx.manifests[0].digest, r.digest);
    const nested = JSON.parse(await readFile(blobPath(out, r.digest), "utf8"));
    assert.deepEqual(
      nested.manifests.map((m: { platform: { architecture: string }; digest: string }) => [
        m.platform.architecture,
        m.digest,
      ]),
      [
        ["amd64", imgs[1].manifest.digest],
        ["arm64", imgs[0].manifest.digest],
      ],
    );
    const arm = await openImage(`oci:${out}:multi`, { platform: "linux/arm64" });
    assert.equal(arm.platform.architecture, "arm64");
    assert.equal(
      (await parseTar(await collect(await arm.layers[0].open())))
        .find((e) => e.header.name === "etc/arch")
        ?.data.toString(),
      "arm64",
    );
    assert.equal((await listManifests(`oci:${out}:multi`)).length, 2);
    await assert.rejects(
      openImage(`oci:${out}:multi`, { platform: "linux/s390x" }),
      (e: Error & { code?: string }) => {
        return e.code === "E_PLATFORM" && /linux\/amd64, linux\/arm64/.test(e.message);
      },
    );
    await assert.rejects(writeOutput(`oci:${d}/dup`, [imgs[0], imgs[0]]), { code: "E_TARGET" });
    // an index that also lists a build attestation (platform unknown/unknown) and a foreign
    // artifact: both are skipped when choosing an image
    const nestedBlob = blobPath(out, r.digest);
    const extra = JSON.parse(await readFile(nestedBlob, "utf8"));
    extra.manifests.push(
      {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: imgs[0].manifest.digest,
        size: imgs[0].manifest.size,
        platform: { os: "unknown", architecture: "unknown" },
        annotations: { "vnd.docker.reference.type": "attestation-manifest" },
      },
      {
        mediaType: "application/vnd.example.signature",
        digest: imgs[0].config.digest,
        size: imgs[0].config.size,
      },
    );
    const extraBytes = Buffer.from(JSON.stringify(extra));
    const out2 = join(d, "multi2");
    await writeOutput(`oci:${out2}`, imgs);
    await writeFile(blobPath(out2, sha(extraBytes)), extraBytes);
    const top = await readIndex(out2);
    top.manifests[0] = { ...top.manifests[0], digest: sha(extraBytes), size: extraBytes.length };
    await writeFile(join(out2, "index.json"), JSON.stringify(top));
    assert.deepEqual(
      (await listManifests(`oci:${out2}`)).map((x) => x.platform.architecture),
      ["amd64", "arm64"],
    );
    // docker-archive holds one platform: clear error, no file
    await assert.rejects(
      writeOutput(`docker-archive:${d}/multi.tar`, imgs),
      /docker-archive holds one platform/,
    );
    await assert.rejects(stat(join(d, "multi.tar")), { code: "ENOENT" });
  });

  it("oci-archive and docker-archive: deterministic files, round trip to the same layers", async (t) => {
    const d = await tempDir("oci-unit-", t);
    for (const compression of ["gzip", "zstd", "none"] as const) {
      const im = await image(join(d, `cache-${compression}`), "amd64", compression);
      const expected = await layerTar(
        `oci:${await (
          async () => {
            const o = join(d, `dir-${compression}`);
            await writeOutput(`oci:${o}`, [im]);
            return o;
          }
        )()}`,
      );
      for (const kind of ["oci-archive", "docker-archive"] as const) {
        const f1 = join(d, `${kind}-${compression}-1.tar`);
        const f2 = join(d, `${kind}-${compression}-2.tar`);
        const tag = kind === "docker-archive" ? "shellfree/test:1" : "1";
        await writeOutput(`${kind}:${f1}:${tag}`, [im]);
        await writeOutput(`${kind}:${f2}:${tag}`, [im]);
        assert.ok((await readFile(f1)).equals(await readFile(f2)), `${kind} ${compression} identical`);
        const got = await layerTar(`${kind}:${f1}`);
        assert.equal(got.length, expected.length);
        got.forEach((g, i) => {
          assert.ok(g.equals(expected[i]), `${kind} ${compression} layer ${i}`);
        });
        const opened = await openImage(`${kind}:${f1}:${tag}`);
        assert.equal(opened.configDigest, im.config.digest);
        assert.deepEqual(
          opened.config.rootfs.diff_ids,
          im.layers.map((l) => l.diffId),
        );
        if (kind === "oci-archive") assert.equal(opened.manifestDigest, im.manifest.digest);
      }
      // docker-archive structure: manifest.json with RepoTags, uncompressed layer tars
      const members = await parseTar(await readFile(join(d, `docker-archive-${compression}-1.tar`)));
      const manifest = JSON.parse(
        members.find((m) => m.header.name === "manifest.json")?.data.toString() ?? "null",
      );
      assert.deepEqual(manifest[0].RepoTags, ["shellfree/test:1"]);
      assert.equal(manifest[0].Config, `${im.config.digest.slice(7)}.json`);
      const l0 = members.find((m) => m.header.name === manifest[0].Layers[0]);
      assert.equal(sha(l0?.data ?? Buffer.alloc(0)), im.layers[0].diffId);
    }
  });

  it("detects corrupt blobs: manifests on open, layers while streaming", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const im = await image(join(d, "cache"));
    const out = join(d, "out");
    await writeOutput(`oci:${out}`, [im]);
    const lp = blobPath(out, im.layers[1].digest);
    const orig = await readFile(lp);
    const bad = Buffer.from(orig);
    bad[bad.length - 5] ^= 0xff;
    await writeFile(lp, bad);
    const opened = await openImage(`oci:${out}`);
    await assert.doesNotReject(async () => collect(await opened.layers[0].open()));
    await assert.rejects(
      async () => collect(await opened.layers[1].open()),
      (e: Error & { code?: string }) => e.code === "E_DIGEST" || /incorrect|check/.test(e.message),
    );
    await writeFile(lp, orig);
    const cp = blobPath(out, im.config.digest);
    await writeFile(cp, `${await readFile(cp, "utf8")} `);
    await assert.rejects(openImage(`oci:${out}`), { code: "E_DIGEST" });
  });

  it("writes atomically: a failed write leaves no output and no temp files; keeps other tags", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const im = await image(join(d, "cache"));
    const broken: BuiltImage = { ...im, layers: [{ ...im.layers[0], path: join(d, "gone") }, im.layers[1]] };
    for (const target of [`oci:${d}/o1`, `oci-archive:${d}/o2.tar`]) {
      await assert.rejects(writeOutput(target, [broken]));
    }
    assert.deepEqual((await readdir(d)).sort(), ["cache"]);
    // an existing non-layout directory is never replaced
    await mkdir(join(d, "mine"));
    await writeFile(join(d, "mine", "keep"), "x");
    await assert.rejects(writeOutput(`oci:${d}/mine`, [im]), { code: "E_TARGET" });
    assert.equal(await readFile(join(d, "mine", "keep"), "utf8"), "x");
    // tags accumulate in one layout; rewriting a tag replaces only it
    const arm = await image(join(d, "cache"), "arm64");
    await writeOutput(`oci:${d}/tags:a`, [im]);
    await writeOutput(`oci:${d}/tags:b`, [arm]);
    let idx = await readIndex(join(d, "tags"));
    assert.deepEqual(
      idx.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"]),
      ["a", "b"],
    );
    await writeOutput(`oci:${d}/tags:a`, [arm]);
    idx = await readIndex(join(d, "tags"));
    assert.deepEqual(
      idx.manifests.map((m) => m.digest),
      [arm.manifest.digest, arm.manifest.digest],
    );
    // no blob of the replaced amd64 image is left behind
    const blobs = await readdir(join(d, "tags", "blobs", "sha256"));
    assert.ok(!blobs.includes(im.layers[0].digest.slice(7)));
    assert.ok(!blobs.includes(im.manifest.digest.slice(7)));
    // an untagged entry stays when a tag is added; writing without a tag replaces everything
    await writeOutput(`oci:${d}/mixed`, [im]);
    await writeOutput(`oci:${d}/mixed:t`, [arm]);
    idx = await readIndex(join(d, "mixed"));
    assert.deepEqual(
      idx.manifests.map((m) => [m.digest, m.annotations?.["org.opencontainers.image.ref.name"]]),
      [
        [im.manifest.digest, undefined],
        [arm.manifest.digest, "t"],
      ],
    );
    await assert.rejects(openImage(`oci:${d}/mixed`), { code: "E_NOT_FOUND" });
    assert.equal((await openImage(`oci:${d}/mixed:t`)).platform.architecture, "arm64");
    await writeOutput(`oci:${d}/mixed`, [im]);
    assert.equal((await readIndex(join(d, "mixed"))).manifests.length, 1);
  });

  it("writeBlobStream verifies while streaming", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const data = Buffer.from("blob content");
    const ok = await writeBlobStream(d, [data], sha(data), data.length);
    assert.equal(ok.digest, sha(data));
    assert.ok((await readFile(blobPath(d, ok.digest))).equals(data));
    const wrong = sha(Buffer.from("other"));
    await assert.rejects(writeBlobStream(d, [data], wrong), { code: "E_DIGEST" });
    assert.deepEqual(await readdir(join(d, "blobs", "sha256")), [ok.digest.slice(7)]);
  });
});
