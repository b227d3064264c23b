/**
 * shellfree-policy.yaml: which rules run, at what severity, with which budgets and allowed paths.
 *
 *   fail-on: error               # error (default) | warning: the lowest severity that fails
 *   allow-paths: ["/opt/fixtures/**"]   # findings about these paths are dropped (all rules)
 *   rules:
 *     healthcheck: { severity: warning }
 *     secrets: { allow-paths: ["/usr/share/doc/**"] }
 *     size-budget: { max: 150MiB }
 *     wasted-bytes: { enabled: false }
 *     entrypoint: { allow-base-image: false }   # an image without Entrypoint/Cmd fails
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Ajv as AjvClass } from "ajv";
import { parse as parseYaml } from "yaml";
import { globToRegExp } from "../util/globs.ts";
import { VerifyError } from "./errors.ts";
import { RULE_IDS } from "./rules/index.ts";
import { parseSize } from "./rules/size.ts";
import type { Severity } from "./rules/types.ts";

export interface RulePolicy {
  enabled: boolean;
  severity?: Severity;
  allowPaths: RegExp[];
  options: Record<string, unknown>;
}

export interface Policy {
  failOn: Severity;
  allowPaths: RegExp[];
  rules: Record<string, RulePolicy>;
  /** where it came from, for reports */
  source?: string;
}

/** Paths where packages legitimately ship test keys and samples. */
export const DEFAULT_ALLOW_PATHS = [
  "/usr/share/doc/**",
  "/usr/lib/python3*/test/**",
  "/usr/lib/python3/dist-packages/**/tests/**",
];

const SEVERITIES = ["error", "warning", "info"];

const schema = {
  type: "object",
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    "fail-on": { enum: ["error", "warning"] },
    "allow-paths": { type: "array", items: { type: "string", minLength: 1 } },
    rules: {
      type: "object",
      propertyNames: { enum: RULE_IDS },
      additionalProperties: {
        type: "object",
        properties: {
          enabled: { type: "boolean" },
          severity: { enum: SEVERITIES },
          "allow-paths": { type: "array", items: { type: "string", minLength: 1 } },
          max: { type: ["string", "number"] },
          "warn-days": { type: "integer", minimum: 0 },
          "allow-base-image": { type: "boolean" },
        },
        additionalProperties: false,
      },
    },
  },
};

// compiled on first use: verify without a policy file does not pay for it
let validateFn: ReturnType<AjvClass["compile"]> | undefined;
function validate(d: unknown): boolean {
  if (!validateFn) {
    const { Ajv } = createRequire(import.meta.url)("ajv") as { Ajv: typeof AjvClass };
    validateFn = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema);
  }
  return validateFn(d) as boolean;
}

export function defaultPolicy(): Policy {
  const rules: Record<string, RulePolicy> = {};
  for (const id of RULE_IDS) rules[id] = { enabled: true, allowPaths: [], options: {} };
  return { failOn: "error", allowPaths: DEFAULT_ALLOW_PATHS.map(globToRegExp), rules };
}

/** Build a policy from parsed YAML/JSON; throws E_POLICY with the first problem. */
export function policyFromObject(doc: unknown, source = "policy"): Policy {
  const d = doc ?? {};
  if (!validate(d)) {
    const e = validateFn?.errors?.find((x) => x.keyword === "propertyNames") ?? validateFn?.errors?.[0];
    const where = e?.instancePath ? e.instancePath.slice(1).replaceAll("/", ".") : "(top level)";
    let msg = e?.message ?? "invalid";
    if (e?.keyword === "propertyNames")
      msg = `unknown rule "${(e.params as { propertyName?: string }).propertyName}" (rules: ${RULE_IDS.join(", ")})`;
    else if (e?.keyword === "additionalProperties")
      msg = `unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    else if (e?.keyword === "enum")
      msg = `${msg}: ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
    throw new VerifyError("E_POLICY", `${source}: ${where}: ${msg}`, {
      hint: "see the policy format in src/verify/policy.ts",
    });
  }
  const p = defaultPolicy();
  p.source = source;
  const o = d as {
    "fail-on"?: Severity;
    "allow-paths"?: string[];
    rules?: Record<string, Record<string, unknown>>;
  };
  if (o["fail-on"]) p.failOn = o["fail-on"];
  if (o["allow-paths"]) p.allowPaths.push(...o["allow-paths"].map(globToRegExp));
  for (const [id, r] of Object.entries(o.rules ?? {})) {
    const rp = p.rules[id];
    if (r.enabled !== undefined) rp.enabled = r.enabled as boolean;
    if (r.severity) rp.severity = r.severity as Severity;
    if (r["allow-paths"]) rp.allowPaths = (r["allow-paths"] as string[]).map(globToRegExp);
    for (const [k, v] of Object.entries(r)) {
      if (k === "enabled" || k === "severity" || k === "allow-paths") continue;
      if (k === "max") {
        try {
          parseSize(v);
        } catch (e) {
          throw new VerifyError("E_POLICY", `${source}: rules.${id}.max: ${(e as Error).message}`);
        }
      }
      rp.options[k] = v;
    }
  }
  return p;
}

export async function loadPolicy(path: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new VerifyError(
      "E_POLICY",
      `cannot read policy ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new VerifyError("E_POLICY", `${path}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  return policyFromObject(doc, path);
}
