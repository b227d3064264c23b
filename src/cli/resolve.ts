/**
 * `shellfree resolve --suite S --arch A [--exclude p,q] [--with-recommends] [--json] PKG...`:
 * the dependency closure as apt would install it on an empty system, sorted by name, one
 * `name version arch` per line (or a JSON array of {name, version, architecture, filename,
 * sha256, size}). Excluded packages are reported on stderr. Exit 1 with the failing chain when
 * the request cannot be met.
 */
import type { Command } from "commander";
import { formatResolution, resolutionJson, resolve } from "../debian/index.ts";
import { info } from "../util/progress.ts";
import { addArchiveOptions, universeFromOptions } from "./archive-options.ts";
import { action, collectList, output } from "./common.ts";

export function register(program: Command): void {
  addArchiveOptions(
    program
      .command("resolve")
      .description(
        "print the dependency closure of Debian packages (as apt would install them on an empty system)",
      )
      .argument("<packages...>", "package names (NAME, NAME:ARCH or NAME=VERSION)"),
  )
    .option(
      "--exclude <list>",
      "comma-separated packages to leave out (reported, never silently)",
      collectList,
      [],
    )
    .option("--with-recommends", "follow Recommends too")
    .option("--json", "print a JSON array")
    .action(
      action(async (packages: string[], opts: Record<string, unknown>) => {
        const { universe } = await universeFromOptions(opts);
        const r = resolve(universe, packages, {
          exclude: opts.exclude as string[],
          withRecommends: opts.withRecommends === true,
        });
        for (const x of r.excluded) info(`excluded ${x.name} (wanted by ${x.wantedBy.join(", ") || "?"})`);
        output(opts.json === true, resolutionJson(r), () => formatResolution(r));
      }),
    );
}
