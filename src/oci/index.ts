/** The OCI subsystem's API: digests, layers, images, outputs, reading images back. */
export * from "./attest.ts";
export * from "./decompress.ts";
export * from "./digest.ts";
export * from "./errors.ts";
export * from "./image.ts";
export * from "./layer.ts";
export * from "./layout.ts";
export * from "./media.ts";
export * from "./read.ts";
export {
  openRepository,
  type ReferrerLink,
  type RemoteManifest,
  type RemoteRepository,
  type RepositoryOptions,
} from "./registry/remote.ts";
export * from "./registry.ts";
export * from "./tar.ts";
export type * from "./types.ts";
