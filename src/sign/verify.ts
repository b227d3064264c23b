/**
 * Verify an image's signatures as cosign does with a key: find them (the layers of the
 * `sha256-<hex>.sig` signature image, and Sigstore bundles among the OCI 1.1 referrers), and
 * check each, in this order: it is a signature payload (simple-signing, or an in-toto statement
 * of predicate https://sigstore.dev/cosign/sign/v1 in a DSSE envelope), the signature verifies,
 * it is about this image's digest, it was made for this repository (when it names one; cosign
 * does not check this), and it carries the annotations asked for. The image is verified when at
 * least one signature passes every check; otherwise the result says why, one line.
 */
import { isIndexMediaType, type OciManifest, openRepository, type RemoteRepository } from "../oci/index.ts";
import { pae, parseBundle } from "./bundle.ts";
import { ANNOTATION_BUNDLE_PREDICATE, bundleLayers, mayBeBundleReferrer } from "./bundle-referrer.ts";
import { claimProblem, type Expected } from "./claims.ts";
import { SignError } from "./errors.ts";
import {
  COSIGN_SIGN_PREDICATE,
  MEDIA_IN_TOTO,
  parseSimpleSigning,
  parseStatement,
  type SignedClaims,
} from "./payload.ts";
import {
  ANNOTATION_KEY_HINT,
  ANNOTATION_SIGNATURE,
  MAX_SIG_LAYERS,
  signatureLayers,
  sigTag,
} from "./sig-tag.ts";
import { type RegistryAccess, resolveImage, type SignatureFormat } from "./sign.ts";
import type { SignatureEvidence, SignatureVerifier } from "./signer.ts";

export interface VerifyOptions extends RegistryAccess {
  verifier: SignatureVerifier;
  /** the formats to look at (default both) */
  formats?: SignatureFormat[];
  /** the repository signatures must name (default: the image's HOST/REPO) */
  identity?: string;
  /** annotations every accepted signature must carry (cosign verify -a) */
  annotations?: Record<string, string>;
}

export interface SignatureCheck {
  format: SignatureFormat;
  /** where it was found: "sha256-….sig layer 1", "referrer sha256:…" */
  source: string;
  ok: boolean;
  /** why it was not accepted */
  problem?: string;
  /** what it claims (when it could be read) */
  digest?: string;
  identity?: string;
  annotations?: Record<string, unknown>;
}

export interface VerifyResult {
  repository: string;
  reference: string;
  digest: string;
  key: string;
  verified: boolean;
  signatures: SignatureCheck[];
  /** one line: why nothing verified (absent when verified) */
  problem?: string;
}

async function checkSigTag(
  repo: RemoteRepository,
  want: Expected,
  verifier: SignatureVerifier,
): Promise<SignatureCheck[]> {
  const tag = sigTag(want.digest);
  const m = await repo.manifest(tag);
  if (!m) return [];
  if (isIndexMediaType(m.desc.mediaType)) {
    return [
      {
        format: "sig",
        source: tag,
        ok: false,
        problem: `the tag ${tag} holds an index, not a signature image`,
      },
    ];
  }
  const out: SignatureCheck[] = [];
  const layers = signatureLayers(m.doc as OciManifest).slice(0, MAX_SIG_LAYERS);
  for (const [i, l] of layers.entries()) {
    const source = `${tag} layer ${i + 1}`;
    const check: SignatureCheck = { format: "sig", source, ok: false };
    out.push(check);
    const b64 = l.annotations?.[ANNOTATION_SIGNATURE];
    if (!b64) {
      check.problem = "has no signature (no dev.cosignproject.cosign/signature annotation)";
      continue;
    }
    const payload = await repo.blob(l.digest, 1 << 20);
    let claims: SignedClaims;
    try {
      claims = parseSimpleSigning(payload);
    } catch (e) {
      check.problem = `is not a cosign signature payload: ${(e as Error).message}`;
      continue;
    }
    check.digest = claims.digest;
    if (claims.identity) check.identity = claims.identity;
    check.annotations = claims.annotations;
    const evidence: SignatureEvidence = {
      hint: l.annotations?.[ANNOTATION_KEY_HINT],
      annotations: l.annotations,
    };
    const outcome = verifier.verify(payload, Buffer.from(b64, "base64"), evidence);
    if (!outcome.ok) {
      check.problem = outcome.problem;
      continue;
    }
    check.problem = claimProblem(claims, want);
    check.ok = check.problem === undefined;
  }
  return out;
}

