/**
 * The command manifest: what `shellfree --help` lists of each command (its term, e.g.
 * `build [options] [spec]`, and its summary), written by `npm run build` into
 * dist/cli/commands.json from the commands themselves. The bundle's top-level help and its
 * "unknown command" suggestions read it instead of loading every command's chunk; from the
 * sources every command is loaded, so both print the same (test/e2e/cli/bundle.test.ts).
 */
import { readFileSync } from "node:fs";
import { Command, Help } from "commander";
import { registerAll } from "./commands.ts";

export const MANIFEST_FILE = "commands.json";

export interface ManifestEntry {
  name: string;
  term: string;
  description: string;
}

/** The manifest of every visible command, read off a program with all of them registered. */
export async function commandManifest(): Promise<ManifestEntry[]> {
  const program = new Command("shellfree");
  await registerAll(program);
  const help = new Help();
  return help
    .visibleCommands(program)
    .filter((c) => c.name() !== "help")
    .map((c) => ({
      name: c.name(),
      term: help.subcommandTerm(c),
      description: help.subcommandDescription(c),
    }));
}

/** The manifest beside the running bundle, or undefined (running from the sources). */
export function readManifest(importMetaUrl: string): ManifestEntry[] | undefined {
  if (importMetaUrl.endsWith(".ts")) return undefined;
  try {
    return JSON.parse(readFileSync(new URL(`./${MANIFEST_FILE}`, importMetaUrl), "utf8")) as ManifestEntry[];
  } catch {
    return undefined;
  }
}

/**
 * Stand-ins for every command, for help and for suggestions only: each has the name and the
 * summary of the real one, and help prints the real one's term.
 */
export function registerStubs(program: Command, manifest: ManifestEntry[]): void {
  const terms = new Map(manifest.map((m) => [m.name, m.term]));
  const plain = new Help();
  for (const m of manifest) program.command(m.name).description(m.description);
  program.configureHelp({ subcommandTerm: (c) => terms.get(c.name()) ?? plain.subcommandTerm(c) });
}
