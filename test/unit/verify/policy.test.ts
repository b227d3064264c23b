import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadPolicy, policyFromObject } from "../../../src/verify/policy.ts";
import { runRules } from "../../../src/verify/verify.ts";
import { fsOf } from "./helpers.ts";

const NOW = new Date("2026-11-23T00:00:00Z");

test("policy: disable a rule, change a severity, allow paths, fail-on", async () => {
  const fs = await fsOf([
    { f: "/etc/os-release", data: "ID=debian\nVERSION_ID=13\n" },
    { f: "/usr/bin/su", data: "x", mode: 0o4755 },
    { f: "/app/.env", data: "A=1" },
    { f: "/fixtures/test.key", data: "-----BEGIN EC PRIVATE KEY-----\n" },
  ]);
  const config = { config: { User: "0" } };
  const base = runRules(fs, config, { now: NOW });
  const ids = (f: typeof base.findings) => [...new Set(f.map((x) => x.rule))].sort();
  assert.deepEqual(ids(base.findings), [
    "entrypoint",
    "healthcheck",
    "no-setuid",
    "non-root-user",
    "secrets",
  ]);
  const p = policyFromObject({
    "fail-on": "warning",
    "allow-paths": ["/fixtures/**"],
    rules: {
      healthcheck: { enabled: false },
      "no-setuid": { severity: "warning" },
      secrets: { "allow-paths": ["/app/.env"] },
    },
  });
  const r = runRules(fs, config, { now: NOW, policy: p });
  assert.deepEqual(ids(r.findings), ["entrypoint", "no-setuid", "non-root-user"]);
  assert.equal(r.findings.find((x) => x.rule === "no-setuid")?.severity, "warning");
  assert.equal(r.rules.find((x) => x.id === "healthcheck")?.enabled, false);
  assert.equal(
    r.rules.find((x) => x.id === "no-setuid")?.passed,
    false,
    "fail-on: warning makes a warning fail",
  );
});

test("policy errors are one clear E_POLICY line naming the place", async () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ rules: { "no-shel": {} } }, /rules: unknown rule "no-shel"/],
    [
      { rules: { "no-shell": { severity: "fatal" } } },
      /rules\.no-shell\.severity: must be equal to one of the allowed values/,
    ],
    [{ "fail-on": "info" }, /fail-on/],
    [{ rules: { "size-budget": { max: "lots" } } }, /rules\.size-budget\.max: invalid size "lots"/],
    [{ rules: { "no-shell": { colour: "red" } } }, /unknown key "colour"/],
    [{ surprise: 1 }, /unknown key "surprise"/],
  ];
  for (const [doc, re] of bad) {
    assert.throws(
      () => policyFromObject(doc, "p.yaml"),
      (e: Error & { code?: string; exitCode?: number }) =>
        e.code === "E_POLICY" && re.test(e.message) && !e.message.includes("\n"),
      `${JSON.stringify(doc)} → ${re}`,
    );
  }
});

test("loadPolicy reads YAML and reports unreadable / invalid files", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sf-policy-"));
  try {
    const good = join(dir, "shellfree-policy.yaml");
    await writeFile(good, "fail-on: error\nrules:\n  wasted-bytes:\n    max: 10MiB\n");
    const p = await loadPolicy(good);
    assert.equal(p.rules["wasted-bytes"].options.max, "10MiB");
    assert.equal(p.source, good);
    const broken = join(dir, "broken.yaml");
    await writeFile(broken, "rules: [unclosed\n");
    await assert.rejects(
      loadPolicy(broken),
      (e: Error & { code?: string }) => e.code === "E_POLICY" && /not valid YAML/.test(e.message),
    );
    await assert.rejects(
      loadPolicy(join(dir, "missing.yaml")),
      (e: Error & { code?: string }) => e.code === "E_POLICY" && /ENOENT/.test(e.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
