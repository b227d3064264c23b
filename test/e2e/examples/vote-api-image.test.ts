/**
 * The vote API example as an image: examples/vote-api/shellfree.yaml built once by `shellfree
 * build` (amd64: preset python, Debian's FastAPI/uvicorn/pydantic/psycopg, compiled bytecode,
 * the native shellfree-init), verified, and run under runc the way deploy/ runs it: read-only
 * root, no capabilities, an arbitrary UID in group 0, tmpfs for /tmp and the SQLite directory.
 * - against a real PostgreSQL (Debian's, test/helpers/postgres.ts): votes, results, 422 on a bad
 *   choice, GET and HEAD on the init's /live, /health and /ready (and the app's), /ready 503 while PostgreSQL is down
 *   and 200 again when it is back, SIGTERM → exit 0;
 * - with nothing set (SQLite, the newcomer's default) as UID 1234567: a vote and its result,
 *   the build's .pyc and no gconv in the root, SIGTERM with a request in flight → that request
 *   answered 201, then exit 0.
 * - under podman (private storage, pulled from the oci: layout): UID 1234567 in group 0,
 *   --read-only, no capabilities, the image's VOLUME for SQLite, a vote, `podman healthcheck run`
 *   of the init's probe, `podman stop` → exit 0.
 * Ports: the app's PORT and the init's SHELLFREE_HEALTH_PORT are free ports of the host's
 * loopback (the container shares the host's network namespace).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { rm, symlink } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { freePort } from "../../helpers/net.ts";
import { withPodman } from "../../helpers/podman.ts";
import { type Postgres, startPostgres } from "../../helpers/postgres.ts";
import { type Running, startContainer, unpackBundle } from "../../helpers/runc.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { type BuildJson, CACHE, mustSucceed, shellfree } from "../builder/common.ts";

const SPEC = resolve(import.meta.dirname, "../../../examples/vote-api/shellfree.yaml");

interface Answer {
  status: number;
  body: string;
}

async function request(port: number, path: string, method = "GET", json?: unknown): Promise<Answer> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: json === undefined ? undefined : { "content-type": "application/json" },
    body: json === undefined ? undefined : JSON.stringify(json),
    signal: AbortSignal.timeout(5000),
  });
  return { status: r.status, body: await r.text() };
}

/** Polls `ok` every 200 ms until it holds (errors count as not yet) or `ms` pass. */
async function until(what: string, ms: number, ok: () => Promise<boolean>, c?: Running): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not within ${ms} ms${c ? `\n${c.output().slice(-3000)}` : ""}`);
}

const status =
  (port: number, path: string, method = "GET") =>
  async () =>
    (await request(port, path, method)).status;

describe("examples/vote-api as a shell-free image (runc with PostgreSQL, podman)", () => {
  let dir = "";
  let layout = "";
  let build: BuildJson["architectures"][number] & Record<string, unknown>;
  before(async () => {
    dir = await tempDir("shellfree-vote-image-");
    layout = join(dir, "vote");
    const r = await shellfree(
      ["build", "-f", SPEC, "--arch", "amd64", "--output", `oci:${layout}`, "--cache-dir", CACHE, "--json"],
      { timeoutMs: 900_000 },
    );
    mustSucceed(r, "build examples/vote-api");
    build = (JSON.parse(r.stdout) as BuildJson).architectures[0] as typeof build;
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("the build: Debian's packages, no email-validator, no gconv, bytecode, the native init, ≤ 80 MiB", (t) => {
    const names = (build.packages as Array<{ name: string }>).map((p) => p.name);
    for (const p of [
      "python3.13-minimal",
      "python3-fastapi",
      "python3-uvicorn",
      "python3-psycopg-c",
      "libpq5",
    ])
      assert.ok(names.includes(p), p);
    for (const p of ["python3-email-validator", "python3-dnspython", "dash", "bash", "python3-pip"])
      assert.ok(!names.includes(p), p);
    const bc = build.bytecode as { status: string; files: number; mode: string };
    assert.match(bc.status, /^(compiled|cached)$/);
    assert.equal(bc.mode, "checked-hash");
    assert.ok(bc.files > 900, `${bc.files} .pyc`);
    assert.equal((build.init as { path: string }).path, "/usr/bin/shellfree-init");
    const mib = (build.uncompressedSize as number) / 2 ** 20;
    assert.ok(mib <= 80, `${mib.toFixed(1)} MiB uncompressed (issue 16: at most 80)`);
    t.diagnostic(
      `${mib.toFixed(1)} MiB uncompressed, ${((build.size as number) / 2 ** 20).toFixed(1)} MiB compressed`,
    );
  });

  test("shellfree verify: passes with no warnings", async () => {
    const r = await shellfree(["verify", `oci:${layout}`, "--json"], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as {
      passed: boolean;
      findings: Array<{ severity: string; rule: string; message: string }>;
    };
    assert.equal(out.passed, true);
    assert.ok(Array.isArray(out.findings));
    const bad = out.findings.filter((f) => f.severity !== "info");
    assert.deepEqual(bad, []);
  });

  describe("under runc", () => {
    let bundle = "";
    let pg: Postgres;
    before(async () => {
      bundle = await unpackBundle(`${layout}:latest`, join(dir, "bundle"));
      pg = await startPostgres();
    });
    after(async () => {
      await pg?.close();
    });

    async function start(uid: number, env: Record<string, string>) {
      const app = await freePort();
      const health = await freePort();
      const c = startContainer(bundle, {
        user: { uid, gid: 0 },
        env: { PORT: String(app), SHELLFREE_HEALTH_PORT: String(health), SHELLFREE_DRAIN: "1s", ...env },
        tmpfs: { "/tmp": "1777", "/var/lib/vote-api": "0770" },
      });
      return { c, app, health };
    }

    test("PostgreSQL: vote, results, GET/HEAD health, /ready follows the database, SIGTERM → 0", async () => {
      const { c, app, health } = await start(65532, { DATABASE_URL: pg.url });
      try {
        await until("/ready 200", 60_000, async () => (await status(health, "/ready")()) === 200, c);
        for (const path of ["/live", "/health", "/ready"]) {
          const get = await request(health, path);
          assert.equal(get.status, 200, path);
          assert.ok(get.body.length > 0);
          const head = await request(health, path, "HEAD");
          assert.equal(head.status, 200, `HEAD ${path}`);
          assert.equal(head.body, "");
          if (path !== "/live")
            assert.equal((await request(app, path, "HEAD")).status, 200, `app HEAD ${path}`);
        }
        for (const choice of ["cats", "dogs", "cats"])
          assert.equal((await request(app, "/api/vote", "POST", { choice })).status, 201);
        assert.equal((await request(app, "/api/vote", "POST", { choice: "birds" })).status, 422);
        assert.equal((await request(app, "/api/vote", "POST", { choice: "cats", x: 1 })).status, 422);
        const results = await request(app, "/api/results");
        assert.equal(results.status, 200);
        assert.deepEqual(JSON.parse(results.body), { cats: 2, dogs: 1, total: 3 });

        await pg.stop();
        await until(
          "/ready 503 with PostgreSQL down",
          30_000,
          async () => (await status(health, "/ready")()) === 503,
          c,
        );
        assert.equal((await request(health, "/live")).status, 200, "alive while the database is down");
        assert.equal((await request(health, "/health", "HEAD")).status, 503, "/health is live and ready");
        assert.equal((await request(app, "/api/results")).status, 503);
        await pg.start();
        await until(
          "/ready 200 with PostgreSQL back",
          30_000,
          async () => (await status(health, "/ready")()) === 200,
          c,
        );
        assert.equal(JSON.parse((await request(app, "/api/results")).body).total, 3);

        await c.kill("TERM");
        const end = await Promise.race([
          c.exited,
          new Promise<null>((r) => setTimeout(() => r(null), 30_000)),
        ]);
        assert.ok(end, `no exit within 30 s after SIGTERM\n${c.output().slice(-3000)}`);
        assert.equal(end.code, 0, c.output().slice(-3000));
      } finally {
        await c.stop();
      }
    });

    test("SQLite by default, any UID in group 0, SIGTERM finishes a request in flight → 0", async () => {
      // the bundle's config.json keeps what the last run set: DATABASE_URL empty means SQLite
      const { c, app, health } = await start(1234567, { DATABASE_URL: "" });
      try {
        await until("/ready 200", 60_000, async () => (await status(health, "/ready")()) === 200, c);
        assert.equal((await request(app, "/api/vote", "POST", { choice: "dogs" })).status, 201);
        assert.deepEqual(JSON.parse((await request(app, "/api/results")).body), {
          cats: 0,
          dogs: 1,
          total: 1,
        });
        // the root is read-only, so python could not have written these: the build did
        for (const pyc of [
          "app/__pycache__/main.cpython-313.pyc",
          "usr/lib/python3/dist-packages/fastapi/__pycache__/applications.cpython-313.pyc",
        ])
          assert.ok(existsSync(join(bundle, "rootfs", pyc)), pyc);
        assert.ok(!existsSync(join(bundle, "rootfs/usr/lib/x86_64-linux-gnu/gconv")), "packages.drop-paths");
        assert.ok(existsSync(join(bundle, "rootfs/usr/lib/x86_64-linux-gnu/libc.so.6")));
        // a request in flight (headers and part of the body sent) when SIGTERM comes: the init
        // drains (1 s here), then uvicorn waits for it; it is answered, then the container exits 0
        const body = '{"choice": "cats"}';
        const sock = connect(app, "127.0.0.1");
        let answer = "";
        sock.setEncoding("utf8").on("data", (d: string) => {
          answer += d;
        });
        const closed = new Promise<void>((r) => sock.on("close", () => r()));
        await new Promise<void>((r, j) => sock.once("connect", () => r()).once("error", j));
        sock.write(
          `POST /api/vote HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
        );
        await new Promise((r) => setTimeout(r, 500));
        await c.kill("TERM");
        await until("uvicorn waiting for the request in flight", 15_000, async () =>
          c.output().includes("Waiting for connections to close"),
        );
        assert.equal(answer, "", "no answer before the body is complete");
        sock.write(body.slice(5));
        await Promise.race([closed, new Promise((r) => setTimeout(r, 15_000))]);
        assert.match(answer, /^HTTP\/1\.1 201 /, answer);
        assert.match(answer, /\{"choice":"cats"\}$/);
        const end = await Promise.race([
          c.exited,
          new Promise<null>((r) => setTimeout(() => r(null), 30_000)),
        ]);
        assert.ok(end, `no exit within 30 s after SIGTERM\n${c.output().slice(-3000)}`);
        assert.equal(end.code, 0, c.output().slice(-3000));
      } finally {
        await c.stop();
      }
    });
  });
  test("under podman: any UID, read-only root, the image's VOLUME, the init's probe, stop → exit 0", async () => {
    // podman names an oci: image after its path, which must be lower case (mkdtemp's is not)
    const lower = join(tmpdir(), `shellfree-vote-${process.pid}`);
    await rm(lower, { force: true });
    await symlink(layout, lower);
    await withPodman(async (pm) => {
      await pm.run(["pull", "-q", `oci:${lower}:latest`], { timeoutMs: 180_000 });
      const app = await freePort();
      const health = await freePort();
      await pm.run([
        "run",
        "-d",
        "--name",
        "vote",
        "--read-only",
        "--user",
        "1234567:0",
        "--cap-drop",
        "all",
        "--network",
        "host",
        "-e",
        `PORT=${app}`,
        "-e",
        `SHELLFREE_HEALTH_PORT=${health}`,
        "-e",
        "SHELLFREE_DRAIN=1s",
        // podman keeps a HEALTHCHECK only from Docker-format images: the image's own command
        "--health-cmd",
        '["/usr/bin/shellfree-init", "probe", "/ready"]',
        `oci:${lower}:latest`,
      ]);
      const logs = async () => (await pm.run(["logs", "vote"], { allowFail: true })).stderr;
      try {
        await until("/ready 200", 60_000, async () => (await status(health, "/ready")()) === 200);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${await logs()}`);
      }
      assert.equal((await request(app, "/api/vote", "POST", { choice: "cats" })).status, 201);
      assert.deepEqual(JSON.parse((await request(app, "/api/results")).body), { cats: 1, dogs: 0, total: 1 });
      assert.equal((await request(health, "/ready", "HEAD")).status, 200);
      // shellfree-init probe /ready, run by podman in the container
      const hc = await pm.run(["healthcheck", "run", "vote"], { allowFail: true });
      assert.equal(hc.code, 0, hc.stdout + hc.stderr);
      await pm.run(["stop", "-t", "30", "vote"], { timeoutMs: 60_000 });
      const code = (await pm.run(["inspect", "--format", "{{.State.ExitCode}}", "vote"])).stdout.trim();
      assert.equal(code, "0", await logs());
    }).finally(() => rm(lower, { force: true }));
  });
});
