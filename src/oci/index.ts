/** The OCI subsystem's API: digests, layers, images, outputs, reading images back. */
export * from "./attest.ts";
export * from "./decompress.ts";
export * from "./digest.ts";
export * from "./errors.ts";
export * from "./image.ts";
export * from "./layer.ts";
export * from "./layout.ts";
export * from "./layout-write.ts";
export * from "./media.ts";
export * from "./output.ts";
export type * from "./read/attestations.ts";
export { listAttestations, readStatement } from "./read/attestations.ts";
export { dockerArchiveToLayout } from "./read/docker-archive-layout.ts";
export { unpackOciArchive } from "./read/oci-archive.ts";
export * from "./read/open.ts";
export type * from "./read/opened.ts";
export { cleanupPulls, type RegistryReadOptions } from "./read/registry.ts";
export * from "./ref.ts";
export * from "./registry/index.ts";
export {
  openRepository,
  type ReferrerLink,
  type RemoteManifest,
  type RemoteRepository,
  type RepositoryOptions,
} from "./registry/remote.ts";
export * from "./tar.ts";
export type * from "./types.ts";
