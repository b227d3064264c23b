/**
 * The whole chain on examples/hello-node as `shellfree build` makes it (the node preset, the
 * native shellfree-init as PID 1 with no tini, Node only as the app's runtime): `shellfree
 * verify` passes, and `shellfree test --checks all` passes every built-in check under runc and
 * under podman — main-dies kills the app (the init's child, found without --main-process) and
 * the container exits with its code and the init's line about it; graceful-stop sees the init's
 * lines. The test spec extends the example and only moves its ports (free ones per run: the
 * containers share the host's network namespace).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CHECK_NAMES } from "../../../src/runtime/index.ts";
import { ROOT, shellfree } from "../../helpers/cli.ts";
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
  await writeFile(
    join(dir, "shellfree.yaml"),
    `extends: ${join(ROOT, "examples/hello-node/shellfree.yaml")}
architectures: [amd64]
config:
  env: { PORT: "${appPort}", SHELLFREE_HEALTH_PORT: "${healthPort}" }
  exposed-ports: [${appPort}/tcp, ${healthPort}/tcp]
`,
  );
  const out = join(dir, "image");
  const b = await shellfree(
    ["build", "-f", join(dir, "shellfree.yaml"), "-o", `oci:${out}:latest`, "--cache-dir", TEST_CACHE],
    { timeoutMs: 600_000 },
  );
  assert.equal(b.code, 0, b.stderr);
  assert.match(
    b.stdout,
    /shellfree-init \S+ at \/usr\/bin\/shellfree-init: [\d.]+ MiB \(\d+ bytes\), sha256:[0-9a-f]{64}/,
  );
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
    const byName = Object.fromEntries(rep.results.map((x: { name: string }) => [x.name, x]));
    assert.match(byName.healthcheck.message, /shellfree-init.*probe.*\/ready/);
    assert.match(
      byName["main-dies"].message,
      /^killed the main process "\/usr\/local\/bin\/node \/app\/server\.js" \(the child of shellfree-init \(PID 1\)\); the container exited with 137 after \d+ ms; its last lines: .*"[^"]*Main process hello-node \(PID \d+\) died: killed by SIGKILL"/,
    );
    assert.deepEqual(await processesWithEnv(`PORT=${appPort}`), [], "nothing left running");
  });
}
