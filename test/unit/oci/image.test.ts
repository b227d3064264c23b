import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseDigest, sha256Digest } from "../../../src/oci/digest.ts";
import { buildImage, containerConfig, parseDuration, parsePlatform } from "../../../src/oci/image.ts";
import { writeLayer } from "../../../src/oci/layer.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { dir, file } from "./helpers.ts";

const SDE = 1_700_000_000;

describe("digests", () => {
  it("sha256Digest and parseDigest", () => {
    assert.equal(sha256Digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(sha256Digest("abc"), sha256Digest(new TextEncoder().encode("abc")));
    const hex = "a".repeat(64);
    assert.deepEqual(parseDigest(`sha256:${hex}`), { algorithm: "sha256", hex });
    for (const bad of [
      "",
      "sha256:",
      `sha512:${hex}`,
      `sha256:${"A".repeat(64)}`,
      `sha256:${hex}0`,
      hex,
      `sha256:../${hex.slice(3)}`,
    ]) {
      assert.throws(() => parseDigest(bad), { code: "E_DIGEST" }, bad);
    }
  });
});

describe("image config", () => {
  it("durations", () => {
    assert.equal(parseDuration("10s"), 10e9);
    assert.equal(parseDuration("1m30s"), 90e9);
    assert.equal(parseDuration("500ms"), 5e8);
    assert.equal(parseDuration("1h"), 3600e9);
    assert.equal(parseDuration("1.5s"), 1.5e9);
    for (const bad of ["", "10", "s", "10x", "1m 30s", "-1s"])
      assert.throws(() => parseDuration(bad), { code: "E_CONFIG" }, bad);
  });

  it("container config fields, sorted maps, healthcheck in nanoseconds", () => {
    const c = containerConfig({
      entrypoint: ["/usr/bin/tini-static", "--"],
      cmd: ["/app"],
      env: { TZ: "UTC", PATH: "/usr/bin" },
      workingDir: "/srv",
      user: "65532:0",
      exposedPorts: ["8080", "3128/tcp", "53/udp"],
      volumes: ["/var/cache", "/data"],
      labels: { z: "1", a: "2" },
      stopSignal: "SIGTERM",
      healthcheck: {
        test: ["/probe", "/ready"],
        interval: "10s",
        timeout: "2s",
        startPeriod: "1m",
        retries: 3,
      },
    });
    assert.deepEqual(c, {
      User: "65532:0",
      ExposedPorts: { "3128/tcp": {}, "53/udp": {}, "8080/tcp": {} },
      Env: ["TZ=UTC", "PATH=/usr/bin"],
      Entrypoint: ["/usr/bin/tini-static", "--"],
      Cmd: ["/app"],
      Volumes: { "/data": {}, "/var/cache": {} },
      WorkingDir: "/srv",
      Labels: { a: "2", z: "1" },
      StopSignal: "SIGTERM",
      Healthcheck: {
        Test: ["CMD", "/probe", "/ready"],
        Interval: 10e9,
        Timeout: 2e9,
        StartPeriod: 60e9,
        Retries: 3,
      },
    });
    assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), ["3128/tcp", "53/udp", "8080/tcp"]);
    assert.deepEqual(containerConfig({ healthcheck: { test: ["CMD", "/x"] } }).Healthcheck?.Test, [
      "CMD",
      "/x",
    ]);
    for (const bad of [
      { exposedPorts: ["http"] },
      { exposedPorts: ["70000/tcp"] },
      { volumes: ["rel"] },
      { workingDir: "srv" },
      { entrypoint: "/bin/sh -c x" as unknown as string[] },
      { env: { "A=B": "x" } },
      { healthcheck: { test: [] } },
    ]) {
      assert.throws(() => containerConfig(bad), { code: "E_CONFIG" }, JSON.stringify(bad));
    }
  });

  it("platform strings", () => {
    assert.deepEqual(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64" });
    assert.deepEqual(parsePlatform("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v7" });
    for (const bad of ["arm64", "windows/amd64", "linux/", "linux/a/b/c"])
      assert.throws(() => parsePlatform(bad), { code: "E_PLATFORM" });
  });
});

describe("buildImage", () => {
  it("writes spec-exact config and manifest blobs, deterministically", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const mk = async (blobDir: string) => {
      const l1 = await writeLayer([dir("etc"), file("etc/a", "a")], {
        compression: "gzip",
        sourceDateEpoch: SDE,
        blobDir,
      });
      const l2 = await writeLayer([dir("srv"), file("srv/b", "b")], {
        compression: "zstd",
        sourceDateEpoch: SDE,
        blobDir,
      });
      return buildImage(
        {
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
          layers: [l1, l2],
          config: { entrypoint: ["/srv/b"], user: "65532" },
          created: new Date(SDE * 1000),
          history: [{ created_by: "debian packages" }, { created_by: "app", comment: "files" }],
          annotations: { "org.opencontainers.image.source": "https://example.invalid/x" },
        },
        blobDir,
      );
    };
    const a = await mk(join(d, "a"));
    const b = await mk(join(d, "b"));
    assert.equal(a.manifest.digest, b.manifest.digest);
    assert.equal(a.config.digest, sha256Digest(a.config.bytes));
    assert.equal(a.manifest.digest, sha256Digest(a.manifest.bytes));
    assert.ok(
      Buffer.from(a.config.bytes).equals(await readFile(join(d, "a", "sha256", a.config.digest.slice(7)))),
    );
    assert.ok(
      Buffer.from(a.manifest.bytes).equals(
        await readFile(join(d, "a", "sha256", a.manifest.digest.slice(7))),
      ),
    );
    const cfg = JSON.parse(Buffer.from(a.config.bytes).toString());
    assert.deepEqual(Object.keys(cfg), [
      "created",
      "architecture",
      "os",
      "variant",
      "config",
      "rootfs",
      "history",
    ]);
    assert.equal(cfg.created, "2023-11-14T22:13:20Z");
    assert.equal(cfg.architecture, "arm64");
    assert.equal(cfg.variant, "v8");
    assert.deepEqual(cfg.rootfs, { type: "layers", diff_ids: [a.layers[0].diffId, a.layers[1].diffId] });
    assert.deepEqual(cfg.history, [
      { created: "2023-11-14T22:13:20Z", created_by: "debian packages" },
      { created: "2023-11-14T22:13:20Z", created_by: "app", comment: "files" },
    ]);
    const m = JSON.parse(Buffer.from(a.manifest.bytes).toString());
    assert.deepEqual(m, {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: a.config.digest,
        size: a.config.size,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: a.layers[0].digest,
          size: a.layers[0].size,
        },
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
          digest: a.layers[1].digest,
          size: a.layers[1].size,
        },
      ],
      annotations: { "org.opencontainers.image.source": "https://example.invalid/x" },
    });
    // a different creation time is a different image
    const l = a.layers;
    const c = await buildImage(
      { platform: a.platform, layers: l, config: {}, created: new Date((SDE + 1) * 1000) },
      join(d, "c"),
    );
    assert.notEqual(c.config.digest, a.config.digest);
    await assert.rejects(
      buildImage(
        { platform: a.platform, layers: l, config: {}, created: new Date(0), history: [{ created_by: "x" }] },
        join(d, "c"),
      ),
      { code: "E_CONFIG" },
    );
  });
});
