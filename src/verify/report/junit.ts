/** JUnit XML: one testcase per rule; a rule with failing findings is a <failure>. */

import { xmlEscape as x } from "../../util/xml.ts";
import type { VerifyReport } from "../verify.ts";
import { fails } from "../verify.ts";

export function toJunit(r: VerifyReport): string {
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const rule of r.rules) {
    const name = `${rule.id}: ${rule.title}`;
    if (!rule.enabled) {
      skipped++;
      cases.push(
        `    <testcase classname="shellfree.verify" name="${x(name)}" time="0">\n      <skipped message="disabled by policy"/>\n    </testcase>`,
      );
      continue;
    }
    const fs = r.findings.filter((f) => f.rule === rule.id);
    const failing = fs.filter((f) => fails(f.severity, r.failOn));
    const other = fs.filter((f) => !fails(f.severity, r.failOn));
    let body = "";
    if (failing.length) {
      failures++;
      const text = failing.map((f) => `${f.severity}: ${f.message}\n  fix: ${f.hint}`).join("\n");
      body += `\n      <failure message="${x(failing[0].message)}${failing.length > 1 ? ` (+${failing.length - 1} more)` : ""}" type="${x(rule.id)}">${x(text)}</failure>`;
    }
    if (other.length)
      body += `\n      <system-out>${x(other.map((f) => `${f.severity}: ${f.message}`).join("\n"))}</system-out>`;
    cases.push(
      `    <testcase classname="shellfree.verify" name="${x(name)}" time="0">${body}${body ? "\n    " : ""}</testcase>`,
    );
  }
  const t = (r.durationMs / 1000).toFixed(3);
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="shellfree verify" tests="${r.rules.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${t}">
  <testsuite name="${x(`verify ${r.image}`)}" tests="${r.rules.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${t}">
${cases.join("\n")}
  </testsuite>
</testsuites>
`;
}
