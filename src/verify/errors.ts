import { ShellfreeError } from "../errors.ts";

/**
 * Errors of verify (a failed verification is a report with exit code 3, not an error). Codes:
 * - E_POLICY: a policy file that cannot be read or is invalid
 * - E_LAYER_READ: a layer that cannot be read
 * - E_USAGE: an unknown report format (exit 2)
 */
export class VerifyError extends ShellfreeError {}
