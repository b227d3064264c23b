/** script-interpreter: executable #! scripts whose interpreter is not in the image are dead files. */
import type { ImageFs } from "../image-fs.ts";
import { basenameOf } from "../image-fs.ts";
import { findExecutable } from "./lookup.ts";
import type { RawFinding, Rule } from "./types.ts";

export const rule: Rule = {
  id: "script-interpreter",
  title: "Script interpreters present",
  description:
    "Executable scripts whose #! interpreter is missing cannot run (e.g. /bin/sh helper scripts in a shell-free image).",
  defaultSeverity: "warning",
  hint: "leave the script out of the image with the spec's packages.drop-paths (it cannot run), or add its interpreter if something must run it",
  check({ fs, config }) {
    const out: RawFinding[] = [];
    const fsv: ImageFs = fs;
    for (const n of fsv.files()) {
      const sb = n.content?.shebang;
      if (!sb || (n.mode & 0o111) === 0) continue;
      let interp = sb.interpreter;
      if (basenameOf(interp) === "env" && sb.arg) {
        const prog = sb.arg.split(/\s+/).filter((a) => !a.startsWith("-"))[0];
        if (!prog) continue;
        const envOk = findExecutable(fsv, config, interp).ok;
        if (!envOk) {
          out.push({
            path: n.path,
            message: `${n.path}: interpreter ${interp} (for ${prog}) is not present`,
          });
          continue;
        }
        interp = prog;
      }
      const r = findExecutable(fsv, config, interp);
      if (!r.ok)
        out.push({
          path: n.path,
          message: `${n.path}: interpreter ${interp} is not present (#!${sb.interpreter}${sb.arg ? ` ${sb.arg}` : ""})`,
        });
    }
    return out;
  },
};
