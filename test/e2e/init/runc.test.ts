/**
 * shellfree-init (the native binary) in a real container under runc: the init as PID 1 (and,
 * where a test is about it, under tini-static), a Node HTTP app as the main process; read-only
 * root; the host's network namespace so the host reaches the health port on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { createServer } from "node:net";
import { after, describe, test } from "node:test";
import { Container, makeBundle, type RootfsOptions, type RunOptions } from "./container.ts";

const started: Container[] = [];
after(async () => {
  await Promise.all(started.map((c) => c.cleanup()));
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function http(port: number, path: string, method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: false, timeout: 3000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

async function until(fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

const APP = (port: number) =>
  `const http = require('http');
   const s = http.createServer((q, r) => r.end('app'));
   s.listen(${port}, '127.0.0.1', () => console.log('app listening'));
   process.on('SIGTERM', () => { console.log('app got SIGTERM'); s.close(() => process.exit(0)); });`;

async function start(opts: RootfsOptions, run: RunOptions): Promise<Container> {
  const bundle = await makeBundle(opts);
  const c = new Container(bundle, run);
  started.push(c);
  return c;
}

async function appContainer(run: RunOptions, extra: Partial<RootfsOptions> = {}) {
  const healthPort = await freePort();
  const appPort = await freePort();
  const c = await start(
    {
      files: { "app/server.js": APP(appPort) },
      initConfig: {
        main: ["/usr/local/bin/node", "/app/server.js"],
        "main-name": "app",
        health: { port: healthPort, host: "127.0.0.1", ready: { tcp: `127.0.0.1:${appPort}` } },
        shutdown: { grace: "5s", drain: "500ms" },
      },
      ...extra,
    },
    run,
  );
  return { c, healthPort, appPort };
}

describe("shellfree-init under runc", () => {
  test("UID 1234567 / GID 0: banner, states, health from the host, SIGTERM via runc kill → exit 0 in time", async () => {
    const { c, healthPort } = await appContainer({ uid: 1234567, gid: 0 });
    await c.waitLine(/\[INFO\] Ready \(tcp 127\.0\.0\.1:\d+: connected/);
    const m = c.messages();
    assert.match(m[0], /^HOME \/ is not writable for UID 1234567; using HOME=\/tmp$/);
    assert.match(
      m[1],
      /^shellfree-init \S+ starting \(PID 1, UID 1234567 \(not in \/etc\/passwd\), GID 0, HOME \/tmp, config \/etc\/shellfree\/init\.json\)$/,
    );
    assert.deepEqual(
      m.filter((x) => x.startsWith("State: ")),
      [
        "State: INITIALIZING -> VALIDATING",
        "State: VALIDATING -> PREPARING",
        "State: PREPARING -> STARTING",
        "State: STARTING -> RUNNING",
      ],
    );
    for (const path of ["/live", "/ready", "/health"]) {
      const g = await http(healthPort, path);
      assert.equal(g.status, 200, `${path}: ${g.body}`);
      assert.equal(JSON.parse(g.body).status, path === "/ready" ? "ready" : "ok");
      const h = await http(healthPort, path, "HEAD");
      assert.equal(h.status, 200);
      assert.equal(h.body, "");
    }
    // the process tree: the init is the container's PID 1, the app its child
    const procs = c.processes();
    const init = procs.find((p) => p.cmd === "/usr/bin/shellfree-init");
    const app = procs.find((p) => p.cmd === "/usr/local/bin/node /app/server.js");
    assert.ok(init && app, JSON.stringify(procs));
    assert.equal(init.pid, c.initPid());
    assert.equal(app.ppid, init.pid);

    const t0 = performance.now();
    c.kill("SIGTERM");
    await until(async () => (await http(healthPort, "/ready")).status === 503, 2000);
    assert.equal((await http(healthPort, "/live")).status, 200, "live while draining");
    const e = await c.exit();
    const took = e.at - t0;
    assert.equal(e.code, 0, c.lines.join("\n"));
    assert.ok(took < 500 + 5000 + 1000, `stopped in ${took} ms`);
    assert.match(c.stdout, /app got SIGTERM/);
    const after = c.messages();
    const i = after.indexOf("Received signal SIGTERM");
    assert.ok(i > 0);
    assert.ok(after.indexOf("Shutdown complete (exit code 0)") > i);
    assert.equal(after.at(-1), "State: SHUTTING_DOWN -> EXITED");
  });

  test("UID 65532 (nonroot): runs, answers, stops with 0", async () => {
    const { c, healthPort } = await appContainer({ uid: 65532, gid: 65532 });
    await c.waitLine(/\[INFO\] Ready /);
    assert.ok(
      c.messages().some((x) => /starting \(PID \d+, UID 65532 \(nonroot\), GID 65532, HOME \//.test(x)),
    );
    assert.equal((await http(healthPort, "/health")).status, 200);
    c.kill("SIGTERM");
    assert.equal((await c.exit()).code, 0);
  });

  test("under tini-static (as podman --init runs it): same life cycle, tini → init → app", async () => {
    const { c, healthPort } = await appContainer({ uid: 65532, gid: 65532, tini: true });
    await c.waitLine(/\[INFO\] Ready /);
    const procs = c.processes();
    const tini = procs.find((p) => p.cmd.startsWith("/usr/bin/tini-static"));
    const init = procs.find((p) => p.cmd === "/usr/bin/shellfree-init");
    const app = procs.find((p) => p.cmd === "/usr/local/bin/node /app/server.js");
    assert.ok(tini && init && app, JSON.stringify(procs));
    assert.equal(tini.pid, c.initPid());
    assert.equal(init.ppid, tini.pid);
    assert.equal(app.ppid, init.pid);
    assert.equal((await http(healthPort, "/ready")).status, 200);
    c.kill("SIGTERM");
    assert.equal((await c.exit()).code, 0, c.lines.join("\n"));
    assert.match(c.stdout, /app got SIGTERM/);
  });

  test("killing the main process makes the container exit with its code", async () => {
    const { c } = await appContainer({ uid: 65532, gid: 65532 });
    await c.waitLine(/\[INFO\] Ready /);
    const app = c.processes().find((p) => p.cmd === "/usr/local/bin/node /app/server.js");
    assert.ok(app);
    process.kill(app.pid, "SIGKILL");
    const e = await c.exit();
    assert.equal(e.code, 137);
    assert.ok(
      c.messages().some((x) => /^Main process app \(PID \d+\) died: killed by SIGKILL$/.test(x)),
      c.lines.join("\n"),
    );
    // and a main that exits by itself with a code
    const c2 = await start(
      {
        initConfig: {
          main: ["/usr/local/bin/node", "-e", "setTimeout(() => process.exit(42), 300)"],
          health: { port: await freePort(), host: "127.0.0.1" },
        },
      },
      { uid: 1234567, gid: 0 },
    );
    assert.equal((await c2.exit()).code, 42);
    assert.ok(c2.messages().some((x) => /^Main process node \(PID \d+\) died: exited with code 42$/.test(x)));
  });

  test("a main process that ignores SIGTERM is killed at grace", async () => {
    const c = await start(
      {
        initConfig: {
          main: [
            "/usr/local/bin/node",
            "-e",
            "process.on('SIGTERM', () => console.log('ignored TERM')); setInterval(() => {}, 1000); console.log('up')",
          ],
          health: { port: await freePort(), host: "127.0.0.1" },
          shutdown: { grace: "1s", drain: "200ms" },
        },
      },
      { uid: 1234567, gid: 0 },
    );
    await c.waitLine(/\[INFO\] Ready /);
    await until(async () => c.stdout.includes("up"), 5000);
    const t0 = performance.now();
    c.kill("SIGTERM");
    const e = await c.exit();
    const took = e.at - t0;
    assert.equal(e.code, 137, c.lines.join("\n"));
    assert.ok(took >= 1150 && took < 200 + 1000 + 1000, `killed at drain + grace: ${took} ms`);
    assert.match(c.stdout, /ignored TERM/);
    assert.ok(
      c
        .messages()
        .some((m) => /^Main process node \(PID \d+\) did not exit within 1000 ms; sending SIGKILL$/.test(m)),
    );
  });

  test("orphaned grandchildren are reaped by the init as PID 1 (and under tini)", async () => {
    // main starts 5 short-lived middles; each starts a grandchild that outlives it (an orphan)
    const orphanMaker = `const { spawn } = require('child_process');
      const grand = "setTimeout(() => {}, 1200)";
      const middle = "require('child_process').spawn(process.execPath, ['-e', " + JSON.stringify(grand) + "], { detached: true, stdio: 'ignore' }).unref(); process.exit(0)";
      for (let i = 0; i < 5; i++) spawn(process.execPath, ['-e', middle, 'middle'], { stdio: 'ignore' });
      setInterval(() => {}, 1000);`;
    const zombiesAfterOrphans = async (tini: boolean) => {
      const c = await start(
        {
          files: { "app/orphans.js": orphanMaker },
          initConfig: {
            main: ["/usr/local/bin/node", "/app/orphans.js"],
            health: { port: await freePort(), host: "127.0.0.1" },
          },
        },
        { uid: 65532, gid: 65532, tini },
      );
      await c.waitLine(/\[INFO\] Ready /);
      // the grandchildren exist and hang off the init
      let orphans: ReturnType<Container["processes"]> = [];
      await until(async () => {
        // the init's own PID: 1, or tini's child (a subreaper: orphans come to it, not to tini)
        const procs = c.processes();
        const init = procs.find((p) => p.cmd === "/usr/bin/shellfree-init")?.pid;
        orphans = procs.filter((p) => p.cmd.includes("setTimeout(() => {}, 1200)") && p.ppid === init);
        return orphans.length === 5;
      }, 5000);
      // after they exit: count zombies in the container's PID namespace
      await until(async () => c.processes().every((p) => !p.cmd.includes("1200)")), 4000).catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      const zombies = c.processes().filter((p) => p.state === "Z");
      c.kill("SIGTERM");
      const e = await c.exit();
      return { zombies: zombies.length, orphans: orphans.length, code: e.code, lines: c.lines };
    };
    // the init alone as PID 1: the 5 orphans were its children (counted above) and none is left a zombie
    const alone = await zombiesAfterOrphans(false);
    assert.equal(alone.orphans, 5);
    assert.equal(alone.zombies, 0, alone.lines.join("\n"));
    assert.equal(alone.code, 0);
    // under tini the init is a subreaper: the orphans are still its children, reaped
    const withTini = await zombiesAfterOrphans(true);
    assert.equal(withTini.zombies, 0, withTini.lines.join("\n"));
    assert.equal(withTini.code, 0);
  });

  test("bad configuration or a bad PEM: one clear line, exit 1, the main process never starts", async () => {
    const main = ["/usr/local/bin/node", "-e", "console.log('main ran')"];
    const cases: Array<[unknown, RegExp]> = [
      [
        { main, helth: { port: 8080 } },
        /\[ERROR\] \/etc\/shellfree\/init\.json: helth: unknown key \(allowed: /,
      ],
      [{ tasks: [] }, /\[ERROR\] \/etc\/shellfree\/init\.json: main: is required/],
      [
        { main, health: { port: "8080x" } },
        /\[ERROR\] \/etc\/shellfree\/init\.json: health\.port: must be an integer from 0 to 65535, got "8080x"$/,
      ],
    ];
    for (const [initConfig, re] of cases) {
      const c = await start({ initConfig }, { uid: 1234567, gid: 0 });
      const e = await c.exit();
      assert.equal(e.code, 1);
      assert.equal(c.lines.length, 1, c.lines.join("\n"));
      assert.match(c.lines[0], re);
      assert.equal(c.stdout, "");
    }
    // a certificate that is not PEM: the task fails, nothing is written, main never runs
    const c = await start(
      {
        files: { "etc/tls/tls.crt": "not a certificate\n", "etc/tls/tls.key": "not a key\n" },
        initConfig: {
          tasks: [
            {
              "merge-pem": { cert: "/etc/tls/tls.crt", key: "/etc/tls/tls.key", out: "/tmp/ca.pem" },
              "when-exists": true,
            },
          ],
          main,
          health: { port: await freePort(), host: "127.0.0.1" },
        },
      },
      { uid: 1234567, gid: 0 },
    );
    assert.equal((await c.exit()).code, 1);
    assert.ok(
      c
        .messages()
        .includes(
          "Task 1/1 merge-pem /etc/tls/tls.crt + /etc/tls/tls.key -> /tmp/ca.pem: failed: /etc/tls/tls.crt: no valid PEM CERTIFICATE block",
        ),
      c.lines.join("\n"),
    );
    assert.equal(c.stdout, "");
  });

  test("a required directory that is not writable fails clearly, before the main process", async () => {
    const run = async (dir: string, mode: number) => {
      const c = await start(
        {
          dirs: { [dir.slice(1)]: mode },
          initConfig: {
            tasks: [{ "ensure-dir": dir, writable: true }],
            main: ["/usr/local/bin/node", "-e", "console.log('main ran')"],
            health: { port: await freePort(), host: "127.0.0.1" },
          },
        },
        { uid: 65532, gid: 65532 },
      );
      const e = await c.exit();
      assert.equal(e.code, 1);
      assert.equal(c.stdout.includes("main ran"), false);
      assert.equal(c.messages().at(-1), "State: VALIDATING -> ERROR");
      return c.messages();
    };
    // not ours by mode
    const m1 = await run("/var/spool/app", 0o755);
    assert.ok(
      m1.includes(
        "Task 1/1 ensure-dir /var/spool/app: failed: directory /var/spool/app is not writable by UID 65532 GID 65532 (owner 0:0, mode 0755): EACCES (permission denied)",
      ),
      m1.join("\n"),
    );
    // writable by mode, but the image's root file system is read-only
    const m2 = await run("/var/cache/app", 0o777);
    assert.ok(
      m2.includes(
        "Task 1/1 ensure-dir /var/cache/app: failed: directory /var/cache/app is not writable by UID 65532 GID 65532 (owner 0:0, mode 0777): EROFS (read-only file system)",
      ),
      m2.join("\n"),
    );
  });
});
