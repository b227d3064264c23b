import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  ATTESTATION_PLATFORM,
  buildAttestation,
  isAttestationDescriptor,
  PREDICATE_CYCLONEDX,
  PREDICATE_SPDX,
  referrerDescriptor,
  referrersTag,
  subjectPurl,
} from "../../../src/oci/attest.ts";
import { type BuiltImage, buildImage, type OciIndex, type OciManifest } from "../../../src/oci/image.ts";
import { listAttestations, listManifests, openImage, readStatement } from "../../../src/oci/index.ts";
import { writeLayer } from "../../../src/oci/layer.ts";
import { blobPath, readIndex } from "../../../src/oci/layout.ts";
import { writeOutput } from "../../../src/oci/output.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { dir, file } from "./helpers.ts";

const SDE = 1_700_000_000;
const sha = (b: Uint8Array | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function image(blobDir: string, arch: string): Promise<BuiltImage> {
  const l = await writeLayer([dir("etc"), file("etc/arch", arch)], {
    compression: "gzip",
    sourceDateEpoch: SDE,
    blobDir,
  });
  return buildImage(
    {
      platform:
        arch === "arm64"
          ? { os: "linux", architecture: arch, variant: "v8" }
          : { os: "linux", architecture: arch },
      layers: [l],
      config: { user: "1000" },
      created: new Date(SDE * 1000),
    },
    blobDir,
  );
}

function attest(im: BuiltImage, blobDir: string) {
  return buildAttestation(
    {
      subject: {
        digest: im.manifest.digest,
        size: im.manifest.size,
        mediaType: im.manifest.mediaType,
        platform: im.platform,
      },
      subjectName: subjectPurl("demo", im.platform),
      predicates: [
        {
          predicateType: PREDICATE_SPDX,
          predicate: { spdxVersion: "SPDX-2.3", name: im.platform.architecture },
        },
        { predicateType: PREDICATE_CYCLONEDX, predicate: { bomFormat: "CycloneDX" } },
      ],
    },
    blobDir,
  );
}

async function json<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

describe("attestations (attached SBOMs)", () => {
  it("an attestation manifest is BuildKit's format and an OCI 1.1 referrer", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const im = await image(join(d, "blobs"), "amd64");
    const a = await attest(im, join(d, "blobs"));
    const m = JSON.parse(new TextDecoder().decode(a.manifest.bytes)) as OciManifest;
    assert.equal(a.manifest.digest, sha(a.manifest.bytes));
    assert.equal(m.mediaType, "application/vnd.oci.image.manifest.v1+json");
    assert.equal(m.artifactType, "application/vnd.shellfree.sbom");
    assert.deepEqual(m.subject, {
      mediaType: im.manifest.mediaType,
      digest: im.manifest.digest,
      size: im.manifest.size,
    });
    assert.deepEqual(
      m.layers.map((l) => [l.mediaType, l.annotations?.["in-toto.io/predicate-type"]]),
      [
        ["application/vnd.in-toto+json", PREDICATE_SPDX],
        ["application/vnd.in-toto+json", PREDICATE_CYCLONEDX],
      ],
    );
    const cfg = JSON.parse(new TextDecoder().decode(a.config.bytes));
    assert.deepEqual(cfg, {
      architecture: "unknown",
      os: "unknown",
      config: {},
      rootfs: { type: "layers", diff_ids: m.layers.map((l) => l.digest) },
    });
    const st = JSON.parse(new TextDecoder().decode(a.layers[0].bytes));
    assert.equal(st._type, "https://in-toto.io/Statement/v0.1");
    assert.equal(st.predicateType, PREDICATE_SPDX);
    assert.deepEqual(st.subject, [
      { name: "pkg:docker/demo?platform=linux%2Famd64", digest: { sha256: im.manifest.digest.slice(7) } },
    ]);
    assert.deepEqual(st.predicate, { spdxVersion: "SPDX-2.3", name: "amd64" });
    // the same inputs, the same bytes
    const again = await attest(im, join(d, "blobs"));
    assert.equal(again.manifest.digest, a.manifest.digest);
  });

  it("a single image stays the one index.json entry; its attestation is named by an annotation there", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const blobs = join(d, "cache");
    const im = await image(blobs, "amd64");
    const a = await attest(im, blobs);
    const out = join(d, "out");
    const r = await writeOutput(`oci:${out}:v1`, [im], { attestations: [a] });
    assert.equal(r.mediaType, "application/vnd.oci.image.manifest.v1+json");
    assert.equal(r.digest, im.manifest.digest, "the attestation does not change what the tag points at");
    assert.deepEqual(r.attestations, [
      { subject: im.manifest.digest, digest: a.manifest.digest, size: a.manifest.size },
    ]);
    const top = await readIndex(out);
    assert.deepEqual(top.manifests, [
      {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: im.manifest.digest,
        size: im.manifest.size,
        platform: { architecture: "amd64", os: "linux" },
        annotations: {
          "dev.shellfree.sbom.attestation": a.manifest.digest,
          "org.opencontainers.image.ref.name": "v1",
        },
      },
    ]);
    // the attestation manifest, its config and statements are in blobs/, byte for byte
    assert.equal(sha(await readFile(blobPath(out, a.manifest.digest))), a.manifest.digest);
    assert.equal(sha(await readFile(blobPath(out, a.config.digest))), a.config.digest);
    for (const l of a.layers) assert.equal(sha(await readFile(blobPath(out, l.digest))), l.digest);
    // the same image without attestation: the same manifest digest, no annotation but the tag
    const plain = join(d, "plain");
    const p = await writeOutput(`oci:${plain}:v1`, [im]);
    assert.equal(p.digest, r.digest);
    assert.deepEqual((await readIndex(plain)).manifests[0].annotations, {
      "org.opencontainers.image.ref.name": "v1",
    });
    // readers: one platform, the image
    assert.deepEqual(
      (await listManifests(`oci:${out}:v1`)).map((m) => m.digest),
      [im.manifest.digest],
    );
    const opened = await openImage(`oci:${out}`);
    assert.equal(opened.manifestDigest, im.manifest.digest);
    await opened.close();
    for (const ref of [`oci:${out}:v1`, `oci:${out}`, `oci:${out}@${im.manifest.digest}`]) {
      const atts = await listAttestations(ref);
      assert.equal(atts.length, 1, ref);
      assert.equal(atts[0].digest, a.manifest.digest);
      assert.equal(atts[0].size, a.manifest.size);
      assert.equal(atts[0].subject, im.manifest.digest);
      assert.equal(atts[0].platform?.architecture, "amd64");
      assert.deepEqual(
        atts[0].statements.map((s) => s.kind),
        ["SPDX", "CycloneDX"],
      );
    }
    const atts = await listAttestations(`oci:${out}:v1`);
    const st = (await readStatement(`oci:${out}:v1`, atts[0].statements[1].digest)) as { predicate: unknown };
    assert.deepEqual(st.predicate, { bomFormat: "CycloneDX" });
    // oci-archive: the same shape
    const tar = join(d, "out.tar");
    const ar = await writeOutput(`oci-archive:${tar}:v1`, [im], { attestations: [a] });
    assert.equal(ar.digest, im.manifest.digest);
    assert.deepEqual(
      (await listAttestations(`oci-archive:${tar}`)).map((x) => [x.digest, x.subject]),
      [[a.manifest.digest, im.manifest.digest]],
    );
    // another tag written into the layout keeps the first tag's attestation blobs
    const arm = await image(blobs, "arm64");
    await writeOutput(`oci:${out}:v2`, [arm]);
    assert.equal((await readIndex(out)).manifests.length, 2);
    assert.equal((await listAttestations(`oci:${out}:v1`))[0].digest, a.manifest.digest);
    for (const l of a.layers) assert.equal(sha(await readFile(blobPath(out, l.digest))), l.digest);
    assert.deepEqual(await listAttestations(`oci:${out}:v2`), []);
  });

  it("an attestation named by index.json but missing from blobs/ is reported missing; the image reads as before", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const blobs = join(d, "cache");
    const im = await image(blobs, "amd64");
    const a = await attest(im, blobs);
    const out = join(d, "out");
    await writeOutput(`oci:${out}:v1`, [im], { attestations: [a] });
    await rm(blobPath(out, a.manifest.digest));
    assert.deepEqual(await listAttestations(`oci:${out}:v1`), [
      {
        digest: a.manifest.digest,
        size: 0,
        subject: im.manifest.digest,
        platform: { os: "linux", architecture: "amd64" },
        missing: true,
        statements: [],
      },
    ]);
    const opened = await openImage(`oci:${out}:v1`);
    assert.equal(opened.manifestDigest, im.manifest.digest);
    await opened.close();
  });

  it("one attestation per image at most for a single image", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const blobs = join(d, "cache");
    const im = await image(blobs, "amd64");
    const a = await attest(im, blobs);
    const b = await buildAttestation(
      {
        subject: {
          digest: im.manifest.digest,
          size: im.manifest.size,
          mediaType: im.manifest.mediaType,
          platform: im.platform,
        },
        subjectName: subjectPurl("other", im.platform),
        predicates: [{ predicateType: PREDICATE_SPDX, predicate: {} }],
      },
      blobs,
    );
    await assert.rejects(
      writeOutput(`oci:${join(d, "o")}`, [im], { attestations: [a, b] }),
      /one attestation manifest per image/,
    );
  });

  it("two platforms: images first, then one attestation each; --platform picks among images only", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const blobs = join(d, "cache");
    const amd = await image(blobs, "amd64");
    const arm = await image(blobs, "arm64");
    const atts = [await attest(arm, blobs), await attest(amd, blobs)];
    for (const target of [`oci:${join(d, "out")}`, `oci-archive:${join(d, "out.tar")}`]) {
      const r = await writeOutput(target, [arm, amd], { attestations: atts });
      assert.equal(r.attestations.length, 2);
      const ms = await listManifests(target);
      assert.deepEqual(
        ms.map((m) => m.platform.architecture),
        ["amd64", "arm64"],
      );
      const a = await openImage(target, { platform: "linux/arm64" });
      assert.equal(a.manifestDigest, arm.manifest.digest);
      await a.close();
      const listed = await listAttestations(target);
      assert.deepEqual(
        listed.map((x) => x.platform?.architecture),
        ["amd64", "arm64"],
      );
    }
    const idx = await json<OciIndex>(
      blobPath(join(d, "out"), (await readIndex(join(d, "out"))).manifests[0].digest),
    );
    assert.deepEqual(
      idx.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`),
      ["linux/amd64", "linux/arm64", "unknown/unknown", "unknown/unknown"],
    );
    assert.deepEqual(idx.manifests[2], {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: atts[1].manifest.digest,
      size: atts[1].manifest.size,
      annotations: {
        "vnd.docker.reference.digest": amd.manifest.digest,
        "vnd.docker.reference.type": "attestation-manifest",
      },
      platform: { ...ATTESTATION_PLATFORM },
    });
    assert.ok(isAttestationDescriptor(idx.manifests[2]));
    assert.ok(!isAttestationDescriptor(idx.manifests[0]));
    assert.equal(idx.manifests[3].annotations?.["vnd.docker.reference.digest"], arm.manifest.digest);
  });

  it("its referrers-list descriptor and the referrers tag (OCI distribution-spec 1.1)", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const im = await image(join(d, "blobs"), "amd64");
    const a = await attest(im, join(d, "blobs"));
    const doc = JSON.parse(new TextDecoder().decode(a.manifest.bytes)) as OciManifest;
    assert.deepEqual(referrerDescriptor(a.manifest, doc), {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: a.manifest.digest,
      size: a.manifest.size,
      artifactType: "application/vnd.shellfree.sbom",
      annotations: {
        "vnd.docker.reference.digest": im.manifest.digest,
        "vnd.docker.reference.type": "attestation-manifest",
      },
    });
    assert.equal(referrersTag(im.manifest.digest), `sha256-${im.manifest.digest.slice(7)}`);
    assert.throws(() => referrersTag("latest"), /not a digest/);
  });

  it("docker-archive has no place for attestations: they are left out", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const blobs = join(d, "cache");
    const im = await image(blobs, "amd64");
    const r = await writeOutput(`docker-archive:${join(d, "x.tar")}:demo:1`, [im], {
      attestations: [await attest(im, blobs)],
    });
    assert.deepEqual(r.attestations, []);
    assert.equal(r.digest, im.manifest.digest);
    assert.deepEqual(await listAttestations(`docker-archive:${join(d, "x.tar")}`), []);
  });

  it("an attestation about an image not written is refused", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const blobs = join(d, "cache");
    const amd = await image(blobs, "amd64");
    const arm = await image(blobs, "arm64");
    await assert.rejects(
      writeOutput(`oci:${join(d, "o")}`, [amd], { attestations: [await attest(arm, blobs)] }),
      /is about sha256:[0-9a-f]{64}, not an image written/,
    );
  });
});
