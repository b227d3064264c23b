/** The image config and platform of one architecture's image, from the spec. */
import type { ImageConfigInput, Platform } from "../oci/index.ts";
import type { Spec } from "../spec/index.ts";
import { type AccountsResult, resolveRunAs } from "./accounts.ts";
import { CA_BUNDLE_PATH } from "./cacerts.ts";
import { provenanceLabels } from "./provenance.ts";

/** PATH as Debian's login.defs (and Docker) set it for root. */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Entrypoint, env (PATH, SSL_CERT_FILE when there is a CA bundle), user (from run-as), ... */
export function imageConfig(spec: Spec, accounts: AccountsResult, hasCaBundle: boolean): ImageConfigInput {
  const env: Record<string, string> = {
    PATH: DEFAULT_PATH,
    ...(hasCaBundle ? { SSL_CERT_FILE: `/${CA_BUNDLE_PATH}` } : {}),
    ...spec.config.env,
  };
  const user =
    spec.config.user ??
    (spec.accounts.runAs !== undefined ? resolveRunAs(spec.accounts.runAs, accounts) : undefined);
  return {
    entrypoint: spec.config.entrypoint,
    cmd: spec.config.cmd,
    env,
    workingDir: spec.config.workdir,
    user,
    exposedPorts: spec.config.exposedPorts,
    volumes: spec.config.volumes,
    // where the spec is (verify's SARIF points at it); the spec's own labels win
    labels: { ...provenanceLabels(spec), ...spec.config.labels },
    stopSignal: spec.config.stopSignal,
    healthcheck: spec.config.healthcheck,
  };
}

/** linux/ARCH (arm64 with its v8 variant, as registries list it). */
export function platformFor(arch: string): Platform {
  return { os: "linux", architecture: arch, ...(arch === "arm64" ? { variant: "v8" } : {}) };
}
