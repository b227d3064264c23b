/** An image opened for reading, whatever its transport. */
import type { Readable } from "node:stream";
import type { OciImageConfig } from "../../formats/index.ts";
import type { OciManifest } from "../image.ts";
import type { Platform } from "../types.ts";

export interface OpenedLayer {
  digest: string;
  diffId?: string;
  mediaType: string;
  size: number;
  /** the UNCOMPRESSED tar stream, digest-verified while it flows (errors with E_DIGEST) */
  open(): Promise<Readable>;
}

export interface OpenedImage {
  ref: string;
  /**
   * a local reference to the same image that other tools (podman, docker) can read: the
   * reference itself, or the temp layout a registry image was pulled into (removed on close)
   */
  localRef: string;
  platform: Platform;
  manifestDigest: string;
  manifest: OciManifest;
  config: OciImageConfig;
  /** digest of the config blob */
  configDigest: string;
  layers: OpenedLayer[];
  close(): Promise<void>;
}
