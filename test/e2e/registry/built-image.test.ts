/**
 * The whole path with an image built by shellfree itself: `shellfree build --preset static` for
 * amd64 + arm64 (real Debian packages) with its SBOMs attached, `shellfree push` to a
 * docker-registry on 127.0.0.1, skopeo sees both architectures and both attestation manifests
 * and copies the same digests, `shellfree pull` gives back a byte-identical layout. One
 * architecture: the tag is the image manifest and its attestation manifest an OCI 1.1 referrer
 * (referrers tag schema: docker-registry 2.8 has no referrers API), listed once however often
 * it is pushed, and pulled back with the image.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { sha256Digest } from "../../../src/oci/digest.ts";
import { startRegistry } from "../../helpers/registry.ts";
import { run, shellfree, sorted, treeDigests } from "./common.ts";

const CACHE = process.env.SHELLFREE_TEST_CACHE ?? "/tmp/shellfree-test-cache";
const INDEX = "application/vnd.oci.image.index.v1+json";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

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
    // --platform takes one image out of the index, and its attestation with it (named in index.json)
    const arm = built.attestations.find((a) => a.architecture === "arm64");
    assert.ok(arm);
    const one = join(tmp, "one");
    const po = await shellfree(
      ["pull", dest, "--platform", "linux/arm64", "--output", `oci:${one}:1.0`, "--json"],
      { XDG_CACHE_HOME: join(tmp, "c") },
    );
    assert.equal(po.code, 0, po.stderr);
    assert.equal((JSON.parse(po.stdout) as { attestations: number }).attestations, 1);
    const top = JSON.parse(await readFile(join(one, "index.json"), "utf8")) as {
      manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
    };
    assert.deepEqual(
      top.manifests.map((m) => [m.digest, m.annotations]),
      [
        [
          arm.subject,
          { "dev.shellfree.sbom.attestation": arm.digest, "org.opencontainers.image.ref.name": "1.0" },
        ],
      ],
    );
    const insOne = await shellfree(["inspect", `oci:${one}`, "--json"]);
    assert.equal(insOne.code, 0, insOne.stderr);
    assert.deepEqual(
      (
        JSON.parse(insOne.stdout) as { images: Array<{ attestations: Array<{ digest: string }> }> }
      ).images.map((i) => i.attestations.map((a) => a.digest)),
      [[arm.digest]],
    );
  } finally {
    await reg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
});

test("one architecture (the default): push makes the attached SBOMs an OCI 1.1 referrer (referrers tag schema), once; pull brings them back", async () => {
  const tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-built1-"));
  const reg = await startRegistry();
  try {
    const layout = join(tmp, "static");
    const b = await shellfree(
      ["build", "--preset", "static", "--output", `oci:${layout}:1.0`, "--cache-dir", CACHE, "--json"],
      {},
    );
    assert.equal(b.code, 0, b.stderr);
    const built = JSON.parse(b.stdout) as {
      digest: string;
      mediaType: string;
      attestations: Array<{
        subject: string;
        digest: string;
        size: number;
        statements: Array<{ predicateType: string; digest: string; size: number }>;
      }>;
    };
    assert.equal(built.mediaType, MANIFEST);
    assert.equal(built.attestations.length, 1);
    const att = built.attestations[0];
    assert.equal(att.subject, built.digest);
    const referrersTag = `sha256-${built.digest.slice(7)}`;

    const repo = `${reg.host}/distroless/single`;
    const push = async () => {
      const p = await shellfree(["push", `oci:${layout}:1.0`, `${repo}:1.0`, "--json"], {
        XDG_CACHE_HOME: join(tmp, "c"),
      });
      assert.equal(p.code, 0, p.stderr);
      return JSON.parse(p.stdout) as {
        digest: string;
        manifests: number;
        attestations: number;
        referrers?: { subject: string; attestation: string; method: string; tag?: string; added?: boolean };
      };
    };
    const pushed = await push();
    assert.equal(pushed.digest, built.digest, "the tag points at the image manifest");
    assert.equal(pushed.manifests, 2, "the image and its attestation manifest");
    assert.equal(pushed.attestations, 1);
    // docker-registry 2.8 has no referrers API: the referrers tag schema it is
    assert.deepEqual(pushed.referrers, {
      subject: built.digest,
      attestation: att.digest,
      method: "tag",
      tag: referrersTag,
      added: true,
    });

    const raw = await run("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${repo}:1.0`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256Digest(raw.stdout), built.digest);
    const referrers = async () => {
      const r = await run("skopeo", [
        "inspect",
        "--tls-verify=false",
        "--raw",
        `docker://${repo}:${referrersTag}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { schemaVersion: number; mediaType: string; manifests: unknown[] };
    };
    const expected = {
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: [
        {
          mediaType: MANIFEST,
          digest: att.digest,
          size: att.size,
          artifactType: "application/vnd.shellfree.sbom",
          annotations: {
            "vnd.docker.reference.digest": built.digest,
            "vnd.docker.reference.type": "attestation-manifest",
          },
        },
      ],
    };
    assert.deepEqual(await referrers(), expected);

    // the attestation manifest, its config and statements are in the registry, byte for byte
    const am = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--raw",
      `docker://${repo}@${att.digest}`,
    ]);
    assert.equal(am.code, 0, am.stderr);
    assert.equal(sha256Digest(am.stdout), att.digest);
    const m = JSON.parse(am.stdout) as {
      subject: { digest: string };
      config: { digest: string };
      layers: Array<{ digest: string }>;
    };
    assert.equal(m.subject.digest, built.digest);
    assert.deepEqual(
      m.layers.map((l) => l.digest),
      att.statements.map((st) => st.digest),
    );
    for (const digest of [m.config.digest, ...m.layers.map((l) => l.digest)]) {
      const blob = await fetch(`http://${reg.host}/v2/distroless/single/blobs/${digest}`);
      assert.equal(blob.status, 200, digest);
      assert.equal(sha256Digest(new Uint8Array(await blob.arrayBuffer())), digest);
    }
    const spdx = await fetch(`http://${reg.host}/v2/distroless/single/blobs/${att.statements[0].digest}`);
    assert.deepEqual(
      (JSON.parse(await spdx.text()) as { predicate: unknown }).predicate,
      // the SBOM file beside a tagged layout names its tag (docs: builder/sbom/output.ts)
      JSON.parse(await readFile(`${layout}.1.0.spdx.json`, "utf8")),
    );

    // pushing again: the referrers index keeps one descriptor
    const again = await push();
    assert.deepEqual(again.referrers, { ...pushed.referrers, added: false });
    assert.deepEqual(await referrers(), expected);

    // pull: the image with its attestation, named in index.json as the build wrote it
    const back = join(tmp, "back");
    const pl = await shellfree(["pull", `${repo}:1.0`, "--output", `oci:${back}:1.0`, "--json"], {
      XDG_CACHE_HOME: join(tmp, "c"),
    });
    assert.equal(pl.code, 0, pl.stderr);
    assert.equal((JSON.parse(pl.stdout) as { attestations: number }).attestations, 1);
    const blobs = (t: Map<string, string>) =>
      sorted([...t].filter(([k]) => k.startsWith("blobs/")).map(([k, v]) => `${k}=${v}`));
    assert.deepEqual(blobs(await treeDigests(back)), blobs(await treeDigests(layout)));
    const entry = (dir: string) =>
      (JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: unknown[] }).manifests;
    assert.deepEqual(entry(back), entry(layout));
    const ins = await shellfree(["inspect", `oci:${back}:1.0`, "--json"]);
    assert.equal(ins.code, 0, ins.stderr);
    assert.deepEqual(
      (JSON.parse(ins.stdout) as { images: Array<{ attestations: Array<{ digest: string }> }> }).images.map(
        (i) => i.attestations.map((a) => a.digest),
      ),
      [[att.digest]],
    );
    const u = await run("umoci", ["unpack", "--image", `${back}:1.0`, join(tmp, "bundle")]);
    assert.equal(u.code, 0, u.stderr);
  } finally {
    await reg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
});
