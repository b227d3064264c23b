import { ShellfreeError } from "../errors.ts";

/**
 * Errors of `shellfree test` and the runtime drivers (failed expectations are reported, not
 * thrown: exit 3). Codes:
 * - E_USAGE: unknown driver, check or report format; nothing to test (exit 2)
 * - E_NO_RUNTIME: no container runtime works here (or not the one asked for)
 * - E_NO_ENGINE: the docker driver, and no Docker engine answers
 * - E_DRIVER: a runtime command failed (mount, pull, load, kill, ...)
 * - E_UNPACK: a layer cannot be unpacked into the bundle
 * - E_USER: the user or group to run as is not in the image
 * - E_NO_COMMAND: the image has no entrypoint or cmd, and none was given
 * - E_STRUCTURE: a container-structure-test file that cannot be read or is invalid
 */
export class RuntimeError extends ShellfreeError {}
