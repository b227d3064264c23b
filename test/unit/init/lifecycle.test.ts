/**
 * shellfree-init lifecycle, run for real: the bundled init.js under node, real main processes,
 * real signals, real HTTP on 127.0.0.1 (ephemeral ports).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { cleanupAll, freePort, http, messages, nodeMain, startInit, tempDir, until } from "./helpers.ts";

after(cleanupAll);

const LINE_RE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[(INFO|WARN|ERROR)\] \S/;
const health = { port: 0, host: "127.0.0.1" };

/** Index of the first message matching each pattern; asserts they appear in this order. */
function assertOrder(lines: string[], patterns: RegExp[]): void {
  const msgs = messages(lines);
  let from = 0;
  for (const re of patterns) {
    const i = msgs.findIndex((m, k) => k >= from && re.test(m));
    assert.ok(i >= 0, `expected ${re} after line ${from} in:\n${lines.join("\n")}`);
    from = i + 1;
  }
}

describe("startup and shutdown", () => {
  test("banner, log format, task and state order; SIGTERM → exit 0", async () => {
    using d = tempDir();
    const p = await startInit({
      dir: d.path,
      config: {
        tasks: [
          { validate: [process.execPath, "-e", "0"] },
          { "ensure-dir": join(d.path, "spool"), writable: true },
          { run: [process.execPath, "-e", "0"] },
        ],
        main: ["sleep", "60"],
        health,
        shutdown: { grace: "5s", drain: "0s" },
      },
    });
    await p.waitLine(/State: STARTING -> RUNNING/);
    p.kill("SIGTERM");
    const e = await p.exit();
    assert.equal(e.code, 0, p.lines.join("\n"));
    for (const l of p.lines) assert.match(l, LINE_RE);
    assert.match(
      messages(p.lines)[0],
      /^shellfree-init \d+\.\d+\.\d+\S* starting \(PID \d+, UID 0 \(root\), GID 0, HOME \/\S*, config \/\S+\/init\.json, node v\d+/,
    );
    assertOrder(p.lines, [
      /^shellfree-init .* starting/,
      /^State: INITIALIZING -> VALIDATING$/,
      /^Task 1\/3 validate .* -e 0: ok/,
      /^Task 2\/3 ensure-dir .*\/spool: ok \(created, writable/,
      /^State: VALIDATING -> PREPARING$/,
      /^Task 3\/3 run .*: ok/,
      /^State: PREPARING -> STARTING$/,
      /^Health server listening on http:\/\/127\.0\.0\.1:\d+/,
      /^Main process started: PID \d+: sleep 60$/,
      /^State: STARTING -> RUNNING$/,
      /^Received signal SIGTERM$/,
      /^State: RUNNING -> SHUTTING_DOWN$/,
      /^Sending SIGTERM to main process PID \d+/,
      /^Main process was killed by signal SIGTERM$/,
      /^Shutdown complete \(exit code 0\)$/,
      /^State: SHUTTING_DOWN -> EXITED$/,
    ]);
    assert.match(p.lines.at(-1)!, /State: SHUTTING_DOWN -> EXITED/);
  });

  test("--log-format json: one JSON object a line, with level, msg and state", async () => {
    using d = tempDir();
    const p = await startInit({
      dir: d.path,
      config: { main: ["sleep", "60"], health },
      args: ["--log-format", "json"],
    });
    await p.waitLine(/"State: STARTING -> RUNNING"/);
    p.kill("SIGINT");
    assert.equal((await p.exit()).code, 0);
    const objs = p.lines.map((l) => JSON.parse(l));
    for (const o of objs) {
      assert.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(["INFO", "WARN", "ERROR"].includes(o.level));
      assert.equal(typeof o.msg, "string");
    }
    assert.equal(objs[0].uid, 0);
    assert.equal(typeof objs[0].version, "string");
    assert.deepEqual(
      objs.filter((o) => o.state).map((o) => o.state),
      ["VALIDATING", "PREPARING", "STARTING", "RUNNING", "SHUTTING_DOWN", "EXITED"],
    );
    assert.ok(objs.some((o) => o.msg === "Received signal SIGINT"));
  });

  test("SIGTERM → exit 0 within drain + grace + 1 s", async () => {
    using d = tempDir();
    const p = await startInit({
      dir: d.path,
      config: { main: ["sleep", "60"], health, shutdown: { grace: "3s", drain: "500ms" } },
    });
    await p.waitLine(/State: STARTING -> RUNNING/);
    const t0 = performance.now();
    p.kill("SIGTERM");
    const e = await p.exit();
    const took = e.at - t0;
    assert.equal(e.code, 0);
    assert.ok(took >= 450, `drain honoured (${took} ms)`);
    assert.ok(took < 500 + 3000 + 1000, `took ${took} ms`);
  });

  test("a main process that ignores SIGTERM is SIGKILLed at grace; init exits 137", async () => {
    using d = tempDir();
    const p = await startInit({
      dir: d.path,
      config: {
        main: nodeMain(
          "process.on('SIGTERM', () => console.log('ignoring TERM')); setInterval(() => {}, 1000); console.log('armed')",
        ),
        health,
        shutdown: { grace: "1s", drain: "0s" },
      },
    });
    await p.waitLine(/State: STARTING -> RUNNING/);
    await until(async () => p.stdout.includes("armed"), 10_000); // its handler is installed
    const t0 = performance.now();
    p.kill("SIGTERM");
    const e = await p.exit();
    const took = e.at - t0;
    assert.equal(e.code, 137, p.lines.join("\n"));
    assert.ok(took >= 950 && took < 1000 + 1000, `killed at grace: ${took} ms`);
    assert.match(p.stdout, /ignoring TERM/);
    assertOrder(p.lines, [
      /did not exit within 1000 ms; sending SIGKILL/,
      /Shutdown complete \(exit code 137\)/,
    ]);
  });

  test("a second SIGTERM during shutdown does not cut the wait short", async () => {
    using d = tempDir();
    const p = await startInit({
      dir: d.path,
      config: {
        main: nodeMain(
          "process.on('SIGTERM', () => { console.log('TERM'); setTimeout(() => { console.log('bye'); process.exit(0) }, 800) }); setInterval(() => {}, 1000); console.log('armed')",
        ),
        health,
        shutdown: { grace: "5s", drain: "0s" },
      },
    });
    await p.waitLine(/State: STARTING -> RUNNING/);
    await until(async () => p.stdout.includes("armed"), 10_000);
    const t0 = performance.now();
    p.kill("SIGTERM");
    await p.waitLine(/Sending SIGTERM/);
    p.kill("SIGTERM");
    const e = await p.exit();
    assert.equal(e.code, 0, p.lines.join("\n"));
    assert.ok(e.at - t0 >= 750, `waited for the main process (${e.at - t0} ms)`);
    assert.match(p.stdout, /bye/, "main finished its own shutdown");
    assert.ok(
      messages(p.lines).some((m) => /^Received signal SIGTERM again; shutdown already in progress/.test(m)),
    );
  });

  test("the configured stop signal (SIGQUIT) shuts down and is what the main process gets", async () => {
    using d = tempDir();
    const p = await startInit({
      dir: d.path,
      config: {
        main: nodeMain(
          "process.on('SIGQUIT', () => { console.log('got QUIT'); process.exit(0) }); setInterval(() => {}, 1000); console.log('armed')",
        ),
        health,
        shutdown: { grace: "5s", drain: "0s", signal: "SIGQUIT" },
      },
    });
    await p.waitLine(/State: STARTING -> RUNNING/);
    await until(async () => p.stdout.includes("armed"), 10_000);
    p.kill("SIGQUIT");
    const e = await p.exit();
    assert.equal(e.code, 0, p.lines.join("\n"));
    assert.match(p.stdout, /got QUIT/);
    assertOrder(p.lines, [
      /^Received signal SIGQUIT$/,
      /^Sending SIGQUIT to main process PID \d+/,
      /^Shutdown complete \(exit code 0\)$/,
    ]);
  });

  test("SIGHUP is forwarded to the main process (reload) and init keeps running", async () => {
    using d = tempDir();
    const p = await startInit({
      dir: d.path,
      config: {
        main: nodeMain(
          "process.on('SIGHUP', () => console.log('reloaded')); setInterval(() => {}, 1000); console.log('armed')",
        ),
        health,
      },
    });
    await p.waitLine(/State: STARTING -> RUNNING/);
    await until(async () => p.stdout.includes("armed"), 10_000);
    p.kill("SIGHUP");
    await until(async () => p.stdout.includes("reloaded"), 5000);
    await p.waitLine(/Received signal SIGHUP; forwarding to main process group \(reload\)/);
    assert.equal(p.child.exitCode, null, "init still running");
    p.kill("SIGTERM");
    assert.equal((await p.exit()).code, 0);
  });

  test("a stop signal during pre-start tasks stops cleanly (task killed, exit 0)", async () => {
    using d = tempDir();
    const marker = join(d.path, "main-ran");
    const p = await startInit({
      dir: d.path,
      config: {
        tasks: [{ run: ["sleep", "47.25"] }],
        main: [process.execPath, "-e", `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`],
        health,
      },
    });
    await p.waitLine(/State: VALIDATING -> PREPARING/);
    const { pidsWithArg } = await import("./helpers.ts");
    await until(async () => (await pidsWithArg("47.25")).length > 0, 5000);
    const t0 = performance.now();
    p.kill("SIGTERM");
    const e = await p.exit();
    assert.equal(e.code, 0, p.lines.join("\n"));
    assert.ok(e.at - t0 < 3000, `stopped in ${e.at - t0} ms`);
    assertOrder(p.lines, [
      /^Received signal SIGTERM$/,
      /^Stopped by SIGTERM before the main process started$/,
      /^Shutdown complete/,
      /^State: SHUTTING_DOWN -> EXITED$/,
    ]);
    assert.equal(existsSync(marker), false, "main never started");
    await until(async () => (await pidsWithArg("47.25")).length === 0, 3000);
  });
});

describe("main process exit", () => {
  test("main exits with a code → init exits with that code (ERROR)", async () => {
    using d = tempDir();
    const p = await startInit({
      dir: d.path,
      config: { main: nodeMain("setTimeout(() => process.exit(7), 200)"), health },
    });
    const e = await p.exit();
    assert.equal(e.code, 7);
    assertOrder(p.lines, [
      /^State: STARTING -> RUNNING$/,
      /^Main process PID \d+ exited with code 7$/,
      /-> ERROR$/,
    ]);
  });

  test("main exits 0 → init exits 0", async () => {
    using d = tempDir();
    const p = await startInit({ dir: d.path, config: { main: [process.execPath, "-e", "0"], health } });
    assert.equal((await p.exit()).code, 0);
    assert.match(p.lines.at(-1)!, /-> EXITED$/);
  });

  test("main killed by a signal → 128 + n", async () => {
    using d = tempDir();
    const p = await startInit({ dir: d.path, config: { main: ["sleep", "60"], health } });
    const l = await p.waitLine(/Main process started: PID (\d+)/);
    await p.waitLine(/State: STARTING -> RUNNING/);
    process.kill(Number(/PID (\d+)/.exec(l)![1]), "SIGKILL");
    assert.equal((await p.exit()).code, 137);
    assert.ok(messages(p.lines).some((m) => /^Main process PID \d+ was killed by signal SIGKILL$/.test(m)));
  });

  test("a main that cannot be executed is a startup failure (exit 1)", async () => {
    using d = tempDir();
    const p = await startInit({ dir: d.path, config: { main: ["/nonexistent/app"], health } });
    assert.equal((await p.exit()).code, 1);
    assert.ok(
      messages(p.lines).some((m) => /^cannot start main process \/nonexistent\/app: ENOENT$/.test(m)),
    );
  });

  test("restart: on-failure restarts with backoff up to max-restarts, then exits with the code", async () => {
    using d = tempDir();
    const count = join(d.path, "count");
    const p = await startInit({
      dir: d.path,
      config: {
        main: nodeMain(`require('fs').appendFileSync(${JSON.stringify(count)}, 'x'); process.exit(3)`),
        restart: { policy: "on-failure", "max-restarts": 2, backoff: "100ms" },
        health,
      },
    });
    const e = await p.exit();
    assert.equal(e.code, 3);
    assert.equal(readFileSync(count, "utf8"), "xxx", "ran once + 2 restarts");
    const m = messages(p.lines);
    assert.equal(m.filter((x) => /^Restarting main process in \d+ ms/.test(x)).length, 2);
    assert.ok(m.includes("Restarting main process in 100 ms (restart 1 of 2)"));
    assert.ok(m.includes("Restarting main process in 200 ms (restart 2 of 2)"), "backoff doubles");
    assert.ok(m.includes("Giving up after 2 restart(s)"));
  });

  test("pid-file: a daemonizing main is followed through its PID file", async () => {
    using d = tempDir();
    const pidFile = join(d.path, "app.pid");
    const daemon = `process.on('SIGTERM', () => { console.log('daemon got TERM'); process.exit(0) }); setInterval(() => {}, 1000)`;
    const launcher = `const c = require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(daemon)}], { detached: true, stdio: 'inherit' });
      setTimeout(() => { require('fs').writeFileSync(${JSON.stringify(pidFile)}, c.pid + '\\n'); process.exit(0) }, 300);`;
    const p = await startInit({
      dir: d.path,
      config: {
        main: nodeMain(launcher),
        "pid-file": pidFile,
        health,
        shutdown: { grace: "3s", drain: "0s" },
      },
    });
    const l = await p.waitLine(/PID file .*: main process PID (\d+)/);
    const daemonPid = Number(/PID (\d+)$/.exec(l)![1]);
    await p.waitLine(/State: STARTING -> RUNNING/);
    const port = await p.port();
    await new Promise((r) => setTimeout(r, 300)); // launcher exits; the daemon lives on
    const r = await http(port, "/ready");
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).main.pid, daemonPid);
    p.kill("SIGTERM");
    assert.equal((await p.exit()).code, 0, p.lines.join("\n"));
    assert.match(p.stdout, /daemon got TERM/);
  });

  test("pid-file that never appears → exit 1 after the 3 s poll", async () => {
    using d = tempDir();
    const p = await startInit({
      dir: d.path,
      config: { main: ["sleep", "60"], "pid-file": join(d.path, "never.pid"), health },
    });
    const t0 = performance.now();
    const e = await p.exit();
    assert.equal(e.code, 1);
    assert.ok(e.at - t0 >= 2500, `polled ~3 s (${e.at - t0} ms)`);
    assert.ok(messages(p.lines).some((m) => /^PID file \S+never\.pid did not appear/.test(m)));
  });
});

