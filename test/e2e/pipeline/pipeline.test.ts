/**
 * scripts/pipeline.sh end to end: the delivery pipeline of examples/pipeline run here on
 * examples/hello-node (the configured Debian mirror and npm registry for the Node runtime,
 * docker-registry on 127.0.0.1, runc). Each stage's outcome is checked from the script's output
 * and independently: the registry storage it leaves is served again by a registry of the test's
 * own, which must hold the tag, the `.sig` tag and the referrers tag, and whose signature
 * `shellfree verify-signature` accepts with the run's public key and refuses with another.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { TEST_CACHE } from "../../helpers/mirror.ts";
import { startRegistry } from "../../helpers/registry.ts";
import { shellfree } from "../registry/common.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const SCRIPT = join(ROOT, "scripts", "pipeline.sh");
const LIMIT_MS = 20 * 60_000;

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run pipeline.sh in its own process group; on the time limit the whole group is killed. */
function pipeline(args: string[], env: NodeJS.ProcessEnv, limitMs = LIMIT_MS): Promise<ScriptRun> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn("bash", [SCRIPT, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", PIPELINE_CACHE_DIR: TEST_CACHE, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c) => (stdout += c));
    p.stderr.on("data", (c) => (stderr += c));
    const kill = (sig: NodeJS.Signals) => {
      try {
        if (p.pid) process.kill(-p.pid, sig);
      } catch {}
    };
    const t = setTimeout(() => {
      kill("SIGTERM");
      setTimeout(() => kill("SIGKILL"), 15_000).unref();
    }, limitMs);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** The `key: value` result lines of the script's stdout. */
function results(stdout: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of stdout.split("\n")) {
    const r = /^([A-Za-z][\w /-]*?)(?::|=) ?(.*)$/.exec(line);
    if (!r) continue;
    m.set(r[1], [...(m.get(r[1]) ?? []), r[2]]);
  }
  return m;
}

const one = (m: Map<string, string[]>, key: string): string => {
  const v = m.get(key);
  assert.ok(v && v.length === 1, `one "${key}" line, got ${JSON.stringify(v)}`);
  return v[0];
};

function portClosed(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(":");
  return new Promise((resolve) => {
    const s = connect({ host, port: Number(port) });
    s.setTimeout(2000);
    s.on("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.on("error", () => resolve(true));
    s.on("timeout", () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function getJson(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const r = await fetch(url, {
    signal: AbortSignal.timeout(10_000),
    headers: {
      accept: [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
      ].join(", "),
    },
  });
  return { status: r.status, body: await r.json().catch(() => null), headers: r.headers };
}

describe("scripts/pipeline.sh (Debian mirror, npm registry, docker-registry, runc)", () => {
  test("examples/hello-node: every stage, then the registry it leaves checked on its own", async (t) => {
    const work = await mkdtemp(join(tmpdir(), "shellfree-pipeline-e2e-"));
    const exampleLock = join(ROOT, "examples", "hello-node", "shellfree.lock");
    const committed = await readFile(exampleLock, "utf8").catch(() => null);
    try {
      const run = await pipeline([], { PIPELINE_WORK: work, COSIGN_PASSWORD: "pipeline-e2e-Pa55" });
      t.diagnostic(`pipeline.sh took ${Math.round(run.ms / 1000)} s`);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr.slice(-4000)}`);
      const r = results(run.stdout);

      // stage headers, in order, all eleven
      const headers = [...run.stderr.matchAll(/^== \[(\d+)\/11\] (\S+)/gm)].map((m) => `${m[1]} ${m[2]}`);
      assert.deepEqual(headers, [
        "1 registry:",
        "2 outdated:",
        "3 lock:",
        "4 build",
        "5 verify:",
        "6 test:",
        "7 push:",
        "8 generate-key-pair:",
        "9 sign:",
        "10 verify-signature:",
        "11 deploy:",
      ]);
      assert.match(run.stderr, /pipeline: ok in \d+s/);
      assert.equal(one(r, "example"), "examples/hello-node");

      // outdated: only with a committed lock (the real archive decides the verdict)
      if (committed === null) assert.equal(one(r, "outdated"), "skipped (no committed shellfree.lock)");
      else assert.match(one(r, "outdated"), /^exit (0|10|11): /);
      t.diagnostic(`outdated: ${one(r, "outdated")}`);
      // lock: written to the work dir; the example is left as it was
      assert.equal(one(r, "lock"), join(work, "shellfree.lock"));
      const lock = await readFile(join(work, "shellfree.lock"), "utf8");
      assert.match(lock, /amd64/);
      assert.match(lock, /arm64/);
      assert.equal(await readFile(exampleLock, "utf8").catch(() => null), committed);

      // build: SBOMs per architecture beside the output
      const sboms = r.get("sbom") ?? [];
      assert.deepEqual(sboms.map((p) => p.replace(`${work}/out/`, "")).sort(), [
        "hello-node.amd64.cdx.json",
        "hello-node.amd64.spdx.json",
        "hello-node.arm64.cdx.json",
        "hello-node.arm64.spdx.json",
      ]);
      for (const a of ["amd64", "arm64"]) {
        const spdx = JSON.parse(await readFile(join(work, "out", `hello-node.${a}.spdx.json`), "utf8"));
        assert.equal(spdx.spdxVersion, "SPDX-2.3");
        assert.ok(spdx.packages.some((p: { name: string }) => p.name === "libc6"));
        const cdx = JSON.parse(await readFile(join(work, "out", `hello-node.${a}.cdx.json`), "utf8"));
        assert.equal(cdx.bomFormat, "CycloneDX");
      }

      // verify: a SARIF report per platform, no findings (hello-node is shell-free)
      for (const a of ["amd64", "arm64"]) {
        const line = one(r, `verify linux/${a}`);
        assert.match(line, /^exit 0, 0 SARIF result\(s\): /);
        const sarif = JSON.parse(await readFile(join(work, "reports", `verify-${a}.sarif`), "utf8"));
        assert.equal(sarif.version, "2.1.0");
        assert.equal(sarif.runs.length, 1);
        assert.deepEqual(sarif.runs[0].results, []);
      }

      // test: amd64 under runc (all passed), arm64 skipped with its reason
      assert.match(one(r, "test linux/amd64"), /^passed /);
      assert.equal(one(r, "test linux/arm64"), "skipped (not this machine's architecture)");
      assert.match(run.stderr, /linux\/arm64: skipped — runc runs this machine's \(amd64\) binaries only/);
      const junit = await readFile(join(work, "reports", "test-amd64.junit.xml"), "utf8");
      assert.match(junit, /<testsuite[^>]* failures="0"/);
      for (const check of ["shell-exec-fails", "healthcheck", "graceful-stop", "main-dies", "any-uid"]) {
        assert.match(junit, new RegExp(`<testcase [^>]* name="${check}"`), check);
      }

      // push → sign → verify-signature → the digest and the deploy reference
      const registry = one(r, "registry");
      assert.match(registry, /^127\.0\.0\.1:\d+$/);
      const digest = one(r, "DIGEST");
      assert.match(digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(one(r, "IMAGE"), `${registry}/hello-node@${digest}`);
      const [pushed, pushedDigest] = one(r, "push").split(" -> ");
      assert.match(pushed, new RegExp(`^${registry.replace(/\./g, "\\.")}/hello-node:sha-[0-9a-f]{7}$`));
      assert.equal(pushedDigest, digest);
      const shaTag = pushed.split(":").pop() as string;
      assert.match(
        one(r, "sign"),
        new RegExp(`^signed ${registry.replace(/\./g, "\\.")}/hello-node@${digest}`),
      );
      assert.match(one(r, "verify-signature"), /^exit 0: verified .*: 2 of 2 signature\(s\) valid$/);
      const hex = digest.slice("sha256:".length);
      assert.deepEqual(
        one(r, "registry tags").split(" ").sort(),
        [`sha256-${hex}`, `sha256-${hex}.sig`, shaTag].sort(),
      );

      // the script stopped its registry (killed by PID at exit)
      assert.equal(await portClosed(registry), true, `${registry} still answers`);

      // independently: serve the storage it left with a registry of our own
      const reg = await startRegistry();
      try {
        await cp(join(work, "registry", "data"), join(reg.dir, "data"), { recursive: true });
        const tags = await getJson(`http://${reg.host}/v2/hello-node/tags/list`);
        assert.equal(tags.status, 200);
        const list = (tags.body as { tags: string[] }).tags;
        for (const tag of [shaTag, `sha256-${hex}.sig`, `sha256-${hex}`]) assert.ok(list.includes(tag), tag);
        const byTag = await getJson(`http://${reg.host}/v2/hello-node/manifests/${shaTag}`);
        assert.equal(byTag.status, 200);
        assert.equal(byTag.headers.get("docker-content-digest"), digest);
        const index = byTag.body as { manifests: Array<{ platform?: { architecture: string } }> };
        const arches = index.manifests.map((m) => m.platform?.architecture).filter((a) => a !== "unknown");
        assert.deepEqual(arches.sort(), ["amd64", "arm64"]);

        const ref = `${reg.host}/hello-node@${digest}`;
        const identity = `--identity=${registry}/hello-node`;
        const ok = await shellfree([
          "-q",
          "verify-signature",
          ref,
          "--key",
          join(work, "keys", "cosign.pub"),
          identity,
        ]);
        assert.equal(ok.code, 0, ok.stderr);
        assert.match(ok.stdout, /2 of 2 signature\(s\) valid/);

        // another key: refused (exit 3)
        const other = await mkdtemp(join(tmpdir(), "shellfree-pipeline-key-"));
        try {
          const g = await shellfree(
            ["-q", "generate-key-pair", "--output-key-prefix", join(other, "other")],
            {
              COSIGN_PASSWORD: "another-Pa55",
            },
          );
          assert.equal(g.code, 0, g.stderr);
          const bad = await shellfree([
            "-q",
            "verify-signature",
            ref,
            "--key",
            join(other, "other.pub"),
            identity,
          ]);
          assert.equal(bad.code, 3, bad.stdout + bad.stderr);
        } finally {
          await rm(other, { recursive: true, force: true });
        }
      } finally {
        await reg.stop();
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  test("an example with a committed lock (one architecture): outdated reports, the lock is copied", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "shellfree-pipeline-e2e-"));
    try {
      const example = join(dir, "hello");
      await cp(join(ROOT, "examples", "hello-node"), example, { recursive: true });
      const locked = await shellfree(
        ["-q", "lock", "-f", join(example, "shellfree.yaml"), "--arch", "amd64", "--cache-dir", TEST_CACHE],
        {},
      );
      assert.equal(locked.code, 0, locked.stderr);
      const committed = await readFile(join(example, "shellfree.lock"), "utf8");

      const run = await pipeline([example], {
        PIPELINE_WORK: join(dir, "work"),
        PIPELINE_ARCHES: "amd64",
        PIPELINE_IMAGE: "team/hello",
        PIPELINE_TEST_ARGS: "--checks shell-exec-fails",
      });
      t.diagnostic(`pipeline.sh took ${Math.round(run.ms / 1000)} s`);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr.slice(-4000)}`);
      const r = results(run.stdout);
      // the real archive decides: up to date, a security fix pending, or other updates
      assert.match(one(r, "outdated"), /^exit (0|10|11): /);
      t.diagnostic(`outdated: ${one(r, "outdated")}`);
      assert.match(run.stderr, /== \[2\/11\] outdated/);
      // one architecture: SBOMs without the architecture in their names
      assert.deepEqual((r.get("sbom") ?? []).map((p) => p.replace(`${dir}/work/out/`, "")).sort(), [
        "team_hello.cdx.json",
        "team_hello.spdx.json",
      ]);
      assert.equal(r.get("test linux/arm64"), undefined);
      assert.match(one(r, "test linux/amd64"), /^passed /);
      // outside a git checkout the tag is "local"
      assert.match(one(r, "push"), /\/team\/hello:local -> sha256:[0-9a-f]{64}$/);
      assert.match(one(r, "IMAGE"), /^127\.0\.0\.1:\d+\/team\/hello@sha256:[0-9a-f]{64}$/);
      // a generated password when none is given
      assert.match(run.stderr, /COSIGN_PASSWORD was not set: using a random one/);
      // the example's committed lock is untouched
      assert.equal(await readFile(join(example, "shellfree.lock"), "utf8"), committed);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("bad input: one line, exit 1, nothing started", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shellfree-pipeline-e2e-"));
    try {
      const none = await pipeline([join(dir, "missing")], {}, 60_000);
      assert.equal(none.code, 1);
      assert.equal(none.stderr.trim(), `pipeline: ${join(dir, "missing")}: no such example directory`);
      const empty = await pipeline([dir], {}, 60_000);
      assert.equal(empty.code, 1);
      assert.equal(
        empty.stderr.trim(),
        `pipeline: ${dir}/shellfree.yaml: no shellfree.yaml in the example directory`,
      );
      const arches = await pipeline([], { PIPELINE_ARCHES: "amd64 arm64" }, 60_000);
      assert.equal(arches.code, 1);
      assert.match(arches.stderr.trim(), /^pipeline: PIPELINE_ARCHES: a comma-separated list/);
      assert.equal(none.stdout + empty.stdout + arches.stdout, "");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
