/**
 * SBOMs attached to the image: `shellfree build --preset static` for amd64 + arm64 writes one
 * attestation manifest per architecture into the image index (BuildKit's format: in-toto SPDX
 * and CycloneDX statements about the image manifest, an OCI 1.1 `subject`), and still writes
 * the same documents beside the output. skopeo, podman and shellfree's own readers take the
 * result; umoci 0.4.7 cannot unpack an index (checked, so the docs stay true). One architecture
 * (the default): index.json's one entry is the image manifest, naming its attestation manifest
 * (stored in blobs/) in an annotation; skopeo untagged and umoci take our layout as it is.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { withPodman } from "../../helpers/podman.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { cyclonedxValidator, schemaErrors, spdxValidator } from "../../unit/builder/sbom-validate.ts";
import { type BuildJson, CACHE, mustSucceed, runCommand, shellfree } from "./common.ts";

const ENV = { SOURCE_DATE_EPOCH: "1700000000" };
const INDEX = "application/vnd.oci.image.index.v1+json";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
  artifactType?: string;
}

interface AttestedJson extends BuildJson {
  mediaType: string;
  attestations: Array<{
    architecture: string;
    subject: string;
    digest: string;
    size: number;
    statements: Array<{ predicateType: string; digest: string; size: number }>;
  }>;
}

const blob = (layout: string, digest: string) => readFileSync(join(layout, "blobs/sha256", digest.slice(7)));
const json = <T>(layout: string, digest: string): T => JSON.parse(blob(layout, digest).toString("utf8")) as T;
const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

function build(out: string, extra: string[] = []) {
  return shellfree(
    ["build", "--preset", "static", "--output", out, "--cache-dir", CACHE, "--json", ...extra],
    { env: ENV },
  );
}

describe("SBOMs attached to the image (static preset, amd64 + arm64)", () => {
  let dir = "";
  let layout = "";
  let result: AttestedJson;
  before(async () => {
    dir = await tempDir("shellfree-attest-");
    layout = join(dir, "a/static");
    const r = await build(`oci:${layout}`, ["--arch", "amd64,arm64"]);
    mustSucceed(r, "build");
    result = JSON.parse(r.stdout);
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("index.json has one entry: the image index with 2 images and 2 attestation manifests", () => {
    const top = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: Desc[] };
    assert.equal(top.manifests.length, 1);
    assert.equal(top.manifests[0].mediaType, INDEX);
    assert.equal(top.manifests[0].digest, result.digest);
    assert.equal(top.manifests[0].annotations?.["org.opencontainers.image.ref.name"], "latest");
    assert.equal(result.mediaType, INDEX);
    const idx = json<{ manifests: Desc[] }>(layout, result.digest);
    const images = idx.manifests.filter((m) => m.platform?.os === "linux");
    const atts = idx.manifests.filter(
      (m) => m.annotations?.["vnd.docker.reference.type"] === "attestation-manifest",
    );
    assert.equal(idx.manifests.length, 4);
    assert.deepEqual(
      images.map((m) => m.platform?.architecture),
      ["amd64", "arm64"],
    );
    assert.equal(atts.length, 2);
    for (const [i, a] of atts.entries()) {
      assert.equal(a.mediaType, MANIFEST);
      assert.deepEqual(a.platform, { architecture: "unknown", os: "unknown" });
      assert.equal(a.annotations?.["vnd.docker.reference.digest"], images[i].digest);
    }
    assert.deepEqual(
      result.attestations.map((a) => [a.architecture, a.subject, a.digest]),
      atts.map((a, i) => [images[i].platform?.architecture, images[i].digest, a.digest]),
    );
  });

  test("each attestation is about its image and carries the SPDX and CycloneDX documents written beside", () => {
    const idx = json<{ manifests: Desc[] }>(layout, result.digest);
    for (const arch of ["amd64", "arm64"]) {
      const image = idx.manifests.find((m) => m.platform?.architecture === arch) as Desc;
      const att = idx.manifests.find(
        (m) => m.annotations?.["vnd.docker.reference.digest"] === image.digest,
      ) as Desc;
      const m = json<{
        artifactType: string;
        config: Desc;
        layers: Desc[];
        subject: Desc;
      }>(layout, att.digest);
      assert.deepEqual(m.subject, { mediaType: MANIFEST, digest: image.digest, size: image.size });
      assert.equal(m.artifactType, "application/vnd.shellfree.sbom");
      const cfg = json<{ os: string; architecture: string; rootfs: { diff_ids: string[] } }>(
        layout,
        m.config.digest,
      );
      assert.equal(cfg.os, "unknown");
      assert.deepEqual(
        cfg.rootfs.diff_ids,
        m.layers.map((l) => l.digest),
      );
      assert.deepEqual(
        m.layers.map((l) => [l.mediaType, l.annotations?.["in-toto.io/predicate-type"]]),
        [
          ["application/vnd.in-toto+json", "https://spdx.dev/Document"],
          ["application/vnd.in-toto+json", "https://cyclonedx.org/bom"],
        ],
      );
      const statements = m.layers.map((l) => {
        const b = blob(layout, l.digest);
        assert.equal(sha(b), l.digest);
        assert.equal(b.length, l.size);
        return JSON.parse(b.toString("utf8")) as {
          _type: string;
          predicateType: string;
          subject: Array<{ name: string; digest: { sha256: string } }>;
          predicate: unknown;
        };
      });
      for (const s of statements) {
        assert.equal(s._type, "https://in-toto.io/Statement/v0.1");
        assert.deepEqual(s.subject, [
          {
            name: `pkg:docker/static?platform=${encodeURIComponent(arch === "arm64" ? "linux/arm64/v8" : "linux/amd64")}`,
            digest: { sha256: image.digest.slice(7) },
          },
        ]);
      }
      const [spdx, cdx] = statements.map((s) => s.predicate);
      assert.deepEqual(schemaErrors(spdxValidator(), spdx), []);
      assert.deepEqual(schemaErrors(cyclonedxValidator(), cdx), []);
      // the very documents beside the output
      assert.deepEqual(spdx, JSON.parse(readFileSync(`${layout}.${arch}.spdx.json`, "utf8")));
      assert.deepEqual(cdx, JSON.parse(readFileSync(`${layout}.${arch}.cdx.json`, "utf8")));
      const packages = (
        result.architectures.find((a) => a.architecture === arch) as BuildJson["architectures"][0]
      ).packages;
      const spdxText = JSON.stringify(spdx);
      const cdxPurls = (cdx as { components: Array<{ purl?: string }> }).components.map((c) => c.purl ?? "");
      for (const p of packages) {
        assert.ok(spdxText.includes(`pkg:deb/debian/${p.name}@`), `SPDX names ${p.name}`);
        assert.ok(
          cdxPurls.some(
            (u) => u.startsWith(`pkg:deb/debian/${p.name}@`) && u.includes(`arch=${p.architecture}`),
          ),
          `CycloneDX names ${p.name} (${arch})`,
        );
      }
    }
  });

  test("skopeo inspects it untagged, tagged and raw; picks the images, never an attestation", async () => {
    for (const ref of [`oci:${layout}`, `oci:${layout}:latest`]) {
      const s = await runCommand("skopeo", ["inspect", ref]);
      const info = JSON.parse(s.stdout);
      assert.equal(info.Digest, result.digest);
      assert.equal(info.Architecture, process.arch === "arm64" ? "arm64" : "amd64");
    }
    const arm = JSON.parse(
      (await runCommand("skopeo", ["--override-arch", "arm64", "inspect", `oci:${layout}`])).stdout,
    );
    assert.equal(arm.Architecture, "arm64");
    const raw = JSON.parse((await runCommand("skopeo", ["inspect", "--raw", `oci:${layout}`])).stdout);
    assert.equal(raw.mediaType, INDEX);
    assert.deepEqual(
      raw.manifests.map((m: Desc) => `${m.platform?.os}/${m.platform?.architecture}`),
      ["linux/amd64", "linux/arm64", "unknown/unknown", "unknown/unknown"],
    );
  });

  test("shellfree inspect lists the attached SBOMs; verify picks the platform asked for", async () => {
    const t = await shellfree(["inspect", `oci:${layout}`]);
    mustSucceed(t, "inspect");
    for (const a of result.attestations) {
      for (const [kind, st] of [
        ["SPDX", a.statements[0]],
        ["CycloneDX", a.statements[1]],
      ] as const) {
        assert.match(t.stdout, new RegExp(`^  sbom ${kind} +${st.digest} .*attestation ${a.digest}`, "m"));
      }
    }
    assert.doesNotMatch(t.stdout, /unknown\/unknown/);
    const j = JSON.parse((await shellfree(["inspect", `oci:${layout}`, "--json"])).stdout) as {
      images: Array<{ platform: string; manifestDigest: string; attestations: Array<{ digest: string }> }>;
    };
    assert.deepEqual(
      j.images.map((i) => [i.platform, i.attestations.map((a) => a.digest)]),
      result.attestations.map((a) => [
        a.architecture === "arm64" ? "linux/arm64/v8" : "linux/amd64",
        [a.digest],
      ]),
    );
    const v = await shellfree(["verify", `oci:${layout}`, "--platform", "linux/arm64", "--format", "json"]);
    assert.equal(v.code, 0, v.stderr);
    const report = JSON.parse(v.stdout) as { platform: string; manifestDigest: string };
    assert.equal(report.platform, "linux/arm64/v8");
    assert.equal(report.manifestDigest, result.attestations.find((a) => a.architecture === "arm64")?.subject);
  });

  test("umoci 0.4.7 cannot unpack an image index (the documented limitation)", async () => {
    const u = await runCommand("umoci", ["unpack", "--image", `${layout}:latest`, join(dir, "bundle")], {
      allowFail: true,
    });
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /tag is ambiguous/);
  });

  test("reproducible: the same index digest from another directory; --no-sbom attaches nothing", async () => {
    const again = await build(`oci:${join(dir, "b/static")}`, ["--arch", "amd64,arm64"]);
    mustSucceed(again, "second build");
    const b = JSON.parse(again.stdout) as AttestedJson;
    assert.equal(b.digest, result.digest);
    assert.deepEqual(b.attestations, result.attestations);

    const none = await build(`oci:${join(dir, "none/static")}`, ["--arch", "amd64,arm64", "--no-sbom"]);
    mustSucceed(none, "--no-sbom build");
    const n = JSON.parse(none.stdout) as AttestedJson;
    assert.deepEqual(n.sboms, []);
    assert.deepEqual(n.attestations, []);
    const idx = json<{ manifests: Desc[] }>(join(dir, "none/static"), n.digest);
    assert.deepEqual(
      idx.manifests.map((m) => m.platform?.architecture),
      ["amd64", "arm64"],
    );
    // one architecture without SBOMs: the manifest itself is the tagged entry, as before
    const one = await build(`oci:${join(dir, "one/static")}`, ["--arch", "amd64", "--no-sbom"]);
    mustSucceed(one, "single-arch --no-sbom build");
    const o = JSON.parse(one.stdout) as AttestedJson;
    assert.equal(o.mediaType, MANIFEST);
    const top = JSON.parse(readFileSync(join(dir, "one/static/index.json"), "utf8")) as { manifests: Desc[] };
    assert.deepEqual(
      top.manifests.map((m) => [m.mediaType, m.digest]),
      [[MANIFEST, o.digest]],
    );
  });

  test("one architecture into oci-archive: the image manifest is the one entry, the attestation beside it; oci-archive and docker-archive load into podman", async () => {
    const single = await build(`oci-archive:${join(dir, "single.tar")}:1.0`, ["--arch", "amd64"]);
    mustSucceed(single, "single-arch oci-archive build");
    const s = JSON.parse(single.stdout) as AttestedJson;
    assert.equal(s.mediaType, MANIFEST);
    assert.equal(s.digest, s.architectures[0].manifest);
    assert.equal(s.attestations.length, 1);
    assert.equal(s.attestations[0].subject, s.architectures[0].manifest);
    // the same attestation as in the two-architecture build: it depends on the image alone
    assert.equal(s.attestations[0].digest, result.attestations[0].digest);
    assert.equal(s.architectures[0].manifest, result.attestations[0].subject);
    const rawText = (
      await runCommand("skopeo", ["inspect", "--raw", `oci-archive:${join(dir, "single.tar")}`])
    ).stdout;
    assert.equal(JSON.parse(rawText).mediaType, MANIFEST);
    assert.equal(sha(Buffer.from(rawText)), s.digest);
    const untagged = JSON.parse(
      (await runCommand("skopeo", ["inspect", `oci-archive:${join(dir, "single.tar")}`])).stdout,
    );
    assert.equal(untagged.Digest, s.digest);
    const listed = JSON.parse(
      (await shellfree(["inspect", `oci-archive:${join(dir, "single.tar")}`, "--json"])).stdout,
    ) as { images: Array<{ attestations: Array<{ digest: string }> }> };
    assert.deepEqual(
      listed.images.map((i) => i.attestations.map((a) => a.digest)),
      [[s.attestations[0].digest]],
    );
    const docker = await build(`docker-archive:${join(dir, "single-docker.tar")}:static:1.0`, [
      "--arch",
      "amd64",
    ]);
    mustSucceed(docker, "docker-archive build");
    const d = JSON.parse(docker.stdout) as AttestedJson;
    assert.deepEqual(d.attestations, [], "docker-archive has no place for attestations");
    assert.equal(d.sboms.length, 2, "the SBOM files are still written beside");
    assert.equal(d.digest, d.architectures[0].manifest);
    await withPodman(async (pm) => {
      const l = await pm.run(["load", "-i", join(dir, "single.tar")]);
      assert.match(l.stdout, /Loaded image/);
      const ld = await pm.run(["load", "-i", join(dir, "single-docker.tar")]);
      assert.match(ld.stdout, /Loaded image.*static:1\.0/);
      const images = JSON.parse((await pm.run(["images", "--format", "json"])).stdout) as Array<{
        Id: string;
      }>;
      // both archives hold the same image (config digest = podman's image id)
      assert.equal(new Set(images.map((i) => i.Id)).size, 1);
    });
  });
});

describe("SBOMs attached to a single-architecture image (static preset, the default)", () => {
  let dir = "";
  let layout = "";
  let result: AttestedJson;
  before(async () => {
    dir = await tempDir("shellfree-attest1-");
    layout = join(dir, "a/static");
    const r = await build(`oci:${layout}`);
    mustSucceed(r, "build");
    result = JSON.parse(r.stdout);
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("index.json has one entry: the image manifest, naming its attestation manifest", () => {
    const top = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: Desc[] };
    assert.equal(result.mediaType, MANIFEST);
    assert.equal(result.architectures.length, 1);
    assert.equal(result.digest, result.architectures[0].manifest);
    assert.equal(result.attestations.length, 1);
    const att = result.attestations[0];
    assert.equal(att.subject, result.digest);
    assert.deepEqual(top.manifests, [
      {
        mediaType: MANIFEST,
        digest: result.digest,
        size: blob(layout, result.digest).length,
        platform: top.manifests[0].platform,
        annotations: {
          "dev.shellfree.sbom.attestation": att.digest,
          "org.opencontainers.image.ref.name": "latest",
        },
      },
    ]);
    assert.equal(top.manifests[0].platform?.os, "linux");
    assert.equal(sha(blob(layout, result.digest)), result.digest);
  });

  test("the attestation manifest is in blobs/: about the image, carrying the documents written beside", () => {
    const att = result.attestations[0];
    const mb = blob(layout, att.digest);
    assert.equal(sha(mb), att.digest);
    assert.equal(mb.length, att.size);
    const m = JSON.parse(mb.toString("utf8")) as {
      mediaType: string;
      artifactType: string;
      config: Desc;
      layers: Desc[];
      subject: Desc;
    };
    assert.equal(m.mediaType, MANIFEST);
    assert.equal(m.artifactType, "application/vnd.shellfree.sbom");
    assert.deepEqual(m.subject, {
      mediaType: MANIFEST,
      digest: result.digest,
      size: blob(layout, result.digest).length,
    });
    assert.equal(sha(blob(layout, m.config.digest)), m.config.digest);
    assert.deepEqual(
      m.layers.map((l) => [l.digest, l.annotations?.["in-toto.io/predicate-type"]]),
      att.statements.map((st) => [st.digest, st.predicateType]),
    );
    const [spdx, cdx] = m.layers.map((l) => {
      const b = blob(layout, l.digest);
      assert.equal(sha(b), l.digest);
      assert.equal(b.length, l.size);
      const st = JSON.parse(b.toString("utf8")) as {
        subject: Array<{ digest: { sha256: string } }>;
        predicate: unknown;
      };
      assert.deepEqual(
        st.subject.map((x) => x.digest.sha256),
        [result.digest.slice(7)],
      );
      return st.predicate;
    });
    assert.deepEqual(schemaErrors(spdxValidator(), spdx), []);
    assert.deepEqual(schemaErrors(cyclonedxValidator(), cdx), []);
    assert.deepEqual(spdx, JSON.parse(readFileSync(`${layout}.spdx.json`, "utf8")));
    assert.deepEqual(cdx, JSON.parse(readFileSync(`${layout}.cdx.json`, "utf8")));
  });

  test("skopeo inspects it untagged and tagged; umoci unpacks our layout itself", async () => {
    for (const ref of [`oci:${layout}`, `oci:${layout}:latest`]) {
      const s = await runCommand("skopeo", ["inspect", ref]);
      const info = JSON.parse(s.stdout);
      assert.equal(info.Digest, result.digest, ref);
    }
    const raw = await runCommand("skopeo", ["inspect", "--raw", `oci:${layout}`]);
    assert.equal(sha(Buffer.from(raw.stdout)), result.digest);
    const bundle = join(dir, "bundle");
    const u = await runCommand("umoci", ["unpack", "--image", `${layout}:latest`, bundle], {
      allowFail: true,
    });
    assert.equal(u.code, 0, `umoci unpack: ${u.stderr}`);
    assert.match(readFileSync(join(bundle, "rootfs/etc/passwd"), "utf8"), /^nonroot:x:65532:/m);
  });

  test("shellfree inspect lists the attached SBOMs; verify reads the image", async () => {
    const att = result.attestations[0];
    const t = await shellfree(["inspect", `oci:${layout}`]);
    mustSucceed(t, "inspect");
    for (const [kind, st] of [
      ["SPDX", att.statements[0]],
      ["CycloneDX", att.statements[1]],
    ] as const) {
      assert.match(t.stdout, new RegExp(`^  sbom ${kind} +${st.digest} .*attestation ${att.digest}`, "m"));
    }
    const j = JSON.parse((await shellfree(["inspect", `oci:${layout}:latest`, "--json"])).stdout) as {
      images: Array<{ manifestDigest: string; attestations: Array<{ digest: string }> }>;
    };
    assert.deepEqual(
      j.images.map((i) => [i.manifestDigest, i.attestations.map((a) => a.digest)]),
      [[result.digest, [att.digest]]],
    );
    const v = await shellfree(["verify", `oci:${layout}`, "--format", "json"]);
    assert.equal(v.code, 0, v.stderr);
    assert.equal((JSON.parse(v.stdout) as { manifestDigest: string }).manifestDigest, result.digest);
  });

  test("reproducible: the same digests from another directory; --no-sbom gives the same image manifest", async () => {
    const again = await build(`oci:${join(dir, "b/static")}`);
    mustSucceed(again, "second build");
    const b = JSON.parse(again.stdout) as AttestedJson;
    assert.equal(b.digest, result.digest);
    assert.deepEqual(b.attestations, result.attestations);
    assert.equal(
      readFileSync(join(dir, "b/static/index.json"), "utf8"),
      readFileSync(join(layout, "index.json"), "utf8"),
    );
    const none = await build(`oci:${join(dir, "none/static")}`, ["--no-sbom"]);
    mustSucceed(none, "--no-sbom build");
    const n = JSON.parse(none.stdout) as AttestedJson;
    assert.equal(n.digest, result.digest, "the attestation does not change the image manifest");
    const top = JSON.parse(readFileSync(join(dir, "none/static/index.json"), "utf8")) as {
      manifests: Desc[];
    };
    assert.deepEqual(top.manifests[0].annotations, { "org.opencontainers.image.ref.name": "latest" });
  });

  test("umoci gc does not know the annotation and drops the attestation (documented); inspect says so, verify is unaffected", async () => {
    const gc = join(dir, "gc/static");
    mustSucceed(await build(`oci:${gc}`), "build");
    const att = result.attestations[0].digest;
    assert.ok(existsSync(join(gc, "blobs/sha256", att.slice(7))));
    await runCommand("umoci", ["gc", "--layout", gc]);
    assert.ok(!existsSync(join(gc, "blobs/sha256", att.slice(7))), "umoci gc removed it");
    const t = await shellfree(["inspect", `oci:${gc}`]);
    mustSucceed(t, "inspect");
    assert.match(
      t.stdout,
      new RegExp(`^  sbom missing +attestation ${att} is named but not in the layout$`, "m"),
    );
    const v = await shellfree(["verify", `oci:${gc}`, "--format", "json"]);
    assert.equal(v.code, 0, v.stderr);
  });
});
