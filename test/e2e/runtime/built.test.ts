/**
 * The whole chain on an image built by `shellfree build` (node preset + tini + shellfree-init +
 * a small app, like examples/hello-node): `shellfree verify` passes, and `shellfree test` passes
 * every built-in check under runc and under podman — incl. main-dies on the app process that
 * shellfree-init supervises and graceful-stop with the init's log lines. Ports are chosen free
 * per run (host network namespace).
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CHECK_NAMES } from "../../../src/runtime/index.ts";
import { shellfree } from "../../helpers/cli.ts";
import { TEST_CACHE } from "../../helpers/mirror.ts";
import { cli, freePort, processesWithEnv } from "./common.ts";

let dir: string;
let ref: string;
let appPort: number;
let healthPort: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sf-e2e-built-"));
  appPort = await freePort();
  healthPort = await freePort();
  await mkdir(join(dir, "app"));
  await copyFile(
    new URL("../../../examples/hello-node/app/server.js", import.meta.url),
    join(dir, "app/server.js"),
  );
  await writeFile(
    join(dir, "shellfree.yaml"),
    `name: built-node
preset: node
suite: trixie
architectures: [amd64]
packages:
  include: [tini]
accounts:
  run-as: 65532
files:
  - { src: ./app/server.js, dest: /app/server.js, mode: "0644" }
init:
  tasks:
    - { ensure-dir: /tmp, writable: true }
  main: ["/usr/local/bin/node", "/app/server.js"]
  health: { port: ${healthPort}, ready: { http: "http://127.0.0.1:${appPort}/ready" } }
  shutdown: { grace: 10s, drain: 500ms }
config:
  entrypoint: [/usr/bin/tini-static, --, /usr/local/bin/node, /usr/lib/shellfree/init.js]
  env: { PORT: "${appPort}", TZ: UTC }
  workdir: /app
  exposed-ports: [${appPort}/tcp, ${healthPort}/tcp]
  healthcheck:
    test: [/usr/local/bin/node, /usr/lib/shellfree/init.js, probe, /ready]
    interval: 2s
    timeout: 3s
    start-period: 20s
  stop-signal: SIGTERM
`,
  );
  const out = join(dir, "image");
  const b = await shellfree(
    [
      "build",
      "-f",
      join(dir, "shellfree.yaml"),
      "--arch",
      "amd64",
      "-o",
      `oci:${out}:latest`,
      "--cache-dir",
      TEST_CACHE,
    ],
    { timeoutMs: 600_000 },
  );
  assert.equal(b.code, 0, b.stderr);
  ref = `oci:${out}:latest`;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const checkArgs = () => [
  "--checks",
  "all",
  "--http-port",
  String(appPort),
  "--http-path",
  "/ready",
  "--main-process",
  "/app/server\\.js",
  "--expect-log",
  "Received signal SIGTERM",
  "--expect-log",
  "Shutdown complete \\(exit code 0\\)",
  "--json",
];

test("shellfree verify passes the built image", async () => {
  const r = await cli(["verify", ref, "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(JSON.parse(r.stdout).counts.error, 0);
});

for (const driver of ["runc", "podman"]) {
  test(`every built-in check passes under ${driver}`, async () => {
    const r = await cli(["test", ref, "--driver", driver, ...checkArgs()]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.deepEqual(
      rep.results.map((x: { name: string }) => x.name),
      CHECK_NAMES,
    );
    for (const x of rep.results) assert.equal(x.passed, true, `${x.name}: ${x.message}`);
    const md = rep.results.find((x: { name: string }) => x.name === "main-dies");
    assert.match(md.message, /killed the main process "\/usr\/local\/bin\/node \/app\/server\.js"/);
    assert.deepEqual(await processesWithEnv(`PORT=${appPort}`), [], "nothing left running");
  });
}
