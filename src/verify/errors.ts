import { ShellfreeError } from "../errors.ts";

/**
 * Errors of verify (E_POLICY, E_LAYER_READ, E_IMAGE_REF, E_VERIFY_FAILED, ...). A failed
 * verification is exit code 3; bad input (a broken policy, an unreadable image) is exit code 1.
 */
export class VerifyError extends ShellfreeError {}
