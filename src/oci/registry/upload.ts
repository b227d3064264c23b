/**
 * Blob upload (OCI Distribution spec, "push"): existence check (HEAD), cross-repository mount,
 * monolithic upload (POST, then PUT ?digest= with the whole body) or chunked upload (PATCH with
 * Content-Range, then PUT ?digest=). The body is streamed from the file, never held in memory.
 * After a broken connection the upload asks the registry how much it has (GET on the upload
 * URL → Range) and continues from there; when the registry lost the session it starts anew.
 */
import { stat } from "node:fs/promises";
import { drain, type FileBody, header, isTransientError, type RegistryClient } from "./client.ts";

export type BlobResult = "exists" | "mounted" | "uploaded";

export interface UploadOptions {
  /** repositories of the same registry that may hold the blob (cross-repository mount) */
  mountFrom?: string[];
  /** > 0: PATCH chunks of this many bytes; 0 (default): one monolithic PUT */
  chunkSize?: number;
  /** called with the number of bytes the registry holds so far */
  onBytes?: (bytes: number) => void;
  /** called when the upload resumes or restarts after a failure */
  onResume?: (message: string) => void;
  /** connection failures tolerated per blob before giving up (default 5) */
  maxFailures?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fileRange(path: string, start: number, end: number, onBytes?: (n: number) => void): FileBody {
  return { file: path, start, end, onBytes };
}

export function repoScope(repo: string, push = true): string {
  return `repository:${repo}:${push ? "pull,push" : "pull"}`;
}

function withQuery(location: string, key: string, value: string): string {
  const u = new URL(location);
  u.searchParams.set(key, value);
  return u.toString();
}

/** Does the repository have this blob? */
export async function blobExists(
  client: RegistryClient,
  repo: string,
  digest: string,
  push = true,
): Promise<boolean> {
  const res = await client.request("HEAD", `/v2/${repo}/blobs/${digest}`, {
    scopes: [repoScope(repo, push)],
    expect: [200, 404],
    what: `check blob ${digest} in ${repo}`,
  });
  await drain(res);
  return res.statusCode === 200;
}

/** Start an upload session; returns its absolute URL. */
async function startUpload(client: RegistryClient, repo: string): Promise<string> {
  const res = await client.request("POST", `/v2/${repo}/blobs/uploads/`, {
    scopes: [repoScope(repo)],
    expect: [202],
    what: `start blob upload to ${repo}`,
    body: Buffer.alloc(0),
  });
  await drain(res);
  const loc = header(res.headers, "location");
  if (!loc)
    throw client.error("E_REGISTRY", `start blob upload to ${repo}: the registry gave no upload location`);
  return new URL(loc, client.url("/")).toString();
}

/** How many bytes does the upload session hold? undefined when the session is gone. */
async function uploadStatus(
  client: RegistryClient,
  repo: string,
  location: string,
): Promise<{ offset: number; location: string } | undefined> {
  try {
    const res = await client.request("GET", location, {
      scopes: [repoScope(repo)],
      expect: [204, 200, 404, 400, 416],
      what: `upload status in ${repo}`,
      follow: false,
    });
    await drain(res);
    if (res.statusCode !== 204 && res.statusCode !== 200) return undefined;
    const range = header(res.headers, "range");
    const m = range ? /^(?:bytes=)?0-([0-9]+)$/.exec(range.trim()) : null;
    // "0-0" is ambiguous (0 or 1 byte): resend from 0 in that case
    const offset = m && Number(m[1]) > 0 ? Number(m[1]) + 1 : 0;
    const loc = header(res.headers, "location");
    return { offset, location: loc ? new URL(loc, location).toString() : location };
  } catch (e) {
    if (isTransientError(e)) throw e;
    return undefined;
  }
}

/**
 * Make sure `repo` holds blob `digest` (size `size`, content in file `path`): nothing to do when
 * it exists, a mount when another repository has it, an upload otherwise.
 */
export async function pushBlob(
  client: RegistryClient,
  repo: string,
  blob: { digest: string; size: number; path: string },
  opts: UploadOptions = {},
): Promise<BlobResult> {
  const { digest, size, path } = blob;
  const st = await stat(path).catch(() => null);
  if (!st) throw client.error("E_LAYOUT", `blob ${digest} is missing from the layout (${path})`);
  if (st.size !== size) {
    throw client.error(
      "E_LAYOUT",
      `blob ${digest} in the layout has ${st.size} bytes, its descriptor says ${size}`,
    );
  }
  if (await blobExists(client, repo, digest)) return "exists";

  let mountLocation: string | undefined;
  for (const from of opts.mountFrom ?? []) {
    if (from === repo) continue;
    const res = await client.request(
      "POST",
      `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      {
        scopes: [repoScope(repo), repoScope(from, false)],
        expect: [201, 202],
        what: `mount blob ${digest} from ${from} into ${repo}`,
        body: Buffer.alloc(0),
      },
    );
    await drain(res);
    if (res.statusCode === 201) return "mounted";
    const loc = header(res.headers, "location");
    if (loc) {
      // the registry declined the mount and opened an ordinary upload session instead
      mountLocation = new URL(loc, client.url("/")).toString();
      break;
    }
  }
  let location: string = mountLocation ?? (await startUpload(client, repo));

  const chunk = opts.chunkSize && opts.chunkSize > 0 ? opts.chunkSize : 0;
  const maxFailures = opts.maxFailures ?? 5;
  const base = Number(process.env.SHELLFREE_RETRY_BASE_MS ?? 200);
  let offset = 0;
  let failures = 0;
  for (;;) {
    try {
      if (offset === 0 && (chunk === 0 || size <= chunk)) {
        // monolithic: the whole blob in the PUT that completes the upload
        const res = await client.request("PUT", withQuery(location, "digest", digest), {
          scopes: [repoScope(repo)],
          headers: { "Content-Type": "application/octet-stream" },
          body: fileRange(path, 0, size, opts.onBytes),
          expect: [201, 204],
          what: `upload blob ${digest} to ${repo}`,
          retry: false,
        });
        await drain(res);
        checkDigestHeader(client, res.headers, digest, repo);
        return "uploaded";
      }
      // chunked: PATCH from `offset` (everything left, or `chunk` bytes at a time)
      while (offset < size) {
        const end = chunk > 0 ? Math.min(size, offset + chunk) : size;
        const res = await client.request("PATCH", location, {
          scopes: [repoScope(repo)],
          headers: { "Content-Type": "application/octet-stream", "Content-Range": `${offset}-${end - 1}` },
          body: fileRange(path, offset, end, opts.onBytes),
          expect: [202, 204],
          what: `upload blob ${digest} to ${repo} (bytes ${offset}-${end - 1})`,
          retry: false,
        });
        await drain(res);
        const loc = header(res.headers, "location");
        if (loc) location = new URL(loc, location).toString();
        offset = end;
      }
      const res = await client.request("PUT", withQuery(location, "digest", digest), {
        scopes: [repoScope(repo)],
        headers: { "Content-Type": "application/octet-stream" },
        body: Buffer.alloc(0),
        expect: [201, 204],
        what: `finish upload of blob ${digest} to ${repo}`,
        retry: false,
      });
      await drain(res);
      checkDigestHeader(client, res.headers, digest, repo);
      return "uploaded";
    } catch (e) {
      const code = (e as { code?: string }).code;
      const lostSession = code === "E_REGISTRY_UPLOAD_UNKNOWN" || code === "E_REGISTRY_UPLOAD_INVALID";
      if (!(isTransientError(e) || lostSession) || ++failures > maxFailures) throw e;
      await sleep(base * 2 ** Math.min(failures - 1, 5));
      const status: { offset: number; location: string } | undefined = lostSession
        ? undefined
        : await uploadStatus(client, repo, location);
      if (status && status.offset <= size) {
        offset = status.offset;
        location = status.location;
        opts.onResume?.(`blob ${digest}: connection lost; resuming at byte ${offset} of ${size}`);
      } else {
        offset = 0;
        location = await startUpload(client, repo);
        opts.onResume?.(
          `blob ${digest}: connection lost and the upload session is gone; starting the upload again`,
        );
      }
      opts.onBytes?.(offset);
    }
  }
}

function checkDigestHeader(
  client: RegistryClient,
  headers: import("node:http").IncomingHttpHeaders,
  digest: string,
  repo: string,
): void {
  const got = header(headers, "docker-content-digest");
  if (got && got !== digest) {
    throw client.error(
      "E_REGISTRY_DIGEST_INVALID",
      `upload blob ${digest} to ${repo}: the registry stored ${got}`,
    );
  }
}
