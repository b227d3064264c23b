/**
 * `shellfree debian extract X.deb -o DIR`: extract one package's data tree (verified ar and
 * tar structure, no path traversal) into DIR, which appears atomically.
 */
import { resolve as resolvePath } from "node:path";
import type { Command } from "commander";
import { DebianError, extractDeb } from "../debian/index.ts";
import { ioError } from "../util/io-error.ts";
import { action, addOutputOption, group, output, outputValue } from "./common.ts";

export function register(program: Command): void {
  const cmd = group(program, "debian", "Debian archive tools")
    .command("extract")
    .description("extract a .deb's data into a directory (replaced atomically)")
    .argument("<deb>", "the .deb file");
  addOutputOption(cmd, "<dir>", "output directory")
    .option("--json", "print a JSON summary")
    .action(
      action(async (deb: string, opts: { output?: string; out?: string; json?: boolean }) => {
        const out = resolvePath(outputValue(opts));
        if (out === "/") throw new DebianError("E_DEB", "refusing to extract over /", { exitCode: 2 });
        const c = await extractDeb(deb, out).catch((e) => {
          throw ioError(e, `cannot write --out ${out}`);
        });
        const counts = { file: 0, dir: 0, symlink: 0, hardlink: 0 };
        let bytes = 0;
        for (const e of c.entries) {
          counts[e.type]++;
          bytes += e.type === "file" ? e.size : 0;
        }
        output(
          opts.json === true,
          {
            package: c.control.Package,
            version: c.control.Version,
            architecture: c.control.Architecture,
            out,
            entries: c.entries.length,
            files: counts.file,
            directories: counts.dir,
            symlinks: counts.symlink,
            hardlinks: counts.hardlink,
            bytes,
          },
          () =>
            `${c.control.Package} ${c.control.Version} ${c.control.Architecture}: ${c.entries.length} entries ` +
            `(${counts.file} files, ${counts.dir} dirs, ${counts.symlink} symlinks, ${counts.hardlink} hardlinks, ${bytes} bytes) → ${out}`,
        );
      }),
    );
}
