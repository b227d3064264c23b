/** wasted-bytes: bytes that lower layers carry but later layers overwrite or delete. */

import { parseSize } from "./size.ts";
import { fmt } from "./size-budget.ts";
import type { RawFinding, Rule } from "./types.ts";

export const rule: Rule = {
  id: "wasted-bytes",
  title: "Wasted bytes",
  description:
    "Files overwritten or deleted by later layers still cost download and disk (policy: rules.wasted-bytes.max, default 1MiB).",
  defaultSeverity: "warning",
  hint: "do not add a file in one layer and remove or replace it in a later one; build the final tree in one layer",
  securitySeverity: 1.0,
  tags: ["maintainability", "container", "size"],
  precision: "very-high",
  check({ fs, options }) {
    const max = parseSize(options.max ?? "1MiB");
    const { wastedBytes } = fs.stats();
    if (wastedBytes <= max) return [];
    const top = [...fs.wasted].sort((a, b) => b.size - a.size).slice(0, 5);
    const out: RawFinding[] = [
      {
        message: `${fmt(wastedBytes)} in ${fs.wasted.length} file(s) are overwritten or deleted by later layers (limit ${fmt(max)})`,
      },
    ];
    for (const w of top)
      out.push({
        path: w.path,
        message: `${w.path}: ${fmt(w.size)} from layer ${w.layer} ${w.how} in layer ${w.by}`,
      });
    return out;
  },
};
