/**
 * Sigstore bundles (v0.3) holding a DSSE envelope, as cosign 3 attaches them to images:
 *
 *   {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
 *    "verificationMaterial":{"publicKey":{"hint":"<base64 SHA-256 of the key's SPKI>"}},
 *    "dsseEnvelope":{"payload":"<base64 statement>","payloadType":"application/vnd.in-toto+json",
 *                    "signatures":[{"sig":"<base64 DER>"}]}}
 *
 * The signature is over DSSE's pre-authentication encoding of (payloadType, payload). A key
 * and no transparency log: no `tlogEntries`, no timestamps (what cosign writes with
 * `--tlog-upload=false`).
 */
import { SignError } from "./errors.ts";
import type { VerificationMaterial } from "./signer.ts";

export const MEDIA_BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json";
/** bundle media types a verifier may meet (v0.3 is what cosign writes) */
const BUNDLE_MEDIA_TYPES = [
  MEDIA_BUNDLE_V03,
  "application/vnd.dev.sigstore.bundle+json;version=0.3",
  "application/vnd.dev.sigstore.bundle+json;version=0.2",
  "application/vnd.dev.sigstore.bundle+json;version=0.1",
];

export function isBundleMediaType(m: string | undefined): boolean {
  return m?.startsWith("application/vnd.dev.sigstore.bundle") === true;
}

/** DSSE v1 pre-authentication encoding: "DSSEv1 <len> <type> <len> <body>". */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

export interface DsseBundle {
  material: VerificationMaterial;
  payloadType: string;
  payload: Buffer;
  signatures: Buffer[];
}

/** The bundle's JSON (compact, protojson's field names and order). */
export function bundleBytes(b: DsseBundle): Buffer {
  return Buffer.from(
    JSON.stringify({
      mediaType: MEDIA_BUNDLE_V03,
      verificationMaterial: b.material,
      dsseEnvelope: {
        payload: b.payload.toString("base64"),
        payloadType: b.payloadType,
        signatures: b.signatures.map((s) => ({ sig: s.toString("base64") })),
      },
    }),
  );
}

function b64(v: unknown, what: string): Buffer {
  // protojson accepts standard and URL-safe base64, padded or not
  if (typeof v !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) {
    throw new SignError("E_PAYLOAD", `the bundle's ${what} is not base64`);
  }
  return Buffer.from(v.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

/** Read a bundle that holds a DSSE envelope; throws (E_PAYLOAD) otherwise. */
export function parseBundle(bytes: Uint8Array): DsseBundle {
  let doc: {
    mediaType?: unknown;
    verificationMaterial?: VerificationMaterial;
    dsseEnvelope?: { payload?: unknown; payloadType?: unknown; signatures?: unknown };
    messageSignature?: unknown;
  };
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new SignError("E_PAYLOAD", "the bundle is not JSON");
  }
  if (typeof doc?.mediaType !== "string" || !BUNDLE_MEDIA_TYPES.includes(doc.mediaType)) {
    throw new SignError("E_PAYLOAD", `not a Sigstore bundle (mediaType ${JSON.stringify(doc?.mediaType)})`);
  }
  const env = doc.dsseEnvelope;
  if (!env) {
    throw new SignError(
      "E_PAYLOAD",
      doc.messageSignature
        ? "the bundle holds a message signature (a blob's), not an image signature"
        : "the bundle holds no DSSE envelope",
    );
  }
  if (typeof env.payloadType !== "string")
    throw new SignError("E_PAYLOAD", "the DSSE envelope has no payloadType");
  if (!Array.isArray(env.signatures) || env.signatures.length === 0) {
    throw new SignError("E_PAYLOAD", "the DSSE envelope has no signature");
  }
  return {
    material:
      doc.verificationMaterial && typeof doc.verificationMaterial === "object"
        ? doc.verificationMaterial
        : {},
    payloadType: env.payloadType,
    payload: b64(env.payload, "payload"),
    signatures: (env.signatures as Array<{ sig?: unknown }>).map((s) => b64(s?.sig, "signature")),
  };
}
