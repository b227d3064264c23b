/**
 * Sign an image in a registry as cosign does, by its manifest digest (a tag is resolved first):
 * the simple-signing payload appended to the signature image under `sha256-<hex>.sig`, and/or a
 * Sigstore bundle (DSSE in-toto statement) attached as an OCI 1.1 referrer. A multi-platform
 * index is signed as the index; `recursive` signs each platform manifest too (not attestation
 * manifests). Signing what is signed already by the same key adds nothing.
 */
import {
  type Descriptor,
  isAttestationDescriptor,
  isIndexMediaType,
  MEDIA_OCI_MANIFEST,
  type OciIndex,
  type OciManifest,
  openRepository,
  type RemoteManifest,
  type RemoteRepository,
  sha256Digest,
} from "../oci/index.ts";
import { bundleBytes, pae, parseBundle } from "./bundle.ts";
import {
  ANNOTATION_BUNDLE_PREDICATE,
  bundleLayers,
  bundleReferrerManifest,
  EMPTY_CONFIG,
  mayBeBundleReferrer,
} from "./bundle-referrer.ts";
import { SignError } from "./errors.ts";
import { COSIGN_SIGN_PREDICATE, MEDIA_IN_TOTO, signStatement, simpleSigningPayload } from "./payload.ts";
import {
  ANNOTATION_KEY_HINT,
  ANNOTATION_SIGNATURE,
  appendSignature,
  signatureLayers,
  sigTag,
} from "./sig-tag.ts";
import type { Signer } from "./signer.ts";

/** `sig`: the `.sig` tag (cosign ≤ 2, most verifiers); `bundle`: a Sigstore bundle referrer (cosign 3). */
export type SignatureFormat = "sig" | "bundle";

export interface RegistryAccess {
  creds?: string;
  insecure?: boolean;
  tlsVerify?: boolean;
}

export interface SignOptions extends RegistryAccess {
  signer: Signer;
  /** the formats to write (default both) */
  formats?: SignatureFormat[];
  /** `-a key=value`: signed annotations (the payload's `optional`, the statement subject's annotations) */
  annotations?: Record<string, string>;
  /** an index: sign each platform manifest too */
  recursive?: boolean;
  /** the bundle manifest's creation time (default now) */
  now?: Date;
  onProgress?: (message: string) => void;
}

export interface SignedTarget {
  digest: string;
  mediaType: string;
  /** os/arch[/variant] of a platform manifest signed with --recursive */
  platform?: string;
  sig?: { tag: string; added: boolean; signatures: number };
  bundle?: { manifest: string; added: boolean; referrers?: "api" | "tag"; tag?: string };
}

export interface SignResult {
  /** HOST/REPO (the signed identity) */
  repository: string;
  /** the reference given, and the digest it resolved to */
  reference: string;
  digest: string;
  signer: string;
  signed: SignedTarget[];
}

/** Resolve `reference` (tag or digest) to its manifest; a clear error when there is none. */
export async function resolveImage(repo: RemoteRepository, display: string): Promise<RemoteManifest> {
  const r = repo.ref;
  const m = await repo.manifest(r.digest ?? r.tag ?? "latest");
  if (!m) {
    throw new SignError("E_SIGN_REF", `${display}: no such image in the registry`, {
      hint: "check the repository, tag or digest",
    });
  }
  return m;
}

function platformOf(d: Descriptor): string | undefined {
  const p = d.platform;
  return p ? `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}` : undefined;
}

/** The manifests to sign: the top one, and with `recursive` every platform manifest below an index. */
async function targets(
  repo: RemoteRepository,
  top: RemoteManifest,
  recursive: boolean,
): Promise<Descriptor[]> {
  const out: Descriptor[] = [top.desc];
  if (!recursive) return out;
  const seen = new Set([top.desc.digest]);
  const visit = async (m: RemoteManifest, depth: number): Promise<void> => {
    if (!isIndexMediaType(m.desc.mediaType) || depth > 8) return;
    for (const child of (m.doc as OciIndex).manifests ?? []) {
      if (seen.has(child.digest) || isAttestationDescriptor(child)) continue;
      seen.add(child.digest);
      out.push(child);
      if (isIndexMediaType(child.mediaType)) {
        const nested = await repo.manifest(child.digest);
        if (nested) await visit(nested, depth + 1);
      }
    }
  };
  await visit(top, 0);
  return out;
}

