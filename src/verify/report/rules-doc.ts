/**
 * docs/rules.md, generated from the rules themselves (`npm run docs:rules`): one section per rule
 * (its anchor is the rule id, which SARIF's helpUri points at) with what it checks, how to fix a
 * finding, and the metadata code scanning shows (level, security-severity, precision, tags).
 */
import { RULES, ruleSarifMeta } from "../rules/index.ts";

export function rulesMarkdown(): string {
  const out = [
    "# shellfree verify: rules",
    "",
    "Generated from `src/verify/rules/` by `npm run docs:rules` (a unit test fails while it is out of",
    "date). Each rule's severity and allowed paths can be changed in a `shellfree-policy.yaml`",
    "(`rules.<id>`); `security-severity` is what GitHub code scanning ranks SARIF results by",
    "(≥ 9 critical, ≥ 7 high, ≥ 4 medium, else low).",
    "",
    "| rule | title | default level | security-severity |",
    "|---|---|---|---|",
    ...RULES.map(
      (r) =>
        `| [\`${r.id}\`](#${r.id}) | ${r.title} | ${r.defaultSeverity} | ${ruleSarifMeta(r).securitySeverity.toFixed(1)} |`,
    ),
  ];
  for (const r of RULES) {
    const m = ruleSarifMeta(r);
    out.push(
      "",
      `## ${r.id}`,
      "",
      `**${r.title}.** ${r.description}`,
      "",
      `Fix: ${r.hint}.`,
      "",
      `Default level \`${r.defaultSeverity}\`; security-severity ${m.securitySeverity.toFixed(1)}; precision ${m.precision}; tags ${m.tags.map((t) => `\`${t}\``).join(", ")}.`,
    );
  }
  return `${out.join("\n")}\n`;
}
