/**
 * spec: the image spec (`shellfree.yaml`) — its types, its checker (file:line errors), extends
 * and presets, defaults, and the package policy it implies.
 */
export { fieldLines, lineOfField } from "./check.ts";
export * from "./errors.ts";
export * from "./finish.ts";
export * from "./load.ts";
export * from "./merge.ts";
export * from "./package-policy.ts";
export * from "./parse.ts";
export * from "./presets/index.ts";
export * from "./types.ts";
