/**
 * Small test images made from host files, without Debian, for any subsystem's tests:
 *
 *   const { ref } = await makeImage(dir, {
 *     files: [{ path: "/usr/bin/tini-static", hostPath: TINI, mode: 0o755 }],
 *     config: { entrypoint: [TINI, "--version"], user: "65532" },
 *   });                                   // → oci:<dir>/image:latest
 *   await tiniImage(dir)                  // the same, shortest form
 *
 * Parent directories are created (0755 root:root) unless listed. Several layers: `layers`
 * (each like the top-level files/dirs/symlinks/hardlinks). Outputs: OCI layout (default),
 * oci-archive, docker-archive. Several platforms: `platforms`. A whiteout in a later layer is a
 * file named `.wh.<name>` (e.g. `{ path: "/etc/.wh.passwd", data: "" }`). `editConfig` edits the
 * config JSON freely (shell-form entrypoints, USER 0, CMD-SHELL healthchecks for bad-image tests).
 */
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { OciImageConfig } from "../../src/formats/index.ts";
import {
  type BuiltImage,
  buildImage,
  type Compression,
  type ImageConfigInput,
  jsonBytes,
  type Layer,
  MEDIA_OCI_CONFIG,
  type OciManifest,
  parsePlatform,
  storeBlobBytes,
  type WriteResult,
  writeLayer,
  writeOutput,
} from "../../src/oci/index.ts";
import type { Platform, TreeEntry } from "../../src/oci/types.ts";

/** A static binary present on every CI host (scripts/setup-host.sh installs tini). */
export const TINI = "/usr/bin/tini-static";
/** SOURCE_DATE_EPOCH used by test images unless given */
export const TEST_EPOCH = 1_700_000_000;

export interface ImageFile {
  /** absolute ("/etc/x") or relative ("etc/x") path in the image */
  path: string;
  hostPath?: string;
  data?: string | Uint8Array;
  mode?: number;
  uid?: number;
  gid?: number;
}
export interface ImageDir {
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
}
export interface ImageLink {
  path: string;
  target: string;
}
export interface LayerSpec {
  files?: ImageFile[];
  dirs?: ImageDir[];
  symlinks?: ImageLink[];
  /** target is an image path of a file in the same layer */
  hardlinks?: ImageLink[];
}

export interface MakeImageOptions extends LayerSpec {
  /** extra layers after the one made of the top-level files/dirs/... */
  layers?: LayerSpec[];
  config?: ImageConfigInput;
  /** "linux/amd64" or a Platform; default linux/amd64 */
  platform?: Platform | string;
  /** several platforms: the same content, one image each, written as an index */
  platforms?: Array<Platform | string>;
  /** default "latest" */
  tag?: string;
  /** default "oci" (OCI layout dir <dir>/image); or "oci-archive"/"docker-archive" (<dir>/image.tar) */
  format?: "oci" | "oci-archive" | "docker-archive";
  compression?: Compression;
  sourceDateEpoch?: number;
  /**
   * Edit the finished config JSON (e.g. a shell-form Entrypoint string or CMD-SHELL healthcheck
   * for "bad image" tests, which ImageConfigInput does not allow). Config and manifest are
   * rewritten with their new digests.
   */
  editConfig?: (config: OciImageConfig) => void;
}

export interface MadeImage {
  /** what openImage/skopeo take: oci:<dir>/image:<tag>, oci-archive:<file>:<tag>, docker-archive:<file>:<name>:<tag> */
  ref: string;
  /** the output path (layout dir or archive file) */
  path: string;
  images: BuiltImage[];
  result: WriteResult;
}

const rel = (p: string) => p.replace(/^\/+/, "").replace(/\/+$/, "");

