import { ShellfreeError } from "../errors.ts";

/**
 * Errors of `outdated`. Codes:
 * - E_OUTDATED_INPUT: the target is neither a spec, a lockfile nor an image reference; a spec
 *   has no lockfile; an architecture or platform that is not there
 * - E_DPKG_DB: an image without a readable dpkg database (or without a suite to compare with)
 * - E_USAGE: a spec given both as the target and with --spec (exit 2)
 * Errors of the archive (signature, hashes, expiry, not found) stay DebianErrors.
 */
export class OutdatedError extends ShellfreeError {}
