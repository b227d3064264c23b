import { ShellfreeError } from "../errors.ts";

/**
 * Errors of the image builder. Codes:
 * - E_SPEC: what the spec asks cannot be built (an --arch it lacks, a bad init section, accounts
 *   that clash)
 * - E_USAGE: options that contradict each other (several architectures into a docker-archive)
 * - E_SHELL_IN_CLOSURE: a shell or package manager entered the closure without `packages.allow`
 * - E_FILE_MISSING: a `files:` source is gone by the time it is copied
 * - E_FILE_CONFLICT: two packages ship different content at one path
 * - E_DROP_PATHS: a `packages.drop-paths` glob matches nothing in any architecture's packages,
 *   names a package not in the image, or leaves a hard link without its target
 * - E_ALTERNATIVE: an alternatives choice names no candidate
 * - E_LOCK: the lockfile cannot be read or is not one
 * - E_LOCKED: `--locked`, and spec, lock and archive (or the shellfree-init binary) disagree
 * - E_NODE_ARCH: no official Node.js binary for an architecture
 * - E_NODE_VERSION: no published Node.js version matches runtime.node (on every architecture)
 * - E_NODE_NOT_FOUND: the npm registry has no such Node.js package
 * - E_NODE_DOWNLOAD: the Node.js tarball could not be downloaded
 * - E_NODE_TARBALL: the Node.js tarball cannot be read
 * - E_INTEGRITY: a download does not match its SHA-512 integrity (or has none)
 * - E_NPM_REGISTRY: the configured npm registry is not a URL
 * - E_NPM_METADATA: the npm registry answered something other than package metadata
 * - E_INIT_BINARY: no shellfree-init binary for an architecture (not built: `npm run build:init`)
 * - E_ELF: a binary to strip is not an ELF file shellfree can edit
 * - E_BUILD: any other build failure with a clear cause
 */
export class BuildError extends ShellfreeError {}
