import type { Preset } from "./index.ts";
import { everySuite } from "./suites.ts";

/** distroless/cc: base + the C++ runtime. */
export const cc: Preset = {
  description: "base + libgcc-s1, libstdc++6, libgomp1",
  extends: "base",
  packages: everySuite(["libgcc-s1", "libstdc++6", "libgomp1"]),
  fragment: {},
};
