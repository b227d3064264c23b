/**
 * Reading images back, by transport (as go-containerregistry does: layout, tarball, remote):
 * oci:DIR and oci-archive:FILE (read/layout.ts), docker-archive:FILE (read/docker-archive.ts),
 * docker:// and registry: (read/registry.ts, pulled into a temp layout first). Every blob read is
 * checked against its digest (manifests and configs before they are parsed; layers while they
 * stream, so a consumer sees an error instead of the end of a corrupt layer). Layers are handed
 * out as uncompressed tar streams.
 */
import { parseImageRef, parseLocalRef } from "../ref.ts";
import type { Platform } from "../types.ts";
import { openDockerArchive } from "./docker-archive.ts";
import { layoutManifests, openLayoutImage } from "./layout.ts";
import type { OpenedImage } from "./opened.ts";
import { openRegistryImage, type RegistryReadOptions } from "./registry.ts";

/**
 * Open one image of `ref` (any transport). With several platforms: `opts.platform`, else the
 * host's. Registry credentials and --insecure apply to docker:// and registry: references.
 */
export async function openImage(ref: string, opts: RegistryReadOptions = {}): Promise<OpenedImage> {
  const r = parseImageRef(ref);
  switch (r.transport) {
    case "docker-archive":
      return openDockerArchive(r, ref, opts.platform);
    case "registry":
      return openRegistryImage(ref, opts);
    default:
      return openLayoutImage(r, ref, opts.platform);
  }
}

/** The images (one per platform) that the local reference `ref` names. */
export async function listManifests(
  ref: string,
): Promise<Array<{ platform: Platform; digest: string; size: number }>> {
  const r = parseLocalRef(ref);
  if (r.transport === "docker-archive") {
    const im = await openDockerArchive(r, ref);
    return [{ platform: im.platform, digest: im.manifestDigest, size: JSON.stringify(im.manifest).length }];
  }
  return layoutManifests(r);
}