async function signSigTag(
  repo: RemoteRepository,
  target: Descriptor,
  o: SignOptions,
): Promise<NonNullable<SignedTarget["sig"]>> {
  const tag = sigTag(target.digest);
  const payload = simpleSigningPayload(repo.name, target.digest, o.annotations);
  const digest = sha256Digest(payload);
  const existing = await repo.manifest(tag);
  const doc = existing?.doc as OciManifest | undefined;
  if (existing && (isIndexMediaType(existing.desc.mediaType) || !doc?.config)) {
    throw new SignError("E_SIGNATURE", `${repo.name}:${tag} holds something other than a signature image`, {
      hint: `the tag ${tag} is cosign's for signatures; remove what is there`,
    });
  }
  const layers = signatureLayers(doc);
  // cosign's duplicate detection: the same payload, signed by this key already
  for (const l of layers) {
    const sig = l.annotations?.[ANNOTATION_SIGNATURE];
    if (l.digest === digest && sig && o.signer.verify(payload, Buffer.from(sig, "base64"))) {
      return { tag, added: false, signatures: layers.length };
    }
  }
  const signature = await o.signer.sign(payload);
  const config = existing && doc ? await repo.blob(doc.config.digest, 4 << 20) : undefined;
  const next = appendSignature(existing && doc ? { manifest: doc, config } : undefined, {
    payload,
    digest,
    annotations: {
      ...o.signer.sigAnnotations(),
      [ANNOTATION_SIGNATURE]: signature.toString("base64"),
      [ANNOTATION_KEY_HINT]: o.signer.hint,
    },
  });
  await repo.putBlob(payload);
  await repo.putBlob(next.config);
  await repo.putManifest(next.manifest, next.mediaType, tag);
  return { tag, added: true, signatures: layers.length + 1 };
}

/** A bundle referrer of `target` with exactly this statement, signed by this signer already? */
async function existingBundle(
  repo: RemoteRepository,
  target: Descriptor,
  statement: Buffer,
  signer: Signer,
): Promise<string | undefined> {
  const candidates = (await repo.referrers(target.digest)).filter(mayBeBundleReferrer).slice(0, 32);
  for (const c of candidates) {
    if (
      c.annotations?.[ANNOTATION_BUNDLE_PREDICATE] &&
      c.annotations[ANNOTATION_BUNDLE_PREDICATE] !== COSIGN_SIGN_PREDICATE
    ) {
      continue;
    }
    const m = await repo.manifest(c.digest);
    if (!m || isIndexMediaType(m.desc.mediaType)) continue;
    for (const l of bundleLayers(m.doc as OciManifest, target.digest)) {
      try {
        const b = parseBundle(await repo.blob(l.digest, 4 << 20));
        if (b.payloadType !== MEDIA_IN_TOTO || !b.payload.equals(statement)) continue;
        const message = pae(b.payloadType, b.payload);
        if (b.signatures.some((s) => signer.verify(message, s))) return m.desc.digest;
      } catch {
        // not a bundle we can read: not ours
      }
    }
  }
  return undefined;
}

async function signBundle(
  repo: RemoteRepository,
  target: Descriptor,
  o: SignOptions,
): Promise<NonNullable<SignedTarget["bundle"]>> {
  const statement = signStatement(repo.name, target.digest, o.annotations);
  const already = await existingBundle(repo, target, statement, o.signer);
  if (already) return { manifest: already, added: false };
  const signature = await o.signer.sign(pae(MEDIA_IN_TOTO, statement));
  const bundle = bundleBytes({
    material: await o.signer.material(),
    payloadType: MEDIA_IN_TOTO,
    payload: statement,
    signatures: [signature],
  });
  const config = await repo.putBlob(EMPTY_CONFIG);
  const layer = await repo.putBlob(bundle);
  const manifest = bundleReferrerManifest({
    subject: target,
    bundle: layer,
    config,
    predicateType: COSIGN_SIGN_PREDICATE,
    created: o.now ?? new Date(),
  });
  const link = await repo.attachReferrer(manifest, MEDIA_OCI_MANIFEST);
  return {
    manifest: link.referrer,
    added: true,
    referrers: link.method,
    ...(link.tag ? { tag: link.tag } : {}),
  };
}

/** Sign `reference` (HOST[:PORT]/REPO[:TAG|@DIGEST], `registry:`/`docker://` forms too). */
export async function signImage(reference: string, o: SignOptions): Promise<SignResult> {
  const formats = o.formats && o.formats.length > 0 ? o.formats : (["sig", "bundle"] as SignatureFormat[]);
  const repo = await openRepository(reference, {
    creds: o.creds,
    insecure: o.insecure,
    tlsVerify: o.tlsVerify,
    push: true,
  });
  try {
    const top = await resolveImage(repo, reference);
    const list = await targets(repo, top, o.recursive === true);
    const signed: SignedTarget[] = [];
    for (const t of list) {
      const entry: SignedTarget = { digest: t.digest, mediaType: t.mediaType };
      const platform = platformOf(t);
      if (platform && t !== top.desc) entry.platform = platform;
      if (formats.includes("sig")) entry.sig = await signSigTag(repo, t, o);
      if (formats.includes("bundle")) entry.bundle = await signBundle(repo, t, o);
      o.onProgress?.(`signed ${repo.name}@${t.digest}${entry.platform ? ` (${entry.platform})` : ""}`);
      signed.push(entry);
    }
    return {
      repository: repo.name,
      reference,
      digest: top.desc.digest,
      signer: o.signer.description,
      signed,
    };
  } finally {
    repo.close();
  }
}
