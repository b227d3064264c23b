import { ShellfreeError } from "../errors.ts";

/**
 * Errors of the image builder. Codes:
 * - E_SPEC: the spec file is invalid (message names file:line: field)
 * - E_SPEC_FILE: a spec file (or a file it extends) cannot be read
 * - E_FILE_MISSING: a `files:` source does not exist
 * - E_SHELL_IN_CLOSURE: a shell or package manager entered the closure without `packages.allow`
 * - E_FILE_CONFLICT: two packages ship different content at one path
 * - E_ALTERNATIVE: an alternatives choice names no candidate
 * - E_LOCK / E_LOCKED: lockfile unreadable / `--locked` disagreement
 * - E_PRESET: unknown preset
 * - E_BUILD: any other build failure with a clear cause
 */
export class BuildError extends ShellfreeError {}
