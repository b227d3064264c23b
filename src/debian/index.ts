/** The API of src/debian. */
export * from "./archive.ts";
export * from "./cache.ts";
export * from "./deb.ts";
export * from "./deb822.ts";
export * from "./errors.ts";
export * from "./graph.ts";
export * from "./relation.ts";
export * from "./release.ts";
export * from "./resolve.ts";
export * from "./sources.ts";
export * from "./spool.ts";
export type * from "./types.ts";
export * from "./version.ts";
export * from "./xz.ts";
