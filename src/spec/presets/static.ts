import type { Preset } from "./index.ts";
import { everySuite } from "./suites.ts";

/** distroless/static: no libc; for statically linked programs. */
export const staticPreset: Preset = {
  description: "base-files, netbase, tzdata, CA certificates; generated passwd/group/os-release (no libc)",
  packages: everySuite(["base-files", "netbase", "tzdata", "ca-certificates"]),
  fragment: { accounts: { runAs: "65532:65532" } },
};
