/**
 * Opening any image reference verify and test accept: what src/oci/read.ts opens (oci:DIR,
 * oci-archive:FILE, docker-archive:FILE) plus `registry:HOST[:PORT]/REPO[:TAG|@DIGEST]` (also
 * `docker://`), which is pulled into a private temp OCI layout first (removed on close).
 * `localRef` names a local copy that other tools (podman, docker) can read.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OpenedImage, openImage } from "../oci/read.ts";
import { parseImageRef, READ_REF } from "../oci/ref.ts";

export interface OpenedRef {
  image: OpenedImage;
  /** a local reference to the same image (the ref itself unless it was pulled) */
  localRef: string;
  close(): Promise<void>;
}

export interface OpenRefOptions {
  platform?: string;
  creds?: string;
  insecure?: boolean;
}

const pulls = new Set<string>();

/** Remove the temp layouts of pulls still open (Ctrl-C handler). */
export async function cleanupPulls(): Promise<void> {
  await Promise.allSettled([...pulls].map((d) => rm(d, { recursive: true, force: true })));
  pulls.clear();
}

export function isRegistryRef(ref: string): boolean {
  return parseImageRef(ref, READ_REF).transport === "registry";
}

export async function openImageRef(ref: string, opts: OpenRefOptions = {}): Promise<OpenedRef> {
  if (!isRegistryRef(ref)) {
    const image = await openImage(ref, { platform: opts.platform });
    return { image, localRef: ref, close: () => image.close() };
  }
  const dir = await mkdtemp(join(tmpdir(), "shellfree-pulled-"));
  pulls.add(dir);
  try {
    const localRef = `oci:${join(dir, "layout")}:pulled`;
    // loaded only for registry references: local images do not pay for the registry client
    const { pullToLayout } = await import("../oci/registry.ts");
    await pullToLayout(ref, localRef, {
      platform: opts.platform,
      creds: opts.creds,
      insecure: opts.insecure,
      silent: true,
    });
    const image = await openImage(localRef, { platform: opts.platform });
    return {
      image,
      localRef,
      close: async () => {
        await image.close();
        await rm(dir, { recursive: true, force: true });
        pulls.delete(dir);
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    pulls.delete(dir);
    throw e;
  }
}
