/**
 * shellfree CLI entry. Thin: each command lives in its own file, exports `register(program)`,
 * parses flags, calls a subsystem and prints. Add a command by adding its module to COMMANDS.
 */
import { Command } from "commander";
import { setQuiet } from "../util/progress.ts";
import { fail, VERSION } from "./common.ts";

type Registrar = { register(program: Command): void };

// One line per command module (kept sorted).
const COMMANDS: Array<() => Promise<Registrar>> = [
  () => import("./build.ts"),
  () => import("./debian-extract.ts"),
  () => import("./fetch.ts"),
  () => import("./lock.ts"),
  () => import("./pull.ts"),
  () => import("./push.ts"),
  () => import("./resolve.ts"),
  () => import("./verify.ts"),
  () => import("./version-compare.ts"),
];

const program = new Command("shellfree")
  .description("Build, run and verify shell-free production container images from Debian packages.")
  .version(VERSION, "-V, --version")
  .option("-q, --quiet", "no progress output on stderr")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride()
  .hook("preAction", () => {
    if (program.opts().quiet) setQuiet(true);
  });

for (const load of COMMANDS) (await load()).register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  fail(e);
}
