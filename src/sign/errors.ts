import { ShellfreeError } from "../errors.ts";

/**
 * Errors of signing and signature verification: E_KEY (a key file that cannot be used: exit 1),
 * E_PASSWORD, E_SIGN_REF, E_PAYLOAD (a signature payload or bundle that is malformed), and
 * E_SIGNATURE (no signature passed the checks: exit 3).
 */
export class SignError extends ShellfreeError {}
