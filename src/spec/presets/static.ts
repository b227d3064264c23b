import type { Preset } from "./index.ts";

/** distroless/static: no libc; for statically linked programs. */
export const staticPreset: Preset = {
  description: "base-files, netbase, tzdata, CA certificates; generated passwd/group/os-release (no libc)",
  fragment: {
    packages: { include: ["base-files", "netbase", "tzdata", "ca-certificates"] },
    accounts: { runAs: "65532:65532" },
  },
};
