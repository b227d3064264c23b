/**
 * Microsoft's SARIF multitool (npm `@microsoft/sarif-multitool`, a self-contained .NET build for
 * linux in `@microsoft/sarif-multitool-linux`): `validate` with the SARIF rules and GitHub
 * Advanced Security's (`--rule-kind "Ghas;Sarif"`), its own findings read from the SARIF log it
 * writes.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "./cli.ts";
import { runCommand } from "./run.ts";

export const MULTITOOL = join(ROOT, "node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");

export interface MultitoolFinding {
  rule: string;
  level: string;
  /** the message arguments: where (a JSON path) and what */
  args: string[];
}

/** Validate `file`; returns every error, warning and note the multitool reports. */
export async function validateSarif(file: string, outDir: string): Promise<MultitoolFinding[]> {
  if (!existsSync(MULTITOOL)) throw new Error(`no SARIF multitool at ${MULTITOOL}: run npm ci`);
  const out = join(outDir, `multitool-${Date.now()}-${Math.random().toString(16).slice(2)}.sarif`);
  const r = await runCommand(MULTITOOL, ["validate", "--rule-kind", "Ghas;Sarif", "--output", out, file], {
    timeoutMs: 180_000,
    allowFail: true,
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1", DOTNET_NOLOGO: "1" },
  });
  if (!existsSync(out)) throw new Error(`multitool wrote no log (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  const log = JSON.parse(await readFile(out, "utf8")) as {
    runs: Array<{
      results?: Array<{ ruleId: string; level?: string; message: { arguments?: string[]; text?: string } }>;
      invocations?: Array<{ executionSuccessful: boolean; toolExecutionNotifications?: unknown[] }>;
    }>;
  };
  const run = log.runs[0];
  if (run.invocations?.[0]?.executionSuccessful === false)
    throw new Error(`multitool failed: ${JSON.stringify(run.invocations[0].toolExecutionNotifications)}`);
  return (run.results ?? []).map((x) => ({
    rule: x.ruleId,
    level: x.level ?? "warning",
    args: x.message.arguments ?? [x.message.text ?? ""],
  }));
}
