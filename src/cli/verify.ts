/**
 * `shellfree verify IMAGE`: static checks (no runtime). Reports as text (default), json, sarif or
 * junit, to stdout or --output FILE (written atomically). Exit 0 pass, 3 fail.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import type { Command } from "commander";
import { cleanupPulls } from "../oci/index.ts";
import { specLineFor, specLines } from "../spec/index.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { info } from "../util/progress.ts";
import {
  loadPolicy,
  REPORT_FORMATS,
  type ReportFormat,
  renderReport,
  type SarifOptions,
  VerifyError,
  verifyRef,
} from "../verify/index.ts";
import {
  action,
  addImageReadOptions,
  checkRegistryFlags,
  HOMEPAGE,
  type ImageReadFlags,
  VERSION,
} from "./common.ts";

interface Opts extends ImageReadFlags {
  policy?: string;
  format?: string;
  json?: boolean;
  output?: string;
  spec?: string;
}

/**
 * The spec for SARIF locations: --spec FILE, else the path the image's label names, read from
 * the current directory (the repository root in CI). Absent or unreadable: none (findings about
 * the config then point at the image's config.json).
 */
async function specFor(opts: Opts, label: string | undefined): Promise<SarifOptions["spec"]> {
  const file = opts.spec ?? label;
  if (!file) return undefined;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if (opts.spec)
      throw new VerifyError(
        "E_USAGE",
        `--spec ${opts.spec}: cannot read: ${(e as NodeJS.ErrnoException).code}`,
      );
    return undefined;
  }
  const lines = specLines(text);
  const rel = isAbsolute(file) || opts.spec ? relative(process.cwd(), resolve(file)) : file;
  return { uri: rel, lineOf: (field) => specLineFor(lines, field) };
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
    .option(
      "--spec <file>",
      "SARIF: the spec the image was built from, for locations of config findings (default: the file its dev.shellfree.spec label names, from the current directory)",
    )
    .action(
      action(async (image: string, opts: Opts) => {
        checkRegistryFlags(opts);
        const registry = { creds: opts.creds, insecure: opts.insecure, tlsVerify: opts.tlsVerify };
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
        const sarif: Omit<SarifOptions, "toolVersion"> =
          format === "sarif" ? { docsUrl: HOMEPAGE, spec: await specFor(opts, report.spec) } : {};
        const text = renderReport(report, format, VERSION, sarif);
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
