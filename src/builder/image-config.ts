/** The image config and platform of one architecture's image, from the spec. */
import { LABEL_WRITABLE } from "../formats/index.ts";
import { INIT_BINARY_PATH } from "../init/index.ts";
import type { ImageConfigInput, Platform } from "../oci/index.ts";
import type { HealthcheckSpec, Spec } from "../spec/index.ts";
import { type AccountsResult, resolveRunAs } from "./accounts.ts";
import { CA_BUNDLE_PATH } from "./cacerts.ts";

/** PATH as Debian's login.defs (and Docker) set it for root. */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * With `init:` and no `config.healthcheck`: the init's /ready, asked by the init itself (no
 * shell, no curl). Every 10 s, 3 s to answer (the probe gives up after 2 s), 3 misses in a row
 * make the container unhealthy, and failures in the first 10 s do not count.
 */
export const INIT_HEALTHCHECK: HealthcheckSpec = {
  test: [INIT_BINARY_PATH, "probe", "/ready"],
  interval: "10s",
  timeout: "3s",
  startPeriod: "10s",
  retries: 3,
};

/**
 * Entrypoint, env (PATH, SSL_CERT_FILE when there is a CA bundle), user (from run-as), ...
 * With `init:`, an entrypoint and healthcheck the spec leaves out are the init's:
 * [INIT_BINARY_PATH] and INIT_HEALTHCHECK.
 */
export function imageConfig(spec: Spec, accounts: AccountsResult, hasCaBundle: boolean): ImageConfigInput {
  const env: Record<string, string> = {
    PATH: DEFAULT_PATH,
    ...(hasCaBundle ? { SSL_CERT_FILE: `/${CA_BUNDLE_PATH}` } : {}),
    ...spec.config.env,
  };
  const user =
    spec.config.user ??
    (spec.accounts.runAs !== undefined ? resolveRunAs(spec.accounts.runAs, accounts) : undefined);
  const init = spec.init !== undefined;
  return {
    entrypoint: spec.config.entrypoint ?? (init ? [INIT_BINARY_PATH] : undefined),
    cmd: spec.config.cmd,
    env,
    workingDir: spec.config.workdir,
    user,
    exposedPorts: spec.config.exposedPorts,
    volumes: spec.config.volumes,
    labels: withWritable(spec),
    stopSignal: spec.config.stopSignal,
    healthcheck: spec.config.healthcheck ?? (init ? INIT_HEALTHCHECK : undefined),
  };
}

/** The spec's labels, plus `dev.shellfree.writable` naming its writable paths (when it has any). */
function withWritable(spec: Spec): Record<string, string> {
  const writable = spec.paths
    .filter((p) => p.type === "directory" && p.writable)
    .map((p) => p.path)
    .sort();
  return writable.length
    ? { ...spec.config.labels, [LABEL_WRITABLE]: writable.join(",") }
    : spec.config.labels;
}

/** linux/ARCH (arm64 with its v8 variant, as registries list it). */
export function platformFor(arch: string): Platform {
  return { os: "linux", architecture: arch, ...(arch === "arm64" ? { variant: "v8" } : {}) };
}
