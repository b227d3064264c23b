/**
 * Push an image from an OCI layout to a registry: every blob (deduplicated, a few in parallel,
 * streamed from the layout), then the manifests children first, then the top manifest or index
 * under each tag (or by digest). Attestation manifests in the index (attached SBOMs) are
 * children like the images: they and their blobs are pushed too, each after its image.
 * A single image whose index.json entry names its attestation manifest
 * (`dev.shellfree.sbom.attestation`) pushes that manifest by digest after the image and makes it
 * an OCI 1.1 referrer of the image: nothing more when the registry keeps referrers itself
 * (`OCI-Subject` on the manifest PUT, or a referrers API that answers), else through the
 * referrers tag schema — the index under the tag `sha256-<hex of the image manifest digest>`,
 * fetched (or started empty), the attestation's descriptor added if missing, and put back.
 */
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../../util/atomic.ts";
import { defaultCacheDir } from "../../util/cache-dir.ts";
import { humanBytes, info, progress } from "../../util/progress.ts";
import {
  ANNOTATION_SBOM_ATTESTATION,
  isAttestationDescriptor,
  referrerDescriptor,
  referrersTag,
} from "../attest.ts";
import { sha256Digest } from "../digest.ts";
import { OciError } from "../errors.ts";
import type { Descriptor, OciIndex, OciManifest } from "../image.ts";
import { blobPath, readIndex } from "../layout.ts";
import {
  ANNOTATION_REF_NAME,
  isIndexMediaType,
  isManifestMediaType,
  MANIFEST_ACCEPT,
  MEDIA_OCI_INDEX,
  MEDIA_OCI_MANIFEST,
} from "../media.ts";
import { DOCKER_TAG, parseLayoutRef, parseRegistryRef } from "../ref.ts";
import { clientFor, drain, header, type RegistryClient, readBody } from "./client.ts";
import { type BlobResult, pushBlob, repoScope } from "./upload.ts";

export interface PushOptions {
  /** tags to push (besides the one in `dest`); default "latest" when none is given at all */
  tags?: string[];
  /** "user:pass" */
  creds?: string;
  /** insecure registry: HTTPS without certificate checks, else plain HTTP (automatic for localhost and 127.0.0.0/8) */
  insecure?: boolean;
  /** verify TLS even for a localhost/127.0.0.0/8 registry */
  tlsVerify?: boolean;
  /** blobs uploaded in parallel (default 3) */
  concurrency?: number;
  onProgress?: (ev: { digest: string; bytes: number; total: number }) => void;
  /** repositories of the same registry to try mounting blobs from */
  from?: string[];
  /** > 0: chunked uploads of this many bytes per PATCH (default 0: one PUT per blob) */
  chunkSize?: number;
  /** where pushed-blob hints are kept (default $XDG_CACHE_HOME/shellfree) */
  cacheDir?: string;
  /** no per-blob progress lines on stderr */
  silent?: boolean;
}

export interface PushResult {
  /** digest of what the tags point at (the index for multi-platform images) */
  digest: string;
  mediaType: string;
  /** full references pushed: HOST/REPO:TAG (and HOST/REPO@DIGEST) */
  tags: string[];
  uploaded: number;
  skipped: number;
  mounted: number;
  /** bytes uploaded */
  bytes: number;
  /** manifests pushed (children and top) */
  manifests: number;
  /** of those, attestation manifests (attached SBOMs) */
  attestations: number;
  /**
   * a single image's attestation made a referrer of the image: through the registry's referrers
   * API, or the referrers tag schema (`tag`; `added` false when it was listed there already)
   */
  referrers?: { subject: string; attestation: string; method: "api" | "tag"; tag?: string; added?: boolean };
}

interface ManifestNode {
  desc: Descriptor;
  bytes: Buffer;
  mediaType: string;
}

interface Walk {
  /** manifests in push order (children before parents, top last) */
  manifests: ManifestNode[];
  blobs: Map<string, { digest: string; size: number; path: string }>;
}

