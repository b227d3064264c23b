/** size-budget: the uncompressed image stays within a budget (default 200 MiB, the seeds' target). */

import { parseSize } from "./size.ts";
import type { Rule } from "./types.ts";

export const rule: Rule = {
  id: "size-budget",
  title: "Size budget",
  description:
    "The files of the image (uncompressed, hard links once) fit the budget (policy: rules.size-budget.max, default 200MiB).",
  defaultSeverity: "error",
  hint: "drop packages or files you do not need (docs, locales, debug info), or raise the budget in the policy",
  securitySeverity: 1.0,
  tags: ["maintainability", "container", "size"],
  precision: "very-high",
  check({ fs, options }) {
    const max = parseSize(options.max ?? "200MiB");
    const total = fs.stats().totalBytes;
    if (total <= max) return [];
    return [{ message: `image files total ${fmt(total)}, over the budget of ${fmt(max)}` }];
  },
};

export function fmt(n: number): string {
  return n >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(1)} MiB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${n} B`;
}
