/** verify: static proof that an image is shell-free (and the rest of the rules). */

export type { ContentInfo } from "./content.ts";
export * from "./elf.ts";
export * from "./errors.ts";
export { type FsNode, ImageFs, type LayerSource, readImageFs } from "./image-fs.ts";
export * from "./policy.ts";
export * from "./report/index.ts";
export { RULE_IDS, RULES } from "./rules/index.ts";
export type { Finding, ImageConfigJson, Rule, Severity } from "./rules/types.ts";
export * from "./verify.ts";