async function layerEntries(spec: LayerSpec): Promise<TreeEntry[]> {
  const out = new Map<string, TreeEntry>();
  const addParents = (p: string) => {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!out.has(d)) out.set(d, { type: "dir", path: d, mode: 0o755, uid: 0, gid: 0 });
    }
  };
  for (const d of spec.dirs ?? []) {
    const p = rel(d.path);
    addParents(p);
    out.set(p, { type: "dir", path: p, mode: d.mode ?? 0o755, uid: d.uid ?? 0, gid: d.gid ?? 0 });
  }
  for (const f of spec.files ?? []) {
    const p = rel(f.path);
    addParents(p);
    const base = { path: p, mode: f.mode ?? 0o644, uid: f.uid ?? 0, gid: f.gid ?? 0 };
    if (f.hostPath !== undefined) {
      const st = await stat(f.hostPath);
      out.set(p, { type: "file", ...base, size: st.size, content: { kind: "file", path: f.hostPath } });
    } else {
      const data =
        typeof f.data === "string" ? new TextEncoder().encode(f.data) : (f.data ?? new Uint8Array());
      out.set(p, { type: "file", ...base, size: data.length, content: { kind: "bytes", data } });
    }
  }
  for (const s of spec.symlinks ?? []) {
    const p = rel(s.path);
    addParents(p);
    out.set(p, { type: "symlink", path: p, target: s.target, mode: 0o777, uid: 0, gid: 0 });
  }
  for (const h of spec.hardlinks ?? []) {
    const p = rel(h.path);
    addParents(p);
    out.set(p, { type: "hardlink", path: p, target: rel(h.target), mode: 0o755, uid: 0, gid: 0 });
  }
  return [...out.values()];
}

async function rewriteConfig(
  im: BuiltImage,
  blobDir: string,
  edit: (c: OciImageConfig) => void,
): Promise<BuiltImage> {
  const cfg = JSON.parse(new TextDecoder().decode(im.config.bytes)) as OciImageConfig;
  edit(cfg);
  const cfgBytes = jsonBytes(cfg);
  const c = await storeBlobBytes(blobDir, cfgBytes);
  const manifest = JSON.parse(new TextDecoder().decode(im.manifest.bytes)) as OciManifest;
  manifest.config = { mediaType: MEDIA_OCI_CONFIG, digest: c.digest, size: c.size };
  const mBytes = jsonBytes(manifest);
  const m = await storeBlobBytes(blobDir, mBytes);
  return {
    ...im,
    config: { digest: c.digest, size: c.size, bytes: cfgBytes },
    manifest: { ...im.manifest, digest: m.digest, size: m.size, bytes: mBytes },
  };
}

/** Build a small image from host files and write it under `dir`. */
export async function makeImage(dir: string, opts: MakeImageOptions = {}): Promise<MadeImage> {
  await mkdir(dir, { recursive: true });
  const blobDir = join(dir, "blobs-cache");
  const sde = opts.sourceDateEpoch ?? TEST_EPOCH;
  const compression = opts.compression ?? "gzip";
  const specs: LayerSpec[] = [opts, ...(opts.layers ?? [])];
  const layers: Layer[] = [];
  for (const s of specs) {
    const entries = await layerEntries(s);
    if (entries.length === 0) continue;
    layers.push(await writeLayer(entries, { compression, sourceDateEpoch: sde, blobDir }));
  }
  const plats = (opts.platforms ?? [opts.platform ?? "linux/amd64"]).map((p) =>
    typeof p === "string" ? parsePlatform(p) : p,
  );
  const images: BuiltImage[] = [];
  for (const platform of plats) {
    let im = await buildImage(
      { platform, layers, config: opts.config ?? {}, created: new Date(sde * 1000) },
      blobDir,
    );
    if (opts.editConfig) im = await rewriteConfig(im, blobDir, opts.editConfig);
    images.push(im);
  }
  const tag = opts.tag ?? "latest";
  const format = opts.format ?? "oci";
  const path = join(dir, format === "oci" ? "image" : "image.tar");
  const ref =
    format === "docker-archive"
      ? `docker-archive:${path}:shellfree-test/image:${tag}`
      : `${format}:${path}:${tag}`;
  const result = await writeOutput(ref, images);
  return { ref, path, images, result };
}

/** An image holding only tini-static at /usr/bin/tini-static; entrypoint prints its version. */
export async function tiniImage(dir: string, opts: MakeImageOptions = {}): Promise<MadeImage> {
  return makeImage(dir, {
    ...opts,
    files: [{ path: TINI, hostPath: TINI, mode: 0o755 }, ...(opts.files ?? [])],
    dirs: [{ path: "/tmp", mode: 0o1777 }, ...(opts.dirs ?? [])],
    config: { entrypoint: [TINI, "--version"], ...(opts.config ?? {}) },
  });
}
