// biome-ignore-all lint/suspicious/noExplicitAny: the tests read back the SARIF documents they generate
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import Ajv4Module from "ajv-draft-04";
import { renderReport, rulesMarkdown, toSarifObject } from "../../../src/verify/report/index.ts";
import { RULE_IDS } from "../../../src/verify/rules/index.ts";
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

test("SARIF for GitHub: every rule with help, security-severity, tags, precision; every result located", async () => {
  const r = await badReport();
  r.fileSizes = { "/usr/bin/dash": 1234 };
  const withSpec = toSarifObject(r, {
    toolVersion: "0.1.0",
    docsUrl: "https://docs.test/shellfree/",
    spec: { uri: "images/app/shellfree.yaml", lineOf: (field) => (field === "config.User" ? 12 : 3) },
  }) as any;
  const run = withSpec.runs[0];
  assert.equal(run.tool.driver.informationUri, "https://docs.test/shellfree");
  assert.equal(run.tool.driver.semanticVersion, "0.1.0");
  assert.equal(run.tool.driver.rules.length, r.rules.length);
  for (const rule of run.tool.driver.rules) {
    assert.ok(rule.help.text.length > 20 && rule.help.markdown.includes(`\`${rule.id}\``), rule.id);
    assert.equal(rule.helpUri, `https://docs.test/shellfree/blob/HEAD/docs/rules.md#${rule.id}`);
    const sev = Number(rule.properties["security-severity"]);
    assert.ok(sev > 0 && sev <= 10 && /^\d+\.\d$/.test(rule.properties["security-severity"]), rule.id);
    assert.ok(rule.properties.tags.includes("container"));
    assert.ok(["very-high", "high", "medium", "low"].includes(rule.properties.precision));
  }
  assert.equal(
    run.tool.driver.rules.find((x: any) => x.id === "no-shell").properties["security-severity"],
    "8.0",
  );
  for (const res of run.results)
    assert.ok(res.locations[0].physicalLocation.artifactLocation.uriBaseId, res.ruleId);
  const user = run.results.find((x: any) => x.ruleId === "non-root-user").locations[0];
  assert.deepEqual(user.physicalLocation, {
    artifactLocation: { uri: "images/app/shellfree.yaml", uriBaseId: "SRCROOT" },
    region: { startLine: 12 },
  });
  assert.deepEqual(user.logicalLocations, [{ fullyQualifiedName: "config.User", kind: "member" }]);
  const dash = run.results.find(
    (x: any) => x.locations[0].physicalLocation.artifactLocation.uri === "usr/bin/dash",
  ).locations[0];
  assert.deepEqual(dash.physicalLocation.region, { byteOffset: 0, byteLength: 1234 });
  assert.ok(run.originalUriBaseIds.SRCROOT && run.originalUriBaseIds.IMAGE_ROOT);
  // no spec, no docs URL: config findings at the image's config.json, no helpUri
  const bare = toSarifObject(r, "0.1.0") as any;
  const u2 = bare.runs[0].results.find((x: any) => x.ruleId === "non-root-user").locations[0];
  assert.deepEqual(u2.physicalLocation, {
    artifactLocation: { uri: "config.json", uriBaseId: "IMAGE_METADATA" },
  });
  assert.equal(bare.runs[0].tool.driver.rules[0].helpUri, undefined);
  assert.equal(bare.runs[0].tool.driver.informationUri, undefined);
  assert.equal(bare.runs[0].originalUriBaseIds.SRCROOT, undefined);
  // odd characters in paths stay one relative URI
  const odd = bare.runs[0].results.find((x: any) =>
    x.locations[0].physicalLocation.artifactLocation.uri.startsWith("path"),
  );
  assert.equal(
    odd.locations[0].physicalLocation.artifactLocation.uri,
    "path%20with%20space/%3Codd%3E%20&%20%22name%22",
  );
});

test("docs/rules.md is the one the rules generate (npm run docs:rules)", async () => {
  const file = await readFile(new URL("../../../docs/rules.md", import.meta.url), "utf8");
  assert.equal(file, rulesMarkdown());
  for (const id of RULE_IDS) assert.ok(file.includes(`\n## ${id}\n`), id);
});
