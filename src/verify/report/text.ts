/** The default human report: one block per finding, then a rule summary line. */
import type { VerifyReport } from "../verify.ts";

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function toText(r: VerifyReport): string {
  const lines: string[] = [];
  const verdict = r.passed ? "PASS" : "FAIL";
  lines.push(
    `shellfree verify ${r.image}${r.platform ? ` (${r.platform})` : ""}: ${verdict} — ${r.counts.error} error(s), ${r.counts.warning} warning(s), ${r.counts.info} note(s)`,
  );
  const order = { error: 0, warning: 1, info: 2 };
  const sorted = [...r.findings].sort((a, b) => order[a.severity] - order[b.severity]);
  for (const f of sorted) {
    const mark = f.severity === "error" ? "✗" : f.severity === "warning" ? "!" : "·";
    lines.push(`  ${mark} [${f.rule}] ${f.severity}: ${f.message}`);
    if (f.severity !== "info") lines.push(`      fix: ${f.hint}`);
  }
  const ran = r.rules.filter((x) => x.enabled);
  const ok = ran.filter((x) => x.findings === 0).map((x) => x.id);
  if (ok.length) lines.push(`  ✓ clean: ${ok.join(", ")}`);
  const off = r.rules.filter((x) => !x.enabled).map((x) => x.id);
  if (off.length) lines.push(`  - disabled by policy: ${off.join(", ")}`);
  lines.push(
    `  ${r.stats.files} files, ${mib(r.stats.totalBytes)} in ${r.stats.layers} layer(s), ${mib(r.stats.wastedBytes)} wasted; ${r.durationMs} ms`,
  );
  return `${lines.join("\n")}\n`;
}