/** Choose the descriptor `oci:DIR[:TAG]` names. */
export async function selectFromLayout(ref: { dir: string; tag?: string }): Promise<Descriptor> {
  const index = await readIndex(ref.dir);
  const tagOf = (d: Descriptor) => d.annotations?.[ANNOTATION_REF_NAME];
  if (ref.tag !== undefined) {
    const d = index.manifests.find((m) => tagOf(m) === ref.tag);
    if (!d) {
      const tags = index.manifests.map(tagOf).filter(Boolean);
      throw new OciError("E_LAYOUT_REF", `${ref.dir} has no image tagged "${ref.tag}"`, {
        hint: tags.length > 0 ? `tags in the layout: ${tags.join(", ")}` : "the layout has no tagged image",
      });
    }
    return d;
  }
  if (index.manifests.length === 1) return index.manifests[0];
  if (index.manifests.length === 0) throw new OciError("E_LAYOUT", `${ref.dir} holds no image`);
  const tags = index.manifests.map(tagOf).filter(Boolean);
  throw new OciError("E_LAYOUT_REF", `${ref.dir} holds ${index.manifests.length} images; name one`, {
    hint: `use oci:${ref.dir}:TAG${tags.length > 0 ? ` (tags: ${tags.join(", ")})` : ""}`,
    exitCode: 2,
  });
}

async function readManifestBlob(dir: string, d: Descriptor): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(blobPath(dir, d.digest));
  } catch (e) {
    throw new OciError(
      "E_LAYOUT",
      `${dir}: blob ${d.digest} is missing (${(e as NodeJS.ErrnoException).code})`,
    );
  }
  if (bytes.length > 4 << 20) throw new OciError("E_MANIFEST", `${d.digest}: manifest larger than 4 MiB`);
  const got = sha256Digest(bytes);
  if (got !== d.digest || bytes.length !== d.size) {
    throw new OciError(
      "E_DIGEST",
      `${dir}: blob ${d.digest} is corrupt (digest ${got}, ${bytes.length} bytes)`,
    );
  }
  return bytes;
}

/** Walk an image (manifest or index, nested) in a layout: manifests in push order and every blob. */
export async function walkLayout(dir: string, top: Descriptor): Promise<Walk> {
  const walk: Walk = { manifests: [], blobs: new Map() };
  const seen = new Set<string>();
  const visit = async (d: Descriptor, depth: number): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    if (depth > 8) throw new OciError("E_MANIFEST", `${d.digest}: indices nested too deeply`);
    const bytes = await readManifestBlob(dir, d);
    let doc: { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    try {
      doc = JSON.parse(bytes.toString("utf8"));
    } catch {
      throw new OciError("E_MANIFEST", `${dir}: ${d.digest} is not JSON`);
    }
    const mediaType = doc.mediaType ?? d.mediaType;
    if (isIndexMediaType(mediaType) || (Array.isArray(doc.manifests) && !doc.config)) {
      for (const c of doc.manifests ?? []) await visit(c, depth + 1);
    } else if (isManifestMediaType(mediaType) || doc.config) {
      if (!doc.config) throw new OciError("E_MANIFEST", `${dir}: manifest ${d.digest} has no config`);
      for (const b of [doc.config, ...(doc.layers ?? [])]) {
        if ((b as Descriptor).urls?.length) continue; // non-distributable: fetched from its URLs, not pushed
        walk.blobs.set(b.digest, { digest: b.digest, size: b.size, path: blobPath(dir, b.digest) });
      }
    } else {
      throw new OciError("E_MANIFEST", `${dir}: ${d.digest} has unsupported media type ${mediaType}`);
    }
    walk.manifests.push({ desc: d, bytes, mediaType });
  };
  await visit(top, 0);
  return walk;
}

/** The attestation manifest a single image's index.json entry names, walked (undefined: none). */
async function attestationWalk(dir: string, top: Descriptor): Promise<Walk | undefined> {
  const digest = top.annotations?.[ANNOTATION_SBOM_ATTESTATION];
  if (!digest) return undefined;
  let size: number;
  try {
    size = (await stat(blobPath(dir, digest))).size;
  } catch (e) {
    throw new OciError(
      "E_LAYOUT",
      `${dir}: the attestation manifest ${digest} (attached SBOMs) is missing (${(e as NodeJS.ErrnoException).code})`,
      {
        hint: "build the image again, or push a layout without the dev.shellfree.sbom.attestation annotation",
      },
    );
  }
  const w = await walkLayout(dir, { mediaType: MEDIA_OCI_MANIFEST, digest, size });
  const m = w.manifests[w.manifests.length - 1];
  const doc = JSON.parse(m.bytes.toString("utf8")) as OciManifest;
  if (doc.subject?.digest !== top.digest) {
    throw new OciError(
      "E_MANIFEST",
      `${dir}: attestation ${digest} is about ${doc.subject?.digest ?? "nothing"}, not ${top.digest}`,
    );
  }
  return w;
}

