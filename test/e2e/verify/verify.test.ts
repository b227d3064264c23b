/**
 * `shellfree verify` end to end, through the CLI, on real images: a shell-free one (tini-static),
 * a `static` preset image built by `shellfree build` from the Debian mirror, and a deliberately
 * bad one (the host's dash under three names, a setuid file, USER 0, an ELF with a missing
 * library, a shell-form healthcheck). SARIF output is validated against the official schema.
 */
import assert from "node:assert/strict";
import { realpathSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Ajv4Module from "ajv-draft-04";
import { shellfree } from "../../helpers/cli.ts";
import { makeImage, TINI } from "../../helpers/images.ts";
import { TEST_CACHE } from "../../helpers/mirror.ts";
import { makeElf } from "../../unit/verify/helpers.ts";
import { sharedLibs } from "../runtime/node-image.ts";

const DASH = realpathSync("/usr/bin/dash");
let dir: string;

const cli = (args: string[], timeoutMs = 120_000) =>
  shellfree(args, { timeoutMs, env: { SHELLFREE_QUIET: "1" } });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sf-e2e-verify-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_ID="13"\n';

async function goodImage(format: "oci" | "oci-archive" | "docker-archive" = "oci") {
  return makeImage(join(dir, `good-${format}`), {
    format,
    files: [
      { path: TINI, hostPath: TINI, mode: 0o755 },
      { path: "/etc/os-release", data: OS_RELEASE },
      {
        path: "/etc/passwd",
        data: "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n",
      },
    ],
    dirs: [{ path: "/tmp", mode: 0o1777 }],
    config: { entrypoint: [TINI, "--version"], user: "nonroot", healthcheck: { test: [TINI, "--version"] } },
  });
}

test("a shell-free image passes (exit 0) in every image format", async () => {
  for (const format of ["oci", "oci-archive", "docker-archive"] as const) {
    const img = await goodImage(format);
    const r = await cli(["verify", img.ref, "--json"]);
    assert.equal(r.code, 0, `${format}: ${r.stdout}${r.stderr}`);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.passed, true);
    assert.deepEqual(rep.findings, []);
    assert.equal(rep.rules.length, 15);
  }
});

