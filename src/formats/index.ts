/**
 * formats: the file formats the builder writes into images and verify/runtime read back
 * (passwd/group, os-release, the image config, layer whiteouts). A leaf: it imports nothing
 * from the other subsystems, and they all may import it.
 */
export * from "./image-config.ts";
export * from "./os-release.ts";
export * from "./passwd.ts";
export * from "./whiteout.ts";
