/**
 * `shellfree test` under podman (private storage root, runc runtime, cgroupfs): every built-in
 * check passes on the shell-free Node image (given as an oci-archive), the structure test runs
 * unchanged, and the private storage is removed afterwards. The docker driver is exercised when
 * an engine answers; otherwise it must say clearly that none does.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CHECK_NAMES, dockerEngine } from "../../../src/runtime/index.ts";
import {
  driverDirs,
  freePort,
  privateTmp,
  processesWithEnv,
  cli as runtimeCli,
  structureYaml,
} from "./common.ts";
import { makeNodeImage } from "./node-image.ts";

// this file's CLI runs keep their work dirs in a temp dir of their own (see privateTmp)
const TMP = privateTmp("/tmp/p");
const cli = (args: string[], timeoutMs?: number) => runtimeCli(args, timeoutMs, { TMPDIR: TMP });

let dir: string;
let port: number;
let ref: string;
let before0: Set<string>;

before(async () => {
  before0 = await driverDirs("shellfree-podman-", TMP);
  dir = await mkdtemp(join(tmpdir(), "sf-e2e-podman-"));
  port = await freePort();
  ref = (await makeNodeImage(join(dir, "node"), { port, format: "oci-archive" })).ref;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function assertNothingLeft(): Promise<void> {
  const left = [...(await driverDirs("shellfree-podman-", TMP))].filter((d) => !before0.has(d));
  assert.deepEqual(left, [], "the private podman storage is removed");
  assert.deepEqual(await processesWithEnv(`PORT=${port}`), [], "no container process left running");
}

test("all built-in checks and the structure test pass under podman", async () => {
  const yaml = join(dir, "structure.yaml");
  await writeFile(yaml, structureYaml(port));
  const r = await cli([
    "test",
    ref,
    "--driver",
    "podman",
    "--checks",
    "all",
    "--http-path",
    "/health",
    "--http-method",
    "HEAD",
    "--config",
    yaml,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.driver, "podman");
  const checks = rep.results.filter((x: { kind: string }) => x.kind === "check");
  assert.deepEqual(
    checks.map((x: { name: string }) => x.name),
    CHECK_NAMES,
  );
  assert.equal(rep.results.length, CHECK_NAMES.length + 13);
  for (const x of rep.results) assert.equal(x.passed, true, `${x.kind} ${x.name}: ${x.message}`);
  // podman too: the main process is the init's child, and the container exits with its code
  const md = checks.find((x: { name: string }) => x.name === "main-dies");
  assert.match(
    md.message,
    /^killed the main process "\/usr\/local\/bin\/node \/app\/server\.cjs" \(the child of shellfree-init \(PID 1\)\); the container exited with 137 after \d+ ms; its last lines: .*"[^"]*Main process node \(PID \d+\) died: killed by SIGKILL"/,
  );
  await assertNothingLeft();
});

test("docker: runs when an engine answers, else a clear error naming what to do", async () => {
  const engine = await dockerEngine();
  const r = await cli(["test", ref, "--driver", "docker", "--checks", "healthcheck"]);
  if (engine.ok) {
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /driver docker\): PASS/);
  } else {
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^shellfree: --driver docker: no Docker engine answers \(.+\)$/m);
    assert.match(
      r.stderr,
      /^hint: start a Docker engine, or use --driver runc \(as root\) or --driver podman$/m,
    );
  }
});