/**
 * Make the manifest `referrer` describes (pushed already) findable as a referrer of `subject`
 * (OCI distribution-spec 1.1): the registry does it itself when it answered the manifest PUT
 * with `OCI-Subject` or answers the referrers API; else the referrers tag schema: the index
 * under `sha256-<hex>` gets `referrer` (its entry there: added once).
 */
export async function linkReferrer(
  client: RegistryClient,
  repo: string,
  subject: string,
  referrer: Descriptor,
  ociSubject: string | undefined,
): Promise<NonNullable<PushResult["referrers"]>> {
  const base = { subject, attestation: referrer.digest };
  if (ociSubject === subject) return { ...base, method: "api" };
  if (await referrersApi(client, repo, subject)) return { ...base, method: "api" };
  const tag = referrersTag(subject);
  const what = `referrers of ${subject} (tag ${repo}:${tag})`;
  const res = await client.request("GET", `/v2/${repo}/manifests/${tag}`, {
    scopes: [repoScope(repo)],
    headers: { Accept: MEDIA_OCI_INDEX },
    expect: [200, 404],
    what: `get ${what}`,
  });
  let index: OciIndex = { schemaVersion: 2, mediaType: MEDIA_OCI_INDEX, manifests: [] };
  if (res.statusCode === 200) {
    const body = await readBody(res, 4 << 20);
    let doc: OciIndex | undefined;
    try {
      doc = JSON.parse(body.toString("utf8")) as OciIndex;
    } catch {
      doc = undefined;
    }
    if (doc?.schemaVersion !== 2 || !Array.isArray(doc.manifests) || !isIndexMediaType(doc.mediaType ?? "")) {
      throw client.error("E_REGISTRY", `${what}: the tag holds something other than an image index`, {
        hint: `the tag ${tag} is reserved for referrers (OCI distribution-spec 1.1); remove what is there`,
      });
    }
    index = doc;
  } else await drain(res);
  if (index.manifests.some((d) => d.digest === referrer.digest)) {
    return { ...base, method: "tag", tag, added: false };
  }
  index = { ...index, manifests: [...index.manifests, referrer] };
  const bytes = Buffer.from(JSON.stringify(index));
  const put = await client.request("PUT", `/v2/${repo}/manifests/${tag}`, {
    scopes: [repoScope(repo)],
    headers: { "Content-Type": MEDIA_OCI_INDEX },
    body: bytes,
    expect: [201, 200, 204],
    what: `push ${what}`,
  });
  await drain(put);
  return { ...base, method: "tag", tag, added: true };
}

/**
 * The digest the registry has under `reference` (a tag or a digest) in `repo`, by HEAD;
 * undefined when it has nothing there (or does not say which digest).
 */
async function manifestDigest(
  client: RegistryClient,
  repo: string,
  reference: string,
): Promise<string | undefined> {
  // (a registry that refuses the question — a 401 or 403 for a repository not there yet — has
  // nothing to skip: the push goes on and meets the real answer)
  const res = await client
    .request("HEAD", `/v2/${repo}/manifests/${reference}`, {
      scopes: [repoScope(repo)],
      headers: { Accept: MANIFEST_ACCEPT },
      expect: [200, 404],
      what: `check manifest ${repo}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`,
    })
    .catch((e: unknown) => {
      const code = (e as { code?: string }).code ?? "";
      if (code.startsWith("E_REGISTRY") && code !== "E_REGISTRY_TLS") return undefined;
      throw e;
    });
  if (!res) return undefined;
  await drain(res);
  if (res.statusCode !== 200) return undefined;
  const got = header(res.headers, "docker-content-digest");
  if (reference.startsWith("sha256:")) return got === undefined || got === reference ? reference : undefined;
  return got;
}

