/**
 * `bin/shellfree` started by an older Node re-executes itself under the pinned Node. A SIGKILL of
 * that launcher (a CI timeout, the OOM killer) cannot be forwarded, so the child watches a pipe
 * only the launcher holds and stops when it closes: no orphan goes on to write output after the
 * caller saw exit 137. The child is kept busy by a mirror on 127.0.0.1 that accepts connections
 * and never answers.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

const BIN = join(import.meta.dirname, "../../../bin/shellfree");
const SYSTEM_NODE = "/usr/bin/node";

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));

describe("launcher", () => {
  it("a SIGKILLed launcher takes its re-executed child with it", async () => {
    const major = Number(
      /v(\d+)/.exec(
        (await import("node:child_process")).execFileSync(SYSTEM_NODE, ["--version"], { encoding: "utf8" }),
      )?.[1],
    );
    assert.ok(major < 22, `this test needs an older system Node to exercise the re-exec (found ${major})`);
    const held: Socket[] = [];
    const server = createServer((s) => {
      held.push(s); // accept, never answer
      s.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const launcher = spawn(
      SYSTEM_NODE,
      [
        BIN,
        "resolve",
        "--suite",
        "trixie",
        "--arch",
        "amd64",
        "--mirror",
        `http://127.0.0.1:${port}/debian`,
        "base-files",
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CI: "true" } },
    );
    try {
      const pid = launcher.pid as number;
      let child: number | undefined;
      for (let i = 0; i < 200 && !(child !== undefined && held.length > 0); i++) {
        child ??= childrenOf(pid)[0];
        await sleep(50);
      }
      assert.ok(child, "the launcher started a child");
      assert.ok(held.length > 0, "the child reached the mirror");
      process.kill(pid, "SIGKILL");
      let gone = false;
      for (let i = 0; i < 100 && !gone; i++) {
        gone = !alive(child);
        if (!gone) await sleep(50);
      }
      assert.ok(gone, `child ${child} still runs 5 s after its launcher was killed`);
    } finally {
      launcher.kill("SIGKILL");
      for (const s of held) s.destroy();
      server.close();
    }
  });
});
