/** non-root-user: the image runs as a non-root user (numeric, or a name in its /etc/passwd). */

import { resolveUser } from "./lookup.ts";
import type { RawFinding, Rule } from "./types.ts";

export const rule: Rule = {
  id: "non-root-user",
  title: "Runs as non-root",
  description: "config.User is a non-zero UID or a user in the image's /etc/passwd (empty, 0 and root fail).",
  defaultSeverity: "error",
  hint: "set the user to a non-root UID, e.g. 65532 (nonroot) or 65532:65532",
  securitySeverity: 7.0,
  tags: ["security", "container", "external/cwe/cwe-250"],
  precision: "very-high",
  check({ fs, config }) {
    const out: RawFinding[] = [];
    const u = resolveUser(fs, config);
    const field = "config.User";
    if (!u.ok)
      out.push({
        field,
        message: `User "${u.spec}" cannot be resolved: ${u.reason}`,
        hint: "use a numeric UID or add the user to /etc/passwd",
      });
    else if (u.spec === "")
      out.push({ field, message: "User is not set: the container runs as root (UID 0)" });
    else if (u.uid === 0) out.push({ field, message: `User "${u.spec}" is root (UID 0)` });
    return out;
  },
};
