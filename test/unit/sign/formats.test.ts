/**
 * What lands in the registry, compared with what cosign 2.5 wrote there: the signature image
 * under `sha256-<hex>.sig` (byte for byte, appending included) and the bundle's referrer manifest.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sha256Digest } from "../../../src/oci/index.ts";
import {
  bundleLayers,
  bundleReferrerManifest,
  EMPTY_CONFIG,
  mayBeBundleReferrer,
  rfc3339Seconds,
} from "../../../src/sign/bundle-referrer.ts";
import {
  ANNOTATION_SIGNATURE,
  appendSignature,
  MAX_SIG_LAYERS,
  signatureLayers,
  sigTag,
} from "../../../src/sign/sig-tag.ts";
import {
  BUNDLE,
  BUNDLE_MANIFEST,
  IMAGE_DIGEST,
  IMAGE_SIZE,
  PAYLOAD_1,
  PAYLOAD_2,
  SIG_CONFIG_1,
  SIG_CONFIG_2,
  SIG_MANIFEST_1,
  SIG_MANIFEST_2,
  SIGNATURE_1,
  SIGNATURE_2,
} from "./cosign-samples.ts";

const layer = (payload: string, signature: string) => ({
  payload: Buffer.from(payload),
  digest: sha256Digest(payload),
  annotations: { [ANNOTATION_SIGNATURE]: signature },
});

describe("the .sig signature image", () => {
  test("its tag", () => {
    assert.equal(sigTag(IMAGE_DIGEST), `sha256-${IMAGE_DIGEST.slice(7)}.sig`);
    assert.throws(() => sigTag("latest"), /not a sha256 digest/);
  });

  test("a first signature: config and manifest byte for byte cosign's", () => {
    const r = appendSignature(undefined, layer(PAYLOAD_1, SIGNATURE_1));
    assert.equal(r.config.toString(), SIG_CONFIG_1);
    assert.equal(r.manifest.toString(), SIG_MANIFEST_1);
    assert.equal(r.mediaType, "application/vnd.oci.image.manifest.v1+json");
  });

  test("a second signature appended to cosign's image: byte for byte what cosign made of it", () => {
    const r = appendSignature(
      { manifest: JSON.parse(SIG_MANIFEST_1), config: Buffer.from(SIG_CONFIG_1) },
      layer(PAYLOAD_2, SIGNATURE_2),
    );
    assert.equal(r.config.toString(), SIG_CONFIG_2);
    assert.equal(r.manifest.toString(), SIG_MANIFEST_2);
    assert.equal(signatureLayers(JSON.parse(r.manifest.toString())).length, 2);
  });

  test("the layer annotations are sorted (cosign's first), a created time already recorded is kept", () => {
    const l = layer(PAYLOAD_2, SIGNATURE_2);
    const r = appendSignature(
      {
        manifest: JSON.parse(SIG_MANIFEST_1),
        config: Buffer.from(
          SIG_CONFIG_1.replace(
            '"created":"0001-01-01T00:00:00Z","history"',
            '"created":"2025-01-01T00:00:00Z","history"',
          ),
        ),
      },
      { ...l, annotations: { "dev.shellfree.signature.key-hint": "h", ...l.annotations } },
    );
    const m = JSON.parse(r.manifest.toString());
    assert.deepEqual(Object.keys(m.layers[1].annotations), [
      ANNOTATION_SIGNATURE,
      "dev.shellfree.signature.key-hint",
    ]);
    assert.equal(JSON.parse(r.config.toString()).created, "2025-01-01T00:00:00Z");
  });

  test("cosign's limit of 1000 signatures", () => {
    const l = layer(PAYLOAD_2, SIGNATURE_2);
    const full = {
      schemaVersion: 2 as const,
      config: JSON.parse(SIG_MANIFEST_1).config,
      layers: Array.from({ length: MAX_SIG_LAYERS }, () => ({ mediaType: "x", digest: l.digest, size: 1 })),
    };
    assert.throws(() => appendSignature({ manifest: full }, l), /already holds 1000 signatures/);
  });
});

describe("the bundle referrer", () => {
  test("byte for byte the manifest cosign wrote (same bundle, subject and time)", () => {
    const cosign = JSON.parse(BUNDLE_MANIFEST);
    const m = bundleReferrerManifest({
      subject: {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: IMAGE_DIGEST,
        size: IMAGE_SIZE,
      },
      bundle: { digest: sha256Digest(BUNDLE), size: Buffer.byteLength(BUNDLE) },
      config: { digest: sha256Digest(EMPTY_CONFIG), size: EMPTY_CONFIG.length },
      predicateType: "https://sigstore.dev/cosign/sign/v1",
      created: new Date(cosign.annotations["org.opencontainers.image.created"]),
    });
    assert.equal(m.toString(), BUNDLE_MANIFEST);
    assert.equal(rfc3339Seconds(new Date("2026-12-02T04:29:57.123Z")), "2026-12-02T04:29:57Z");
  });

  test("which referrers may hold a bundle, and its layers only when it is about this subject", () => {
    const doc = JSON.parse(BUNDLE_MANIFEST);
    const desc = {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: sha256Digest(BUNDLE_MANIFEST),
      size: 1,
    };
    assert.equal(
      mayBeBundleReferrer({ ...desc, artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json" }),
      true,
    );
    // go-containerregistry's referrers tag index gives cosign's bundle the config's media type
    assert.equal(mayBeBundleReferrer({ ...desc, artifactType: "application/vnd.oci.empty.v1+json" }), true);
    assert.equal(mayBeBundleReferrer({ ...desc, artifactType: "application/vnd.shellfree.sbom" }), false);
    assert.equal(bundleLayers(doc, IMAGE_DIGEST).length, 1);
    assert.equal(bundleLayers(doc, `sha256:${"0".repeat(64)}`).length, 0);
  });
});
