import type { Preset } from "./index.ts";
import { LIBSSL, perSuite } from "./suites.ts";

/** distroless/base: static + glibc and OpenSSL. */
export const base: Preset = {
  description: "static + libc6, OpenSSL (libssl3 on bookworm, libssl3t64 from trixie on)",
  extends: "static",
  packages: perSuite(["libc6"], LIBSSL),
  fragment: {},
};
