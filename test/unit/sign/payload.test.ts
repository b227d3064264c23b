import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  COSIGN_SIGN_PREDICATE,
  goJson,
  IN_TOTO_STATEMENT_V1,
  parseSimpleSigning,
  parseStatement,
  signStatement,
  simpleSigningPayload,
} from "../../../src/sign/payload.ts";
import { BUNDLE, IDENTITY, IMAGE_DIGEST, PAYLOAD_1, PAYLOAD_2 } from "./cosign-samples.ts";

describe("simple-signing payload", () => {
  test("byte for byte what cosign 2.5 signs, with and without annotations", () => {
    assert.equal(simpleSigningPayload(IDENTITY, IMAGE_DIGEST, { foo: "bar" }).toString(), PAYLOAD_1);
    assert.equal(simpleSigningPayload(IDENTITY, IMAGE_DIGEST).toString(), PAYLOAD_2);
    assert.match(PAYLOAD_2, /"optional":null}$/);
  });

  test("annotations sorted by key, HTML characters escaped as Go's encoding/json does", () => {
    const p = simpleSigningPayload("127.0.0.1:5000/r", IMAGE_DIGEST, { z: "1", a: "<b>&" }).toString();
    assert.match(p, /"optional":\{"a":"\\u003cb\\u003e\\u0026","z":"1"\}\}$/);
    assert.deepEqual(JSON.parse(p).optional, { a: "<b>&", z: "1" });
    assert.equal(goJson({ s: "\u2028" }), '{"s":"\\u2028"}');
  });

  test("parsed back: digest, identity, annotations", () => {
    assert.deepEqual(parseSimpleSigning(Buffer.from(PAYLOAD_1)), {
      digest: IMAGE_DIGEST,
      identity: IDENTITY,
      annotations: { foo: "bar" },
    });
    assert.deepEqual(parseSimpleSigning(Buffer.from(PAYLOAD_2)).annotations, {});
  });

  test("rejections: not JSON, another type, no digest", () => {
    assert.throws(() => parseSimpleSigning(Buffer.from("{")), /not JSON/);
    const other = PAYLOAD_2.replace("cosign container image signature", "atomic container signature");
    assert.throws(() => parseSimpleSigning(Buffer.from(other)), /critical\.type/);
    const noDigest = PAYLOAD_2.replace(IMAGE_DIGEST, "latest");
    assert.throws(() => parseSimpleSigning(Buffer.from(noDigest)), /docker-manifest-digest/);
  });
});

describe("in-toto statement (bundle payload)", () => {
  test("cosign 3's shape: Statement v1, subject digest (+ name, annotations), sign/v1 predicate, empty predicate", () => {
    const s = JSON.parse(signStatement(IDENTITY, IMAGE_DIGEST, { b: "2", a: "1" }).toString());
    assert.deepEqual(s, {
      _type: IN_TOTO_STATEMENT_V1,
      subject: [
        { name: IDENTITY, digest: { sha256: IMAGE_DIGEST.slice(7) }, annotations: { a: "1", b: "2" } },
      ],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: {},
    });
    assert.equal(
      JSON.parse(signStatement(IDENTITY, IMAGE_DIGEST).toString()).subject[0].annotations,
      undefined,
    );
  });

  test("parses its own statements and cosign 2.5's (Statement v0.1)", () => {
    const own = parseStatement(signStatement(IDENTITY, IMAGE_DIGEST, { a: "1" }));
    assert.deepEqual(own, {
      predicateType: COSIGN_SIGN_PREDICATE,
      subjects: [{ digest: IMAGE_DIGEST, name: IDENTITY, annotations: { a: "1" } }],
    });
    const cosign = JSON.parse(BUNDLE).dsseEnvelope.payload as string;
    const theirs = parseStatement(Buffer.from(cosign, "base64"));
    assert.deepEqual(theirs.subjects, [{ digest: IMAGE_DIGEST, name: IDENTITY, annotations: {} }]);
  });

  test("rejections: not a statement, no predicate type, subjects without sha256 skipped", () => {
    assert.throws(() => parseStatement(Buffer.from('{"_type":"x"}')), /not an in-toto statement/);
    assert.throws(
      () => parseStatement(Buffer.from(`{"_type":"${IN_TOTO_STATEMENT_V1}","subject":[]}`)),
      /predicateType/,
    );
    const s = parseStatement(
      Buffer.from(
        JSON.stringify({
          _type: IN_TOTO_STATEMENT_V1,
          predicateType: "p",
          subject: [{ digest: { sha512: "ab" } }],
        }),
      ),
    );
    assert.deepEqual(s.subjects, []);
  });
});
