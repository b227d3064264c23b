/**
 * Push and pull stream every blob: push sends a file through a few fixed buffers (far smaller
 * than the blob), pull hashes while it writes a temp file that is renamed only when the digest
 * matches. Here: blobs larger than the send buffers and not aligned to them arrive exact (one PUT
 * and chunked PATCHes, checked by the real registry's digest and by skopeo); a pull whose blob
 * turns out corrupt mid-stream leaves nothing behind (neither a new layout nor a half-written
 * blob in an existing one); a download cut mid-body is fetched again and completes; a re-push
 * of an image the registry has sends no blob request at all.
 */
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FILE_BODY_BUFFERS, FILE_BODY_CHUNK } from "../../../src/oci/registry/client.ts";
import { pullToLayout, pushLayout } from "../../../src/oci/registry/index.ts";
import { makeImage } from "../../helpers/images.ts";
import {
  type OneImageServer,
  oneImageServer,
  startRegistry,
  type TestRegistry,
} from "../../helpers/registry.ts";
import { assertSameTree, snapshotTree } from "../../helpers/snapshot.ts";
import { run, treeDigests } from "./common.ts";

process.env.SHELLFREE_RETRY_BASE_MS = "20";

/** Deterministic incompressible bytes. */
function noise(n: number, seed: number): Buffer {
  const aes = createCipheriv("aes-128-ctr", Buffer.alloc(16, seed), Buffer.alloc(16));
  return aes.update(Buffer.alloc(n));
}

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("push streams blobs larger than its send buffers", () => {
  let reg: TestRegistry;
  let tmp: string;
  let img: Awaited<ReturnType<typeof makeImage>>;
  // several times the buffers in flight, and a size no buffer boundary divides
  const size = FILE_BODY_CHUNK * FILE_BODY_BUFFERS * 5 + 12_345;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-stream-"));
    reg = await startRegistry();
    const data = join(tmp, "data.bin");
    await writeFile(data, noise(size, 3));
    img = await makeImage(join(tmp, "img"), {
      // gzip of noise: a layer blob a little larger than `size` (skopeo copies it unchanged)
      files: [{ path: "/data.bin", hostPath: data }],
    });
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  for (const [name, chunkSize] of [
    ["one PUT", 0],
    ["chunked PATCHes of an odd size", FILE_BODY_CHUNK + 4097],
  ] as const) {
    test(`${name}: the registry stores the exact blob; skopeo and shellfree pull read it back`, async () => {
      const repo = `stream/${chunkSize}`;
      const n0 = reg.requests.length;
      const r = await pushLayout(img.ref, `${reg.host}/${repo}:v1`, {
        cacheDir: join(tmp, `c${chunkSize}`),
        chunkSize,
        silent: true,
      });
      assert.equal(r.uploaded, 2); // config + layer
      assert.ok(r.bytes > size);
      const uploads = reg.requests
        .slice(n0)
        .filter((q) => q.url.includes("/blobs/uploads/") && q.bytesIn > 0);
      const sent = uploads.reduce((n, q) => n + q.bytesIn, 0);
      assert.equal(sent, r.bytes, "every byte sent once");
      if (chunkSize > 0) assert.ok(uploads.filter((q) => q.method === "PATCH").length > 5);
      // the registry checked the digest itself (PUT ?digest=); skopeo copies it out, verifying again
      const sk = join(tmp, `skopeo-${chunkSize}`);
      const cp = await run("skopeo", [
        "copy",
        "--src-tls-verify=false",
        `docker://${reg.host}/${repo}:v1`,
        `oci:${sk}:v1`,
      ]);
      assert.equal(cp.code, 0, cp.stderr);
      const back = join(tmp, `back-${chunkSize}`);
      await pullToLayout(`${reg.host}/${repo}:v1`, `oci:${back}:latest`, { silent: true });
      // skopeo writes its own manifest and config; the layer it read must be ours, byte for byte
      const layerDigest = img.images[0].layers[0].digest;
      const skopeoBlobs = await treeDigests(sk);
      assert.equal(skopeoBlobs.get(`blobs/sha256/${layerDigest.slice(7)}`), layerDigest.slice(7));
      assert.deepEqual(await treeDigests(back), await treeDigests(img.path));
    });
  }

  test("a re-push of an image the registry has: one manifest check, no blob request, no manifest upload", async () => {
    await pushLayout(img.ref, `${reg.host}/stream/re:v1`, { cacheDir: join(tmp, "re"), silent: true });
    const n0 = reg.requests.length;
    const r = await pushLayout(img.ref, `${reg.host}/stream/re:v1`, {
      cacheDir: join(tmp, "re"),
      silent: true,
    });
    assert.equal(r.digest, img.result.digest);
    assert.deepEqual([r.uploaded, r.mounted, r.skipped, r.bytes], [0, 0, 2, 0]);
    const reqs = reg.requests
      .slice(n0)
      .map((q) => `${q.method} ${q.url.replace(/sha256:[0-9a-f]+/, "DIGEST")}`);
    assert.deepEqual(
      reqs.filter((q) => !q.endsWith(" /v2/")),
      ["HEAD /v2/stream/re/manifests/DIGEST", "HEAD /v2/stream/re/manifests/v1"],
    );
    // a new tag for it: one manifest PUT, still no blob
    const n1 = reg.requests.length;
    await pushLayout(img.ref, `${reg.host}/stream/re:v2`, { cacheDir: join(tmp, "re"), silent: true });
    const reqs2 = reg.requests.slice(n1);
    assert.ok(reqs2.every((q) => !q.url.includes("/blobs/")));
    assert.deepEqual(
      reqs2.filter((q) => q.method === "PUT").map((q) => q.url),
      ["/v2/stream/re/manifests/v2"],
    );
    const raw = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--raw",
      `docker://${reg.host}/stream/re:v2`,
    ]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha(Buffer.from(raw.stdout)), img.result.digest);
  });
});

