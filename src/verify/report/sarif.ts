/**
 * SARIF 2.1.0 (OASIS): one run, the rules as reportingDescriptors, each finding a result.
 * File findings get a physicalLocation relative to the image root (uriBaseId IMAGE_ROOT);
 * config findings a logicalLocation naming the field (e.g. config.User).
 */
import type { Severity } from "../rules/types.ts";
import type { VerifyReport } from "../verify.ts";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  error: "error",
  warning: "warning",
  info: "note",
};

export const SARIF_SCHEMA_URI =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

export function toSarifObject(r: VerifyReport, toolVersion: string): Record<string, unknown> {
  const ruleIndex = new Map(r.rules.map((x, i) => [x.id, i]));
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "shellfree",
            semanticVersion: toolVersion,
            version: toolVersion,
            rules: r.rules.map((x) => ({
              id: x.id,
              name: x.title.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) =>
                c ? c.toUpperCase() : "",
              ),
              shortDescription: { text: x.title },
              fullDescription: { text: x.description },
              defaultConfiguration: { level: LEVEL[x.severity], enabled: x.enabled },
            })),
          },
        },
        originalUriBaseIds: { IMAGE_ROOT: { description: { text: `the root filesystem of ${r.image}` } } },
        results: r.findings.map((f) => {
          const res: Record<string, unknown> = {
            ruleId: f.rule,
            ruleIndex: ruleIndex.get(f.rule),
            level: LEVEL[f.severity],
            message: { text: `${f.message}. Fix: ${f.hint}` },
          };
          const loc: Record<string, unknown> = {};
          if (f.path)
            loc.physicalLocation = {
              artifactLocation: { uri: encodeURI(f.path.replace(/^\/+/, "")), uriBaseId: "IMAGE_ROOT" },
            };
          if (f.field) loc.logicalLocations = [{ fullyQualifiedName: f.field, kind: "member" }];
          if (f.path || f.field) res.locations = [loc];
          return res;
        }),
        invocations: [{ executionSuccessful: true }],
        properties: {
          image: r.image,
          platform: r.platform,
          manifestDigest: r.manifestDigest,
          passed: r.passed,
        },
      },
    ],
  };
}

export function toSarif(r: VerifyReport, toolVersion: string): string {
  return `${JSON.stringify(toSarifObject(r, toolVersion), null, 2)}\n`;
}
