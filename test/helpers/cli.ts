/** The shellfree CLI as tests run it: bin/shellfree under this very Node, asynchronously. */
import { fileURLToPath } from "node:url";
import { type RunResult, runCommand } from "./run.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** bin/shellfree (run it with process.execPath: no launcher process in between) */
export const CLI = fileURLToPath(new URL("../../bin/shellfree", import.meta.url));

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** kill after this many ms (default 600 000) */
  timeoutMs?: number;
  cwd?: string;
  input?: string;
}

/**
 * Run `shellfree ARGS`; never throws on a non-zero exit (check `code`). Asynchronous, so servers
 * the test runs in its own process (a counting proxy, an HTTP fixture) keep answering.
 */
export function shellfree(args: string[], opts: CliOptions = {}): Promise<RunResult> {
  return runCommand(process.execPath, [CLI, ...args], {
    allowFail: true,
    timeoutMs: opts.timeoutMs ?? 600_000,
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    input: opts.input,
  });
}
