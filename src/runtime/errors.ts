import { ShellfreeError } from "../errors.ts";

/**
 * Errors of `shellfree test` and the runtime drivers (E_NO_RUNTIME, E_DRIVER, E_UNPACK,
 * E_STRUCTURE, E_CHECK, ...). Failed expectations are reported, not thrown (exit 3).
 */
export class RuntimeError extends ShellfreeError {}
