/**
 * podman with a private storage root for tests: overlay driver, runc runtime, cgroupfs, its own
 * --root/--runroot/--tmpdir in a temp dir, so parallel test runs never share state. `cleanup()`
 * removes every container and image, unmounts what podman left mounted and deletes the dir.
 *
 *   const pm = await createPodman();
 *   try { await pm.run(["load", "-i", file]); ... } finally { await pm.cleanup(); }
 *   // or: await withPodman(async (pm) => { ... });
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunOptions, type RunResult, runCommand } from "./run.ts";

export interface Podman {
  /** the private directory (root, runroot, tmpdir live below it) */
  dir: string;
  /** the global flags placed before every command */
  globalArgs: string[];
  /** run `podman <globalArgs> <args>`; throws with stderr on failure unless allowFail */
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  cleanup(): Promise<void>;
}

async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    // field 5 is the mount point, with spaces etc. octal-escaped
    const mp = (f[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(Number.parseInt(o, 8)),
    );
    if (mp === dir || mp.startsWith(`${dir}/`)) out.push(mp);
  }
  // deepest first
  return out.sort((a, b) => b.length - a.length);
}

export async function createPodman(): Promise<Podman> {
  const dir = await mkdtemp(join(tmpdir(), "shellfree-podman-"));
  const globalArgs = [
    "--root",
    join(dir, "root"),
    "--runroot",
    join(dir, "runroot"),
    "--tmpdir",
    join(dir, "tmp"),
    "--storage-driver",
    "overlay",
    "--runtime",
    "runc",
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "file",
  ];
  const run = (args: string[], opts?: RunOptions) => runCommand("podman", [...globalArgs, ...args], opts);
  let cleaned = false;
  return {
    dir,
    globalArgs,
    run,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await run(["rm", "--all", "--force", "--time", "0"], { allowFail: true, timeoutMs: 60_000 }).catch(
        () => {},
      );
      await run(["rmi", "--all", "--force"], { allowFail: true, timeoutMs: 60_000 }).catch(() => {});
      for (const mp of await mountsUnder(dir)) {
        await runCommand("umount", ["-l", mp], { allowFail: true, timeoutMs: 10_000 }).catch(() => {});
      }
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

export async function withPodman<T>(fn: (pm: Podman) => Promise<T>): Promise<T> {
  const pm = await createPodman();
  try {
    return await fn(pm);
  } finally {
    await pm.cleanup();
  }
}
