/**
 * Pull an image from a registry into an OCI layout: the manifest (or index, with all its
 * platforms or the one `--platform` names), then every blob, each streamed to a temp file in the
 * layout while its digest and size are checked, and renamed into place only when they match.
 * index.json is written last. A new layout directory appears only when the pull completed.
 * Attestation manifests in an index (attached SBOMs) come along with the whole index. A single
 * image manifest (a single-platform tag, or the platform `--platform` takes out of an index)
 * brings its attestation manifest along when there is one — the index's entry about it, or an
 * OCI 1.1 referrer with artifactType application/vnd.shellfree.sbom or BuildKit's annotation
 * (referrers API, else the referrers tag `sha256-<hex>`) — stored in blobs/ and named by the
 * index.json entry's `dev.shellfree.sbom.attestation` annotation, as `shellfree build` writes it.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Transform } from "node:stream";
import { RetryBudget } from "../../util/http.ts";
import { humanBytes, info, progress } from "../../util/progress.ts";
import {
  ANNOTATION_REFERENCE_DIGEST,
  ANNOTATION_REFERENCE_TYPE,
  ANNOTATION_SBOM_ATTESTATION,
  ARTIFACT_TYPE_SBOM,
  isAttestationDescriptor,
  REFERENCE_TYPE_ATTESTATION,
  referrersTag,
} from "../attest.ts";
import { sha256Digest } from "../digest.ts";
import { OciError } from "../errors.ts";
import { type Descriptor, type OciIndex, parsePlatform } from "../image.ts";
import { writeBlobStream } from "../layout.ts";
import { beginLayoutWrite, type LayoutWrite, layoutDirState } from "../layout-write.ts";
import {
  ANNOTATION_REF_NAME,
  isIndexMediaType,
  isManifestMediaType,
  MANIFEST_ACCEPT,
  MEDIA_OCI_INDEX,
} from "../media.ts";
import { parseLayoutRef, parseRegistryRef } from "../ref.ts";
import { clientFor, drain, header, isTransientError, type RegistryClient, readBody } from "./client.ts";
import { repoScope } from "./upload.ts";

export interface PullOptions {
  /** "linux/arm64[/v8]": from a multi-platform index, only this platform (default: all) */
  platform?: string;
  creds?: string;
  insecure?: boolean;
  /** verify TLS even for a localhost/127.0.0.0/8 registry */
  tlsVerify?: boolean;
  /** blobs downloaded in parallel (default 3) */
  concurrency?: number;
  silent?: boolean;
}

export interface PullResult {
  /** digest of what the layout's index.json now points at under the tag */
  digest: string;
  mediaType: string;
  /** blobs in the pulled image (manifests included) */
  blobs: number;
  /** bytes downloaded */
  bytes: number;
  /** attestation manifests (attached SBOMs) among the manifests pulled */
  attestations: number;
  tag?: string;
}

export interface Fetched {
  desc: Descriptor;
  bytes: Buffer;
  doc: {
    mediaType?: string;
    manifests?: Descriptor[];
    config?: Descriptor;
    layers?: Descriptor[];
    subject?: Descriptor;
  };
}

/** Whether a referrer descriptor is an attestation (attached SBOMs). */
function isSbomReferrer(d: Descriptor): boolean {
  return (
    d.artifactType === ARTIFACT_TYPE_SBOM ||
    d.annotations?.[ANNOTATION_REFERENCE_TYPE] === REFERENCE_TYPE_ATTESTATION
  );
}

export async function referrersIndex(
  client: RegistryClient,
  repo: string,
  path: string,
  expect: number[],
): Promise<Descriptor[] | undefined> {
  const res = await client.request("GET", path, {
    scopes: [repoScope(repo, false)],
    headers: { Accept: MEDIA_OCI_INDEX },
    expect,
    what: `get ${path}`,
    retry: false,
  });
  if (res.statusCode !== 200) {
    await drain(res);
    return undefined;
  }
  const doc = JSON.parse((await readBody(res, 4 << 20)).toString("utf8")) as OciIndex;
  return doc?.schemaVersion === 2 && Array.isArray(doc.manifests) ? doc.manifests : undefined;
}

