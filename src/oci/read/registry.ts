/**
 * Opening a registry image (docker://HOST/REPO[:TAG|@DIGEST], registry:...) for reading: it is
 * pulled into a private temp OCI layout first (every blob verified as it streams), opened from
 * there, and the layout removed on close — or by `cleanupPulls` when the process is
 * interrupted.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LayoutImageRef, parseImageRef } from "../ref.ts";
import { pullToLayout } from "../registry/pull.ts";
import { openLayoutImage } from "./layout.ts";
import type { OpenedImage } from "./opened.ts";

export interface RegistryReadOptions {
  platform?: string;
  creds?: string;
  insecure?: boolean;
  /** HTTPS with certificate checks even for localhost and 127.0.0.0/8 */
  tlsVerify?: boolean;
}

const pulls = new Set<string>();

/** Remove the temp layouts of pulls still open (Ctrl-C handler). */
export async function cleanupPulls(): Promise<void> {
  await Promise.allSettled([...pulls].map((d) => rm(d, { recursive: true, force: true })));
  pulls.clear();
}

export async function openRegistryImage(ref: string, opts: RegistryReadOptions = {}): Promise<OpenedImage> {
  const dir = await mkdtemp(join(tmpdir(), "shellfree-pulled-"));
  pulls.add(dir);
  const removeDir = async () => {
    await rm(dir, { recursive: true, force: true });
    pulls.delete(dir);
  };
  try {
    const localRef = `oci:${join(dir, "layout")}:pulled`;
    await pullToLayout(ref, localRef, {
      platform: opts.platform,
      creds: opts.creds,
      insecure: opts.insecure,
      tlsVerify: opts.tlsVerify,
      silent: true,
    });
    const image = await openLayoutImage(parseImageRef(localRef) as LayoutImageRef, localRef, opts.platform);
    return {
      ...image,
      ref,
      localRef,
      close: async () => {
        await image.close();
        await removeDir();
      },
    };
  } catch (e) {
    await removeDir();
    throw e;
  }
}
