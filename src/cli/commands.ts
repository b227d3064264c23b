/**
 * The command table: command name → the module(s) that register it (kept sorted). Only the
 * modules of the command being run are loaded, so one command's dependencies never slow down
 * or break another. Add a command by adding its module here; `npm run build` puts each in a
 * chunk of its own and lists it in dist/cli/commands.json (src/cli/manifest.ts).
 */
import type { Command } from "commander";

export type Registrar = { register(program: Command): void };

export const COMMANDS: Record<string, Array<() => Promise<Registrar>>> = {
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

/** Register every command on `program` (what `completion`, `help` and the manifest need). */
export async function registerAll(program: Command): Promise<void> {
  for (const load of Object.values(COMMANDS).flat()) (await load()).register(program);
}
