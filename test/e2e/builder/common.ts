/** Shared bits of the build e2e tests: run the CLI with progress on, the shared .deb cache. */
import { type CliOptions, shellfree as runCli } from "../../helpers/cli.ts";
import { type RunOptions, type RunResult, runCommand as runWithTimeout } from "../../helpers/run.ts";

export { CLI, ROOT } from "../../helpers/cli.ts";
export { TEST_CACHE as CACHE } from "../../helpers/mirror.ts";

/** Run `shellfree ARGS` with its progress lines on stderr (never throws; check `code`). */
export function shellfree(args: string[], opts: CliOptions = {}): Promise<RunResult> {
  return runCli(args, { ...opts, env: { SHELLFREE_QUIET: "0", ...opts.env } });
}

export function mustSucceed(r: RunResult, what: string): void {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}`);
}

export interface BuildJson {
  name: string;
  target: string;
  digest: string;
  sourceDateEpoch: number;
  architectures: Array<{
    architecture: string;
    manifest: string;
    packages: Array<{ name: string; version: string; architecture: string }>;
    excluded: Array<{ name: string; wantedBy: string[] }>;
    alternatives: Array<{ name: string; link: string; path: string }>;
    layers: Array<{ name: string; size: number; uncompressedSize: number; cached: boolean }>;
    size: number;
    uncompressedSize: number;
    node?: { version: string };
  }>;
  sboms: string[];
}

/** Run a command (stdin closed) with a timeout (default 120 s here); never leaves the child behind. */
export function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runWithTimeout(cmd, args, { timeoutMs: 120_000, ...opts });
}
