/**
 * Writing into an OCI layout directory, safely for concurrent writers and killed processes.
 *
 * A write is staged first, outside any lock: its blobs go into a temp directory — beside the
 * layout when the layout does not exist yet, else inside it (`DIR/.tmp-stage.OWNER.RAND`,
 * the same file system). Then:
 * - a new layout: the staged directory gets `oci-layout` and `index.json` and is renamed into
 *   place — it appears whole or not at all;
 * - an existing one (or a new one another writer created meanwhile): under the layout's lock
 *   (`DIR/index.json.lock`, util/lock.ts: released on exit, broken when its process is gone),
 *   index.json is read again, the staged blobs are moved in, the new index is computed from
 *   the current one (other tags kept), every blob it needs is checked to be there, index.json
 *   is replaced atomically, and blobs nothing refers to any more are removed.
 * A blob the layout already has is hard-linked into the stage when the writer asks for it
 * (`has`), so the staged write holds everything it needs and no other writer's clean-up can take
 * a blob away between that check and the commit.
 * If anything fails before index.json is replaced, the blobs this write added are removed
 * again: the layout is as it was. Temps of dead writers (in DIR, DIR/blobs/sha256 and beside
 * DIR) are removed on the way.
 */
import { link, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { cleanTemps, TEMP_PREFIX, tempPathFor, writeFileAtomic } from "../util/atomic.ts";
import { withLock } from "../util/lock.ts";
import { ANNOTATION_SBOM_ATTESTATION } from "./attest.ts";
import { blobStorePath, importBlobFile, parseDigest, storeBlobBytes } from "./digest.ts";
import { OciError } from "./errors.ts";
import { type Descriptor, jsonBytes, type OciIndex, type OciManifest } from "./image.ts";
import { blobPath, OCI_LAYOUT_FILE, readIndex } from "./layout.ts";
import { isIndexMediaType, isManifestMediaType, MEDIA_OCI_MANIFEST } from "./media.ts";

/** The lock file of a layout, beside its index.json. */
export const LAYOUT_LOCK = "index.json.lock";

/** Names in a layout directory that are not content: the lock and temps. */
function isHousekeeping(name: string): boolean {
  return name === LAYOUT_LOCK || name.startsWith(`${LAYOUT_LOCK}.`) || name.startsWith(TEMP_PREFIX);
}

/**
 * What stands at `p`: nothing, an empty directory (the lock and temps aside; also a layout
 * whose first write was killed before its index.json: only oci-layout and blobs), an OCI
 * layout, or something else.
 */
export async function layoutDirState(p: string): Promise<"missing" | "empty" | "layout" | "other"> {
  const st = await stat(p).catch(() => null);
  if (!st) return "missing";
  if (!st.isDirectory()) return "other";
  const names = (await readdir(p)).filter((n) => !isHousekeeping(n));
  if (names.length === 0) return "empty";
  if (names.includes("oci-layout") && names.includes("index.json")) return "layout";
  if (names.every((n) => n === "oci-layout" || n === "blobs")) return "empty";
  return "other";
}

/**
 * Digests of every blob reachable from `descs` in layout `dir`. Strict: a manifest that is
 * missing or not JSON is an error; otherwise it is skipped and `complete` is false.
 */
export async function reachableBlobs(
  dir: string,
  descs: Descriptor[],
  strict = true,
): Promise<{ digests: Set<string>; complete: boolean }> {
  const out = new Set<string>();
  let complete = true;
  const todo = [...descs];
  while (todo.length > 0) {
    const d = todo.pop() as Descriptor;
    if (out.has(d.digest)) continue;
    out.add(d.digest);
    // a single image's attestation manifest, named by its index.json entry
    const att = d.annotations?.[ANNOTATION_SBOM_ATTESTATION];
    if (att && !out.has(att)) {
      const size = await stat(blobPath(dir, att)).then(
        (st) => st.size,
        () => -1,
      );
      if (size >= 0) todo.push({ mediaType: MEDIA_OCI_MANIFEST, digest: att, size });
    }
    if (isIndexMediaType(d.mediaType) || isManifestMediaType(d.mediaType)) {
      let j: OciIndex & OciManifest;
      try {
        j = JSON.parse(await readFile(blobPath(dir, d.digest), "utf8")) as OciIndex & OciManifest;
      } catch (e) {
        const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
        if (!missing && !(e instanceof SyntaxError)) throw e;
        if (!strict) {
          complete = false;
          continue;
        }
        throw new OciError(
          missing ? "E_BLOB_MISSING" : "E_MANIFEST",
          `${dir}: manifest ${d.digest} ${missing ? "is not in the layout" : "is not JSON"}`,
        );
      }
      if (Array.isArray(j?.manifests)) todo.push(...j.manifests);
      if (j?.config) todo.push(j.config);
      if (Array.isArray(j?.layers)) todo.push(...j.layers.filter((l) => !l.urls?.length));
    }
  }
  return { digests: out, complete };
}

/** Blobs of `descs` (strictly reachable) that are not in `dir`: an error naming the first. */
async function checkPresent(dir: string, descs: Descriptor[], shown: string): Promise<void> {
  const { digests } = await reachableBlobs(dir, descs);
  for (const d of digests) {
    if (!(await exists(blobPath(dir, d)))) {
      throw new OciError(
        "E_BLOB_MISSING",
        `${shown}: blob ${d} is missing (another writer may have replaced the tag that held it); run the command again`,
      );
    }
  }
}

export interface LayoutWrite {
  /** the staging root: a layout-shaped directory (`ROOT/blobs/sha256/...`) */
  readonly stage: string;
  /** the blob's path if the layout or the stage has it, else undefined */
  has(digest: string): Promise<string | undefined>;
  /** stage a blob from a file (a hard link when possible) unless the layout has it */
  addBlobFile(digest: string, path: string): Promise<void>;
  /** stage a blob's bytes unless the layout has it */
  addBlobBytes(bytes: Uint8Array): Promise<void>;
  /**
   * Write index.json as `next` computes it from the current one (undefined when there is
   * none yet), under the lock. Resolves with the index written.
   */
  commit(next: (old: OciIndex | undefined) => OciIndex): Promise<OciIndex>;
  /** remove the stage (always call it, in a finally) */
  dispose(): Promise<void>;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Begin a write into the layout directory `dir` (see the module comment). */
export async function beginLayoutWrite(dir: string): Promise<LayoutWrite> {
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
  const fresh = state === "missing";
  if (fresh) {
    await mkdir(dirname(dir), { recursive: true });
    await cleanTemps(dirname(dir), basename(dir));
  }
  const stage = fresh ? tempPathFor(dir) : tempPathFor(join(dir, "stage"));
  await mkdir(join(stage, "blobs", "sha256"), { recursive: true });
  const stageBlobs = join(stage, "blobs");
  let done = false;

  /**
   * A blob the layout already has is hard-linked into the stage: the write then holds every
   * blob it needs itself, so another writer's clean-up (of blobs its index no longer needs, or
   * of its own blobs on a failure) between this check and the commit cannot take it away.
   */
  const has = async (digest: string): Promise<string | undefined> => {
    const staged = blobStorePath(stageBlobs, digest);
    if (await exists(staged)) return staged;
    const inLayout = blobPath(dir, digest);
    try {
      await link(inLayout, staged);
      return staged;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      if (code === "EEXIST") return staged;
      // no hard links here (another file system, EPERM, EMLINK): the layout's copy as it is
      return (await exists(inLayout)) ? inLayout : undefined;
    }
  };

  /** Move the staged blobs into the layout; returns the paths it added. */
  const moveIn = async (): Promise<string[]> => {
    const added: string[] = [];
    const src = join(stageBlobs, "sha256");
    const dest = join(dir, "blobs", "sha256");
    await mkdir(dest, { recursive: true });
    try {
      for (const hex of await readdir(src)) {
        if (hex.startsWith(TEMP_PREFIX)) continue;
        const to = join(dest, hex);
        if (await exists(to)) continue;
        try {
          await rename(join(src, hex), to);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
          await importBlobFile(join(dir, "blobs"), join(src, hex), `sha256:${hex}`);
        }
        added.push(to);
      }
    } catch (e) {
      await Promise.all(added.map((p) => rm(p, { force: true })));
      throw e;
    }
    return added;
  };

  const mergeUnderLock = (next: (old: OciIndex | undefined) => OciIndex): Promise<OciIndex> =>
    withLock(join(dir, LAYOUT_LOCK), { what: `the OCI layout ${dir}` }, async () => {
      await cleanTemps(dir);
      await cleanTemps(join(dir, "blobs", "sha256"));
      const now = await layoutDirState(dir);
      if (now === "other") {
        throw new OciError("E_TARGET", `${dir} is no longer an OCI image layout; refusing to write into it`);
      }
      const old = now === "layout" ? await readIndex(dir) : undefined;
      const added = await moveIn();
      let index: OciIndex;
      try {
        index = next(old);
        const mine = index.manifests.filter(
          (d) => !old?.manifests.some((o) => o.digest === d.digest && sameJson(o, d)),
        );
        await checkPresent(dir, mine, dir);
        if (!(await exists(join(dir, "oci-layout"))))
          await writeFileAtomic(join(dir, "oci-layout"), OCI_LAYOUT_FILE);
        await writeFileAtomic(join(dir, "index.json"), jsonBytes(index));
      } catch (e) {
        await Promise.all(added.map((p) => rm(p, { force: true })));
        throw e;
      }
      // blobs nothing refers to any more (the replaced tag's) are removed — unless some manifest
      // could not be read (then what it refers to is unknown); a failure here is harmless
      const needed = await reachableBlobs(dir, index.manifests, false);
      if (needed.complete) {
        const blobs = await readdir(join(dir, "blobs", "sha256")).catch(() => [] as string[]);
        for (const hex of blobs) {
          if (hex.startsWith(TEMP_PREFIX) || needed.digests.has(`sha256:${hex}`)) continue;
          await rm(join(dir, "blobs", "sha256", hex), { force: true }).catch(() => {});
        }
      }
      return index;
    });

  return {
    stage,
    has,
    async addBlobFile(digest, path) {
      parseDigest(digest);
      if (await has(digest)) return;
      await importBlobFile(stageBlobs, path, digest);
    },
    async addBlobBytes(bytes) {
      await storeBlobBytes(stageBlobs, bytes);
    },
    async commit(next) {
      if (fresh) {
        const index = next(undefined);
        await checkPresent(stage, index.manifests, dir);
        await writeFileAtomic(join(stage, "oci-layout"), OCI_LAYOUT_FILE);
        await writeFileAtomic(join(stage, "index.json"), jsonBytes(index));
        try {
          await rename(stage, dir);
          done = true;
          return index;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
          // another writer created the layout meanwhile: merge into it
        }
      }
      return mergeUnderLock(next);
    },
    async dispose() {
      if (!done) await rm(stage, { recursive: true, force: true });
    },
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
