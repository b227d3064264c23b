import { ShellfreeError } from "../errors.ts";

/**
 * Errors of the Debian layer. Codes: E_VERSION, E_DEB822, E_SIGNATURE, E_KEYRING, E_EXPIRED,
 * E_HASH, E_INDEX, E_UNSATISFIABLE, E_DEB, E_SOURCES, E_NOT_FOUND, E_NETWORK.
 */
export class DebianError extends ShellfreeError {}
