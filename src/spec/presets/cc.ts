import type { Preset } from "./index.ts";

/** distroless/cc: base + the C++ runtime. */
export const cc: Preset = {
  description: "base + libgcc-s1, libstdc++6, libgomp1",
  extends: "base",
  fragment: { packages: { include: ["libgcc-s1", "libstdc++6", "libgomp1"] } },
};
