/** Checks shared by the entrypoint and healthcheck rules: an exec-form command that can start. */
import type { ImageFs } from "../image-fs.ts";
import { basenameOf } from "../image-fs.ts";
import { executableBy, findExecutable, resolveUser, SHELL_NAMES } from "./lookup.ts";
import type { ImageConfigJson, RawFinding } from "./types.ts";

/** Is argv a shell-form command (["/bin/sh", "-c", "..."])? */
export function isShellForm(argv: string[]): boolean {
  return argv.length >= 2 && SHELL_NAMES.has(basenameOf(argv[0])) && /^-\w*c\w*$/.test(argv[1]);
}

/** Problems that keep `argv` from starting by execve inside the image. */
export function checkCommand(
  fs: ImageFs,
  config: ImageConfigJson,
  argv: string[],
  field: string,
): RawFinding[] {
  const out: RawFinding[] = [];
  if (isShellForm(argv)) {
    out.push({
      field,
      message: `${field} is shell form (${JSON.stringify(argv.slice(0, 3))}): it needs a shell`,
      hint: 'write the command in exec form: ["/path/to/program", "arg", ...]',
    });
  }
  const r = findExecutable(fs, config, argv[0]);
  if (!r.ok) {
    out.push({
      field,
      message: `${field}: executable "${argv[0]}" not found in the image (${r.reason}; looked at ${r.tried.join(", ")})`,
      hint: "use the absolute path of a program that is in the image",
    });
    return out;
  }
  const u = resolveUser(fs, config);
  const uid = u.ok ? u.uid : 0;
  const gid = u.ok ? u.gid : 0;
  if (!executableBy(r.node, uid, gid)) {
    out.push({
      path: r.path,
      field,
      message: `${field}: ${r.path} is not executable by UID ${uid} (mode 0${r.node.mode.toString(8)}, owner ${r.node.uid}:${r.node.gid})`,
      hint: "give the file the x bit for the image user (e.g. 0755)",
    });
  }
  const c = r.node.content;
  if (c?.shebang) {
    let interp = c.shebang.interpreter;
    if (basenameOf(interp) === "env" && c.shebang.arg) interp = c.shebang.arg.split(/\s+/)[0];
    const ir = findExecutable(fs, config, interp);
    if (!ir.ok) {
      out.push({
        path: r.path,
        field,
        message: `${field}: ${r.path} is a script for ${interp}, which is not in the image`,
        hint: "run the program directly, or add its interpreter",
      });
    } else if (SHELL_NAMES.has(basenameOf(ir.path))) {
      out.push({
        path: r.path,
        field,
        message: `${field}: ${r.path} is a shell script (#!${c.shebang.interpreter})`,
        hint: "replace the shell script by an exec-form command or a program",
      });
    }
  } else if (!c?.elf) {
    if (r.node.size > 0 && c)
      out.push({
        path: r.path,
        field,
        message: `${field}: ${r.path} is neither an ELF program nor a #! script`,
        hint: "point it at a program",
      });
  }
  return out;
}
