/** no-package-manager: no package manager a process in the container could run. */
import { basenameOf } from "../image-fs.ts";
import type { RawFinding, Rule } from "./types.ts";

const NAMES =
  /^(?:apt|apt-get|apt-cache|aptitude|dpkg|dpkg-deb|dpkg-query|dpkg-divert|apk|yum|dnf|microdnf|rpm|pip|pip[23](?:\.\d+)?|easy_install(?:-[\d.]+)?|zypper|pacman)$/;

export const rule: Rule = {
  id: "no-package-manager",
  title: "No package manager",
  description:
    "No apt, dpkg, apk, yum/dnf, rpm or pip executable in the image, and no pip module beside a Python interpreter.",
  defaultSeverity: "error",
  hint: "exclude the package that ships it; install packages at build time, never at run time",
  securitySeverity: 7.5,
  tags: ["security", "container", "package-manager"],
  precision: "very-high",
  check({ fs }) {
    const out: RawFinding[] = [];
    for (const n of fs.nodes.values()) {
      if (n.type !== "file" && n.type !== "symlink") continue;
      const base = basenameOf(n.path);
      if (!NAMES.test(base)) continue;
      const r = fs.resolve(n.path);
      if ("missing" in r || r.node.type !== "file") continue;
      if ((r.node.mode & 0o111) === 0) continue;
      out.push({
        path: n.path,
        message: `package manager ${n.path}${r.path !== n.path ? ` (→ ${r.path})` : ""}`,
      });
    }
    // `python3 -m pip` needs no pip executable: the module next to a Python interpreter is enough
    const pipDir = /^\/usr(?:\/local)?\/lib\/python3[^/]*\/(?:dist|site)-packages\/pip$/;
    const hasPython = [...fs.nodes.values()].some(
      (n) => n.type !== "dir" && /^python3(?:\.\d+)?$/.test(basenameOf(n.path)),
    );
    if (hasPython) {
      for (const n of fs.nodes.values()) {
        if (n.type === "dir" && pipDir.test(n.path)) {
          out.push({
            path: n.path,
            message: `package manager: the pip module ${n.path} (runnable as python3 -m pip)`,
          });
        }
      }
    }
    return out;
  },
};
