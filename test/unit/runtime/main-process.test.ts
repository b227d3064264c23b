/**
 * main-dies finds the main process from the host's /proc: PID 1 itself when it is not an init,
 * else the oldest child of the init (followed through tini → shellfree-init). Real processes on
 * this host, no container: the native init (dist/init/amd64, `npm run build:init`) supervising
 * `sleep`, under tini-static, and a plain process with a helper child.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { initBinaryPath } from "../../../src/init/index.ts";
import { childrenOf, hostProcess, mainProcess } from "../../../src/runtime/checks/main-dies.ts";
import { TINI } from "../../helpers/images.ts";
import { tempDir } from "../../helpers/tmp.ts";

const INIT = initBinaryPath("amd64");
const started: ChildProcess[] = [];
// SIGTERM to each group first: an init then stops its main process (in a group of its own)
after(async () => {
  for (const c of started) {
    try {
      process.kill(-(c.pid as number), "SIGTERM");
    } catch {}
  }
  await Promise.all(
    started.map(
      (c) =>
        c.exitCode !== null ||
        c.signalCode !== null ||
        new Promise((r) => {
          c.once("exit", r);
          setTimeout(r, 5000);
        }),
    ),
  );
  for (const c of started) {
    try {
      process.kill(-(c.pid as number), "SIGKILL");
    } catch {}
  }
});

function start(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, SHELLFREE_INIT_CONFIG: "" },
  });
  started.push(c);
  return c;
}

async function until<T>(f: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`no ${what} within 5 s`);
}

describe("the main process of a container, from the host's /proc", () => {
  test("the native init as PID 1: its oldest child (not an exec check started later)", async (t) => {
    assert.ok(existsSync(INIT), `${INIT} missing: run npm run build:init`);
    const d = await tempDir("sf-main-proc-", t);
    const cfg = join(d, "init.json");
    // a readiness exec check runs /bin/sleep too, later than the main process
    await writeFile(
      cfg,
      JSON.stringify({
        main: ["/bin/sleep", "61.25"],
        health: {
          port: 0,
          host: "127.0.0.1",
          checks: { busy: { level: "ready", exec: ["/bin/sleep", "5.5"], period: "6s", timeout: "6s" } },
        },
      }),
    );
    const init = start(INIT, ["--config", cfg]);
    const kids = await until(async () => {
      const k = await childrenOf(init.pid as number);
      return k.length >= 2 ? k : undefined;
    }, "two children of the init");
    assert.equal(kids[0].cmdline, "/bin/sleep 61.25");
    assert.ok(kids.some((k) => k.cmdline === "/bin/sleep 5.5"));
    const m = await mainProcess(init.pid as number);
    assert.equal(m?.main.cmdline, "/bin/sleep 61.25");
    assert.deepEqual(
      m?.inits.map((i) => [i.pid, i.comm]),
      [[init.pid, "shellfree-init"]],
    );
  });

  test("tini → shellfree-init → main: followed through both inits", async () => {
    const tini = start(TINI, ["-s", "--", INIT, "--", "/bin/sleep", "62.5"]);
    const m = await until(async () => {
      const r = await mainProcess(tini.pid as number);
      return r?.main.comm === "sleep" ? r : undefined;
    }, "main process under tini");
    assert.equal(m.main.cmdline, "/bin/sleep 62.5");
    assert.deepEqual(
      m.inits.map((i) => i.comm),
      ["tini-static", "shellfree-init"],
    );
  });

  test("PID 1 that is no init is the main process, whatever children it has", async () => {
    const app = start("/usr/bin/perl", ["-e", 'if (fork() == 0) { exec("/bin/sleep", "63.75") } sleep 60']);
    await until(async () => ((await childrenOf(app.pid as number)).length ? true : undefined), "the helper");
    const m = await mainProcess(app.pid as number);
    assert.equal(m?.main.pid, app.pid);
    assert.deepEqual(m?.inits, []);
    assert.equal((await hostProcess(app.pid as number))?.comm, "perl");
  });

  test("an init without a child (its main not started yet) is all there is", async () => {
    const init = start(INIT, ["--", "/bin/true"]);
    await new Promise<void>((r) => init.once("exit", () => r()));
    assert.equal(await mainProcess(init.pid as number), undefined, "gone: nothing to kill");
  });
});
