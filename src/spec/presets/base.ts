import type { Preset } from "./index.ts";

/** distroless/base: static + glibc and OpenSSL. */
export const base: Preset = {
  description: "static + libc6, libssl3t64",
  extends: "static",
  fragment: { packages: { include: ["libc6", "libssl3t64"] } },
};
