/**
 * The payloads signatures are made over:
 *
 * - cosign's simple-signing payload (the `.sig` format; containers-signature's JSON):
 *   `{"critical":{"identity":{"docker-reference":"HOST/REPO"},"image":{"docker-manifest-digest":
 *   "sha256:…"},"type":"cosign container image signature"},"optional":{…}|null}` — byte for byte
 *   what cosign writes (Go's encoding/json: this key order, annotations sorted, `<>&` escaped),
 *   so that either tool recognises a signature the other made already;
 * - the in-toto statement cosign 3 signs into a DSSE envelope in a Sigstore bundle:
 *   `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":…,"digest":{"sha256":…},
 *   "annotations":{…}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`.
 */
import { SignError } from "./errors.ts";

export const SIMPLE_SIGNING_TYPE = "cosign container image signature";
export const MEDIA_SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
export const IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1";
export const IN_TOTO_STATEMENT_V01 = "https://in-toto.io/Statement/v0.1";
export const MEDIA_IN_TOTO = "application/vnd.in-toto+json";
/** the predicate type of cosign 3's image signatures */
export const COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1";

/** JSON as Go's encoding/json writes it: compact, HTML characters and U+2028/9 escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function sortedObject(m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}

/** The simple-signing payload for `identity` (HOST/REPO) at `digest`, with optional annotations. */
export function simpleSigningPayload(
  identity: string,
  digest: string,
  annotations: Record<string, string> = {},
): Buffer {
  const optional = Object.keys(annotations).length > 0 ? sortedObject(annotations) : null;
  return Buffer.from(
    goJson({
      critical: {
        identity: { "docker-reference": identity },
        image: { "docker-manifest-digest": digest },
        type: SIMPLE_SIGNING_TYPE,
      },
      optional,
    }),
  );
}

export interface SignedClaims {
  /** the image manifest digest the payload is about */
  digest: string;
  /** the repository it was signed for (HOST/REPO, maybe with a tag), when the payload names one */
  identity?: string;
  annotations: Record<string, unknown>;
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** Read a simple-signing payload; throws (E_PAYLOAD) when it is not one. */
export function parseSimpleSigning(bytes: Uint8Array): SignedClaims {
  let doc: {
    critical?: {
      identity?: { "docker-reference"?: unknown };
      image?: { "docker-manifest-digest"?: unknown };
      type?: unknown;
    };
    optional?: unknown;
  };
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new SignError("E_PAYLOAD", "the payload is not JSON");
  }
  const c = doc?.critical;
  if (c?.type !== SIMPLE_SIGNING_TYPE) {
    throw new SignError("E_PAYLOAD", `the payload's critical.type is not "${SIMPLE_SIGNING_TYPE}"`);
  }
  const digest = c.image?.["docker-manifest-digest"];
  if (typeof digest !== "string" || !DIGEST_RE.test(digest)) {
    throw new SignError("E_PAYLOAD", "the payload names no sha256 docker-manifest-digest");
  }
  const identity = c.identity?.["docker-reference"];
  const optional = doc.optional;
  return {
    digest,
    identity: typeof identity === "string" && identity !== "" ? identity : undefined,
    annotations:
      optional && typeof optional === "object" && !Array.isArray(optional)
        ? (optional as Record<string, unknown>)
        : {},
  };
}

/** The in-toto statement of an image signature (cosign 3's, plus the subject's name). */
export function signStatement(
  identity: string,
  digest: string,
  annotations: Record<string, string> = {},
): Buffer {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
  if (!hex) throw new SignError("E_PAYLOAD", `${digest} is not a sha256 digest`);
  const subject: Record<string, unknown> = { name: identity, digest: { sha256: hex } };
  if (Object.keys(annotations).length > 0) subject.annotations = sortedObject(annotations);
  return Buffer.from(
    JSON.stringify({
      _type: IN_TOTO_STATEMENT_V1,
      subject: [subject],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: {},
    }),
  );
}

export interface StatementClaims {
  predicateType: string;
  /** the subjects' sha256 digests, with their names and annotations */
  subjects: Array<{ digest: string; name?: string; annotations: Record<string, unknown> }>;
}

/** Read an in-toto statement (v0.1 or v1); throws (E_PAYLOAD) when it is not one. */
export function parseStatement(bytes: Uint8Array): StatementClaims {
  let doc: { _type?: unknown; predicateType?: unknown; subject?: unknown };
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new SignError("E_PAYLOAD", "the statement is not JSON");
  }
  if (doc?._type !== IN_TOTO_STATEMENT_V1 && doc?._type !== IN_TOTO_STATEMENT_V01) {
    throw new SignError("E_PAYLOAD", `not an in-toto statement (_type ${JSON.stringify(doc?._type)})`);
  }
  if (typeof doc.predicateType !== "string")
    throw new SignError("E_PAYLOAD", "the statement has no predicateType");
  if (!Array.isArray(doc.subject)) throw new SignError("E_PAYLOAD", "the statement has no subject");
  const subjects: StatementClaims["subjects"] = [];
  for (const s of doc.subject as Array<{
    name?: unknown;
    digest?: { sha256?: unknown };
    annotations?: unknown;
  }>) {
    const hex = s?.digest?.sha256;
    if (typeof hex !== "string" || !/^[0-9a-f]{64}$/.test(hex)) continue;
    subjects.push({
      digest: `sha256:${hex}`,
      name: typeof s.name === "string" && s.name !== "" ? s.name : undefined,
      annotations:
        s.annotations && typeof s.annotations === "object" && !Array.isArray(s.annotations)
          ? (s.annotations as Record<string, unknown>)
          : {},
    });
  }
  return { predicateType: doc.predicateType, subjects };
}
