/**
 * Console and GUI scripts: `entry_points.txt` (INI: `[console_scripts]`, `[gui_scripts]`,
 * `name = package.module:object.attr [extras]`) and the small Python launcher each becomes in
 * the scripts directory, started by the image's own interpreter (no shell, no wrapper binary).
 */
import { PythonError } from "./errors.ts";

export interface EntryPoint {
  group: "console_scripts" | "gui_scripts";
  name: string;
  module: string;
  /** dotted attribute path inside the module ("main", "Cli.run") */
  attr: string;
}

const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** The console and GUI scripts of an `entry_points.txt`; other groups are ignored. */
export function parseEntryPoints(text: string, what: string): EntryPoint[] {
  const out: EntryPoint[] = [];
  let group: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) return;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      group = sec[1].trim();
      return;
    }
    if (group !== "console_scripts" && group !== "gui_scripts") return;
    const bad = (why: string): never => {
      throw new PythonError("E_WHEEL", `${what}: entry_points.txt line ${i + 1}: ${why}`);
    };
    const eq = line.search(/[=:]/);
    if (eq <= 0 || line[eq] !== "=") bad(`expected NAME = module:object`);
    const name = line.slice(0, eq).trim();
    const value = line
      .slice(eq + 1)
      .replace(/\[[^\]]*\]\s*$/, "")
      .trim();
    if (!name || name.includes("/") || name.includes("\0") || name.startsWith(".") || /\s/.test(name)) {
      bad(`script name ${JSON.stringify(name)} is not a plain file name`);
    }
    const m = /^([^:\s]+)\s*:\s*([^\s]+)$/.exec(value);
    if (!m) bad(`${JSON.stringify(value)} is not module:object`);
    if (!DOTTED.test(m![1]) || !DOTTED.test(m![2])) bad(`${JSON.stringify(value)} is not module:object`);
    out.push({ group, name, module: m![1], attr: m![2] });
  });
  return out;
}

/** The launcher for an entry point, run by `interpreter` (the image's /usr/bin/python3.X). */
export function launcherScript(ep: EntryPoint, interpreter: string): string {
  const [head, ...rest] = ep.attr.split(".");
  const call = [head, ...rest].join(".");
  return [
    `#!${interpreter}`,
    `# ${ep.group === "gui_scripts" ? "GUI" : "console"} script ${ep.name}: ${ep.module}:${ep.attr}`,
    "import sys",
    `from ${ep.module} import ${head}`,
    "",
    'if __name__ == "__main__":',
    `    sys.exit(${call}())`,
    "",
  ].join("\n");
}
