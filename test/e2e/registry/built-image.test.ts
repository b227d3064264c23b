/**
 * The whole path with an image built by shellfree itself: `shellfree build --preset static` for
 * amd64 + arm64 (real Debian packages) with its SBOMs attached, `shellfree push` to a
 * docker-registry on 127.0.0.1, skopeo sees both architectures and both attestation manifests
 * and copies the same digests, `shellfree pull` gives back a byte-identical layout.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { sha256Digest } from "../../../src/oci/digest.ts";
import { startRegistry } from "../helpers/registry.ts";
import { run, shellfree, sorted, treeDigests } from "./common.ts";

const CACHE = process.env.SHELLFREE_TEST_CACHE ?? "/tmp/shellfree-test-cache";

test("shellfree build (static, amd64+arm64) → push → skopeo inspect/copy → pull: same digests, same bytes", async () => {
  const tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-built-"));
  const reg = await startRegistry();
  try {
    const layout = join(tmp, "static");
    const b = await shellfree(
      [
        "build",
        "--preset",
        "static",
        "--arch",
        "amd64,arm64",
        "--output",
        `oci:${layout}:1.0`,
        "--cache-dir",
        CACHE,
        "--json",
      ],
      {},
    );
    assert.equal(b.code, 0, b.stderr);
    const built = JSON.parse(b.stdout) as {
      digest: string;
      attestations: Array<{
        architecture: string;
        subject: string;
        digest: string;
        statements: Array<{ predicateType: string; digest: string; size: number }>;
      }>;
    };
    assert.equal(built.attestations.length, 2);

    const dest = `${reg.host}/distroless/static:1.0`;
    const p = await shellfree(["push", `oci:${layout}:1.0`, dest, "--tag", "latest", "--json"], {
      XDG_CACHE_HOME: join(tmp, "c"),
    });
    assert.equal(p.code, 0, p.stderr);
    const pushed = JSON.parse(p.stdout);
    assert.equal(pushed.digest, built.digest);
    assert.ok(pushed.uploaded >= 4, "two configs and the layers");
    assert.equal(pushed.manifests, 5, "the index, two images, two attestation manifests");
    assert.equal(pushed.attestations, 2);

    const raw = await run("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${dest}`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256Digest(raw.stdout), built.digest);
    const idx = JSON.parse(raw.stdout);
    assert.deepEqual(
      idx.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
      ["amd64", "arm64", "unknown", "unknown"],
    );
    // each attestation manifest and its statements are in the registry, byte for byte
    for (const a of built.attestations) {
      const m = await run("skopeo", [
        "inspect",
        "--tls-verify=false",
        "--raw",
        `docker://${reg.host}/distroless/static@${a.digest}`,
      ]);
      assert.equal(m.code, 0, m.stderr);
      assert.equal(sha256Digest(m.stdout), a.digest);
      const am = JSON.parse(m.stdout);
      assert.equal(am.subject.digest, a.subject);
      assert.deepEqual(
        am.layers.map((l: { digest: string }) => l.digest),
        a.statements.map((st) => st.digest),
      );
      for (const st of a.statements) {
        const blob = await fetch(`http://${reg.host}/v2/distroless/static/blobs/${st.digest}`);
        assert.equal(blob.status, 200);
        const bytes = new Uint8Array(await blob.arrayBuffer());
        assert.equal(sha256Digest(bytes), st.digest);
        assert.equal(JSON.parse(new TextDecoder().decode(bytes)).predicateType, st.predicateType);
      }
    }
    for (const arch of ["amd64", "arm64"]) {
      const i = await run("skopeo", [
        "inspect",
        "--tls-verify=false",
        "--override-arch",
        arch,
        `docker://${reg.host}/distroless/static:latest`,
      ]);
      assert.equal(i.code, 0, i.stderr);
      assert.equal(JSON.parse(i.stdout).Architecture, arch);
    }

    const ours = await treeDigests(layout);
    const blobs = (m: Map<string, string>) =>
      sorted([...m].filter(([k]) => k.startsWith("blobs/")).map(([k, v]) => `${k}=${v}`));
    const sk = join(tmp, "skopeo");
    const cp = await run("skopeo", [
      "copy",
      "--all",
      "--src-tls-verify=false",
      `docker://${dest}`,
      `oci:${sk}:1.0`,
    ]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(
      JSON.parse(await readFile(join(sk, "index.json"), "utf8")).manifests[0].digest,
      built.digest,
    );
    assert.deepEqual(blobs(await treeDigests(sk)), blobs(ours));

    const back = join(tmp, "back");
    const pl = await shellfree(["pull", dest, "--output", `oci:${back}:1.0`], {
      XDG_CACHE_HOME: join(tmp, "c"),
    });
    assert.equal(pl.code, 0, pl.stderr);
    assert.deepEqual(sorted(await treeDigests(back)), sorted(ours));
    // the pulled layout carries the attached SBOMs: shellfree inspect lists them
    const ins = await shellfree(["inspect", `oci:${back}:1.0`, "--json"]);
    assert.equal(ins.code, 0, ins.stderr);
    const listed = (
      JSON.parse(ins.stdout) as { images: Array<{ attestations: Array<{ digest: string }> }> }
    ).images
      .flatMap((i) => i.attestations.map((a) => a.digest))
      .sort();
    assert.deepEqual(listed, built.attestations.map((a) => a.digest).sort());
  } finally {
    await reg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
});
