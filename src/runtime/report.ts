/** Results of `shellfree test` and their reports: text, JSON, JUnit. */
import { xmlEscape as x } from "../util/xml.ts";

export interface TestResult {
  kind: "command" | "fileExistence" | "fileContent" | "metadata" | "check";
  name: string;
  passed: boolean;
  /** on failure: what was expected and what happened (multi-line, readable) */
  message: string;
  durationMs: number;
  /** measured values (e.g. timeToHealthyMs) */
  metrics?: Record<string, number>;
  output?: { stdout: string; stderr: string };
}

export interface TestReport {
  image: string;
  driver: string;
  passed: boolean;
  results: TestResult[];
  counts: { passed: number; failed: number };
  /** built-in checks asked for but not run: a structure-test file's `shellfree.skip` names them */
  skipped: Array<{ name: string; reason: string }>;
  durationMs: number;
}

export function makeReport(
  image: string,
  driver: string,
  results: TestResult[],
  durationMs: number,
  skipped: TestReport["skipped"] = [],
): TestReport {
  const failed = results.filter((r) => !r.passed).length;
  return {
    image,
    driver,
    passed: failed === 0,
    results,
    counts: { passed: results.length - failed, failed },
    skipped,
    durationMs,
  };
}

export function testText(r: TestReport): string {
  const lines = [
    `shellfree test ${r.image} (driver ${r.driver}): ${r.passed ? "PASS" : "FAIL"} — ${r.counts.passed} passed, ${r.counts.failed} failed, ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const t of r.results) {
    const m = t.metrics
      ? ` [${Object.entries(t.metrics)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}]`
      : "";
    lines.push(`  ${t.passed ? "✓" : "✗"} ${t.kind} ${JSON.stringify(t.name)} (${t.durationMs} ms)${m}`);
    if (!t.passed) for (const l of t.message.split("\n")) lines.push(`      ${l}`);
  }
  for (const s of r.skipped) lines.push(`  - check ${JSON.stringify(s.name)} skipped (${s.reason})`);
  return `${lines.join("\n")}\n`;
}

export function testJson(r: TestReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export function testJunit(r: TestReport): string {
  const t = (r.durationMs / 1000).toFixed(3);
  const cases = r.results.map((c) => {
    const body = c.passed
      ? ""
      : `\n      <failure message="${x(c.message.split("\n")[0])}" type="${x(c.kind)}">${x(c.message)}</failure>\n    `;
    const out =
      c.output && (c.output.stdout || c.output.stderr)
        ? `\n      <system-out>${x(c.output.stdout)}</system-out>\n      <system-err>${x(c.output.stderr)}</system-err>\n    `
        : "";
    return `    <testcase classname="shellfree.test.${x(c.kind)}" name="${x(c.name)}" time="${(c.durationMs / 1000).toFixed(3)}">${body}${out}</testcase>`;
  });
  for (const s of r.skipped) {
    cases.push(
      `    <testcase classname="shellfree.test.check" name="${x(s.name)}" time="0.000">\n      <skipped message="${x(s.reason)}"/>\n    </testcase>`,
    );
  }
  const total = r.results.length + r.skipped.length;
  const skippedAttr = r.skipped.length ? ` skipped="${r.skipped.length}"` : "";
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="shellfree test" tests="${total}" failures="${r.counts.failed}" errors="0"${skippedAttr} time="${t}">
  <testsuite name="${x(`test ${r.image} (${r.driver})`)}" tests="${total}" failures="${r.counts.failed}" errors="0"${skippedAttr} time="${t}">
${cases.join("\n")}
  </testsuite>
</testsuites>
`;
}
