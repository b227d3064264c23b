/** no-setuid: no setuid or setgid files. */

import { fmtMode } from "./lookup.ts";
import type { RawFinding, Rule } from "./types.ts";

export const rule: Rule = {
  id: "no-setuid",
  title: "No setuid/setgid files",
  description: "No file has the setuid or setgid bit.",
  defaultSeverity: "error",
  hint: "clear the bit (mode without 4000/2000) or drop the file; containers should not gain privileges",
  securitySeverity: 7.8,
  tags: ["security", "container", "privilege-escalation", "external/cwe/cwe-250"],
  precision: "very-high",
  check({ fs }) {
    const out: RawFinding[] = [];
    for (const n of fs.nodes.values()) {
      if (n.type !== "file" || (n.mode & 0o6000) === 0) continue;
      const what = [n.mode & 0o4000 ? "setuid" : "", n.mode & 0o2000 ? "setgid" : ""]
        .filter(Boolean)
        .join("+");
      out.push({
        path: n.path,
        message: `${what} file ${n.path} (mode ${fmtMode(n.mode)}, owner ${n.uid}:${n.gid})`,
      });
    }
    return out;
  },
};
