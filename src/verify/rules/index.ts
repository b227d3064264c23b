/** All verify rules, in report order. Add a rule: one file exporting `rule`, one line here. */
import { rule as elfDeps } from "./elf-deps.ts";
import { rule as entrypoint } from "./entrypoint.ts";
import { rule as healthcheck } from "./healthcheck.ts";
import { rule as layerPathEscape } from "./layer-path-escape.ts";
import { rule as noPackageManager } from "./no-package-manager.ts";
import { rule as noSetuid } from "./no-setuid.ts";
import { rule as noShell } from "./no-shell.ts";
import { rule as nonRootUser } from "./non-root-user.ts";
import { rule as osRelease } from "./os-release.ts";
import { rule as scriptInterpreter } from "./script-interpreter.ts";
import { rule as secrets } from "./secrets.ts";
import { rule as sizeBudget } from "./size-budget.ts";
import type { Precision, Rule } from "./types.ts";
import { rule as unusedInterpreter } from "./unused-interpreter.ts";
import { rule as wastedBytes } from "./wasted-bytes.ts";
import { rule as worldWritable } from "./world-writable.ts";

export const RULES: Rule[] = [
  layerPathEscape,
  noShell,
  unusedInterpreter,
  noPackageManager,
  noSetuid,
  worldWritable,
  nonRootUser,
  entrypoint,
  healthcheck,
  elfDeps,
  scriptInterpreter,
  secrets,
  osRelease,
  sizeBudget,
  wastedBytes,
];

export const RULE_IDS = RULES.map((r) => r.id);

/** A rule's SARIF metadata, with the defaults for what it does not say. */
export function ruleSarifMeta(r: Rule): { securitySeverity: number; tags: string[]; precision: Precision } {
  const byLevel = { error: 7.0, warning: 4.0, info: 1.0 };
  return {
    securitySeverity: r.securitySeverity ?? byLevel[r.defaultSeverity],
    tags: r.tags ?? ["security", "container"],
    precision: r.precision ?? "high",
  };
}
export type { Finding, ImageConfigJson, Precision, Rule, RuleContext, Severity } from "./types.ts";
