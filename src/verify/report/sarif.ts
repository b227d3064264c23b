/**
 * SARIF 2.1.0 (OASIS) as GitHub code scanning takes it: one run; every rule a reportingDescriptor
 * with `help` (text and markdown), `properties.security-severity`, `tags` and `precision` (and
 * `helpUri` when the project's documentation URL is known); every result with a physical
 * location — a file finding at the file in the image (uriBaseId IMAGE_ROOT, the whole file as a
 * byte region), a finding about the image config at the line of the spec that set it (when the
 * image names its spec and the spec is at hand; uriBaseId SRCROOT, the repository checkout),
 * else at the image's configuration (uriBaseId IMAGE_METADATA, `config.json`) with the field as
 * a logical location. Checked by Microsoft's SARIF multitool with GitHub's rules
 * (`validate --rule-kind "Ghas;Sarif"`, test/e2e/verify/sarif-multitool.test.ts).
 */
import { RULES, ruleSarifMeta } from "../rules/index.ts";
import type { Precision, Rule, Severity } from "../rules/types.ts";
import type { VerifyReport } from "../verify.ts";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  error: "error",
  warning: "warning",
  info: "note",
};

export const SARIF_SCHEMA_URI =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

export interface SarifOptions {
  toolVersion: string;
  /**
   * the project's documentation (package.json `homepage`): the run's informationUri, and each
   * rule's helpUri as `DOCS/blob/HEAD/docs/rules.md#RULE-ID`; left out when unknown
   */
  docsUrl?: string;
  /** the spec the image was built from, relative to the repository root, and its key lines */
  spec?: { uri: string; lineOf(field?: string): number };
}

interface RuleMeta {
  id: string;
  title: string;
  description: string;
  hint: string;
  securitySeverity: number;
  tags: string[];
  precision: Precision;
}

function metaOf(id: string, fallback: { title: string; description: string; severity: Severity }): RuleMeta {
  const r: Rule = RULES.find((x) => x.id === id) ?? {
    id,
    title: fallback.title,
    description: fallback.description,
    defaultSeverity: fallback.severity,
    hint: "",
    check: () => [],
  };
  return { id, title: r.title, description: r.description, hint: r.hint, ...ruleSarifMeta(r) };
}

/** "No shell" → "NoShell" (SARIF's `name` is an identifier-like string). */
function ruleName(title: string): string {
  return title.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""));
}

function mdEscape(s: string): string {
  return s.replace(/([\\`*_{}[\]<>#|])/g, "\\$1");
}

function help(m: RuleMeta): { text: string; markdown: string } {
  return {
    text: `${m.title}: ${m.description}${m.hint ? ` Fix: ${m.hint}.` : ""}`,
    markdown: [
      `**${mdEscape(m.title)}** (\`${m.id}\`)`,
      "",
      mdEscape(m.description),
      ...(m.hint ? ["", `**Fix:** ${mdEscape(m.hint)}.`] : []),
      "",
      `Rule \`${m.id}\` of \`shellfree verify\`; its severity and allowed paths can be set in a shellfree-policy.yaml (\`rules.${m.id}\`).`,
    ].join("\n"),
  };
}

function uriOf(path: string): string {
  return encodeURI(path.replace(/^\/+/, "")).replace(/[?#]/g, (c) => encodeURIComponent(c));
}

export function toSarifObject(
  r: VerifyReport,
  toolVersionOrOptions: string | SarifOptions,
): Record<string, unknown> {
  const opts: SarifOptions =
    typeof toolVersionOrOptions === "string" ? { toolVersion: toolVersionOrOptions } : toolVersionOrOptions;
  const docs = opts.docsUrl?.replace(/\/+$/, "");
  const ruleIndex = new Map(r.rules.map((x, i) => [x.id, i]));
  const metas = r.rules.map((x) => metaOf(x.id, x));
  const baseIds: Record<string, unknown> = {
    IMAGE_ROOT: { description: { text: `The root filesystem of the image ${r.image}.` } },
    IMAGE_METADATA: {
      description: {
        text: `The OCI metadata of the image ${r.image}: config.json is its image configuration.`,
      },
    },
  };
  if (opts.spec)
    baseIds.SRCROOT = {
      description: { text: "The root of the repository checkout that holds the image's spec." },
    };
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "shellfree",
            ...(docs ? { informationUri: docs } : {}),
            semanticVersion: opts.toolVersion,
            version: opts.toolVersion,
            rules: r.rules.map((x, i) => {
              const m = metas[i];
              return {
                id: x.id,
                name: ruleName(m.title),
                shortDescription: { text: m.title },
                fullDescription: { text: m.description },
                help: help(m),
                ...(docs ? { helpUri: `${docs}/blob/HEAD/docs/rules.md#${x.id}` } : {}),
                defaultConfiguration: { level: LEVEL[x.severity], enabled: x.enabled },
                properties: {
                  "security-severity": m.securitySeverity.toFixed(1),
                  tags: m.tags,
                  precision: m.precision,
                  "problem.severity": x.severity === "info" ? "recommendation" : x.severity,
                },
              };
            }),
          },
        },
        originalUriBaseIds: baseIds,
        results: r.findings.map((f) => {
          const res: Record<string, unknown> = {
            ruleId: f.rule,
            ruleIndex: ruleIndex.get(f.rule),
            level: LEVEL[f.severity],
            message: { text: `${f.message}. Fix: ${f.hint}` },
          };
          const loc: Record<string, unknown> = {};
          const size = f.path ? r.fileSizes?.[f.path] : undefined;
          if (f.path)
            loc.physicalLocation = {
              artifactLocation: { uri: uriOf(f.path), uriBaseId: "IMAGE_ROOT" },
              // the file as a whole (a binary has no lines)
              ...(size !== undefined ? { region: { byteOffset: 0, byteLength: size } } : {}),
            };
          else if (opts.spec)
            loc.physicalLocation = {
              artifactLocation: { uri: uriOf(opts.spec.uri), uriBaseId: "SRCROOT" },
              region: { startLine: opts.spec.lineOf(f.field) },
            };
          else
            loc.physicalLocation = {
              artifactLocation: { uri: "config.json", uriBaseId: "IMAGE_METADATA" },
            };
          if (f.field) loc.logicalLocations = [{ fullyQualifiedName: f.field, kind: "member" }];
          res.locations = [loc];
          return res;
        }),
        invocations: [{ executionSuccessful: true }],
        properties: {
          image: r.image,
          platform: r.platform,
          manifestDigest: r.manifestDigest,
          passed: r.passed,
          ...(r.spec ? { spec: r.spec } : {}),
        },
      },
    ],
  };
}

export function toSarif(r: VerifyReport, toolVersionOrOptions: string | SarifOptions): string {
  return `${JSON.stringify(toSarifObject(r, toolVersionOrOptions), null, 2)}\n`;
}
