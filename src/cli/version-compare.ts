/**
 * `shellfree debian version-compare`: reads lines `A<TAB>B` on stdin and prints `-1`, `0` or `1`
 * for each (dpkg order), or `error: <reason>` for a line with an invalid version; exits 1 at the
 * end when any line was in error. Output is line for line with the input (other tools rely on it).
 */
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { compareVersions, versionError } from "../debian/index.ts";
import { action, group } from "./common.ts";

/** One input line → one output line (without newline), and whether it was an error. */
export function compareLine(line: string): { out: string; error: boolean } {
  if (line.endsWith("\r")) line = line.slice(0, -1);
  const tab = line.indexOf("\t");
  if (tab === -1) return { out: "error: expected two versions separated by a TAB", error: true };
  const a = line.slice(0, tab);
  const b = line.slice(tab + 1);
  if (b.includes("\t")) return { out: "error: more than two fields on the line", error: true };
  for (const v of [a, b]) {
    const why = versionError(v);
    if (why) return { out: `error: invalid version '${v}': ${why}`, error: true };
  }
  return { out: String(compareVersions(a, b)), error: false };
}

export function register(program: Command): void {
  group(program, "debian", "Debian archive tools")
    .command("version-compare")
    .description("compare Debian versions: reads 'A<TAB>B' lines on stdin, prints -1, 0 or 1 per line")
    .action(
      action(async () => {
        let failed = false;
        let buf = "";
        const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
        for await (const line of rl) {
          const r = compareLine(line);
          failed ||= r.error;
          buf += `${r.out}\n`;
          if (buf.length > 65536) {
            process.stdout.write(buf);
            buf = "";
          }
        }
        process.stdout.write(buf);
        return failed ? 1 : 0;
      }),
    );
}
