/**
 * Push and pull against a real docker-registry on 127.0.0.1 (anonymous), cross-checked with
 * skopeo: a multi-arch image, a second push that uploads nothing, cross-repository mounts,
 * --platform pulls, digest references, and pushes whose connection is cut mid-blob.
 */
import assert from "node:assert/strict";
import { createCipheriv, randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sha256Digest } from "../../../src/oci/digest.ts";
import { pullToLayout, pushLayout } from "../../../src/oci/registry/index.ts";
import { makeImage, TINI } from "../../helpers/images.ts";
import { startRegistry, type TestRegistry } from "../../helpers/registry.ts";
import { run, shellfree, sorted, treeDigests } from "./common.ts";

process.env.SHELLFREE_RETRY_BASE_MS = "50";

describe("registry push/pull (docker-registry on 127.0.0.1)", () => {
  let reg: TestRegistry;
  let tmp: string;
  let layout: string; // the multi-arch layout dir
  let indexDigest: string;
  const env = () => ({ XDG_CACHE_HOME: join(tmp, "cache") });

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-e2e-"));
    const img = await makeImage(join(tmp, "multi"), {
      files: [
        { path: "/usr/bin/tini-static", hostPath: TINI, mode: 0o755 },
        { path: "/etc/motd", data: "shellfree registry test\n" },
      ],
      layers: [{ files: [{ path: "/srv/data.bin", data: randomBytes(300_000) }] }],
      platforms: ["linux/amd64", "linux/arm64"],
      config: { entrypoint: ["/usr/bin/tini-static", "--version"] },
    });
    layout = img.path;
    indexDigest = img.result.digest;
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("push a multi-arch image: skopeo sees both architectures, skopeo copy and shellfree pull give the same digests and bytes", async () => {
    const dest = `${reg.host}/shellfree/multi:v1`;
    const r = await shellfree(["push", `oci:${layout}:latest`, dest, "--tag", "extra", "--json"], env());
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.digest, indexDigest);
    assert.equal(out.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(out.tags, [
      `${reg.host}/shellfree/multi:v1`,
      `${reg.host}/shellfree/multi:extra`,
      `${reg.host}/shellfree/multi@${indexDigest}`,
    ]);
    // 2 configs + 2 distinct layers (shared by both platforms)
    assert.equal(out.uploaded, 4);
    assert.equal(out.skipped + out.mounted, 0);
    assert.equal(out.manifests, 3);

    // skopeo reads the index back: both architectures, same bytes as the layout's index blob
    const raw = await run("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${dest}`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256Digest(raw.stdout), indexDigest);
    const idx = JSON.parse(raw.stdout);
    assert.deepEqual(
      sorted(idx.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)),
      ["amd64", "arm64"],
    );
    const arm = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--override-arch",
      "arm64",
      `docker://${reg.host}/shellfree/multi:extra`,
    ]);
    assert.equal(arm.code, 0, arm.stderr);
    assert.equal(JSON.parse(arm.stdout).Architecture, "arm64");

    // skopeo copy --all to an OCI dir: same top digest and the very same blobs
    const skopeoDir = join(tmp, "skopeo-copy");
    const cp = await run("skopeo", [
      "copy",
      "--all",
      "--src-tls-verify=false",
      `docker://${dest}`,
      `oci:${skopeoDir}:v1`,
    ]);
    assert.equal(cp.code, 0, cp.stderr);
    const skIndex = JSON.parse(await readFile(join(skopeoDir, "index.json"), "utf8"));
    assert.equal(skIndex.manifests[0].digest, indexDigest);
    const ours = await treeDigests(layout);
    const theirs = await treeDigests(skopeoDir);
    const blobsOf = (m: Map<string, string>) =>
      sorted([...m].filter(([k]) => k.startsWith("blobs/")).map(([k, v]) => `${k}=${v}`));
    assert.deepEqual(blobsOf(theirs), blobsOf(ours));

    // shellfree pull: a byte-identical layout (index.json, oci-layout, every blob)
    const pulled = join(tmp, "pulled");
    const p = await shellfree(["pull", dest, "--output", `oci:${pulled}:latest`, "--json"], env());
    assert.equal(p.code, 0, p.stderr);
    assert.equal(JSON.parse(p.stdout).digest, indexDigest);
    assert.deepEqual(sorted(await treeDigests(pulled)), sorted(ours));
    assert.deepEqual(await readFile(join(pulled, "index.json")), await readFile(join(layout, "index.json")));
  });

  test("a second push of the same image uploads no blob", async () => {
    const before = reg.blobUploadRequests().length;
    const r = await pushLayout(`oci:${layout}`, `${reg.host}/shellfree/multi:again`, {
      cacheDir: join(tmp, "c2"),
      silent: true,
    });
    assert.equal(r.digest, indexDigest);
    assert.equal(r.uploaded, 0);
    assert.equal(r.mounted, 0);
    assert.equal(r.skipped, 4);
    assert.equal(r.bytes, 0);
    assert.equal(reg.blobUploadRequests().length, before, "no POST/PATCH/PUT to /blobs/uploads/");
  });

  test("blobs already in another repository are mounted, not uploaded (--from hint, then the remembered push)", async () => {
    const n0 = reg.requests.length;
    const r = await shellfree(
      ["push", `oci:${layout}`, `${reg.host}/other/copy:v1`, "--from", "shellfree/multi", "--json"],
      {
        XDG_CACHE_HOME: join(tmp, "fresh-cache"),
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.mounted, 4);
    assert.equal(out.uploaded, 0);
    const reqs = reg.requests.slice(n0);
    assert.ok(reqs.every((q) => !(q.method === "PUT" || q.method === "PATCH") || !q.url.includes("/blobs/")));
    assert.equal(reqs.filter((q) => q.method === "POST" && q.url.includes("mount=")).length, 4);
    // without a hint: the cache of the first push (XDG_CACHE_HOME of test 1) knows where the blobs are
    const r2 = await shellfree(["push", `oci:${layout}`, `${reg.host}/third/copy:v1`, "--json"], env());
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(JSON.parse(r2.stdout).mounted, 4);
  });

  test("pull --platform takes one image out of the index; pull by digest; push by digest", async () => {
    const raw = JSON.parse(
      (
        await run("skopeo", [
          "inspect",
          "--tls-verify=false",
          "--raw",
          `docker://${reg.host}/shellfree/multi:v1`,
        ])
      ).stdout,
    );
    const armDesc = raw.manifests.find(
      (m: { platform: { architecture: string } }) => m.platform.architecture === "arm64",
    );
    const one = join(tmp, "arm64");
    const r = await pullToLayout(`${reg.host}/shellfree/multi:v1`, `oci:${one}:arm`, {
      platform: "linux/arm64",
      silent: true,
    });
    assert.equal(r.digest, armDesc.digest);
    const idx = JSON.parse(await readFile(join(one, "index.json"), "utf8"));
    assert.equal(idx.manifests.length, 1);
    assert.equal(idx.manifests[0].digest, armDesc.digest);
    assert.deepEqual(idx.manifests[0].platform, { architecture: "arm64", os: "linux" });
    assert.equal(idx.manifests[0].annotations["org.opencontainers.image.ref.name"], "arm");
    // only the arm64 manifest's blobs (its config + layers), no amd64 config
    const manifest = JSON.parse(
      await readFile(join(one, "blobs", "sha256", armDesc.digest.slice(7)), "utf8"),
    );
    const files = sorted((await treeDigests(one)).keys()).filter((k) => k.startsWith("blobs/"));
    assert.deepEqual(
      files,
      sorted([
        armDesc.digest,
        manifest.config.digest,
        ...manifest.layers.map((l: { digest: string }) => l.digest),
      ]).map((d) => `blobs/sha256/${d.slice(7)}`),
    );

    // by digest: the arm64 image pushed alone, by digest, then pulled by digest
    const byDigest = `${reg.host}/single/arm@${armDesc.digest}`;
    const pushed = await pushLayout(`oci:${one}:arm`, byDigest, { cacheDir: join(tmp, "c3"), silent: true });
    assert.equal(pushed.digest, armDesc.digest);
    assert.deepEqual(pushed.tags, [byDigest]);
    const back = join(tmp, "arm-back");
    const pr = await shellfree(["pull", byDigest, "-o", `oci:${back}:arm`, "--json"], env());
    assert.equal(pr.code, 0, pr.stderr);
    assert.deepEqual(await treeDigests(back), await treeDigests(one));

    // a platform the image does not have: a clear error
    const bad = await shellfree(
      [
        "pull",
        `${reg.host}/shellfree/multi:v1`,
        "-o",
        `oci:${join(tmp, "none")}`,
        "--platform",
        "linux/s390x",
      ],
      env(),
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /shellfree: .*has no image for linux\/s390x \(it has: linux\/amd64, linux\/arm64\)/,
    );
  });

  test("clear errors: unknown tag, wrong digest, and no partial layout is left behind", async () => {
    const out = join(tmp, "missing");
    const r = await shellfree(["pull", `${reg.host}/shellfree/multi:nope`, "-o", `oci:${out}`], env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /get manifest shellfree\/multi:nope: HTTP 404: MANIFEST_UNKNOWN/);
    await assert.rejects(readFile(join(out, "index.json")), { code: "ENOENT" });
    const wrong = `${reg.host}/shellfree/multi@sha256:${"0".repeat(64)}`;
    const w = await shellfree(["push", `oci:${layout}`, wrong], env());
    assert.equal(w.code, 1);
    assert.match(w.stderr, /names digest sha256:0{64}, but the image in .* is sha256:/);
  });
});

