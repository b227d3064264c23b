/**
 * `shellfree init-bundle --out FILE`: write the shellfree-init bundle (the file images carry at
 * /usr/lib/shellfree/init.js). `shellfree init-config FILE`: check an init configuration (YAML
 * or JSON, the spec's `init:` section or a whole spec) and print the canonical init.json.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { bundleInit, initVersion } from "../builder/index.ts";
import { ShellfreeError } from "../errors.ts";
import { INIT_JS_PATH, InitConfigError, parseInitConfig, toInitJson } from "../init/index.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { action, output } from "./common.ts";

export class InitCliError extends ShellfreeError {}

export function register(program: Command): void {
  // listed under two names in COMMANDS: register once
  if (program.commands.some((c) => c.name() === "init-bundle")) return;
  program
    .command("init-bundle")
    .description(`write the shellfree-init bundle (installed in images as ${INIT_JS_PATH})`)
    .requiredOption("-o, --out <file>", "where to write init.js")
    .option("--json", "machine-readable result")
    .action(
      action(async (opts: { out: string; json?: boolean }) => {
        const bytes = await bundleInit();
        const out = resolve(opts.out);
        await writeFileAtomic(out, bytes, 0o644);
        const sha256 = createHash("sha256").update(bytes).digest("hex");
        output(
          opts.json === true,
          { path: out, version: initVersion(), size: bytes.length, sha256 },
          () => `${out}  shellfree-init ${initVersion()}  ${bytes.length} bytes  sha256:${sha256}`,
        );
      }),
    );

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
          text = await readFile(file, "utf8");
        } catch (e) {
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
