/**
 * The vote API example (examples/vote-api/app) and its unittest suite, run by Debian trixie's
 * own python3.13 with Debian's FastAPI, uvicorn, pydantic and psycopg — the packages its image
 * will hold — unpacked by shellfree's debian API into a temp root and started through the root's
 * ELF loader (src/python's findImageInterpreter), never the host's python. The PostgreSQL side
 * runs against a real PostgreSQL (Debian's, a private cluster on 127.0.0.1).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  findImageInterpreter,
  hostArch,
  type ImageInterpreter,
  runPython,
} from "../../../src/python/index.ts";
import { which } from "../../../src/python/interpreter.ts";
import { type Postgres, startPostgres } from "../../helpers/postgres.ts";
import { type ImageRoot, imageRoot } from "../python/common.ts";

const EXAMPLE = resolve(import.meta.dirname, "../../../examples/vote-api");
/** What the image will hold (examples/vote-api/shellfree.yaml) plus, for the tests only, httpx
 * (fastapi.testclient) and mypy. */
const PACKAGES = [
  "python3",
  "python3-fastapi",
  "python3-uvicorn",
  "python3-pydantic",
  "python3-psycopg",
  "python3-psycopg-c",
  "python3-httpx",
  "python3-mypy",
];

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** The image's python with `args`, in `cwd`, with the interpreter's env plus `env`. */
function startPython(
  py: ImageInterpreter,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<Finished>; output: () => string } {
  const child = spawn(py.command, [...py.prefix, ...args], {
    cwd,
    env: { ...py.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const done = new Promise<Finished>((res) => {
    child.on("close", (code, signal) => res({ code, signal, out }));
    child.on("error", (e) => res({ code: null, signal: null, out: `${out}\n${e.message}` }));
  });
  return { child, done, output: () => out };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => res(typeof a === "object" && a ? a.port : 0));
    });
  });
}

async function status(port: number, path: string, method = "GET"): Promise<number> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, signal: AbortSignal.timeout(5000) });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0; // not listening (yet)
  }
}