describe("registry push interrupted mid-blob", () => {
  let reg: TestRegistry;
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-cut-"));
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function bigImage(name: string): Promise<{ ref: string; digest: string; path: string }> {
    const data = join(tmp, `${name}.bin`);
    await writeFile(data, randomBytes(6 << 20)); // incompressible: the layer blob is ~6 MiB
    const img = await makeImage(join(tmp, name), { files: [{ path: "/data/blob.bin", hostPath: data }] });
    return { ref: img.ref, digest: img.result.digest, path: img.path };
  }

  test("monolithic PUT cut after 2.5 MiB: the registry drops the session, the upload starts again and completes", async () => {
    const img = await bigImage("mono");
    const cuts0 = reg.cuts();
    reg.cutOnce(2.5 * 2 ** 20, (m, u) => m === "PUT" && u.includes("/blobs/uploads/"));
    const messages: string[] = [];
    const origWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string | Uint8Array) => {
      messages.push(String(c));
      return true;
    }) as typeof process.stderr.write;
    let r: Awaited<ReturnType<typeof pushLayout>>;
    try {
      r = await pushLayout(img.ref, `${reg.host}/cut/mono:v1`, { cacheDir: join(tmp, "cm") });
    } finally {
      process.stderr.write = origWrite;
    }
    assert.equal(reg.cuts(), cuts0 + 1);
    assert.equal(r.digest, img.digest);
    assert.equal(r.uploaded, 2);
    assert.match(
      messages.join(""),
      /connection lost and the upload session is gone; starting the upload again/,
    );
    // what the registry holds is the exact image
    const back = join(tmp, "mono-back");
    await pullToLayout(`${reg.host}/cut/mono:v1`, `oci:${back}:latest`, { silent: true });
    assert.deepEqual(await treeDigests(back), await treeDigests(img.path));
  });

  test("chunked upload cut inside the third chunk (body held back by the proxy): resumes at byte 2 MiB", async () => {
    const img = await bigImage("chunked");
    let patches = 0;
    const cuts0 = reg.cuts();
    reg.cutOnce(300_000, (m) => m === "PATCH" && ++patches === 3, true);
    const n0 = reg.requests.length;
    const r = await shellfree(
      ["push", img.ref, `${reg.host}/cut/chunked:v1`, "--chunk-size", String(2 ** 20), "--json"],
      {
        XDG_CACHE_HOME: join(tmp, "cc"),
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(reg.cuts(), cuts0 + 1);
    assert.match(r.stderr, /connection lost; resuming at byte 2097152 of 6\d{6}/);
    assert.equal(JSON.parse(r.stdout).digest, img.digest);
    const patchRanges = reg.requests
      .slice(n0)
      .filter((q) => q.method === "PATCH")
      .map((q) => `${q.contentRange}${q.status === -1 ? " (cut)" : ""}`);
    // bytes 0..2 MiB were sent once; the cut chunk was sent again from 2 MiB
    assert.deepEqual(patchRanges.slice(0, 4), [
      "0-1048575",
      "1048576-2097151",
      "2097152-3145727 (cut)",
      "2097152-3145727",
    ]);
    const back = join(tmp, "chunked-back");
    // pulled by the CLI, with its per-blob progress on stderr
    const pl = await shellfree(["pull", `${reg.host}/cut/chunked:v1`, "-o", `oci:${back}:latest`], {
      XDG_CACHE_HOME: join(tmp, "cc"),
    });
    assert.equal(pl.code, 0, pl.stderr);
    assert.match(pl.stderr, /^pull [0-9a-f]{12}: downloaded 6\.0 MiB$/m);
    assert.deepEqual(await treeDigests(back), await treeDigests(img.path));
  });
});