describe("pull verifies while it streams", () => {
  // a fake registry (fault injection) in front of fixed content: a manifest, a config and a
  // layer of 6 MiB; the layer is served corrupt (one byte flipped at 3 MiB) or cut after 2 MiB
  let reg: OneImageServer;
  let host = "";
  let layerDigest = "";
  let tmp = "";
  const layer = noise(6 << 20, 9);
  let mode: "corrupt" | "cut-once" | "ok" = "ok";
  let layerGets = 0;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-pull-stream-"));
    reg = await oneImageServer(layer, "application/vnd.oci.image.layer.v1.tar", (res) => {
      layerGets++;
      res.writeHead(200, { "content-length": layer.length });
      if (mode === "corrupt") {
        const bad = Buffer.from(layer);
        bad[3 << 20] ^= 0xff;
        return res.end(bad);
      }
      if (mode === "cut-once") {
        mode = "ok";
        res.write(layer.subarray(0, 2 << 20), () => res.destroy());
        return;
      }
      res.end(layer);
    });
    host = reg.host;
    layerDigest = reg.layerDigest;
  });
  after(async () => {
    await reg?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("a blob corrupt mid-stream: E_DIGEST; no new layout, no temp beside it, an existing layout unchanged", async () => {
    mode = "corrupt";
    const parent = join(tmp, "new");
    await mkdir(parent);
    const out = join(parent, "layout");
    await assert.rejects(
      pullToLayout(`${host}/r:t`, `oci:${out}:t`, { silent: true }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "E_DIGEST", e.message);
        assert.match(
          e.message,
          new RegExp(`digest mismatch: got sha256:[0-9a-f]{64}, expected ${layerDigest}`),
        );
        return true;
      },
    );
    assert.deepEqual(await readdir(parent), [], "nothing in the parent directory");

    const existing = join(tmp, "existing");
    await mkdir(existing);
    await writeFile(join(existing, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(existing, "index.json"), '{"schemaVersion":2,"manifests":[]}');
    const before = await snapshotTree(existing);
    await assert.rejects(pullToLayout(`${host}/r:t`, `oci:${existing}:t`, { silent: true }), {
      code: "E_DIGEST",
    });
    assertSameTree(before, await snapshotTree(existing), "the existing layout");
  });

  test("a download cut mid-body is fetched again; the blob is whole and written once", async () => {
    mode = "cut-once";
    layerGets = 0;
    const out = join(tmp, "cut");
    const r = await pullToLayout(`${host}/r:t`, `oci:${out}:t`, { silent: true });
    assert.equal(layerGets, 2);
    assert.equal(r.digest, reg.manifestDigest);
    assert.deepEqual(await readFile(join(out, "blobs", "sha256", layerDigest.slice(7))), layer);
    assert.deepEqual(
      (await readdir(join(out, "blobs", "sha256"))).sort(),
      [reg.configDigest.slice(7), layerDigest.slice(7), reg.manifestDigest.slice(7)].sort(),
    );
  });
});
