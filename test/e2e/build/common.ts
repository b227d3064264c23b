/** Shared bits of the build e2e tests: run the CLI, the shared .deb cache, temp dirs. */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunResult, runCommand as runWithTimeout } from "../helpers/podman.ts";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const CLI = join(ROOT, "bin/shellfree");
export const CACHE = process.env.SHELLFREE_TEST_CACHE ?? "/tmp/shellfree-test-cache";

/** Run `shellfree ARGS` (never throws; check `code`). */
export function shellfree(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  // the CLI run by this very Node (>= 22.18): no launcher process in between
  return runCommand(process.execPath, [CLI, ...args], {
    allowFail: true,
    timeoutMs: opts.timeoutMs ?? 600_000,
    env: { ...process.env, SHELLFREE_QUIET: "0", ...opts.env },
  });
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `shellfree-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }) };
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
export function runCommand(
  cmd: string,
  args: string[],
  opts: { allowFail?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return runWithTimeout(cmd, args, { timeoutMs: 120_000, ...opts });
}
