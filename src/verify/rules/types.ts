/** Shared types of the verify rules. One rule a file; `rules/index.ts` lists them. */
import type { OciImageConfig } from "../../formats/index.ts";
import type { ImageFs } from "../image-fs.ts";

export type Severity = "error" | "warning" | "info";

/** The image config as the rules read it: an image someone else built may leave out any field. */
export type ImageConfigJson = Partial<OciImageConfig>;

/** One problem found. `severity` is filled in from the rule's default or the policy. */
export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  /** the file in the image this is about, if any */
  path?: string;
  /** the config field this is about, if any (e.g. "config.User") */
  field?: string;
  hint: string;
}

export type RawFinding = Omit<Finding, "rule" | "severity" | "hint"> & { hint?: string; severity?: Severity };

export interface RuleContext {
  fs: ImageFs;
  config: ImageConfigJson;
  /** rule options from the policy (`rules.<id>.*` besides enabled/severity/allow-paths) */
  options: Record<string, unknown>;
  /** "now" for date-based rules (tests pass a fixed date) */
  now: Date;
}

/** How sure a rule's findings are (SARIF/GitHub `precision`). */
export type Precision = "very-high" | "high" | "medium" | "low";

export interface Rule {
  id: string;
  title: string;
  description: string;
  defaultSeverity: Severity;
  /** default fix hint for its findings */
  hint: string;
  /**
   * GitHub code scanning's `security-severity` (0.0–10.0, CVSS-like: ≥9 critical, ≥7 high, ≥4
   * medium, else low); default from defaultSeverity (error 7.0, warning 4.0, info 1.0)
   */
  securitySeverity?: number;
  /** SARIF tags (GitHub filters on them); default ["security", "container"] */
  tags?: string[];
  /** default "high" */
  precision?: Precision;
  check(ctx: RuleContext): RawFinding[];
}
