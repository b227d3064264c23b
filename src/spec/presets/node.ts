import type { Preset } from "./index.ts";
import { everySuite } from "./suites.ts";

/**
 * distroless/nodejs: static + the libraries the official Node.js binary links against (it carries
 * its own OpenSSL and ICU, so no libssl) + the binary itself at /usr/local/bin/node.
 */
export const node: Preset = {
  description: "static + libc6, libgcc-s1, libstdc++6 + the official Node.js binary (debug sections removed)",
  extends: "static",
  packages: everySuite(["libc6", "libgcc-s1", "libstdc++6"]),
  fragment: {
    runtime: { node: "24" },
    config: { entrypoint: ["/usr/local/bin/node"] },
  },
};
