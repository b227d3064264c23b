/**
 * Bad input fails with one clear line, a non-zero exit and no output: unknown spec keys, a
 * shell-form entrypoint, a missing local file, an unknown package, a shell in the closure, a
 * bad init section, --locked without a lock — and a build killed with SIGKILL leaves neither a
 * partial output nor a corrupt cache behind.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { type BuildJson, CACHE, CLI, mustSucceed, ROOT, runCommand, shellfree } from "./common.ts";

let dir = "";
before(async () => {
  dir = await tempDir("shellfree-badinput-");
});
after(() => (dir ? removeDir(dir) : undefined));

function spec(name: string, text: string): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, text);
  return p;
}

async function expectFailure(
  specFile: string,
  code: number,
  line: RegExp,
  extra: string[] = [],
): Promise<string> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const r = await shellfree([
    "build",
    "-f",
    specFile,
    "--output",
    `oci:${out}`,
    "--cache-dir",
    CACHE,
    ...extra,
  ]);
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  const first = r.stderr.split("\n").find((l) => l.startsWith("shellfree: ")) ?? "";
  assert.match(first, line);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.equal(r.stdout, "");
  assert.ok(!existsSync(out), "no output written");
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith(".tmp-") || n.startsWith("out-")),
    [],
    "nothing half-written beside it",
  );
  return r.stderr;
}

describe("bad input is one clear error and leaves no output", () => {
  test("unknown key names file, line and field", async () => {
    const f = spec("unknown", "name: x\npackages:\n  include: [base-files]\n  incldue: [tzdata]\n");
    await expectFailure(
      f,
      1,
      new RegExp(
        `^shellfree: ${f}:4: packages\\.incldue: unknown key "incldue" \\(allowed: include, exclude, keep, allow, pins\\)$`,
      ),
    );
  });

  test("shell-form entrypoint", async () => {
    const f = spec(
      "shellform",
      "name: x\npackages: { include: [base-files] }\nconfig:\n  entrypoint: /usr/bin/app --serve\n",
    );
    await expectFailure(
      f,
      1,
      new RegExp(
        `^shellfree: ${f}:4: config\\.entrypoint: must be an array \\(exec form\\); a shell-form string is not allowed$`,
      ),
    );
  });

  test("missing local file", async () => {
    const f = spec(
      "missing",
      "name: x\npackages: { include: [base-files] }\nfiles:\n  - { src: ./app.conf, dest: /etc/app.conf }\n",
    );
    await expectFailure(
      f,
      1,
      new RegExp(`^shellfree: ${f}:4: files\\[0\\]\\.src: local file "\\./app\\.conf" does not exist`),
    );
  });

  test("unknown package and impossible pin", async () => {
    const f = spec("unknownpkg", "name: x\npackages: { include: [base-files, shellfree-no-such-package] }\n");
    await expectFailure(f, 1, /^shellfree: .*shellfree-no-such-package/);
    const g = spec("badpin", 'name: x\npackages: { include: [base-files, "tzdata=0.0-0"] }\n');
    await expectFailure(g, 1, /^shellfree: .*0\.0-0 of tzdata is not in the archive/);
  });

  test("a shell in the closure fails with the chain unless allowed", async () => {
    const f = spec("shell", "name: x\npackages: { include: [base-files, busybox] }\n");
    const err = await expectFailure(
      f,
      1,
      /^shellfree: busybox \(a shell or package manager\) would be installed \(amd64\): busybox$/,
      ["--arch", "amd64"],
    );
    assert.match(err, /^hint: .*packages\.allow: \[busybox\]/m);
    const ok = spec(
      "shell-allowed",
      "name: x\narchitectures: [amd64]\npackages: { include: [base-files, busybox], allow: [busybox] }\n",
    );
    const r = await shellfree(["lock", "-f", ok, "--cache-dir", CACHE, "--json"]);
    mustSucceed(r, "lock with allow");
    assert.ok(existsSync(join(dir, "shellfree.lock")));
  });

  test("a bad init section fails before anything is downloaded, naming its file and line", async () => {
    const f = spec("init", "name: x\npackages: { include: [base-files] }\ninit:\n  main: /usr/bin/app\n");
    await expectFailure(
      f,
      1,
      new RegExp(
        `^shellfree: ${f.replace(/[.]/g, "\\.")}:4: init\\.main: must be a non-empty list of strings`,
      ),
    );
  });

  test("--locked without a lockfile", async () => {
    const sub = join(dir, "nolock");
    mkdirSync(sub);
    const f = join(sub, "shellfree.yaml");
    writeFileSync(f, "name: x\npackages: { include: [base-files] }\n");
    await expectFailure(f, 1, /^shellfree: --locked: .*shellfree\.lock does not exist$/, ["--locked"]);
  });
});

describe("a full disk", () => {
  test("the output does not fit: one clear error, nothing left on the small file system", async () => {
    const small = join(dir, "small");
    mkdirSync(small);
    mustSucceed(
      await runCommand("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", small], { allowFail: true }),
      "mount tmpfs",
    );
    try {
      const squid = join(ROOT, "bench/squid/shellfree.yaml");
      const r = await shellfree([
        "build",
        "-f",
        squid,
        "--arch",
        "amd64",
        "--output",
        `oci:${small}/out`,
        "--cache-dir",
        CACHE,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^shellfree: cannot write oci:${small}/out: no space left on device`, "m"),
      );
      assert.match(r.stderr, /^hint: free some space/m);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      assert.deepEqual(readdirSync(small), [], "no partial output, no temp, no SBOM");
    } finally {
      await runCommand("umount", [small], { allowFail: true });
    }
  });
});

/** Start a build and SIGKILL it when stderr shows `marker`; returns how it ended. */
function killAt(args: string[], marker: RegExp): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, SHELLFREE_QUIET: "0" },
    });
    let stderr = "";
    let killed = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (!killed && marker.test(stderr)) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (_code, signal) => {
      clearTimeout(timer);
      resolve({ killed: killed && signal === "SIGKILL", stderr });
    });
  });
}