/**
 * The attestation manifest among the OCI 1.1 referrers of `subject`: the referrers API, else the
 * referrers tag schema. Best effort: an image without (findable) referrers is pulled without.
 */
async function findAttestationReferrer(
  client: RegistryClient,
  repo: string,
  subject: string,
  silent: boolean,
): Promise<Descriptor | undefined> {
  try {
    const api = await referrersIndex(
      client,
      repo,
      `/v2/${repo}/referrers/${subject}`,
      [200, 400, 404, 405, 406, 415, 501],
    ).catch(() => undefined);
    const list =
      api ??
      (await referrersIndex(client, repo, `/v2/${repo}/manifests/${referrersTag(subject)}`, [200, 404]));
    return list?.find((d) => isSbomReferrer(d) && isManifestMediaType(d.mediaType));
  } catch (e) {
    if (!silent) info(`referrers of ${subject}: ${(e as Error).message}; pulled without attached SBOMs`);
    return undefined;
  }
}

export async function fetchManifest(
  client: RegistryClient,
  repo: string,
  reference: string,
  expect?: Descriptor,
): Promise<Fetched> {
  const what = `get manifest ${repo}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`;
  const res = await client.request("GET", `/v2/${repo}/manifests/${reference}`, {
    scopes: [repoScope(repo, false)],
    headers: { Accept: MANIFEST_ACCEPT },
    expect: [200],
    what,
  });
  const bytes = await readBody(res, 4 << 20);
  const digest = sha256Digest(bytes);
  const want = expect?.digest ?? (reference.startsWith("sha256:") ? reference : undefined);
  if (want && digest !== want) {
    throw client.error("E_DIGEST", `${what}: the registry sent content with digest ${digest}`);
  }
  const headerDigest = header(res.headers, "docker-content-digest");
  if (!want && headerDigest && headerDigest !== digest) {
    throw client.error(
      "E_DIGEST",
      `${what}: content digest ${digest} differs from the registry's ${headerDigest}`,
    );
  }
  let doc: Fetched["doc"];
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw client.error("E_MANIFEST", `${what}: not JSON`);
  }
  const ct = (header(res.headers, "content-type") ?? "").split(";")[0].trim();
  const mediaType = doc.mediaType ?? expect?.mediaType ?? ct;
  if (!isIndexMediaType(mediaType) && !isManifestMediaType(mediaType)) {
    throw client.error("E_MANIFEST", `${what}: unsupported media type "${mediaType}"`);
  }
  return { desc: { mediaType, digest, size: bytes.length }, bytes, doc };
}

function platformMatches(
  p: Descriptor["platform"],
  want: { os: string; architecture: string; variant?: string },
): boolean {
  if (!p) return false;
  if (p.os !== want.os || p.architecture !== want.architecture) return false;
  if (want.variant && p.variant !== want.variant) return false;
  return true;
}

