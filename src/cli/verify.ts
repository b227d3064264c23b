/**
 * `shellfree verify IMAGE`: static checks (no runtime). Reports as text (default), json, sarif or
 * junit, to stdout or --output FILE (written atomically). Exit 0 pass, 3 fail.
 */
import type { Command } from "commander";
import { cleanupPulls } from "../oci/index.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { info } from "../util/progress.ts";
import {
  loadPolicy,
  REPORT_FORMATS,
  type ReportFormat,
  renderReport,
  VerifyError,
  verifyRef,
} from "../verify/index.ts";
import { action, addImageReadOptions, type ImageReadFlags, VERSION } from "./common.ts";

interface Opts extends ImageReadFlags {
  policy?: string;
  format?: string;
  json?: boolean;
  output?: string;
}

export function register(program: Command): void {
  addImageReadOptions(
    program.command("verify"),
    "which image of a multi-platform index (default: the host's)",
  )
    .description(
      "prove statically that an image is shell-free (no shell, no package manager, no setuid, non-root, exec-form entrypoint and healthcheck, resolvable libraries, no secrets, supported OS)",
    )
    .argument(
      "<image>",
      "oci:DIR[:TAG|@sha256:...], oci-archive:FILE[:TAG], docker-archive:FILE or registry:HOST[:PORT]/REPO[:TAG|@sha256:...]",
    )
    .option(
      "--policy <file>",
      "shellfree-policy.yaml: enable/disable rules, severities, budgets, allowed paths",
    )
    .option("--format <format>", `report format: ${REPORT_FORMATS.join(", ")}`, "text")
    .option("--json", "same as --format json")
    .option("-o, --output <file>", "write the report to FILE instead of stdout")
    .action(
      action(async (image: string, opts: Opts) => {
        const registry = { creds: opts.creds, insecure: opts.insecure };
        const format = (opts.json ? "json" : (opts.format ?? "text")) as ReportFormat;
        if (!REPORT_FORMATS.includes(format)) {
          throw new VerifyError(
            "E_USAGE",
            `unknown report format "${opts.format}" (use ${REPORT_FORMATS.join(", ")})`,
            { exitCode: 2 },
          );
        }
        // Ctrl-C while pulling a registry: reference leaves no temp layout behind
        const onSignal = (sig: NodeJS.Signals) =>
          void cleanupPulls().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        const policy = opts.policy ? await loadPolicy(opts.policy) : undefined;
        const report = await verifyRef(image, { policy, platform: opts.platform, ...registry });
        const text = renderReport(report, format, VERSION);
        if (opts.output) {
          await writeFileAtomic(opts.output, text);
          info(
            `verify: ${report.passed ? "PASS" : "FAIL"} (${report.counts.error} errors, ${report.counts.warning} warnings); report in ${opts.output}`,
          );
        } else process.stdout.write(text);
        return report.passed ? 0 : 3;
      }),
    );
}
