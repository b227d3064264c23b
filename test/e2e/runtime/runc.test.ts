/**
 * `shellfree test` under runc, through the CLI, on a shell-free image with a long-running main
 * (shellfree-init → node HTTP server, exec-form HEALTHCHECK): every built-in check passes; a published-
 * schema structure test passes unchanged; a failing expectation gives a diff and exit 3; an
 * image with /bin/sh fails shell-exec-fails; nothing is left behind, also after Ctrl-C.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CHECK_NAMES } from "../../../src/runtime/index.ts";
import {
  CLI,
  driverDirs,
  freePort,
  mountsWith,
  privateTmp,
  processesWithEnv,
  cli as runtimeCli,
  structureYaml,
} from "./common.ts";
import { makeNodeImage } from "./node-image.ts";

// this file's CLI runs keep their work dirs in a temp dir of their own (see privateTmp)
const TMP = privateTmp(join(tmpdir(), "sf-runc-"));
const cli = (args: string[], timeoutMs?: number) => runtimeCli(args, timeoutMs, { TMPDIR: TMP });

let dir: string;
let port: number;
let ref: string;
let before0: Set<string>;

before(async () => {
  before0 = await driverDirs("shellfree-runc-", TMP);
  dir = await mkdtemp(join(tmpdir(), "sf-e2e-runc-"));
  port = await freePort();
  ref = (await makeNodeImage(join(dir, "node"), { port })).ref;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function assertNothingLeft(): Promise<void> {
  const now = await driverDirs("shellfree-runc-", TMP);
  const left = [...now].filter((d) => !before0.has(d));
  assert.deepEqual(left, [], "no runc work dir left behind");
  assert.deepEqual(
    (await mountsWith("shellfree-runc-")).filter((m) => left.some((d) => m.includes(d))),
    [],
  );
  assert.deepEqual(await processesWithEnv(`PORT=${port}`), [], "no container process left running");
}

test("all built-in checks pass under runc (JSON report, JUnit file)", async () => {
  const junit = join(dir, "reports", "runc.xml");
  const r = await cli([
    "test",
    ref,
    "--driver",
    "runc",
    "--checks",
    "all",
    "--http-path",
    "/health",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.driver, "runc");
  assert.equal(rep.passed, true);
  assert.deepEqual(
    rep.results.map((x: { name: string }) => x.name),
    CHECK_NAMES,
  );
  for (const x of rep.results) assert.equal(x.passed, true, `${x.name}: ${x.message}`);
  const byName = Object.fromEntries(rep.results.map((x: { name: string }) => [x.name, x]));
  assert.match(byName["shell-exec-fails"].message, /✓ control: the HEALTHCHECK/);
  assert.match(byName["graceful-stop"].message, /SIGTERM → exit 0/);
  // the init's child, not the init: the container exits with the main process's 137 and the
  // init says why
  assert.match(
    byName["main-dies"].message,
    /^killed the main process "\/usr\/local\/bin\/node \/app\/server\.cjs" \(the child of shellfree-init \(PID 1\)\); the container exited with 137 after \d+ ms; its last lines: .*"[^"]*Main process node \(PID \d+\) died: killed by SIGKILL"/,
  );
  assert.ok(byName["startup-time"].metrics.timeToReadyMs > 0);
  const j = await cli([
    "test",
    ref,
    "--driver",
    "runc",
    "--checks",
    "healthcheck,read-only",
    "--format",
    "junit",
    "--output",
    junit,
  ]);
  assert.equal(j.code, 0, j.stderr);
  const xml = await readFile(junit, "utf8");
  assert.match(xml, /<testsuites name="shellfree test" tests="2" failures="0"/);
  await assertNothingLeft();
});

test("a container-structure-test YAML (published schema) runs unchanged and passes", async () => {
  const yaml = join(dir, "structure.yaml");
  await writeFile(yaml, structureYaml(port));
  const r = await cli(["test", ref, "--driver", "runc", "--config", yaml, "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.results.length, 5 + 5 + 2 + 1);
  for (const x of rep.results) assert.equal(x.passed, true, `${x.kind} ${x.name}: ${x.message}`);
  await assertNothingLeft();
});

test("built-in checks and their options can come from the YAML's shellfree: section", async () => {
  const yaml = join(dir, "with-checks.yaml");
  await writeFile(
    yaml,
    `schemaVersion: 2.0.0
shellfree:
  checks: [http, graceful-stop]
  http: { path: /nope, status: 404 }
  graceful-stop: { exitCode: 0, logs: ["Received signal SIGTERM", "Shutdown complete"] }
`,
  );
  const r = await cli(["test", ref, "--driver", "runc", "--config", yaml, "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.deepEqual(
    rep.results.map((x: { name: string; passed: boolean }) => [x.name, x.passed]),
    [
      ["http", true],
      ["graceful-stop", true],
    ],
  );
  assert.match(rep.results[0].message, /GET http:\/\/127\.0\.0\.1:\d+\/nope → 404/);
});

test("failing expectations: readable diff and exit 3", async () => {
  const yaml = join(dir, "failing.yaml");
  await writeFile(
    yaml,
    `schemaVersion: 2.0.0
commandTests:
  - name: "wrong output"
    command: "/usr/local/bin/node"
    args: ["-e", "console.log('actual output')"]
    expectedOutput: ["expected output"]
    exitCode: 3
fileExistenceTests:
  - name: "wrong mode"
    path: "/usr/local/bin/node"
    permissions: "-rwx------"
metadataTest:
  user: "root"
  entrypoint: ["/bin/sh", "-c", "node /app/server.cjs"]
`,
  );
  const r = await cli(["test", ref, "--driver", "runc", "--config", yaml]);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /FAIL — 0 passed, 3 failed/);
  assert.match(r.stdout, /exit code: expected 3, got 0/);
  assert.match(
    r.stdout,
    /stdout: expected to match \/expected output\/, but it does not\. Actual stdout:\n\s+\| actual output/,
  );
  assert.match(r.stdout, /permissions\n\s+- expected -rwx------\n\s+\+ actual {3}-rwxr-xr-x/);
  assert.match(r.stdout, /user\n\s+- expected "root"\n\s+\+ actual {3}"65532:65532"/);
  await assertNothingLeft();
});

test("an image with a shell fails shell-exec-fails", async () => {
  const p2 = await freePort();
  const bad = await makeNodeImage(join(dir, "with-sh"), {
    port: p2,
    files: [{ path: "/bin/sh", hostPath: realpathSync("/usr/bin/dash"), mode: 0o755 }],
  });
  const r = await cli(["test", bad.ref, "--driver", "runc", "--checks", "shell-exec-fails"]);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /✗ \["\/bin\/sh","-c","true"\] succeeded \(exit 0\): a shell is present/);
  assert.match(r.stdout, /✓ \["\/bin\/bash","-c","true"\] failed/);
});

test("read-only and any-uid fail for real when the app needs to write where it may not", async () => {
  const p3 = await freePort();
  const img = await makeNodeImage(join(dir, "stateful"), {
    port: p3,
    env: { WRITE_TO: "/home/nonroot/state" },
  });
  const r = await cli([
    "test",
    img.ref,
    "--driver",
    "runc",
    "--checks",
    "healthcheck,read-only,any-uid",
    "--timeout",
    "8",
    "--json",
  ]);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  const res = Object.fromEntries(JSON.parse(r.stdout).results.map((x: { name: string }) => [x.name, x]));
  assert.equal(res.healthcheck.passed, true, res.healthcheck.message);
  assert.equal(res["read-only"].passed, false);
  assert.match(res["read-only"].message, /EROFS/);
  assert.equal(res["any-uid"].passed, false);
  assert.match(res["any-uid"].message, /EACCES/);
});

test("read-only mounts a tmpfs on what the dev.shellfree.writable label names", async () => {
  const p4 = await freePort();
  const img = await makeNodeImage(join(dir, "writable"), {
    port: p4,
    env: { WRITE_TO: "/home/nonroot/state" },
    labels: { "dev.shellfree.writable": "/home/nonroot" },
  });
  const r = await cli(["test", img.ref, "--driver", "runc", "--checks", "read-only", "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const [ro] = JSON.parse(r.stdout).results;
  assert.match(ro.message, /^read-only root, tmpfs \/home\/nonroot, \/tmp: ready after \d+ ms$/);
});

test("any-uid --uid runs as that UID; http --http-proxy fails on a server that is no proxy", async () => {
  const r = await cli([
    "test",
    ref,
    "--driver",
    "runc",
    "--checks",
    "any-uid,http",
    "--uid",
    "1234567",
    "--http-proxy",
    "--json",
  ]);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  const res = Object.fromEntries(JSON.parse(r.stdout).results.map((x: { name: string }) => [x.name, x]));
  assert.equal(res["any-uid"].passed, true, res["any-uid"].message);
  assert.match(res["any-uid"].message, /^UID 1234567, GID 0: ready after \d+ ms$/);
  assert.equal(res["any-uid"].metrics.uid, 1234567);
  // the test server answers 404 for the absolute-form request: it forwards nothing
  assert.equal(res.http.passed, false);
  assert.match(
    res.http.message,
    new RegExp(
      `^GET http://127\\.0\\.0\\.1:\\d+/ through the proxy on 127\\.0\\.0\\.1:${port}\n {2}- expected status 200\n {2}\\+ actual {3}404`,
    ),
  );
  const bad = await cli(["test", ref, "--driver", "runc", "--checks", "any-uid", "--uid", "root"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^shellfree: --uid: expected a whole number, got "root"$/m);
});

test("a structure-test file's shellfree.skip leaves checks out of --checks all, and says so", async () => {
  const yaml = join(dir, "skip.yaml");
  await writeFile(yaml, "schemaVersion: 2.0.0\nshellfree:\n  skip: [http, main-dies, startup-time]\n");
  const junit = join(dir, "reports", "skip.xml");
  const r = await cli([
    "test",
    ref,
    "--driver",
    "runc",
    "--config",
    yaml,
    "--checks",
    "all",
    "--http-path",
    "/nope",
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ {2}- check "http" skipped \(.*skip\.yaml: shellfree\.skip\)$/m);
  assert.match(r.stdout, /^ {2}- check "main-dies" skipped/m);
  assert.doesNotMatch(r.stdout, /check "http" \(/, "http did not run (it would fail on /nope)");
  const j = await cli([
    "test",
    ref,
    "--driver",
    "runc",
    "--config",
    yaml,
    "--checks",
    "http,healthcheck",
    "--format",
    "junit",
    "--output",
    junit,
  ]);
  assert.equal(j.code, 0, j.stderr);
  const xml = await readFile(junit, "utf8");
  assert.match(xml, /<testsuites name="shellfree test" tests="2" failures="0" errors="0" skipped="1"/);
  assert.match(
    xml,
    /<testcase classname="shellfree\.test\.check" name="http" time="0\.000">\n\s+<skipped message=".*skip\.yaml: shellfree\.skip"\/>/,
  );
  await writeFile(yaml, "schemaVersion: 2.0.0\nshellfree:\n  skip: [htp]\n");
  const typo = await cli(["test", ref, "--driver", "runc", "--config", yaml, "--checks", "all"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown check "htp"/);
});

test("Ctrl-C removes the running container and its bundle", async () => {
  const child = spawn(
    process.execPath,
    [CLI, "test", ref, "--driver", "runc", "--checks", "graceful-stop", "--stop-timeout", "60"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, SHELLFREE_QUIET: "1", TMPDIR: TMP },
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  try {
    // wait until the server in the container answers: the container is up
    const t0 = Date.now();
    let up = false;
    while (!up && Date.now() - t0 < 60_000) {
      up = (await processesWithEnv(`PORT=${port}`)).length >= 2; // shellfree-init and node
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(up, "container started");
    child.kill("SIGINT");
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r("timeout"), 30_000)),
    ]);
    assert.equal(code, 130, stderr);
    assert.match(stderr, /SIGINT: removing containers and bundles/);
    await assertNothingLeft();
  } finally {
    child.kill("SIGKILL");
  }
});
