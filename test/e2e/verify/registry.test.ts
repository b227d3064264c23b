/**
 * registry: references — an image pushed to a real local registry (docker-registry on
 * 127.0.0.1, Basic auth) is verified and tested straight from the registry; the temporary pull
 * is removed afterwards.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { shellfree } from "../../helpers/cli.ts";
import { makeImage, TINI } from "../../helpers/images.ts";
import { startRegistry, type TestRegistry } from "../../helpers/registry.ts";

const cli = (args: string[]) => shellfree(args, { timeoutMs: 180_000, env: { SHELLFREE_QUIET: "1" } });
let dir: string;
let reg: TestRegistry;
const creds = "tester:s3cret-pw";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sf-e2e-vreg-"));
  reg = await startRegistry({ htpasswd: { user: "tester", password: "s3cret-pw" } });
  const img = await makeImage(join(dir, "img"), {
    files: [
      { path: TINI, hostPath: TINI, mode: 0o755 },
      { path: "/etc/os-release", data: 'ID=debian\nVERSION_ID="13"\n' },
    ],
    config: { entrypoint: [TINI, "--version"], user: "65532", healthcheck: { test: [TINI, "--version"] } },
  });
  const p = await shellfree(["push", img.ref, `${reg.host}/shellfree/tini:v1`, "--creds", creds], {
    timeoutMs: 120_000,
  });
  assert.equal(p.code, 0, p.stderr);
});
after(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

const pulledDirs = async () => (await readdir(tmpdir())).filter((n) => n.startsWith("shellfree-pulled-"));

test("verify and test a registry: reference", async () => {
  const before0 = new Set(await pulledDirs());
  const ref = `registry:${reg.host}/shellfree/tini:v1`;
  const v = await cli(["verify", ref, "--creds", creds, "--json"]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const rep = JSON.parse(v.stdout);
  assert.equal(rep.passed, true);
  assert.equal(rep.image, ref);
  assert.match(rep.manifestDigest, /^sha256:[0-9a-f]{64}$/);
  const yaml = join(dir, "cst.yaml");
  await writeFile(
    yaml,
    `schemaVersion: 2.0.0\ncommandTests:\n  - name: version\n    command: ${TINI}\n    args: ["--version"]\n    expectedOutput: ["tini version"]\n`,
  );
  const t = await cli(["test", ref, "--creds", creds, "--driver", "runc", "--config", yaml]);
  assert.equal(t.code, 0, t.stdout + t.stderr);
  assert.match(t.stdout, /PASS — 1 passed, 0 failed/);
  const noCreds = await cli(["verify", ref]);
  assert.equal(noCreds.code, 1, "no credentials: a clear failure");
  assert.match(noCreds.stderr, /^shellfree: /m);
  assert.deepEqual(
    (await pulledDirs()).filter((d) => !before0.has(d)),
    [],
    "temporary pulls removed",
  );
});
