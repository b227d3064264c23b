/** Shared bits of the registry e2e tests: run the CLI (async: the test proxy lives in this process), compare layouts. */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";

const ROOT = new URL("../../../", import.meta.url).pathname;
export const SHELLFREE = join(ROOT, "bin", "shellfree");
export const NODE = process.execPath;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command without blocking the event loop (the counting proxy runs in this process). */
export function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 90_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c) => (stdout += c));
    p.stderr.on("data", (c) => (stderr += c));
    const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

export function shellfree(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(NODE, [SHELLFREE, ...args], { SHELLFREE_RETRY_BASE_MS: "50", ...env });
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
