/**
 * shellfree CLI entry. Thin: each command lives in its own file, exports `register(program)`,
 * parses flags, calls a subsystem and prints. Add a command by adding its module to COMMANDS.
 */
import { Command } from "commander";
import { setQuiet } from "../util/progress.ts";
import { COMMANDS, registerAll } from "./commands.ts";
import { checkTimeoutEnv, fail, normalizeArgv, VERSION } from "./common.ts";
import { readManifest, registerStubs } from "./manifest.ts";

const program = new Command("shellfree")
  .description("Build, run and verify shell-free production container images from Debian packages.")
  .version(VERSION, "-V, --version")
  .option("-q, --quiet", "no progress output on stderr")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride()
  .hook("preAction", () => {
    if (program.opts().quiet) setQuiet(true);
    checkTimeoutEnv();
  });

// The command being run (`help CMD` is CMD's help): only its modules are loaded. Without one
// (`--help`, an unknown command) the bundle lists the commands from its manifest; the sources,
// and `completion`, which describes every command, load them all.
const args = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const first = args[0] === "help" ? args[1] : args[0];
if (first && first !== "completion" && Object.hasOwn(COMMANDS, first)) {
  for (const load of COMMANDS[first]) (await load()).register(program);
} else {
  const manifest = first === "completion" ? undefined : readManifest(import.meta.url);
  if (manifest) registerStubs(program, manifest);
  else await registerAll(program);
}

try {
  await program.parseAsync(normalizeArgv(process.argv));
} catch (e) {
  fail(e);
}