describe("registry push streams from the layout", () => {
  test("pushing and pulling a 256 MiB blob keeps memory flat (peak RSS grows by far less than the blob)", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-mem-"));
    const reg = await startRegistry();
    try {
      const size = 256 * 2 ** 20;
      const data = join(tmp, "big.bin");
      const fh = await open(data, "w");
      const aes = createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16));
      const zeros = Buffer.alloc(2 ** 20);
      for (let i = 0; i < size / zeros.length; i++) await fh.write(aes.update(zeros));
      await fh.close();
      const img = await makeImage(join(tmp, "img"), {
        files: [{ path: "/big.bin", hostPath: data }],
        compression: "none",
      });
      const blobs = await treeDigests(img.path);
      await rm(data);
      const sample = () => process.memoryUsage().rss;
      (globalThis as { gc?: () => void }).gc?.();
      const base = sample();
      let peak = base;
      const timer = setInterval(() => (peak = Math.max(peak, sample())), 10);
      try {
        const r = await pushLayout(img.ref, `${reg.directHost}/mem/big:v1`, {
          cacheDir: join(tmp, "c"),
          silent: true,
        });
        assert.equal(r.bytes > size, true);
        await pullToLayout(`${reg.directHost}/mem/big:v1`, `oci:${join(tmp, "back")}:latest`, {
          silent: true,
        });
      } finally {
        clearInterval(timer);
      }
      const grew = peak - base;
      assert.ok(
        grew < size / 2,
        `peak RSS grew by ${Math.round(grew / 2 ** 20)} MiB for a ${size / 2 ** 20} MiB blob`,
      );
      assert.deepEqual(await treeDigests(join(tmp, "back")), blobs);
    } finally {
      await reg.stop();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe("registry over TLS", () => {
  test("a registry on 127.0.0.1 that speaks HTTPS is used over HTTPS (push, pull), as skopeo sees it", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-tls-"));
    const reg = await startRegistry({ tls: true });
    try {
      // the registry refuses plain HTTP, so success below means TLS was used
      const plain = await fetch(`http://${reg.host}/v2/`);
      assert.equal(plain.status, 400);
      assert.match(await plain.text(), /Client sent an HTTP request to an HTTPS server/);
      const img = await makeImage(join(tmp, "img"), {
        files: [{ path: "/usr/bin/tini-static", hostPath: TINI, mode: 0o755 }],
      });
      const r = await shellfree(["push", img.ref, `${reg.host}/tls/app:v1`, "--json"], {
        XDG_CACHE_HOME: join(tmp, "c"),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).digest, img.result.digest);
      // skopeo, verifying the registry's certificate (its CA given with --cert-dir)
      const certs = join(tmp, "certs");
      await mkdir(certs);
      await copyFile(reg.tlsCert as string, join(certs, "ca.crt"));
      const raw = await run("skopeo", [
        "inspect",
        "--raw",
        "--cert-dir",
        certs,
        `docker://${reg.host}/tls/app:v1`,
      ]);
      assert.equal(raw.code, 0, raw.stderr);
      assert.equal(sha256Digest(raw.stdout), img.result.digest);
      // --tls-verify: certificate checks even on 127.0.0.1 — refused without the CA, fine with it
      const strict = await shellfree(
        ["pull", `${reg.host}/tls/app:v1`, "-o", `oci:${join(tmp, "s1")}`, "--tls-verify"],
        {
          XDG_CACHE_HOME: join(tmp, "c"),
        },
      );
      assert.equal(strict.code, 1);
      assert.match(
        strict.stderr,
        /^shellfree: connect to 127\.0\.0\.1:\d+: TLS: self[- ]signed certificate/m,
      );
      assert.match(strict.stderr, /^hint: trust the registry's CA \(NODE_EXTRA_CA_CERTS=ca\.pem\)/m);
      const trusted = await shellfree(
        ["pull", `${reg.host}/tls/app:v1`, "-o", `oci:${join(tmp, "s2")}`, "--tls-verify"],
        {
          XDG_CACHE_HOME: join(tmp, "c"),
          NODE_EXTRA_CA_CERTS: reg.tlsCert,
        },
      );
      assert.equal(trusted.code, 0, trusted.stderr);
      const both = await shellfree(["push", img.ref, `${reg.host}/tls/app:v1`, "--tls-verify", "--insecure"]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--insecure and --tls-verify contradict each other/);
      const back = join(tmp, "back");
      const p = await shellfree(["pull", `${reg.host}/tls/app:v1`, "-o", `oci:${back}:latest`], {
        XDG_CACHE_HOME: join(tmp, "c"),
      });
      assert.equal(p.code, 0, p.stderr);
      assert.deepEqual(await treeDigests(back), await treeDigests(img.path));
    } finally {
      await reg.stop();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