/** Whether the registry answers the referrers API for `subject` (200 with an image index). */
async function referrersApi(client: RegistryClient, repo: string, subject: string): Promise<boolean> {
  try {
    const res = await client.request("GET", `/v2/${repo}/referrers/${subject}`, {
      scopes: [repoScope(repo)],
      headers: { Accept: MEDIA_OCI_INDEX },
      expect: [200, 400, 404, 405, 406, 415, 501],
      what: `get referrers of ${subject} from ${repo}`,
      retry: false,
    });
    if (res.statusCode !== 200) {
      await drain(res);
      return false;
    }
    const doc = JSON.parse((await readBody(res, 4 << 20)).toString("utf8")) as OciIndex;
    return doc?.schemaVersion === 2 && Array.isArray(doc.manifests);
  } catch {
    // no usable referrers API (an unknown route, a proxy's refusal, not JSON): the tag schema
    // follows, and its requests report real failures (auth, network) as such
    return false;
  }
}

// ------------------------------------------------------------ mount hints

function hintsFile(cacheDir: string, registry: string): string {
  return join(cacheDir, "registry", `${registry.replace(/[^A-Za-z0-9._-]/g, "_")}.json`);
}

/** Which repositories of a registry got which blobs in earlier pushes (digest → repositories). */
async function loadHints(cacheDir: string, registry: string): Promise<Record<string, string[]>> {
  try {
    const j = JSON.parse(await readFile(hintsFile(cacheDir, registry), "utf8"));
    return j && typeof j === "object" && !Array.isArray(j) ? (j as Record<string, string[]>) : {};
  } catch {
    return {};
  }
}

async function saveHints(cacheDir: string, registry: string, repo: string, digests: string[]): Promise<void> {
  const hints = await loadHints(cacheDir, registry);
  for (const d of digests) {
    const list = (hints[d] ?? []).filter((r) => r !== repo);
    hints[d] = [repo, ...list].slice(0, 4);
  }
  const keys = Object.keys(hints);
  if (keys.length > 20000) for (const k of keys.slice(0, keys.length - 20000)) delete hints[k];
  await writeFileAtomic(hintsFile(cacheDir, registry), JSON.stringify(hints));
}

async function mapLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

