/**
 * The OCI Distribution API client: push an image from an OCI layout to a registry, pull one
 * from a registry into a layout. See src/oci/registry/*.ts.
 */
export type { Challenge, Credentials } from "./auth.ts";
export { parseCreds, parseWwwAuthenticate, resolveCredentials } from "./auth.ts";
export { formatRegistryRef as formatRef, parseLayoutRef, parseRegistryRef } from "./ref.ts";
export { isLocalRegistry, RegistryClient } from "./registry/client.ts";
export { type PullOptions, type PullResult, pullToLayout } from "./registry/pull.ts";
export { type PushOptions, type PushResult, pushLayout } from "./registry/push.ts";
export { blobExists, pushBlob } from "./registry/upload.ts";