describe("health endpoints", () => {
  test("/live, /ready, /health by GET and HEAD; 503 until the readiness check passes", async () => {
    using d = tempDir();
    const appPort = await freePort();
    const app = `setTimeout(() => require('http').createServer((q, s) => s.end('ok')).listen(${appPort}, '127.0.0.1'), 1000)`;
    const p = await startInit({
      dir: d.path,
      config: { main: nodeMain(app), health: { ...health, ready: { http: `http://127.0.0.1:${appPort}/` } } },
    });
    const port = await p.port();
    await p.waitLine(/State: STARTING -> RUNNING/);
    // not ready yet: the app listens after 1 s
    const r0 = await http(port, "/ready");
    assert.equal(r0.status, 503);
    const b0 = JSON.parse(r0.body);
    assert.equal(b0.status, "not-ready");
    assert.equal(b0.reason, "readiness check failed");
    assert.match(b0.check, /ECONNREFUSED/);
    assert.equal((await http(port, "/ready", "HEAD")).status, 503);
    assert.equal((await http(port, "/health")).status, 503);
    const live = await http(port, "/live");
    assert.equal(live.status, 200);
    assert.equal(JSON.parse(live.body).status, "ok");
    assert.equal(live.headers["content-type"], "application/json");
    // becomes ready
    await until(async () => (await http(port, "/ready")).status === 200, 5000);
    await p.waitLine(/^.*\[INFO\] Ready \(http http:\/\/127\.0\.0\.1:\d+\/: 200/);
    const r1 = await http(port, "/ready");
    assert.deepEqual(
      { status: JSON.parse(r1.body).status, running: JSON.parse(r1.body).main.running },
      { status: "ready", running: true },
    );
    const h = await http(port, "/health");
    assert.equal(h.status, 200);
    assert.deepEqual((({ status, live, ready }) => ({ status, live, ready }))(JSON.parse(h.body)), {
      status: "ok",
      live: true,
      ready: true,
    });
    for (const path of ["/live", "/ready", "/health"]) {
      const head = await http(port, path, "HEAD");
      assert.equal(head.status, 200, path);
      assert.equal(head.body, "", `HEAD ${path} has no body`);
    }
    const post = await http(port, "/ready", "POST");
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, "GET, HEAD");
    assert.equal((await http(port, "/metrics")).status, 404);
    p.kill("SIGTERM");
    assert.equal((await p.exit()).code, 0);
  });

  test("ready goes 503 before the main process is signalled, and keeps answering until exit", async () => {
    using d = tempDir();
    const termFile = join(d.path, "term-at");
    const app = `process.on('SIGTERM', () => { require('fs').writeFileSync(${JSON.stringify(termFile)}, String(Date.now())); setTimeout(() => process.exit(0), 500) }); setInterval(() => {}, 1000); console.log('armed')`;
    const p = await startInit({
      dir: d.path,
      config: { main: nodeMain(app), health, shutdown: { grace: "5s", drain: "700ms" } },
      args: ["--log-format", "json"], // millisecond timestamps
    });
    const portLine = await p.waitLine(/"Health server listening on/);
    const port = JSON.parse(portLine).port as number;
    await until(async () => (await http(port, "/ready")).status === 200, 5000);
    await until(async () => p.stdout.includes("armed"), 10_000);
    p.kill("SIGTERM");
    let first503 = 0;
    const seen: number[] = [];
    let liveDuringShutdown = 0;
    // poll until init exits: every answer must be a valid one (no refused connections before exit)
    while (p.child.exitCode === null) {
      let r: Awaited<ReturnType<typeof http>>;
      try {
        r = await http(port, "/ready");
      } catch (e) {
        if (
          p.child.exitCode !== null ||
          (await Promise.race([p.exited, new Promise((res) => setTimeout(res, 100))]))
        )
          break;
        throw e;
      }
      seen.push(r.status);
      if (r.status === 503 && !first503) {
        first503 = Date.now();
        assert.equal(JSON.parse(r.body).reason, "shutting down");
      }
      if ((await http(port, "/live").catch(() => null))?.status === 200) liveDuringShutdown++;
      await new Promise((res) => setTimeout(res, 20));
    }
    const e = await p.exit();
    assert.equal(e.code, 0);
    assert.ok(first503 > 0, `saw 503: ${seen.join(",")}`);
    const termAt = Number(readFileSync(termFile, "utf8"));
    assert.ok(first503 < termAt, `ready was 503 at ${first503}, main signalled at ${termAt}`);
    // init's own record of when readiness flipped, against when the main process got the signal
    const flipped = p.lines.map((l) => JSON.parse(l)).find((o) => /^Readiness is now 503/.test(o.msg));
    assert.ok(flipped, p.lines.join("\n"));
    const notReadyAt = Date.parse(flipped.time);
    assert.ok(
      termAt - notReadyAt >= 690,
      `drain of 700 ms between not-ready and the signal (${termAt - notReadyAt} ms)`,
    );
    assert.ok(liveDuringShutdown > 5, "live kept answering during shutdown");
    assert.ok(seen.filter((s) => s === 503).length > 5, "ready kept answering 503 during shutdown");
  });

  test("exec readiness check and env port override", async () => {
    using d = tempDir();
    const flag = join(d.path, "ready-flag");
    const port = await freePort();
    const p = await startInit({
      dir: d.path,
      env: { SHELLFREE_HEALTH_PORT: String(port) },
      config: {
        main: nodeMain(
          `setTimeout(() => require('fs').writeFileSync(${JSON.stringify(flag)}, ''), 600); setInterval(() => {}, 1000)`,
        ),
        health: { port: 1, host: "127.0.0.1", ready: { exec: ["test", "-e", flag] } },
      },
    });
    assert.equal(await p.port(), port);
    await p.waitLine(/State: STARTING -> RUNNING/);
    assert.equal((await http(port, "/ready")).status, 503);
    await until(async () => (await http(port, "/ready")).status === 200, 5000);
    p.kill("SIGTERM");
    assert.equal((await p.exit()).code, 0);
  });

  test("health port in use → startup failure; the main process does not survive it", async () => {
    using d = tempDir();
    const { createServer } = await import("node:net");
    const { pidsWithArg } = await import("./helpers.ts");
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = await startInit({
        dir: d.path,
        config: { main: ["sleep", "61.75"], health: { port, host: "127.0.0.1" } },
      });
      assert.equal((await p.exit()).code, 1);
      const m = messages(p.lines);
      assert.ok(m.includes(`health server cannot listen on 127.0.0.1:${port}: EADDRINUSE`), m.join("\n"));
      assert.equal(m.at(-1), "State: STARTING -> ERROR");
      assert.equal(
        m.filter((x) => x.startsWith("Main process started")).length,
        0,
        "never reported as started",
      );
      assert.deepEqual(await pidsWithArg("61.75"), [], "main process killed");
    } finally {
      blocker.close();
    }
  });
});