/** Pull `src` (HOST[:PORT]/REPO[:TAG|@DIGEST]) into the layout `oci:DIR[:TAG]`. */
export async function pullToLayout(
  src: string,
  layoutDest: string,
  opts: PullOptions = {},
): Promise<PullResult> {
  const ref = parseRegistryRef(src);
  const lref = parseLayoutRef(layoutDest);
  const dir = resolve(lref.dir);
  const want = opts.platform ? parsePlatform(opts.platform) : undefined;
  const state = await layoutDirState(dir);
  if (state === "other") {
    throw new OciError(
      "E_TARGET",
      `${dir} exists and is not an OCI image layout; refusing to write into it`,
      {
        hint: "choose a new directory or remove it first",
      },
    );
  }
  const repo = ref.repository;
  const concurrency = Math.max(1, opts.concurrency ?? 3);
  const client = clientFor(ref.registry, repo, { ...opts, concurrency });
  try {
    await client.ping([repoScope(repo, false)]);
    let top = await fetchManifest(client, repo, ref.digest ?? ref.tag ?? "latest");
    const manifests: Fetched[] = [];
    /** a single image's attestation manifest (attached SBOMs) */
    let attached: Fetched | undefined;
    if (isIndexMediaType(top.desc.mediaType) && want) {
      const child = (top.doc.manifests ?? []).find((m) => platformMatches(m.platform, want));
      if (!child) {
        const have = (top.doc.manifests ?? [])
          .map((m) =>
            m.platform
              ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ""}`
              : "?",
          )
          .join(", ");
        throw new OciError(
          "E_PLATFORM",
          `${src} has no image for ${opts.platform} (it has: ${have || "none"})`,
        );
      }
      const index = top;
      top = await fetchManifest(client, repo, child.digest, child);
      top.desc.platform = child.platform;
      // its attestation, listed beside it in the index
      const att = (index.doc.manifests ?? []).find(
        (m) => isAttestationDescriptor(m) && m.annotations?.[ANNOTATION_REFERENCE_DIGEST] === child.digest,
      );
      if (att) attached = await fetchManifest(client, repo, att.digest, att);
    } else if (!isIndexMediaType(top.desc.mediaType)) {
      const att = await findAttestationReferrer(client, repo, top.desc.digest, opts.silent === true);
      if (att) attached = await fetchManifest(client, repo, att.digest, att);
    }
    if (attached && attached.doc.subject?.digest !== top.desc.digest) attached = undefined;
    // every manifest reachable from top; blobs of image manifests
    const blobs = new Map<string, Descriptor>();
    const seen = new Set<string>();
    const attestations = new Set<string>();
    const visit = async (f: Fetched, depth: number) => {
      if (seen.has(f.desc.digest)) return;
      seen.add(f.desc.digest);
      if (depth > 8) throw new OciError("E_MANIFEST", `${src}: indices nested too deeply`);
      if (isIndexMediaType(f.desc.mediaType)) {
        for (const c of f.doc.manifests ?? []) {
          if (isAttestationDescriptor(c)) attestations.add(c.digest);
          await visit(await fetchManifest(client, repo, c.digest, c), depth + 1);
        }
      } else {
        if (!f.doc.config)
          throw new OciError("E_MANIFEST", `${src}: manifest ${f.desc.digest} has no config`);
        for (const b of [f.doc.config, ...(f.doc.layers ?? [])]) {
          if (b.urls?.length) continue; // non-distributable layer: not served by the registry
          blobs.set(b.digest, b);
        }
      }
      manifests.push(f);
    };
    await visit(top, 0);
    if (attached) {
      attestations.add(attached.desc.digest);
      await visit(attached, 1);
    }

    const tag = lref.tag ?? ref.tag ?? (ref.digest ? undefined : "latest");
    let bytes = 0;

    const w = await beginLayoutWrite(dir);
    try {
      for (const m of manifests) await w.addBlobBytes(m.bytes);
      const list = [...blobs.values()].sort((a, b) => b.size - a.size);
      let next = 0;
      let failed: unknown;
      const worker = async () => {
        while (next < list.length && failed === undefined) {
          const d = list[next++];
          try {
            const n = await downloadBlob(client, repo, w, d, opts.silent === true);
            bytes += n;
          } catch (e) {
            failed ??= e;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, list.length)) }, worker));
      if (failed !== undefined) throw failed;
      // a single image gets its platform in index.json (as shellfree writes layouts), from its config
      if (!isIndexMediaType(top.desc.mediaType) && !top.desc.platform && top.doc.config) {
        try {
          const at = await w.has(top.doc.config.digest);
          const cfg = JSON.parse(await readFile(at ?? "", "utf8")) as {
            os?: string;
            architecture?: string;
            variant?: string;
          };
          if (cfg.os && cfg.architecture) {
            top.desc.platform = cfg.variant
              ? { architecture: cfg.architecture, os: cfg.os, variant: cfg.variant }
              : { architecture: cfg.architecture, os: cfg.os };
          }
        } catch {
          // a config that is not an image config (an artifact): no platform
        }
      }
      if (want && top.desc.platform && !platformMatches(top.desc.platform, want)) {
        const p = top.desc.platform;
        throw new OciError(
          "E_PLATFORM",
          `${src} is an image for ${p.os}/${p.architecture}, not ${opts.platform}`,
        );
      }
      const entry: Descriptor = {
        mediaType: top.desc.mediaType,
        digest: top.desc.digest,
        size: top.desc.size,
      };
      if (top.desc.platform) entry.platform = top.desc.platform;
      const ann: Record<string, string> = {};
      if (attached) ann[ANNOTATION_SBOM_ATTESTATION] = attached.desc.digest;
      if (tag !== undefined) ann[ANNOTATION_REF_NAME] = tag;
      if (Object.keys(ann).length > 0) entry.annotations = ann;
      const refOf = (d: Descriptor) => d.annotations?.[ANNOTATION_REF_NAME] ?? "";
      // under the layout's lock, from the index.json as it is then: other tags are kept
      await w.commit((old): OciIndex => {
        const kept = (old?.manifests ?? []).filter((d) =>
          tag === undefined
            ? d.digest !== entry.digest || d.annotations?.[ANNOTATION_REF_NAME] !== undefined
            : d.annotations?.[ANNOTATION_REF_NAME] !== tag,
        );
        return {
          schemaVersion: 2,
          mediaType: MEDIA_OCI_INDEX,
          manifests: [...kept, entry].sort((a, b) => refOf(a).localeCompare(refOf(b))),
        };
      });
    } finally {
      await w.dispose();
    }
    return {
      digest: top.desc.digest,
      mediaType: top.desc.mediaType,
      blobs: blobs.size + manifests.length,
      bytes,
      attestations: attestations.size,
      tag,
    };
  } catch (e) {
    if (e instanceof OciError) throw e;
    throw client.error("E_REGISTRY", `pull ${ref.registry}/${repo}: ${(e as Error).message ?? String(e)}`, {
      cause: e,
    });
  } finally {
    client.close();
  }
}

/** Download one blob into the write's stage (skipped when the layout has it); returns bytes downloaded. */
async function downloadBlob(
  client: RegistryClient,
  repo: string,
  w: LayoutWrite,
  d: Descriptor,
  silent: boolean,
): Promise<number> {
  if (await w.has(d.digest)) return 0;
  const short = d.digest.slice(7, 19);
  const base = Number(process.env.SHELLFREE_RETRY_BASE_MS ?? 200);
  const budget = new RetryBudget();
  for (let attempt = 1; ; attempt++) {
    const bar = !silent && d.size >= 1 << 20 ? progress(`pull ${short}`, d.size, "bytes") : undefined;
    try {
      const res = await client.request("GET", `/v2/${repo}/blobs/${d.digest}`, {
        scopes: [repoScope(repo, false)],
        expect: [200],
        what: `get blob ${d.digest} from ${repo}`,
      });
      // count through a transform (a 'data' listener would start the flow before the writer is attached)
      const counted = bar
        ? res.pipe(
            new Transform({
              transform(chunk: Buffer, _enc, cb) {
                bar.tick(chunk.length);
                cb(null, chunk);
              },
            }),
          )
        : res;
      if (counted !== res) res.on("error", (e) => counted.destroy(e));
      await writeBlobStream(w.stage, counted, d.digest, d.size);
      if (bar) bar.done(`downloaded ${humanBytes(d.size)}`);
      else if (!silent) info(`pull ${short}: downloaded ${humanBytes(d.size)}`);
      return d.size;
    } catch (e) {
      const code = (e as { code?: string }).code;
      const retriable = isTransientError(e) || code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE";
      const delay = base * 2 ** (attempt - 1);
      const stalled = (e as { stalled?: boolean }).stalled === true;
      if (!retriable || !budget.another(stalled, delay) || attempt >= 4) {
        if (e instanceof OciError) throw e;
        throw client.error(
          stalled ? "E_TIMEOUT" : "E_NETWORK",
          `get blob ${d.digest} from ${repo}: ${(e as Error).message}`,
          {
            cause: e,
            hint: stalled
              ? "the registry accepted the request but did not answer in time; check it (or give more time with --timeout SECONDS)"
              : undefined,
          },
        );
      }
      if (!silent) info(`retry: get blob ${d.digest}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
