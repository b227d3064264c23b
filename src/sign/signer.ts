/**
 * Who signs and who checks: the two interfaces signing and verification go through, and their
 * key-based implementations (ECDSA P-256 / SHA-256, ASN.1 DER signatures, as cosign).
 *
 * Keyless signing (a short-lived Fulcio certificate for an OIDC identity, the signature logged
 * in Rekor) is NOT implemented: it needs the Sigstore services. It would be another `Signer`
 * (its `material()` a certificate chain and transparency-log entries, its `sigAnnotations()`
 * cosign's certificate/chain/bundle layer annotations) and another `SignatureVerifier` (checking
 * the chain to the Fulcio root, the identity and the log entry before the signature itself);
 * sign.ts and verify.ts would not change.
 */
import { createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { keyHint } from "./keys.ts";

/** The Sigstore bundle's `verificationMaterial` (the parts shellfree writes or reads). */
export interface VerificationMaterial {
  publicKey?: { hint?: string };
  certificate?: { rawBytes: string };
  x509CertificateChain?: { certificates: Array<{ rawBytes: string }> };
  tlogEntries?: unknown[];
  timestampVerificationData?: unknown;
}

export interface Signer {
  /** "key" today; a keyless signer would say "keyless" */
  readonly kind: "key";
  /** for messages: "cosign.key (ECDSA P-256)" — never key material */
  readonly description: string;
  /** base64 SHA-256 of the signing key's SPKI (the bundle's publicKey.hint) */
  readonly hint: string;
  /** An ASN.1 DER signature of SHA-256(data). */
  sign(data: Uint8Array): Promise<Buffer>;
  /** Whether `signature` over `data` is this signer's (finds signatures made already). */
  verify(data: Uint8Array, signature: Uint8Array): boolean;
  /** The bundle's verificationMaterial for a signature made by this signer. */
  material(): Promise<VerificationMaterial>;
  /** Annotations of a `.sig` layer besides the signature (keyless: certificate, chain, log entry). */
  sigAnnotations(): Record<string, string>;
}

/** What a signature came with that tells who made it. */
export interface SignatureEvidence {
  /** the signer's key hint (a bundle's publicKey.hint, or shellfree's `.sig` layer annotation) */
  hint?: string;
  /** the bundle's verificationMaterial, when the signature came in a bundle */
  material?: VerificationMaterial;
  /** the `.sig` layer's annotations, when it came from the `.sig` tag */
  annotations?: Record<string, string>;
}

export type VerifyOutcome = { ok: true } | { ok: false; problem: string };

export interface SignatureVerifier {
  readonly kind: "key";
  /** for messages: the public key file */
  readonly description: string;
  readonly hint?: string;
  /** Check `signature` over `data`; a failure says as precisely as it can why. */
  verify(data: Uint8Array, signature: Uint8Array, evidence: SignatureEvidence): VerifyOutcome;
}

function ecdsaVerify(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return cryptoVerify("sha256", data, { key, dsaEncoding: "der" }, signature);
  } catch {
    // not a DER signature at all
    return false;
  }
}

/** A signer with a private key (loaded by keys.ts). */
export function keySigner(privateKey: KeyObject, file: string): Signer {
  const publicKey = createPublicKey(privateKey);
  const hint = keyHint(publicKey);
  return {
    kind: "key",
    description: `${file} (ECDSA P-256)`,
    hint,
    sign: async (data) => cryptoSign("sha256", data, { key: privateKey, dsaEncoding: "der" }),
    verify: (data, signature) => ecdsaVerify(publicKey, data, signature),
    material: async () => ({ publicKey: { hint } }),
    sigAnnotations: () => ({}),
  };
}

/** A verifier with a public key (loaded by keys.ts). */
export function keyVerifier(publicKey: KeyObject, file: string): SignatureVerifier {
  const hint = keyHint(publicKey);
  return {
    kind: "key",
    description: file,
    hint,
    verify(data, signature, evidence) {
      if (ecdsaVerify(publicKey, data, signature)) return { ok: true };
      const claimed = evidence.hint;
      if (claimed && claimed !== hint) {
        return { ok: false, problem: `signed with another key (key hint ${claimed}; ${file} is ${hint})` };
      }
      if (claimed === hint) {
        return {
          ok: false,
          problem: `altered after signing: it names ${file}'s key but its signature does not match the payload`,
        };
      }
      return {
        ok: false,
        problem: `does not verify with ${file}: signed with another key, or the payload was altered`,
      };
    },
  };
}