describe("a killed build", () => {
  test("SIGKILL while layers are written, then while the output is written: no partial output, cache intact", async () => {
    // a private cache (sharing only the verified .debs) so that layers are really compressed
    const cache = join(dir, "cache");
    mkdirSync(join(cache, "debs"), { recursive: true });
    mkdirSync(join(CACHE, "debs", "sha256"), { recursive: true });
    symlinkSync(join(CACHE, "debs", "sha256"), join(cache, "debs", "sha256"));
    const out = join(dir, "killed");
    const squid = join(ROOT, "bench/squid/shellfree.yaml");
    const args = [
      "build",
      "-f",
      squid,
      "--arch",
      "amd64",
      "--output",
      `oci:${out}`,
      "--cache-dir",
      cache,
      "--json",
    ];
    const first = await killAt(args, /amd64: \d+ packages/);
    assert.ok(first.killed, `the build was killed mid-way (stderr: ${first.stderr})`);
    assert.ok(!existsSync(out), "no output after a kill during the layers");
    const second = await killAt(args, /^writing oci:/m);
    process.stderr.write(
      `second build: ${second.killed ? "killed while writing the output" : "finished before the kill"}\n`,
    );
    if (second.killed) {
      // killed while writing: the output is either absent or complete, never partial
      if (existsSync(out))
        mustSucceed(await runCommand("skopeo", ["inspect", `oci:${out}`], { allowFail: true }), "skopeo");
    }
    // the next build succeeds from the same cache, cleans up the dead temp, and is identical
    // to a build from the shared cache
    const r = await shellfree(args);
    mustSucceed(r, "rebuild");
    const a = JSON.parse(r.stdout) as BuildJson;
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith(".tmp-")),
      [],
      "no temp left beside the output",
    );
    const ref = await shellfree([
      ...args.slice(0, 5),
      "--output",
      `oci:${join(dir, "ref")}`,
      "--cache-dir",
      CACHE,
      "--json",
    ]);
    mustSucceed(ref, "reference build");
    assert.equal(a.digest, (JSON.parse(ref.stdout) as BuildJson).digest);
    mustSucceed(await runCommand("skopeo", ["inspect", `oci:${out}`], { allowFail: true }), "skopeo");
  });
});
