/** Shared bits of the build e2e tests: run the CLI, the shared .deb cache, temp dirs. */

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunResult } from "../helpers/podman.ts";

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

/** Run a command (stdin closed) with a timeout; never leaves the child behind. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { allowFail?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (!opts.allowFail && code !== 0)
        reject(new Error(`${cmd} ${args.join(" ")}: exit ${code ?? signal}\n${stderr}`));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}
