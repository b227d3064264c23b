import { ShellfreeError } from "../errors.ts";

/**
 * Errors of the OCI layer. Codes:
 * - E_TARGET: an image reference or output this command cannot take, or an output it refuses
 *   to replace
 * - E_LAYOUT_REF: a bad OCI layout reference for push or pull (exit 2)
 * - E_REGISTRY_REF: a bad registry reference or tag (exit 2)
 * - E_LAYOUT: a directory or archive that is not an OCI layout (or docker-archive)
 * - E_NOT_FOUND: no image under that tag or digest, or several where one must be named
 * - E_PLATFORM: no image for the platform asked for, or a malformed platform
 * - E_MANIFEST: a malformed or unsupported manifest, index or config
 * - E_DIGEST: content that does not match its digest or size
 * - E_BLOB_MISSING: a blob the manifest names is not there
 * - E_CONFIG: an image config that cannot be written (a bad port, env name, duration)
 * - E_COMPRESSION: an unknown layer compression, or a layer that does not decompress
 * - E_LAYER_ENTRY: a layer tree entry that cannot be written (bad path, duplicate)
 * - E_LAYER_CONTENT: a layer file whose content is not its declared size
 * - E_NETWORK: the registry cannot be reached
 * - E_TIMEOUT: the registry accepted a request but made no progress within the timeout
 * - E_REGISTRY: the registry answered something a client cannot use
 * - E_REGISTRY_CREDS: malformed credentials
 * - E_REGISTRY_AUTH: token authentication failed
 * - E_REGISTRY_UNAUTHORIZED / E_REGISTRY_DENIED: HTTP 401 / 403
 * - E_REGISTRY_TLS: a TLS failure talking to the registry
 * - E_REGISTRY_TOO_MANY_REQUESTS: rate-limited, and retries did not help
 * - the distribution spec's error codes: E_REGISTRY_NOT_FOUND (MANIFEST_UNKNOWN, NAME_UNKNOWN),
 *   E_REGISTRY_BLOB_UNKNOWN, E_REGISTRY_MANIFEST_INVALID, E_REGISTRY_DIGEST_INVALID (and
 *   SIZE_INVALID), E_REGISTRY_UPLOAD_UNKNOWN, E_REGISTRY_UPLOAD_INVALID, E_REGISTRY_TAG_INVALID,
 *   E_REGISTRY_NAME_INVALID, E_REGISTRY_UNSUPPORTED
 */
export class OciError extends ShellfreeError {}
