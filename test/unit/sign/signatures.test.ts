/**
 * Signatures made and checked: round trips in both formats, cosign 2.5's own signatures and
 * bundle checked with its public key, and each way a signature is refused.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import { bundleBytes, pae, parseBundle } from "../../../src/sign/bundle.ts";
import { claimProblem } from "../../../src/sign/claims.ts";
import { parsePublicKey } from "../../../src/sign/keys.ts";
import {
  MEDIA_IN_TOTO,
  parseSimpleSigning,
  signStatement,
  simpleSigningPayload,
} from "../../../src/sign/payload.ts";
import { keySigner, keyVerifier } from "../../../src/sign/signer.ts";
import {
  BUNDLE,
  COSIGN_PUB,
  IDENTITY,
  IMAGE_DIGEST,
  PAYLOAD_1,
  PAYLOAD_2,
  SIGNATURE_1,
  SIGNATURE_2,
} from "./cosign-samples.ts";

const OTHER_DIGEST = `sha256:${"ab".repeat(32)}`;

function pair(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { signer: keySigner(privateKey, `${name}.key`), verifier: keyVerifier(publicKey, `${name}.pub`) };
}

describe("key signatures", () => {
  test("simple-signing round trip: ECDSA P-256 / SHA-256, ASN.1 DER", async () => {
    const { signer, verifier } = pair("a");
    const payload = simpleSigningPayload(IDENTITY, IMAGE_DIGEST, { team: "x" });
    const sig = await signer.sign(payload);
    assert.equal(sig[0], 0x30, "a DER SEQUENCE");
    assert.deepEqual(verifier.verify(payload, sig, { hint: signer.hint }), { ok: true });
    assert.equal(signer.verify(payload, sig), true);
    assert.deepEqual(await signer.material(), { publicKey: { hint: signer.hint } });
  });

  test("bundle round trip: the DSSE envelope's signature is over the pre-authentication encoding", async () => {
    const { signer, verifier } = pair("a");
    const statement = signStatement(IDENTITY, IMAGE_DIGEST);
    const sig = await signer.sign(pae(MEDIA_IN_TOTO, statement));
    const bytes = bundleBytes({
      material: await signer.material(),
      payloadType: MEDIA_IN_TOTO,
      payload: statement,
      signatures: [sig],
    });
    const doc = JSON.parse(bytes.toString());
    assert.deepEqual(Object.keys(doc), ["mediaType", "verificationMaterial", "dsseEnvelope"]);
    assert.equal(doc.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.deepEqual(doc.verificationMaterial, { publicKey: { hint: signer.hint } });
    assert.deepEqual(Object.keys(doc.dsseEnvelope), ["payload", "payloadType", "signatures"]);
    const b = parseBundle(bytes);
    assert.ok(b.payload.equals(statement));
    assert.deepEqual(
      verifier.verify(pae(b.payloadType, b.payload), b.signatures[0], { hint: b.material.publicKey?.hint }),
      { ok: true },
    );
    // over the statement alone (no PAE) it does not verify
    assert.equal(verifier.verify(statement, sig, {}).ok, false);
  });

  test("DSSE's PAE test vector", () => {
    assert.equal(
      pae("http://example.com/HelloWorld", Buffer.from("hello world")).toString(),
      "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
    );
  });

  test("cosign 2.5's signatures and bundle verify with its public key", () => {
    const v = keyVerifier(parsePublicKey(COSIGN_PUB, "cosign.pub"), "cosign.pub");
    assert.deepEqual(v.verify(Buffer.from(PAYLOAD_1), Buffer.from(SIGNATURE_1, "base64"), {}), { ok: true });
    assert.deepEqual(v.verify(Buffer.from(PAYLOAD_2), Buffer.from(SIGNATURE_2, "base64"), {}), { ok: true });
    const b = parseBundle(Buffer.from(BUNDLE));
    assert.equal(b.material.publicKey?.hint, v.hint);
    assert.deepEqual(
      v.verify(pae(b.payloadType, b.payload), b.signatures[0], { hint: b.material.publicKey?.hint }),
      { ok: true },
    );
  });
});

describe("rejections", () => {
  test("a wrong key: 'signed with another key' when the signature names its key, else both possibilities", async () => {
    const a = pair("a");
    const b = pair("b");
    const payload = simpleSigningPayload(IDENTITY, IMAGE_DIGEST);
    const sig = await a.signer.sign(payload);
    const named = b.verifier.verify(payload, sig, { hint: a.signer.hint });
    assert.deepEqual(named, {
      ok: false,
      problem: `signed with another key (key hint ${a.signer.hint}; b.pub is ${b.verifier.hint})`,
    });
    const unnamed = b.verifier.verify(payload, sig, {});
    assert.deepEqual(unnamed, {
      ok: false,
      problem: "does not verify with b.pub: signed with another key, or the payload was altered",
    });
  });

  test("a tampered payload: 'altered after signing' when the signature names this key", async () => {
    const { signer, verifier } = pair("a");
    const payload = simpleSigningPayload(IDENTITY, IMAGE_DIGEST, { env: "staging" });
    const sig = await signer.sign(payload);
    const tampered = simpleSigningPayload(IDENTITY, IMAGE_DIGEST, { env: "production" });
    const r = verifier.verify(tampered, sig, { hint: signer.hint });
    assert.deepEqual(r, {
      ok: false,
      problem: "altered after signing: it names a.pub's key but its signature does not match the payload",
    });
    // cosign's real payload with one byte changed
    const v = keyVerifier(parsePublicKey(COSIGN_PUB, "cosign.pub"), "cosign.pub");
    assert.equal(
      v.verify(Buffer.from(PAYLOAD_1.replace("bar", "baz")), Buffer.from(SIGNATURE_1, "base64"), {}).ok,
      false,
    );
  });

  test("a signature that is not DER, or empty, does not verify (no exception)", () => {
    const { verifier } = pair("a");
    assert.equal(verifier.verify(Buffer.from("x"), Buffer.alloc(64, 1), {}).ok, false);
    assert.equal(verifier.verify(Buffer.from("x"), Buffer.alloc(0), {}).ok, false);
  });

  test("claims: another digest, another repository, missing or different annotations; a tag or digest in the identity is fine", () => {
    const want = { digest: IMAGE_DIGEST, identity: IDENTITY, annotations: { team: "x" } };
    const claims = parseSimpleSigning(simpleSigningPayload(IDENTITY, IMAGE_DIGEST, { team: "x" }));
    assert.equal(claimProblem(claims, want), undefined);
    assert.equal(
      claimProblem({ ...claims, digest: OTHER_DIGEST }, want),
      `signs ${OTHER_DIGEST}, not ${IMAGE_DIGEST} (a signature of another image)`,
    );
    assert.equal(
      claimProblem({ ...claims, identity: "127.0.0.1:45123/test/other" }, want),
      `was made for 127.0.0.1:45123/test/other, not ${IDENTITY}`,
    );
    assert.equal(claimProblem({ ...claims, identity: `${IDENTITY}:v1` }, want), undefined);
    assert.equal(claimProblem({ ...claims, identity: `${IDENTITY}@${IMAGE_DIGEST}` }, want), undefined);
    assert.equal(
      claimProblem({ ...claims, identity: undefined }, want),
      undefined,
      "a bundle statement without a name",
    );
    assert.equal(claimProblem({ ...claims, annotations: {} }, want), "lacks the annotation team=x");
    assert.equal(
      claimProblem({ ...claims, annotations: { team: "y" } }, want),
      "has the annotation team=y, not team=x",
    );
  });

  test("bundles that are not image signatures are refused with a reason", () => {
    assert.throws(() => parseBundle(Buffer.from("{}")), /not a Sigstore bundle/);
    const msg = JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      messageSignature: {},
    });
    assert.throws(
      () => parseBundle(Buffer.from(msg)),
      /a message signature \(a blob's\), not an image signature/,
    );
    const noSig = JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      dsseEnvelope: { payloadType: MEDIA_IN_TOTO, payload: "", signatures: [] },
    });
    assert.throws(() => parseBundle(Buffer.from(noSig)), /no signature/);
  });
});
