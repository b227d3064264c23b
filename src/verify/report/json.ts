/** The machine-readable report: the VerifyReport as JSON (stable field names). */
import type { VerifyReport } from "../verify.ts";

export function toJson(r: VerifyReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
