/**
 * A repository of a registry, one manifest or small blob at a time: what tools that attach
 * things to images (signatures, bundles) need, on top of the same client, manifest fetch and
 * referrers code as push and pull. Everything read is checked against its digest.
 *
 *   const repo = await openRepository("HOST/REPO:TAG", { insecure });
 *   try { const top = await repo.manifest("v1"); ... } finally { repo.close(); }
 */
import { referrersTag } from "../attest.ts";
import { sha256Digest } from "../digest.ts";
import { OciError } from "../errors.ts";
import type { Descriptor, OciManifest } from "../image.ts";
import { parseRegistryRef, type RegistryRef } from "../ref.ts";
import { clientFor, drain, header, type RegistryClient, readBody } from "./client.ts";
import { type Fetched, fetchManifest, referrersIndex } from "./pull.ts";
import { linkReferrer } from "./push.ts";
import { blobExists, repoScope } from "./upload.ts";

export interface RepositoryOptions {
  /** "user:pass" */
  creds?: string;
  insecure?: boolean;
  tlsVerify?: boolean;
  /** also ask for push access (needed to write) */
  push?: boolean;
}

/** A manifest as fetched: its descriptor (digest of the bytes), bytes and parsed document. */
export type RemoteManifest = Fetched;

export interface ReferrerLink {
  subject: string;
  referrer: string;
  /** the registry's referrers API, or the referrers tag schema (`tag`; `added` false: listed already) */
  method: "api" | "tag";
  tag?: string;
  added?: boolean;
}

export interface RemoteRepository {
  readonly ref: RegistryRef;
  /** `HOST[:PORT]/REPOSITORY` */
  readonly name: string;
  /** The manifest (or index) a tag or digest names; undefined when the registry has none (404). */
  manifest(reference: string): Promise<RemoteManifest | undefined>;
  /** A small blob (at most `limit` bytes), checked against its digest. */
  blob(digest: string, limit?: number): Promise<Buffer>;
  /** Upload a small blob unless the repository has it; returns its digest and size. */
  putBlob(bytes: Uint8Array): Promise<{ digest: string; size: number }>;
  /**
   * Put a manifest under a tag (or its digest when `reference` is omitted). Returns its digest
   * and the registry's `OCI-Subject` header (set when the registry indexed its subject itself).
   */
  putManifest(
    bytes: Uint8Array,
    mediaType: string,
    reference?: string,
  ): Promise<{ digest: string; size: number; ociSubject?: string }>;
  /**
   * The OCI 1.1 referrers of `subject`: the registry's referrers API, else the index under the
   * referrers tag `sha256-<hex>` (empty when there is none).
   */
  referrers(subject: string): Promise<Descriptor[]>;
  /**
   * Push `bytes` (an image manifest with a `subject`) by digest and make it a referrer of its
   * subject: nothing more where the registry keeps referrers itself, else through the referrers
   * tag schema (the index entry: mediaType, digest, size, artifactType, annotations).
   */
  attachReferrer(bytes: Uint8Array, mediaType: string): Promise<ReferrerLink>;
  close(): void;
}

const LIMIT_MANIFEST = 4 << 20;

/** Open `HOST[:PORT]/REPO[:TAG|@DIGEST]` (also `registry:` and `docker://` forms) for reading (and writing). */
export async function openRepository(
  reference: string,
  opts: RepositoryOptions = {},
): Promise<RemoteRepository> {
  const ref = parseRegistryRef(reference);
  const repo = ref.repository;
  const client = clientFor(ref.registry, repo, { ...opts, concurrency: 2, silent: true });
  const scope = repoScope(repo, opts.push === true);
  try {
    await client.ping([scope]);
  } catch (e) {
    client.close();
    throw e;
  }
  return new Repository(client, ref, scope);
}

class Repository implements RemoteRepository {
  readonly ref: RegistryRef;
  readonly name: string;
  private readonly client: RegistryClient;
  private readonly scope: string;

  constructor(client: RegistryClient, ref: RegistryRef, scope: string) {
    this.client = client;
    this.ref = ref;
    this.name = `${ref.registry}/${ref.repository}`;
    this.scope = scope;
  }

  close(): void {
    this.client.close();
  }

  async manifest(reference: string): Promise<RemoteManifest | undefined> {
    try {
      return await fetchManifest(this.client, this.ref.repository, reference);
    } catch (e) {
      if ((e as { code?: string }).code === "E_REGISTRY_NOT_FOUND") return undefined;
      throw e;
    }
  }

