/**
 * A docker-archive image written as an OCI image layout, for the commands that work on a layout
 * directory (push), as skopeo copies one: the config as it is, every layer gzip-compressed from
 * its verified uncompressed stream (docker's own archives hold them uncompressed), a Docker
 * schema 2 manifest, `index.json` naming it by TAG when one is given.
 */
import { createWriteStream } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { DigestStream, sha256Digest } from "../digest.ts";
import { OciError } from "../errors.ts";
import type { Descriptor, OciManifest } from "../image.ts";
import {
  ANNOTATION_REF_NAME,
  MEDIA_DOCKER_CONFIG,
  MEDIA_DOCKER_LAYER_GZIP,
  MEDIA_DOCKER_MANIFEST,
  MEDIA_OCI_INDEX,
} from "../media.ts";
import type { DockerArchiveImageRef } from "../ref.ts";
import { openDockerArchive } from "./docker-archive.ts";
import { indexTar, readMember } from "./tar-index.ts";

const blobPath = (dir: string, digest: string) => join(dir, "blobs", ...digest.split(":"));

/**
 * Write the image `r` names into the new layout directory `dir`; `tag` names it in index.json.
 * Returns the manifest's digest.
 */
export async function dockerArchiveToLayout(
  r: DockerArchiveImageRef,
  dir: string,
  tag?: string,
): Promise<string> {
  const img = await openDockerArchive(r, `docker-archive:${r.path}`);
  try {
    await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
    // the config's bytes as the archive holds them (the image is named by their digest): the
    // member of that size and digest
    const file = resolve(r.path);
    let cfgBytes: Buffer | undefined;
    for (const [name, m] of await indexTar(file)) {
      if (m.size !== img.manifest.config.size) continue;
      const b = await readMember(file, m, name);
      if (sha256Digest(b) === img.configDigest) {
        cfgBytes = b;
        break;
      }
    }
    if (!cfgBytes) throw new OciError("E_LAYOUT", `${file}: no member holds the config ${img.configDigest}`);
    await writeFile(blobPath(dir, img.configDigest), cfgBytes);
    const layers: Descriptor[] = [];
    for (const [i, l] of img.layers.entries()) {
      const tmp = join(dir, "blobs", `.layer-${i}`);
      const h = new DigestStream();
      await pipeline(await l.open(), createGzip(), h, createWriteStream(tmp));
      const digest = h.digest();
      await rename(tmp, blobPath(dir, digest));
      layers.push({ mediaType: MEDIA_DOCKER_LAYER_GZIP, digest, size: h.size });
    }
    const manifest: OciManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_DOCKER_MANIFEST,
      config: { mediaType: MEDIA_DOCKER_CONFIG, digest: img.configDigest, size: cfgBytes.length },
      layers,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const digest = sha256Digest(bytes);
    await writeFile(blobPath(dir, digest), bytes);
    await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    await writeFile(
      join(dir, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_OCI_INDEX,
        manifests: [
          {
            mediaType: MEDIA_DOCKER_MANIFEST,
            digest,
            size: bytes.length,
            ...(tag ? { annotations: { [ANNOTATION_REF_NAME]: tag } } : {}),
          },
        ],
      }),
    );
    return digest;
  } finally {
    await img.close();
  }
}
