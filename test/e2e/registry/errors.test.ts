/**
 * Failures against a real docker-registry on 127.0.0.1: transient 5xx/429 answers are retried
 * with backoff, lasting ones end in a clear error; the registry's own errors (MANIFEST_INVALID,
 * BLOB_UNKNOWN) reach the user with its message and a stable code.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pullToLayout, pushLayout, RegistryClient } from "../../../src/oci/registry/index.ts";
import { makeImage, TINI } from "../../helpers/images.ts";
import { startRegistry, type TestRegistry } from "../../helpers/registry.ts";
import { shellfree } from "./common.ts";

describe("registry failures", () => {
  let reg: TestRegistry;
  let tmp: string;
  let image: Awaited<ReturnType<typeof makeImage>>;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-err-"));
    image = await makeImage(join(tmp, "img"), {
      files: [{ path: "/usr/bin/tini-static", hostPath: TINI, mode: 0o755 }],
    });
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("503 and 429 answers are retried with backoff and the push completes", async () => {
    reg.failNext(503, (m, u) => m === "HEAD" && u.includes("/blobs/"), 2);
    const r = await shellfree(["push", image.ref, `${reg.host}/err/retry:v1`], {
      XDG_CACHE_HOME: join(tmp, "c1"),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /retry: check blob sha256:[0-9a-f]{64} in err\/retry: HTTP 503; retry 1\/3 in 50 ms/,
    );
    reg.failNext(429, (m, u) => m === "PUT" && u.includes("/manifests/"), 1);
    const r2 = await shellfree(["push", image.ref, `${reg.host}/err/retry:v2`], {
      XDG_CACHE_HOME: join(tmp, "c1"),
    });
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /retry: push manifest sha256:[0-9a-f]{64} to err\/retry:v2: HTTP 429/);
  });

  test("429 with Retry-After: the client waits as long as the registry asks", async () => {
    reg.failNext(429, (m, u) => m === "GET" && u.includes("/manifests/"), 1, { "Retry-After": "1" });
    const t0 = Date.now();
    const r = await shellfree(["pull", `${reg.host}/err/retry:v1`, "-o", `oci:${join(tmp, "p429")}`], {
      XDG_CACHE_HOME: join(tmp, "c1"),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /retry: get manifest err\/retry:v1: HTTP 429: UNAVAILABLE: injected failure; retry 1\/3 in 1000 ms/,
    );
    assert.ok(Date.now() - t0 >= 1000);
  });

  test("a lasting 500 ends in one clear error after the attempts", async () => {
    reg.failNext(500, (m, u) => m === "GET" && u.includes("/manifests/"), 10);
    const r = await shellfree(["pull", `${reg.host}/err/retry:v1`, "-o", `oci:${join(tmp, "p500")}`], {
      XDG_CACHE_HOME: join(tmp, "c1"),
    });
    reg.failNext(500, () => false, 0);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^shellfree: get manifest err\/retry:v1: failed after 4 attempts: HTTP 500: UNAVAILABLE: injected failure$/m,
    );
  });

  test("MANIFEST_INVALID and MANIFEST_BLOB_UNKNOWN from the registry: its message and a stable code", async () => {
    const client = new RegistryClient(reg.host);
    try {
      await client.ping([]);
      const missing = `sha256:${"1".repeat(64)}`;
      const manifest = (mediaType: string) =>
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType,
            config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: missing, size: 10 },
            layers: [],
          }),
        );
      const put = (body: Buffer) =>
        client.request("PUT", "/v2/err/bad/manifests/v1", {
          scopes: [],
          headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
          body,
          expect: [201],
          what: "push manifest err/bad:v1",
        });
      // a body whose mediaType contradicts its Content-Type
      await assert.rejects(
        put(manifest("application/vnd.docker.distribution.manifest.v2+json")),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, "E_REGISTRY_MANIFEST_INVALID", e.message);
          assert.match(e.message, /^push manifest err\/bad:v1: HTTP 400: MANIFEST_INVALID: manifest invalid/);
          return true;
        },
      );
      // a config blob the repository does not have
      await assert.rejects(
        put(manifest("application/vnd.oci.image.manifest.v1+json")),
        (e: Error & { code?: string; hint?: string }) => {
          assert.equal(e.code, "E_REGISTRY_BLOB_UNKNOWN", e.message);
          assert.match(
            e.message,
            new RegExp(`HTTP 400: MANIFEST_BLOB_UNKNOWN: blob unknown to registry \\(${missing}\\)`),
          );
          assert.match(e.hint ?? "", /a blob the manifest refers to is not in the repository/);
          return true;
        },
      );
    } finally {
      client.close();
    }
  });

  test("BLOB_UNKNOWN while pulling: E_REGISTRY_BLOB_UNKNOWN, and no layout is written", async () => {
    await pushLayout(image.ref, `${reg.host}/err/gone:v1`, { cacheDir: join(tmp, "c3"), silent: true });
    // unlink the layer from the repository in the registry's storage
    const layer = image.images[0].layers[0].digest.slice(7);
    await unlink(
      join(
        reg.dir,
        "data",
        "docker",
        "registry",
        "v2",
        "repositories",
        "err",
        "gone",
        "_layers",
        "sha256",
        layer,
        "link",
      ),
    );
    const out = join(tmp, "gone");
    await assert.rejects(
      pullToLayout(`${reg.host}/err/gone:v1`, `oci:${out}`, { silent: true }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "E_REGISTRY_BLOB_UNKNOWN", e.message);
        assert.match(
          e.message,
          new RegExp(
            `get blob sha256:${layer} from err/gone: HTTP 404: BLOB_UNKNOWN: blob unknown to registry`,
          ),
        );
        return true;
      },
    );
    await assert.rejects(stat(out), { code: "ENOENT" });
  });
});