/** Poll until `path` answers `want` (bounded). */
async function until(port: number, path: string, want: number, ms: number, method = "GET"): Promise<number> {
  const deadline = Date.now() + ms;
  let last = 0;
  while (Date.now() < deadline) {
    last = await status(port, path, method);
    if (last === want) return Date.now() - (deadline - ms);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${method} ${path}: ${last} instead of ${want} after ${ms} ms`);
}

describe("examples/vote-api app under Debian trixie's python3 and packages (host architecture)", () => {
  let tmp: string;
  let img: ImageRoot;
  let py: ImageInterpreter;
  let pg: Postgres;
  before(async () => {
    const arch = hostArch();
    assert.ok(arch, `a Debian architecture for ${process.arch}`);
    tmp = await mkdtemp(join(tmpdir(), "sf-vote-api-"));
    img = await imageRoot(join(tmp, "root"), "trixie", arch, PACKAGES);
    const found = await findImageInterpreter(img.root, img.target);
    assert.ok(found.ok, found.ok ? "" : found.reason);
    py = found.interpreter;
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("the interpreter and the libraries are the root's, not the host's", async (t) => {
    assert.equal(py.via, "loader");
    const r = await runPython(py, [
      "-c",
      [
        "import json, sys, fastapi, uvicorn, pydantic, psycopg, starlette",
        "mods = (fastapi, uvicorn, pydantic, psycopg, starlette)",
        "print(json.dumps({'python': sys.version.split()[0], 'impl': psycopg.pq.__impl__,",
        "  'libpq': psycopg.pq.version(), 'files': [m.__file__ for m in mods],",
        "  'versions': [m.__version__ for m in mods]}))",
      ].join("\n"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as {
      python: string;
      impl: string;
      libpq: number;
      files: string[];
      versions: string[];
    };
    t.diagnostic(
      `python ${info.python}; fastapi, uvicorn, pydantic, psycopg, starlette: ${info.versions.join(", ")}; psycopg impl ${info.impl}, libpq ${info.libpq}`,
    );
    assert.match(info.python, /^3\.13\./);
    for (const f of info.files) assert.ok(f.startsWith(join(img.root, "usr/lib/python3/dist-packages/")), f);
    assert.equal(info.impl, "c", "psycopg's C implementation (python3-psycopg-c), linked against libpq");
    assert.ok(info.libpq >= 170000, `trixie's libpq 17 (${info.libpq})`);
    for (const p of PACKAGES)
      assert.ok(
        img.packages.some((x) => x.name === p),
        p,
      );
  });

  test("why the image needs python3-psycopg-c: in a root without ldconfig, psycopg's Python implementation finds no libpq", async () => {
    // a chroot into the unpacked root: what the image will see (no /sbin/ldconfig, no gcc, no ld)
    for (const [link, target] of [
      ["lib64", "usr/lib64"],
      ["lib", "usr/lib"],
      ["bin", "usr/bin"],
    ]) {
      if (!existsSync(join(img.root, link))) await symlink(target, join(img.root, link));
    }
    assert.ok(
      !existsSync(join(img.root, "sbin/ldconfig")) && !existsSync(join(img.root, "usr/sbin/ldconfig")),
    );
    const chrootCmd = which("chroot", "/usr/sbin:/usr/bin:/sbin:/bin");
    assert.ok(chrootCmd, "chroot (coreutils)");
    const code = "import psycopg; print(psycopg.pq.__impl__)";
    const chroot = (env: Record<string, string>) =>
      new Promise<Finished>((res) => {
        const c = spawn(chrootCmd, [img.root, "/usr/bin/python3", "-c", code], {
          env: { PATH: "/usr/bin", PYTHONDONTWRITEBYTECODE: "1", ...env },
        });
        let out = "";
        c.stdout.on("data", (d: Buffer) => {
          out += d;
        });
        c.stderr.on("data", (d: Buffer) => {
          out += d;
        });
        c.on("close", (code, signal) => res({ code, signal, out }));
      });
    const withC = await chroot({});
    assert.equal(withC.code, 0, withC.out);
    assert.equal(withC.out.trim(), "c");
    const pure = await chroot({ PSYCOPG_IMPL: "python" });
    assert.notEqual(pure.code, 0);
    assert.match(pure.out, /libpq library not found/);
  });

  test("python3 -m unittest discover: every test passes, the PostgreSQL ones against a real server, none skipped", async (t) => {
    const run = startPython(py, ["-m", "unittest", "discover", "-v", "-s", "tests", "-t", "."], EXAMPLE, {
      VOTE_TEST_PYTHON: JSON.stringify([py.command, ...py.prefix]),
      VOTE_TEST_DATABASE_URL: pg.url,
    });
    const r = await within(run.done, 480_000, "unittest");
    t.diagnostic(
      r.out
        .split("\n")
        .filter((l) => /^Ran |^OK|^FAILED/.test(l))
        .join("; "),
    );
    assert.equal(r.code, 0, r.out.slice(-6000));
    const ran = /^Ran (\d+) tests? in /m.exec(r.out);
    assert.ok(ran, r.out.slice(-2000));
    assert.ok(Number(ran[1]) >= 25, `${ran[1]} tests`);
    assert.match(r.out, /^OK$/m, "OK without skips");
    assert.doesNotMatch(r.out, /skipped/);
    for (const name of [
      "test_votes_are_counted",
      "test_anything_but_cats_or_dogs_is_422_and_not_counted",
      "test_health_and_ready_over_get_and_head",
      "test_alive_but_not_ready",
      "test_api_head_bodies_and_a_quiet_access_log",
      "test_sigterm_finishes_the_request_in_flight_and_exits_0",
      "test_votes_are_counted_across_replicas",
      "test_replicas_starting_together_create_the_schema_once",
      "test_wrong_password_is_503_and_the_password_is_not_shown",
      "test_the_real_server",
    ]) {
      assert.match(r.out, new RegExp(`^${name} \\(.*\\) \\.\\.\\. ok$`, "m"), name);
    }
    assert.ok(!r.out.includes(pg.password), "the database password is never printed");
  });

  test("mypy --strict: the app and its tests are fully typed (trixie's mypy)", async (t) => {
    const run = startPython(
      py,
      ["-m", "mypy", "--strict", "--cache-dir", join(tmp, "mypy-cache"), "app", "tests"],
      EXAMPLE,
      {},
    );
    const r = await within(run.done, 300_000, "mypy");
    t.diagnostic(r.out.trim().split("\n").pop() ?? "");
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^Success: no issues found in \d+ source files$/m);
  });

  test("/ready follows PostgreSQL going down and coming back; votes survive; SIGTERM exits 0", async (t) => {
    const port = await freePort();
    const server = startPython(py, ["-m", "app"], EXAMPLE, {
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: pg.url,
    });
    try {
      const up = await until(port, "/health", 200, 90_000);
      t.diagnostic(`first 200 on /health after ${up} ms (no compiled bytecode)`);
      await until(port, "/ready", 200, 10_000);
      const vote = await fetch(`http://127.0.0.1:${port}/api/vote`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ choice: "cats" }),
      });
      assert.equal(vote.status, 201);
      await pg.stop();
      await until(port, "/ready", 503, 15_000);
      assert.equal(await status(port, "/ready", "HEAD"), 503);
      assert.equal(await status(port, "/health"), 200, "still alive");
      assert.equal(await status(port, "/api/results"), 503);
      await pg.start();
      const back = await until(port, "/ready", 200, 15_000);
      t.diagnostic(`/ready back to 200 ${back} ms after PostgreSQL started`);
      const results = await fetch(`http://127.0.0.1:${port}/api/results`);
      assert.deepEqual(await results.json(), { cats: 1, dogs: 0, total: 1 });
      server.child.kill("SIGTERM");
      const r = await within(server.done, 30_000, "exit after SIGTERM");
      assert.equal(r.code, 0, r.out);
      const out = r.out;
      assert.equal((out.match(/not ready: postgresql:/g) ?? []).length, 1, out);
      assert.equal((out.match(/ready: the database answers/g) ?? []).length, 2, out);
      assert.match(out, /"GET \/ready HTTP\/1\.1" 503/);
      assert.doesNotMatch(out, /"GET \/ready HTTP\/1\.1" 200/, "successful probes are not logged");
      assert.ok(!out.includes(pg.password));
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGKILL");
      await within(server.done, 10_000, "server exit").catch(() => {});
    }
  });
});
