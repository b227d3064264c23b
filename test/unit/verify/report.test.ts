import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import Ajv4Module from "ajv-draft-04";
import { renderReport, toSarifObject } from "../../../src/verify/report/index.ts";
import { runRules, type VerifyReport } from "../../../src/verify/verify.ts";
import { fsOf, makeElf, SHELL_STRINGS } from "./helpers.ts";

async function badReport(): Promise<VerifyReport> {
  const fs = await fsOf([
    {
      f: "/usr/bin/dash",
      data: makeElf({ interp: "/lib64/ld-linux-x86-64.so.2", needed: ["libc.so.6"], payload: SHELL_STRINGS }),
      mode: 0o755,
    },
    { f: "/usr/bin/su", data: "x", mode: 0o4755 },
    { f: '/path with space/<odd> & "name"', data: "#!/bin/sh\n", mode: 0o755 },
  ]);
  const { findings, rules } = runRules(
    fs,
    { config: { User: "root", Healthcheck: { Test: ["CMD-SHELL", "true"] } } },
    { now: new Date("2026-11-23T00:00:00Z") },
  );
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  return {
    image: "oci:/x:latest",
    platform: "linux/amd64",
    passed: false,
    failOn: "error",
    findings,
    rules,
    counts,
    stats: { totalBytes: 1, layerBytes: [1], wastedBytes: 0, files: 3, layers: 1 },
    durationMs: 5,
  };
}

test("SARIF output validates against the official SARIF 2.1.0 schema", async () => {
  const schema = JSON.parse(
    await readFile(new URL("../../fixtures/schemas/sarif-schema-2.1.0.json", import.meta.url), "utf8"),
  );
  // CommonJS default export: under nodenext typing the class is on .default
  type AjvCtor = new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
  const m = Ajv4Module as unknown as { default?: AjvCtor };
  const Ajv4 = m.default ?? (Ajv4Module as unknown as AjvCtor);
  const ajv = new Ajv4({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  const r = await badReport();
  const sarif = toSarifObject(r, "0.1.0");
  assert.ok(validate(sarif), JSON.stringify(validate.errors, null, 2));
  const results = (sarif.runs as Array<{ results: Array<{ ruleId: string; level: string }> }>)[0].results;
  assert.equal(results.length, r.findings.length);
  assert.ok(results.some((x) => x.ruleId === "no-shell" && x.level === "error"));
  assert.ok(results.some((x) => x.ruleId === "script-interpreter" && x.level === "warning"));
  // the validator is not a rubber stamp: a broken document fails
  assert.equal(validate({ version: "2.1.0", runs: [{ tool: {} }] }), false);
});

test("JUnit: one testcase per rule, failures carry the findings, XML special characters escaped", async () => {
  const r = await badReport();
  const xml = renderReport(r, "junit", "0.1.0");
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
  assert.equal((xml.match(/<testcase /g) ?? []).length, r.rules.length);
  assert.match(xml, /<failure message="shell \/usr\/bin\/dash: named &quot;dash&quot;/);
  assert.ok(xml.includes("/path with space/&lt;odd&gt; &amp; &quot;name&quot;"));
  assert.ok(!/<odd>/.test(xml));
  const failures = Number(/<testsuites [^>]*failures="(\d+)"/.exec(xml)?.[1]);
  assert.equal(failures, r.rules.filter((x) => !x.passed).length);
});

test("text and JSON reports name every finding", async () => {
  const r = await badReport();
  const text = renderReport(r, "text", "0.1.0");
  assert.match(text, /FAIL/);
  for (const f of r.findings) assert.ok(text.includes(f.message), f.message);
  const json = JSON.parse(renderReport(r, "json", "0.1.0"));
  assert.equal(json.findings.length, r.findings.length);
  assert.equal(json.passed, false);
});
