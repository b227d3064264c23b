import { ShellfreeError } from "../errors.ts";

/**
 * Errors of the Debian layer. Codes:
 * - E_VERSION: a malformed Debian version
 * - E_DEB822: a malformed control paragraph (deb822)
 * - E_SOURCES: an apt sources file or mirror setting shellfree cannot use
 * - E_KEYRING: the archive keyring cannot be read
 * - E_SIGNATURE: a Release file whose OpenPGP signature does not verify
 * - E_EXPIRED: a Release file past its Valid-Until
 * - E_HASH: an index or .deb whose checksum does not match the signed Release
 * - E_INDEX: a malformed Release or Packages index (or relationship field)
 * - E_NOT_FOUND: an unknown package, version or suite
 * - E_UNSATISFIABLE: a request whose dependencies cannot be met (the message names the chain)
 * - E_DEB: a .deb that cannot be read
 * - E_USAGE: a command-line value out of range (exit 2)
 */
export class DebianError extends ShellfreeError {}
