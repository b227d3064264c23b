/**
 * `shellfree init-config FILE`: check an init configuration (YAML or JSON, the spec's `init:`
 * section or a whole spec) and print the canonical init.json (what the builder writes to
 * /etc/shellfree/init.json).
 */
import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { ShellfreeError } from "../errors.ts";
import { InitConfigError, parseInitConfig, toInitJson } from "../init/index.ts";
import { action } from "./common.ts";

export class InitCliError extends ShellfreeError {}

/** The largest init configuration read (the builder's comes from a spec, bounded the same way). */
const MAX_INIT_CONFIG_BYTES = 1024 * 1024;

export function register(program: Command): void {
  program
    .command("init-config")
    .description(
      "check a shellfree-init configuration (YAML/JSON; a spec's init: section) and print init.json",
    )
    .argument("<file>", "YAML or JSON file: the init section itself, or a spec with an init: key")
    .action(
      action(async (file: string) => {
        let text: string;
        try {
          const size = (await stat(file)).size;
          if (size > MAX_INIT_CONFIG_BYTES) {
            throw new InitCliError(
              "E_INIT_CONFIG",
              `${file} is ${(size / 1024 / 1024).toFixed(1)} MiB; an init configuration may be at most 1 MiB`,
            );
          }
          text = await readFile(file, "utf8");
        } catch (e) {
          if (e instanceof InitCliError) throw e;
          throw new InitCliError(
            "E_INIT_CONFIG",
            `${file}: cannot read: ${(e as NodeJS.ErrnoException).code}`,
          );
        }
        let data: unknown;
        try {
          data = parseYaml(text); // YAML is a superset of JSON
        } catch (e) {
          throw new InitCliError(
            "E_INIT_CONFIG",
            `${file}: not valid YAML/JSON: ${(e as Error).message.split("\n")[0]}`,
          );
        }
        const isSpec =
          typeof data === "object" &&
          data !== null &&
          !Array.isArray(data) &&
          "init" in data &&
          !("main" in data);
        try {
          const cfg = parseInitConfig(
            isSpec ? (data as { init: unknown }).init : data,
            isSpec ? `${file}: init` : file,
          );
          process.stdout.write(toInitJson(cfg));
        } catch (e) {
          if (e instanceof InitConfigError) throw new InitCliError("E_INIT_CONFIG", e.message);
          throw e;
        }
      }),
    );
}