/** Push the image `oci:DIR[:TAG]` to `dest` (HOST[:PORT]/REPO[:TAG|@DIGEST]). */
export async function pushLayout(
  layoutRef: string,
  dest: string,
  opts: PushOptions = {},
): Promise<PushResult> {
  const lref = parseLayoutRef(layoutRef);
  lref.dir = resolve(lref.dir);
  const ref = parseRegistryRef(dest);
  for (const t of opts.tags ?? []) {
    if (!DOCKER_TAG.test(t)) throw new OciError("E_REGISTRY_REF", `invalid tag "${t}"`, { exitCode: 2 });
  }
  const top = await selectFromLayout(lref);
  const walk = await walkLayout(lref.dir, top);
  const root = walk.manifests[walk.manifests.length - 1];
  // a single image's attestation (attached SBOMs), named by its index.json entry
  const attWalk = isIndexMediaType(root.mediaType) ? undefined : await attestationWalk(lref.dir, top);
  const attestation = attWalk?.manifests[attWalk.manifests.length - 1];
  const imageBlobs = new Set(walk.blobs.keys());
  for (const b of attWalk?.blobs.values() ?? []) walk.blobs.set(b.digest, b);
  if (ref.digest && ref.digest !== root.desc.digest) {
    throw new OciError(
      "E_REGISTRY_REF",
      `${dest} names digest ${ref.digest}, but the image in ${layoutRef} is ${root.desc.digest}`,
    );
  }
  const tags = [...new Set([...(ref.tag ? [ref.tag] : []), ...(opts.tags ?? [])])];
  if (tags.length === 0 && !ref.digest) tags.push("latest");

  const concurrency = Math.max(1, opts.concurrency ?? 3);
  const client = clientFor(ref.registry, ref.repository, { ...opts, concurrency });
  const repo = ref.repository;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  try {
    await client.ping([repoScope(repo)]);
    // The registry has the image manifest (or index) already: it checked, when it took it, that
    // every manifest and blob it refers to is in the repository — nothing of the image to upload
    // (a re-push is then a few small requests); only the tags that do not point at it yet.
    const present = await manifestDigest(client, repo, root.desc.digest);
    const hints = await loadHints(cacheDir, ref.registry);
    const counts: Record<BlobResult, number> = { exists: 0, mounted: 0, uploaded: 0 };
    let bytes = 0;
    const blobs = [...walk.blobs.values()]
      .filter((b) => !(present && imageBlobs.has(b.digest)))
      .sort((a, b) => b.size - a.size);
    if (present) {
      counts.exists += walk.blobs.size - blobs.length;
      if (!opts.silent) info(`push: ${repo}@${root.desc.digest} is in the registry already`);
    }
    await mapLimit(blobs, concurrency, async (b) => {
      const short = b.digest.slice(7, 19);
      let bar: ReturnType<typeof progress> | undefined;
      let last = 0;
      const mountFrom = [...new Set([...(opts.from ?? []), ...(hints[b.digest] ?? [])])].filter(
        (r) => r !== repo,
      );
      const r = await pushBlob(client, repo, b, {
        mountFrom,
        chunkSize: opts.chunkSize,
        onBytes: (n) => {
          if (!bar && !opts.silent && b.size >= 1 << 20) bar = progress(`push ${short}`, b.size, "bytes");
          if (n > last) bar?.tick(n - last);
          last = n;
          opts.onProgress?.({ digest: b.digest, bytes: n, total: b.size });
        },
        onResume: opts.silent ? undefined : (m) => info(m),
      });
      counts[r]++;
      if (r === "uploaded") bytes += b.size;
      if (bar) bar.done(r === "uploaded" ? `uploaded ${humanBytes(b.size)}` : r);
      else if (!opts.silent)
        info(`push ${short}: ${r === "uploaded" ? `uploaded ${humanBytes(b.size)}` : r}`);
      if (r !== "uploaded") opts.onProgress?.({ digest: b.digest, bytes: b.size, total: b.size });
    });

    // manifests: children by digest, then the top one under each tag (or by digest)
    const putManifest = async (m: ManifestNode, reference: string): Promise<string | undefined> => {
      const res = await client.request("PUT", `/v2/${repo}/manifests/${reference}`, {
        scopes: [repoScope(repo)],
        headers: { "Content-Type": m.mediaType },
        body: m.bytes,
        expect: [201, 200, 204],
        what: `push manifest ${m.desc.digest} to ${repo}:${reference}`,
      });
      await drain(res);
      const got = header(res.headers, "docker-content-digest");
      if (got && got !== m.desc.digest) {
        throw client.error(
          "E_REGISTRY_DIGEST_INVALID",
          `push manifest to ${repo}:${reference}: the registry stored ${got}, expected ${m.desc.digest}`,
        );
      }
      return header(res.headers, "oci-subject");
    };
    if (!present) for (const m of walk.manifests.slice(0, -1)) await putManifest(m, m.desc.digest);
    const refs: string[] = [];
    if (tags.length === 0 && !present) {
      await putManifest(root, root.desc.digest);
    }
    for (const t of tags) {
      if (!present || (await manifestDigest(client, repo, t)) !== root.desc.digest)
        await putManifest(root, t);
      refs.push(`${ref.registry}/${repo}:${t}`);
    }
    refs.push(`${ref.registry}/${repo}@${root.desc.digest}`);
    let referrers: PushResult["referrers"];
    if (attestation) {
      const ociSubject = await putManifest(attestation, attestation.desc.digest);
      const doc = JSON.parse(attestation.bytes.toString("utf8")) as OciManifest;
      const entry = referrerDescriptor({ ...attestation.desc, mediaType: attestation.mediaType }, doc);
      referrers = await linkReferrer(client, repo, root.desc.digest, entry, ociSubject);
    }
    // remembered for mounts into other repositories (rewritten only when something is new)
    if ([...walk.blobs.keys()].some((d) => hints[d]?.[0] !== repo)) {
      await saveHints(cacheDir, ref.registry, repo, [...walk.blobs.keys()]).catch(() => {});
    }
    return {
      digest: root.desc.digest,
      mediaType: root.mediaType,
      tags: refs,
      uploaded: counts.uploaded,
      skipped: counts.exists,
      mounted: counts.mounted,
      bytes,
      manifests: walk.manifests.length + (attestation ? 1 : 0),
      attestations:
        walk.manifests.filter((m) => isAttestationDescriptor(m.desc)).length + (attestation ? 1 : 0),
      ...(referrers ? { referrers } : {}),
    };
  } catch (e) {
    if (e instanceof OciError) throw e;
    throw client.error(
      "E_REGISTRY",
      `push to ${ref.registry}/${repo}: ${(e as Error).message ?? String(e)}`,
      {
        cause: e,
      },
    );
  } finally {
    client.close();
  }
}
