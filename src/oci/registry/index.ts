/**
 * The OCI Distribution API client: push an image from an OCI layout to a registry, pull one
 * from a registry into a layout. See src/oci/registry/*.ts.
 */
export type { Challenge, Credentials } from "./auth.ts";
export { parseCreds, parseWwwAuthenticate, resolveCredentials } from "./auth.ts";
export { isLocalRegistry, RegistryClient } from "./client.ts";
export { type PullOptions, type PullResult, pullToLayout } from "./pull.ts";
export { type PushOptions, type PushResult, pushLayout } from "./push.ts";
export { blobExists, pushBlob } from "./upload.ts";