async function checkBundles(
  repo: RemoteRepository,
  want: Expected,
  verifier: SignatureVerifier,
): Promise<SignatureCheck[]> {
  const out: SignatureCheck[] = [];
  const candidates = (await repo.referrers(want.digest)).filter(mayBeBundleReferrer).slice(0, 64);
  for (const c of candidates) {
    const predicate = c.annotations?.[ANNOTATION_BUNDLE_PREDICATE];
    if (predicate && predicate !== COSIGN_SIGN_PREDICATE) continue; // an attestation, not a signature
    const m = await repo.manifest(c.digest);
    if (!m || isIndexMediaType(m.desc.mediaType)) continue;
    for (const l of bundleLayers(m.doc as OciManifest, want.digest)) {
      const source = `referrer ${c.digest}`;
      const bytes = await repo.blob(l.digest, 4 << 20);
      let bundle: ReturnType<typeof parseBundle>;
      let statement: ReturnType<typeof parseStatement>;
      try {
        bundle = parseBundle(bytes);
        if (bundle.payloadType !== MEDIA_IN_TOTO) {
          throw new SignError(
            "E_PAYLOAD",
            `the DSSE payload type is ${bundle.payloadType}, not ${MEDIA_IN_TOTO}`,
          );
        }
        statement = parseStatement(bundle.payload);
      } catch (e) {
        out.push({
          format: "bundle",
          source,
          ok: false,
          problem: `is not a signature bundle: ${(e as Error).message}`,
        });
        continue;
      }
      if (statement.predicateType !== COSIGN_SIGN_PREDICATE) continue; // an attestation
      const check: SignatureCheck = { format: "bundle", source, ok: false };
      out.push(check);
      // the statement may name several subjects: the one about this digest, else the first
      const subject = statement.subjects.find((s) => s.digest === want.digest) ?? statement.subjects[0];
      if (!subject) {
        check.problem = "its statement names no sha256 subject";
        continue;
      }
      check.digest = subject.digest;
      if (subject.name) check.identity = subject.name;
      check.annotations = subject.annotations;
      const message = pae(bundle.payloadType, bundle.payload);
      const evidence: SignatureEvidence = {
        hint: bundle.material.publicKey?.hint,
        material: bundle.material,
      };
      let outcome = verifier.verify(message, bundle.signatures[0], evidence);
      for (const s of bundle.signatures.slice(1)) {
        if (outcome.ok) break;
        outcome = verifier.verify(message, s, evidence);
      }
      if (!outcome.ok) {
        check.problem = outcome.problem;
        continue;
      }
      check.problem = claimProblem(
        { digest: subject.digest, identity: subject.name, annotations: subject.annotations },
        want,
      );
      check.ok = check.problem === undefined;
    }
  }
  return out;
}

function summary(
  checks: SignatureCheck[],
  image: string,
  formats: SignatureFormat[],
  digest: string,
): string {
  if (checks.length === 0) {
    const where = [
      formats.includes("sig") ? `no tag ${sigTag(digest)}` : "",
      formats.includes("bundle") ? "no Sigstore bundle among its referrers" : "",
    ].filter(Boolean);
    return `${image} is not signed (${where.join(", ")})`;
  }
  if (checks.length === 1) return `${image}: the signature (${checks[0].source}) ${checks[0].problem}`;
  const each = checks.map((c) => `${c.source} ${c.problem}`).join("; ");
  return `${image}: none of its ${checks.length} signatures is valid: ${each}`;
}

/** Verify the signatures of `reference` (HOST[:PORT]/REPO[:TAG|@DIGEST]) with `o.verifier`. */
export async function verifyImage(reference: string, o: VerifyOptions): Promise<VerifyResult> {
  const formats = o.formats && o.formats.length > 0 ? o.formats : (["sig", "bundle"] as SignatureFormat[]);
  const repo = await openRepository(reference, {
    creds: o.creds,
    insecure: o.insecure,
    tlsVerify: o.tlsVerify,
  });
  try {
    const top = await resolveImage(repo, reference);
    const want: Expected = {
      digest: top.desc.digest,
      identity: o.identity ?? repo.name,
      annotations: o.annotations,
    };
    const checks: SignatureCheck[] = [];
    if (formats.includes("sig")) checks.push(...(await checkSigTag(repo, want, o.verifier)));
    if (formats.includes("bundle")) checks.push(...(await checkBundles(repo, want, o.verifier)));
    const verified = checks.some((c) => c.ok);
    const image = `${repo.name}@${top.desc.digest}`;
    return {
      repository: repo.name,
      reference,
      digest: top.desc.digest,
      key: o.verifier.description,
      verified,
      signatures: checks,
      ...(verified ? {} : { problem: summary(checks, image, formats, top.desc.digest) }),
    };
  } finally {
    repo.close();
  }
}
