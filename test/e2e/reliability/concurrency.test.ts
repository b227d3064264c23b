/**
 * Issue 17, item 1: concurrent writers of one OCI layout keep every tag. Three builds (t1–t3,
 * different images) and four pulls (p1–p4) into one layout at once all exit 0 and every tag
 * is there, pointing at its own image, each with its SBOM files; a writer that finds the
 * layout locked by a live process waits with a line saying so and gives up after the bounded
 * wait with one clear line, the layout untouched; a lock left by a killed process is broken.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startRegistry, type TestRegistry } from "../../helpers/registry.ts";
import { assertSameTree, snapshotTree } from "../../helpers/snapshot.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { CACHE, mustSucceed, shellfree } from "../builder/common.ts";

const REF = "org.opencontainers.image.ref.name";

let dir = "";
before(async () => {
  dir = await tempDir("shellfree-concurrency-");
});
after(() => (dir ? removeDir(dir) : undefined));

function tags(layout: string): Record<string, string> {
  const idx = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  return Object.fromEntries(idx.manifests.map((m) => [m.annotations?.[REF] ?? "", m.digest]));
}

function specFor(name: string): string {
  const f = join(dir, `${name}.yaml`);
  writeFileSync(
    f,
    `name: ${name}\npreset: static\narchitectures: [amd64]\nconfig:\n  labels: { test.variant: ${name} }\n`,
  );
  return f;
}

const build = (spec: string, out: string, env?: NodeJS.ProcessEnv) =>
  shellfree(["build", "-f", spec, "-o", out, "--cache-dir", CACHE, "--json"], { env });

describe("concurrent writers of one layout", () => {
  test("three concurrent builds t1–t3 keep every tag (and the earlier one), each with its own SBOMs", async () => {
    const layout = join(dir, "builds");
    mustSucceed(await build(specFor("base"), `oci:${layout}:base`), "first build");
    const rs = await Promise.all(["t1", "t2", "t3"].map((t) => build(specFor(t), `oci:${layout}:${t}`)));
    const digests: Record<string, string> = { base: tags(layout).base };
    for (const [i, r] of rs.entries()) {
      assert.equal(r.code, 0, r.stderr);
      digests[`t${i + 1}`] = JSON.parse(r.stdout).digest;
    }
    assert.equal(new Set(Object.values(digests)).size, 4, "four different images");
    assert.deepEqual(tags(layout), digests, "every tag kept, each pointing at its own image");
    for (const t of ["base", "t1", "t2", "t3"]) {
      const spdx = JSON.parse(readFileSync(`${layout}.${t}.spdx.json`, "utf8"));
      assert.equal(spdx.name, t, `${layout}.${t}.spdx.json is ${t}'s`);
      const cdx = JSON.parse(readFileSync(`${layout}.${t}.cdx.json`, "utf8"));
      assert.equal(cdx.metadata.component.name, t, `${layout}.${t}.cdx.json is ${t}'s`);
    }
    // every tag is a readable image, and the layout holds no lock or temp
    for (const t of Object.keys(digests)) {
      const v = await shellfree(["inspect", `oci:${layout}:${t}`, "--json"]);
      assert.equal(v.code, 0, v.stderr);
    }
    const top = [...(await snapshotTree(layout)).keys()].filter((k) => !k.replace(/\/$/, "").includes("/"));
    assert.deepEqual(top, ["blobs/", "index.json", "oci-layout"]);
    const blobs = [...(await snapshotTree(join(layout, "blobs", "sha256"))).keys()];
    assert.ok(
      blobs.every((b) => /^[0-9a-f]{64}$/.test(b)),
      `only blobs: ${blobs.join(" ")}`,
    );
  });

  test("a live lock holder: the writer waits saying so, then fails with one line; the layout is untouched", async () => {
    const layout = join(dir, "builds");
    const lock = join(layout, "index.json.lock");
    // a lock held by a live process (this test runner): PID-START-HOST as shellfree writes it
    const { ownerString } = await import("../../../src/util/owner.ts");
    writeFileSync(lock, `${ownerString()} 0123456789abcdef\n`);
    const before = await snapshotTree(dir, (p) => p.endsWith(".yaml"));
    {
      const r = await build(specFor("t4"), `oci:${layout}:t4`, { SHELLFREE_LOCK_WAIT: "3" });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^waiting for the OCI layout ${layout}: process ${process.pid} is writing it$`, "m"),
      );
      const errs = r.stderr.split("\n").filter((l) => l.startsWith("shellfree: "));
      assert.equal(errs.length, 1, r.stderr);
      assert.match(
        errs[0],
        new RegExp(
          `^shellfree: the OCI layout ${layout} is locked by process ${process.pid} \\(${lock}\\); gave up after [0-9]+ s$`,
        ),
      );
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      // under --json, stdout is the error as a JSON document (and nothing else)
      const doc = JSON.parse(r.stdout) as { error: { code: string; message: string; exitCode: number } };
      assert.equal(doc.error.code, "E_BUSY");
      assert.equal(doc.error.exitCode, 1);
      assert.equal(`shellfree: ${doc.error.message}`, errs[0]);
    }
    assertSameTree(before, await snapshotTree(dir, (p) => p.endsWith(".yaml")), "layout and SBOMs");
  });

  test("a lock left by a killed process is broken: the next build writes its tag", async () => {
    const layout = join(dir, "builds");
    const lock = join(layout, "index.json.lock");
    // a process that is gone: start one, let it end, and write its identity as the holder
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    const pid = child.pid as number;
    await new Promise((r) => child.on("close", r));
    const { ownerString, selfOwner } = await import("../../../src/util/owner.ts");
    writeFileSync(lock, `${ownerString({ ...selfOwner(), pid, start: "1" })} 0123456789abcdef\n`);
    const r = await build(specFor("t5"), `oci:${layout}:t5`, { SHELLFREE_LOCK_WAIT: "3" });
    mustSucceed(r, "build over a stale lock");
    assert.equal(tags(layout).t5, JSON.parse(r.stdout).digest);
    assert.ok(!existsSync(lock), "the lock is released");
  });
});

describe("concurrent pulls into one layout", () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(() => reg?.stop());

  test("four concurrent pulls keep all four tags", async () => {
    const layout = join(dir, "builds");
    const src = tags(layout);
    const names = ["t1", "t2", "t3", "t5"];
    for (const t of names) {
      const p = await shellfree(["push", `oci:${layout}:${t}`, `${reg.host}/conc/img:${t}`]);
      mustSucceed(p, `push ${t}`);
    }
    const pulled = join(dir, "pulled");
    const rs = await Promise.all(
      names.map((t, i) => shellfree(["pull", `${reg.host}/conc/img:${t}`, "-o", `oci:${pulled}:p${i + 1}`])),
    );
    for (const r of rs) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      tags(pulled),
      Object.fromEntries(names.map((t, i) => [`p${i + 1}`, src[t]])),
      "every pulled tag kept",
    );
    for (let i = 1; i <= 4; i++) {
      const v = await shellfree(["inspect", `oci:${pulled}:p${i}`]);
      assert.equal(v.code, 0, v.stderr);
    }
  });
});
