/** Shared bits of the registry e2e tests: run the CLI (async: the test proxy lives in this process), compare layouts. */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { shellfree as runCli } from "../../helpers/cli.ts";
import { type RunResult, runCommand } from "../../helpers/run.ts";

export { CLI as SHELLFREE } from "../../helpers/cli.ts";
export type { RunResult } from "../../helpers/run.ts";
export const NODE = process.execPath;

/** Run a command without blocking the event loop (the counting proxy runs in this process). */
export function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 90_000,
): Promise<RunResult> {
  return runCommand(cmd, args, { allowFail: true, env: { ...process.env, ...env }, timeoutMs });
}

export function shellfree(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runCli(args, { env: { SHELLFREE_RETRY_BASE_MS: "50", ...env }, timeoutMs: 90_000 });
}

/** Every file of a directory tree: relative path → sha256 of its bytes. */
export async function treeDigests(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else
        out.set(
          relative(dir, p),
          createHash("sha256")
            .update(await readFile(p))
            .digest("hex"),
        );
    }
  };
  await walk(dir);
  return out;
}

export function sorted<T>(it: Iterable<T>): T[] {
  return [...it].sort();
}
