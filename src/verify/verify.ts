/**
 * The verify engine: read the image's filesystem once (layers in order, whiteouts applied), run
 * every enabled rule, apply the policy (severities, allowed paths) and produce a report.
 */

import { SPEC_LABEL } from "../formats/index.ts";
import { openImage } from "../oci/index.ts";
import { matchAny } from "../util/globs.ts";
import { info } from "../util/progress.ts";
import { type ImageFs, type ImageFsStats, type LayerSource, readImageFs } from "./image-fs.ts";
import { defaultPolicy, type Policy } from "./policy.ts";
import { RULES } from "./rules/index.ts";
import type { Finding, ImageConfigJson, Severity } from "./rules/types.ts";

export interface VerifyInput {
  ref: string;
  config: ImageConfigJson;
  layers: LayerSource[];
  manifestDigest?: string;
  platform?: string;
}

export interface RuleResult {
  id: string;
  title: string;
  description: string;
  enabled: boolean;
  severity: Severity;
  findings: number;
  /** true when the rule ran and produced no finding at or above the fail level */
  passed: boolean;
}

export interface VerifyReport {
  image: string;
  platform?: string;
  manifestDigest?: string;
  passed: boolean;
  failOn: Severity;
  findings: Finding[];
  rules: RuleResult[];
  counts: { error: number; warning: number; info: number };
  stats: ImageFsStats & { files: number; layers: number };
  durationMs: number;
  policy?: string;
  /** the spec the image was built from, as its SPEC_LABEL label names it (repository-relative) */
  spec?: string;
  /** size in bytes of each path a finding names (a symlink: its target's length; SARIF regions) */
  fileSizes?: Record<string, number>;
}

export interface VerifyOptions {
  policy?: Policy;
  /** the date EOL checks compare against (default: now) */
  now?: Date;
  /** layers read at the same time (default LAYER_CONCURRENCY; 1 reads them one after another) */
  layerConcurrency?: number;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export function fails(sev: Severity, failOn: Severity): boolean {
  return RANK[sev] >= RANK[failOn];
}

/** Run the rules over an already-read filesystem. */
export function runRules(
  fs: ImageFs,
  config: ImageConfigJson,
  opts: VerifyOptions = {},
): { findings: Finding[]; rules: RuleResult[] } {
  const policy = opts.policy ?? defaultPolicy();
  const now = opts.now ?? new Date();
  const findings: Finding[] = [];
  const rules: RuleResult[] = [];
  for (const rule of RULES) {
    const rp = policy.rules[rule.id] ?? { enabled: true, allowPaths: [], options: {} };
    const severity = rp.severity ?? rule.defaultSeverity;
    if (!rp.enabled) {
      rules.push({
        id: rule.id,
        title: rule.title,
        description: rule.description,
        enabled: false,
        severity,
        findings: 0,
        passed: true,
      });
      continue;
    }
    const raw = rule.check({ fs, config, options: rp.options, now });
    let n = 0;
    let passed = true;
    for (const r of raw) {
      if (r.path && (matchAny(r.path, policy.allowPaths) || matchAny(r.path, rp.allowPaths))) continue;
      // a rule may mark a finding softer than its own level (e.g. info notes); the policy's
      // severity caps it from above
      const sev: Severity = r.severity && RANK[r.severity] < RANK[severity] ? r.severity : severity;
      const f: Finding = { rule: rule.id, severity: sev, message: r.message, hint: r.hint ?? rule.hint };
      if (r.path) f.path = r.path;
      if (r.field) f.field = r.field;
      findings.push(f);
      n++;
      if (fails(sev, policy.failOn)) passed = false;
    }
    rules.push({
      id: rule.id,
      title: rule.title,
      description: rule.description,
      enabled: true,
      severity,
      findings: n,
      passed,
    });
  }
  return { findings, rules };
}

/** Verify an image given as config + layer streams. */
export async function verifyImage(input: VerifyInput, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const t0 = performance.now();
  const policy = opts.policy ?? defaultPolicy();
  const fs = await readImageFs(
    input.layers,
    (i) => info(`verify: reading layer ${i + 1}/${input.layers.length}`),
    opts.layerConcurrency,
  );
  const { findings, rules } = runRules(fs, input.config, { ...opts, policy });
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  let files = 0;
  for (const _ of fs.files()) files++;
  const fileSizes: Record<string, number> = {};
  for (const f of findings) {
    const n = f.path ? fs.get(f.path) : undefined;
    if (f.path && n)
      fileSizes[f.path] =
        n.type === "file" ? n.size : n.type === "symlink" ? Buffer.byteLength(n.linkname ?? "") : 0;
  }
  const spec = input.config.config?.Labels?.[SPEC_LABEL];
  return {
    image: input.ref,
    platform: input.platform,
    manifestDigest: input.manifestDigest,
    passed: !findings.some((f) => fails(f.severity, policy.failOn)),
    failOn: policy.failOn,
    findings,
    rules,
    counts,
    stats: { ...fs.stats(), files, layers: input.layers.length },
    durationMs: Math.round(performance.now() - t0),
    policy: policy.source,
    ...(spec ? { spec } : {}),
    ...(Object.keys(fileSizes).length ? { fileSizes } : {}),
  };
}

/**
 * Open an image reference (any transport src/oci reads: oci:, oci-archive:, docker-archive:,
 * docker://, registry:) and verify it.
 */
export async function verifyRef(
  ref: string,
  opts: VerifyOptions & { platform?: string; creds?: string; insecure?: boolean; tlsVerify?: boolean } = {},
): Promise<VerifyReport> {
  const img = await openImage(ref, opts);
  try {
    const p = img.platform;
    return await verifyImage(
      {
        ref,
        config: img.config,
        layers: img.layers,
        manifestDigest: img.manifestDigest,
        platform: `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`,
      },
      opts,
    );
  } finally {
    await img.close();
  }
}
