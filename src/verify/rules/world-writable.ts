/** world-writable: no world-writable files or directories, except sticky 1777 dirs and what is in them. */
import { dirnameOf } from "../image-fs.ts";
import { fmtMode } from "./lookup.ts";
import type { RawFinding, Rule } from "./types.ts";

export const rule: Rule = {
  id: "world-writable",
  title: "No world-writable files",
  description: "No world-writable file or directory outside sticky (1777) directories.",
  defaultSeverity: "error",
  hint: "remove the o+w bit (e.g. 0755/0644), or make a shared scratch directory 1777",
  securitySeverity: 5.5,
  tags: ["security", "container", "external/cwe/cwe-732"],
  precision: "high",
  check({ fs }) {
    const out: RawFinding[] = [];
    for (const n of fs.nodes.values()) {
      // symlinks are always 0777; device nodes and fifos hold no content to tamper with
      if (n.type === "symlink" || n.type === "other" || (n.mode & 0o002) === 0) continue;
      if (n.type === "dir") {
        if ((n.mode & 0o1000) !== 0) continue;
        out.push({
          path: n.path,
          message: `world-writable directory ${n.path} without the sticky bit (mode ${fmtMode(n.mode)})`,
        });
        continue;
      }
      const parent = fs.get(dirnameOf(n.path));
      if (parent && (parent.mode & 0o1002) === 0o1002) continue;
      out.push({ path: n.path, message: `world-writable file ${n.path} (mode ${fmtMode(n.mode)})` });
    }
    return out;
  },
};
