import { ShellfreeError } from "../errors.ts";

/** Errors of the OCI layer (E_DIGEST, E_LAYOUT, E_MANIFEST, E_REGISTRY_*, ...). */
export class OciError extends ShellfreeError {}