  async blob(digest: string, limit = LIMIT_MANIFEST): Promise<Buffer> {
    const repo = this.ref.repository;
    const what = `get blob ${digest} from ${repo}`;
    const res = await this.client.request("GET", `/v2/${repo}/blobs/${digest}`, {
      scopes: [this.scope],
      expect: [200],
      what,
    });
    const bytes = await readBody(res, limit);
    if (sha256Digest(bytes) !== digest) {
      throw this.client.error(
        "E_DIGEST",
        `${what}: the registry sent content with digest ${sha256Digest(bytes)}`,
      );
    }
    return bytes;
  }

  async putBlob(bytes: Uint8Array): Promise<{ digest: string; size: number }> {
    const repo = this.ref.repository;
    const digest = sha256Digest(bytes);
    const size = bytes.length;
    if (await blobExists(this.client, repo, digest)) return { digest, size };
    const start = await this.client.request("POST", `/v2/${repo}/blobs/uploads/`, {
      scopes: [this.scope],
      expect: [202],
      what: `start blob upload to ${repo}`,
      body: Buffer.alloc(0),
    });
    await drain(start);
    const loc = header(start.headers, "location");
    if (!loc) {
      throw this.client.error(
        "E_REGISTRY",
        `start blob upload to ${repo}: the registry gave no upload location`,
      );
    }
    const url = new URL(loc, this.client.url("/"));
    url.searchParams.set("digest", digest);
    const put = await this.client.request("PUT", url.toString(), {
      scopes: [this.scope],
      headers: { "Content-Type": "application/octet-stream" },
      body: Buffer.from(bytes),
      expect: [201, 204],
      what: `upload blob ${digest} to ${repo}`,
    });
    await drain(put);
    return { digest, size };
  }

  async putManifest(
    bytes: Uint8Array,
    mediaType: string,
    reference?: string,
  ): Promise<{ digest: string; size: number; ociSubject?: string }> {
    const repo = this.ref.repository;
    const digest = sha256Digest(bytes);
    const target = reference ?? digest;
    const res = await this.client.request("PUT", `/v2/${repo}/manifests/${target}`, {
      scopes: [this.scope],
      headers: { "Content-Type": mediaType },
      body: Buffer.from(bytes),
      expect: [201, 200, 204],
      what: `push manifest ${digest} to ${repo}${reference ? `:${reference}` : ""}`,
    });
    await drain(res);
    const got = header(res.headers, "docker-content-digest");
    if (got && got !== digest) {
      throw this.client.error(
        "E_REGISTRY_DIGEST_INVALID",
        `push manifest to ${repo}:${target}: the registry stored ${got}, expected ${digest}`,
      );
    }
    return { digest, size: bytes.length, ociSubject: header(res.headers, "oci-subject") };
  }

  async referrers(subject: string): Promise<Descriptor[]> {
    const repo = this.ref.repository;
    const api = await referrersIndex(
      this.client,
      repo,
      `/v2/${repo}/referrers/${subject}`,
      [200, 400, 404, 405, 406, 415, 501],
    ).catch(() => undefined);
    if (api) return api;
    const tag = referrersTag(subject);
    try {
      return (await referrersIndex(this.client, repo, `/v2/${repo}/manifests/${tag}`, [200, 404])) ?? [];
    } catch (e) {
      if (e instanceof OciError) throw e;
      throw this.client.error(
        "E_REGISTRY",
        `${repo}:${tag} (the referrers of ${subject}) is not an image index`,
        {
          hint: `the tag ${tag} is reserved for referrers (OCI distribution-spec 1.1)`,
        },
      );
    }
  }

  async attachReferrer(bytes: Uint8Array, mediaType: string): Promise<ReferrerLink> {
    const doc = JSON.parse(Buffer.from(bytes).toString("utf8")) as OciManifest;
    if (!doc.subject?.digest) {
      throw this.client.error("E_MANIFEST", "a referrer needs a subject");
    }
    const put = await this.putManifest(bytes, mediaType);
    const entry: Descriptor = { mediaType, digest: put.digest, size: put.size };
    const artifactType = doc.artifactType ?? doc.config?.mediaType;
    if (artifactType) entry.artifactType = artifactType;
    if (doc.annotations && Object.keys(doc.annotations).length > 0)
      entry.annotations = { ...doc.annotations };
    const r = await linkReferrer(this.client, this.ref.repository, doc.subject.digest, entry, put.ociSubject);
    return {
      subject: r.subject,
      referrer: r.attestation,
      method: r.method,
      ...(r.tag ? { tag: r.tag } : {}),
      ...(r.added !== undefined ? { added: r.added } : {}),
    };
  }
}
