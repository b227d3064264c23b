import { ShellfreeError } from "../errors.ts";

/**
 * Errors of the spec. Codes:
 * - E_SPEC: the spec is invalid (the message names file:line: field)
 * - E_SPEC_FILE: a spec file (or a file it extends) cannot be read
 * - E_FILE_MISSING: a `files:` source does not exist
 * - E_PRESET: unknown preset
 */
export class SpecError extends ShellfreeError {}
