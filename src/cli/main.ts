/**
 * shellfree CLI entry. Thin: each command lives in its own file, exports `register(program)`,
 * parses flags, calls a subsystem and prints. Add a command by adding its module to COMMANDS.
 */
import { Command } from "commander";
import { setQuiet } from "../util/progress.ts";
import { checkTimeoutEnv, fail, normalizeArgv, VERSION } from "./common.ts";

type Registrar = { register(program: Command): void };

// Command name → the module(s) that register it (kept sorted). Only the modules of the command
// being run are loaded, so one command's dependencies never slow down or break another.
const COMMANDS: Record<string, Array<() => Promise<Registrar>>> = {
  build: [() => import("./build.ts")],
  completion: [() => import("./completion.ts")],
  debian: [() => import("./debian-extract.ts"), () => import("./version-compare.ts")],
  fetch: [() => import("./fetch.ts")],
  "generate-key-pair": [() => import("./generate-key-pair.ts")],
  "init-config": [() => import("./init.ts")],
  inspect: [() => import("./inspect.ts")],
  lock: [() => import("./lock.ts")],
  outdated: [() => import("./outdated.ts")],
  pull: [() => import("./pull.ts")],
  push: [() => import("./push.ts")],
  resolve: [() => import("./resolve.ts")],
  sign: [() => import("./sign.ts")],
  test: [() => import("./test.ts")],
  verify: [() => import("./verify.ts")],
  "verify-signature": [() => import("./verify-signature.ts")],
};

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

const first = process.argv.slice(2).find((a) => !a.startsWith("-"));
// completion describes every command: it loads them all
const wanted =
  first && first !== "completion" && Object.hasOwn(COMMANDS, first)
    ? COMMANDS[first]
    : Object.values(COMMANDS).flat();
for (const load of wanted) (await load()).register(program);

try {
  await program.parseAsync(normalizeArgv(process.argv));
} catch (e) {
  fail(e);
}
