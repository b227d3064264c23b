/** Report formats of `shellfree verify`. */
import type { VerifyReport } from "../verify.ts";
import { toJson } from "./json.ts";
import { toJunit } from "./junit.ts";
import { type SarifOptions, toSarif } from "./sarif.ts";
import { toText } from "./text.ts";

export type ReportFormat = "text" | "json" | "sarif" | "junit";
export const REPORT_FORMATS: ReportFormat[] = ["text", "json", "sarif", "junit"];

export function renderReport(
  r: VerifyReport,
  format: ReportFormat,
  toolVersion: string,
  sarif: Omit<SarifOptions, "toolVersion"> = {},
): string {
  switch (format) {
    case "json":
      return toJson(r);
    case "sarif":
      return toSarif(r, { ...sarif, toolVersion });
    case "junit":
      return toJunit(r);
    default:
      return toText(r);
  }
}

export { rulesMarkdown } from "./rules-doc.ts";
export { type SarifOptions, toSarifObject } from "./sarif.ts";
export { toJson, toJunit, toSarif, toText };