test("a static preset image built by shellfree passes", async () => {
  const out = join(dir, "static");
  const b = await shellfree(
    ["build", "--preset", "static", "--arch", "amd64", "-o", `oci:${out}:latest`, "--cache-dir", TEST_CACHE],
    { timeoutMs: 300_000 },
  );
  assert.equal(b.code, 0, b.stderr);
  const r = await cli(["verify", `oci:${out}:latest`, "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.passed, true);
  assert.equal(rep.counts.error, 0);
  for (const id of [
    "no-shell",
    "no-package-manager",
    "no-setuid",
    "world-writable",
    "non-root-user",
    "elf-deps",
    "secrets",
    "os-release",
  ]) {
    assert.deepEqual(
      rep.findings.filter((f: { rule: string }) => f.rule === id),
      [],
      `${id} is clean on the static preset`,
    );
  }
});

async function badImage(format: "oci" | "oci-archive" = "oci") {
  const libDir = "/usr/lib/x86_64-linux-gnu";
  const libs = sharedLibs(DASH).map((l) => ({
    path: `${libDir}/${l.soname}`,
    hostPath: l.real,
    mode: 0o755,
  }));
  return makeImage(join(dir, `bad-${format}`), {
    format,
    files: [
      { path: "/usr/bin/dash", hostPath: DASH, mode: 0o755 },
      { path: "/opt/tools/runner", hostPath: DASH, mode: 0o755 }, // a renamed copy
      { path: TINI, hostPath: TINI, mode: 0o4755 }, // setuid
      {
        path: "/usr/bin/needs-missing",
        data: makeElf({
          type: 2,
          interp: "/lib64/ld-linux-x86-64.so.2",
          needed: ["libshellfree-missing.so.7", "libc.so.6"],
        }),
        mode: 0o755,
      },
      { path: "/etc/os-release", data: OS_RELEASE },
      ...libs,
    ],
    hardlinks: [{ path: "/usr/local/bin/helper", target: "/usr/bin/dash" }],
    symlinks: [{ path: "/lib64", target: "usr/lib/x86_64-linux-gnu" }],
    config: {
      entrypoint: [TINI, "--", "/usr/bin/needs-missing"],
      user: "0",
      healthcheck: { test: ["CMD-SHELL", "/usr/bin/needs-missing --ping || exit 1"] },
    },
  });
}

test("a bad image fails (exit 3) and the report names every problem", async () => {
  const img = await badImage();
  const r = await cli(["verify", img.ref, "--json"]);
  assert.equal(r.code, 3, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.passed, false);
  const has = (rule: string, re: RegExp) =>
    rep.findings.some(
      (f: { rule: string; message: string; severity: string }) =>
        f.rule === rule && f.severity === "error" && re.test(f.message),
    );
  assert.ok(has("no-shell", /^shell \/usr\/bin\/dash/), "dash by name");
  assert.ok(
    has("no-shell", /^shell \/opt\/tools\/runner: ELF content identifies it as a POSIX shell/),
    "renamed copy by content",
  );
  assert.ok(has("no-shell", /^shell \/usr\/local\/bin\/helper/), "hard link under another name");
  assert.ok(has("no-setuid", /setuid file \/usr\/bin\/tini-static \(mode 04755/), "setuid");
  assert.ok(has("non-root-user", /User "0" is root/), "USER 0");
  assert.ok(
    has(
      "elf-deps",
      /\/usr\/bin\/needs-missing: needs libshellfree-missing\.so\.7, which is not in the image/,
    ),
    "missing library",
  );
  assert.ok(has("healthcheck", /shell form \(CMD-SHELL/), "shell-form healthcheck");
  // dash's own libraries are there: no false "missing" for them
  assert.ok(!rep.findings.some((f: { message: string }) => /needs libc\.so\.6/.test(f.message)));
  for (const f of rep.findings) assert.ok(f.hint && f.rule && f.severity, JSON.stringify(f));
  const text = await cli(["verify", img.ref]);
  assert.equal(text.code, 3);
  for (const f of rep.findings) assert.ok(text.stdout.includes(f.message), `text report names: ${f.message}`);
});

test("SARIF (--output) validates against the SARIF 2.1.0 schema; JUnit lists failures", async () => {
  const img = await badImage("oci-archive");
  const sarifFile = join(dir, "out", "verify.sarif");
  const r = await cli(["verify", img.ref, "--format", "sarif", "--output", sarifFile]);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, "", "the report went to the file");
  const sarif = JSON.parse(await readFile(sarifFile, "utf8"));
  const schema = JSON.parse(
    await readFile(new URL("../../fixtures/schemas/sarif-schema-2.1.0.json", import.meta.url), "utf8"),
  );
  type AjvCtor = new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
  const m = Ajv4Module as unknown as { default?: AjvCtor };
  const Ajv4 = m.default ?? (Ajv4Module as unknown as AjvCtor);
  const validate = new Ajv4({ allErrors: true, strict: false }).compile(schema);
  assert.ok(validate(sarif), JSON.stringify(validate.errors, null, 2));
  const ruleIds = new Set(sarif.runs[0].results.map((x: { ruleId: string }) => x.ruleId));
  for (const id of ["no-shell", "no-setuid", "non-root-user", "elf-deps", "healthcheck"])
    assert.ok(ruleIds.has(id), id);
  const j = await cli(["verify", img.ref, "--format", "junit"]);
  assert.equal(j.code, 3);
  assert.match(
    j.stdout,
    /<testcase classname="shellfree.verify" name="no-shell: No shell" time="0">\s*<failure/,
  );
});

test("a policy file changes the verdict; bad input is one clear line and exit 1", async () => {
  const img = await badImage();
  const policy = join(dir, "shellfree-policy.yaml");
  await writeFile(
    policy,
    [
      "rules:",
      ...["no-shell", "no-setuid", "non-root-user", "elf-deps", "healthcheck"].map(
        (r) => `  ${r}: { severity: warning }`,
      ),
    ].join("\n"),
  );
  const r = await cli(["verify", img.ref, "--policy", policy, "--json"]);
  assert.equal(r.code, 0, r.stdout);
  assert.ok(JSON.parse(r.stdout).counts.warning >= 7);
  await writeFile(policy, "rules:\n  no-such-rule: {}\n");
  const bad = await cli(["verify", img.ref, "--policy", policy]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^shellfree: .*shellfree-policy\.yaml: rules: unknown rule "no-such-rule"/m);
  const missing = await cli(["verify", `oci:${join(dir, "nope")}:latest`]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr.split("\n").filter((l) => l.startsWith("shellfree:")).length,
    1,
    missing.stderr,
  );
  assert.doesNotMatch(missing.stderr, /at .*\.ts:\d+/, "no stack trace");
});
