/**
 * `shellfree test IMAGE`: run the image for real — container-structure-test YAML (--config) and
 * built-in behaviour checks (--checks) under runc, podman or docker. Exit 0 pass, 3 fail.
 * Ctrl-C removes every container and bundle before exiting.
 */
import type { Command } from "commander";
import {
  CHECK_NAMES,
  type CheckOptions,
  cleanupAll,
  DRIVERS,
  type DriverName,
  loadStructure,
  RuntimeError,
  testImage,
  testJson,
  testJunit,
  testText,
} from "../runtime/index.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { info, warn } from "../util/progress.ts";
import {
  action,
  addImageReadOptions,
  checkRegistryFlags,
  collectList,
  type ImageReadFlags,
} from "./common.ts";

interface Opts extends ImageReadFlags {
  driver?: string;
  config?: string[];
  checks?: string[];
  httpPort?: string;
  httpPath?: string;
  httpMethod?: string;
  httpStatus?: string;
  httpProxy?: boolean;
  uid?: string;
  stopExitCode?: string;
  stopTimeout?: string;
  expectLog?: string[];
  startupMaxMs?: string;
  mainProcess?: string;
  timeout?: string;
  format?: string;
  json?: boolean;
  output?: string;
}

function int(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v))
    throw new RuntimeError("E_USAGE", `${flag}: expected a whole number, got "${v}"`, { exitCode: 2 });
  return Number(v);
}

function installInterruptCleanup(): void {
  let once = false;
  const handler = (sig: NodeJS.Signals) => {
    if (once) return;
    once = true;
    warn(`${sig}: removing containers and bundles`);
    void cleanupAll().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

export function register(program: Command): void {
  addImageReadOptions(program.command("test"), "which image of a multi-platform index", false)
    .description(
      "run an image for real and check its behaviour (structure tests, shell-exec-fails, healthcheck, http, graceful-stop, main-dies, any-uid, read-only, startup-time)",
    )
    .argument(
      "<image>",
      "oci:DIR[:TAG|@sha256:...], oci-archive:FILE[:TAG], docker-archive:FILE or registry:HOST[:PORT]/REPO[:TAG|@sha256:...]",
    )
    .option("--driver <name>", `runc (default as root), podman or docker (${DRIVERS.join(", ")})`)
    .option(
      "-c, --config <file>",
      "container-structure-test YAML/JSON (schemaVersion 1.0.0 or 2.0.0), run as the real tool runs it: RE2 regexes (^/$ match the whole text unless (?m)), permissions in Go form (dtrwxrwxrwx, Lrwxrwxrwx), $VAR from the image's env, licenseTests; repeatable",
      collectList,
    )
    .option(
      "--checks <list>",
      `built-in checks, comma separated, or "all": ${CHECK_NAMES.join(", ")}`,
      collectList,
    )
    .option("--http-port <n>", "port for http/readiness (default: the first exposed TCP port)")
    .option("--http-path <path>", "path for the http check (default /)")
    .option("--http-method <m>", "GET or HEAD (default GET)")
    .option("--http-status <n>", "expected status (default 200)")
    .option(
      "--http-proxy",
      "http: the port is a forward proxy; ask it for --http-path on an origin the check serves on 127.0.0.1, expect its body",
    )
    .option("--stop-exit-code <n>", "graceful-stop: expected exit code (default 0)")
    .option("--stop-timeout <s>", "graceful-stop: seconds to exit after the stop signal (default 35)")
    .option(
      "--expect-log <regex>",
      "graceful-stop: a log line that must appear; repeatable",
      (v: string, p: string[] = []) => [...p, v],
    )
    .option("--uid <n>", "any-uid: run as this UID with GID 0 (default: a random one ≥ 1000000)")
    .option("--startup-max-ms <n>", "startup-time: fail when readiness takes longer")
    .option(
      "--main-process <regex>",
      "main-dies: kill the container process whose command line matches (default: the main process: PID 1, or the oldest child of an init such as shellfree-init or tini)",
    )
    .option("--timeout <s>", "limit for each command / wait, seconds (default 60)")
    .option("--format <format>", "report: text, json or junit", "text")
    .option("--json", "same as --format json")
    .option("-o, --output <file>", "write the report to FILE instead of stdout")
    .action(
      action(async (image: string, opts: Opts) => {
        checkRegistryFlags(opts);
        const registry = { creds: opts.creds, insecure: opts.insecure, tlsVerify: opts.tlsVerify };
        const format = opts.json ? "json" : (opts.format ?? "text");
        if (!["text", "json", "junit"].includes(format))
          throw new RuntimeError("E_USAGE", `unknown report format "${format}" (text, json, junit)`, {
            exitCode: 2,
          });
        const structure = [];
        for (const f of opts.config ?? []) structure.push(await loadStructure(f));
        let checks = opts.checks ?? [];
        if (checks.includes("all")) checks = [...CHECK_NAMES];
        const method = opts.httpMethod?.toUpperCase();
        if (method && method !== "GET" && method !== "HEAD")
          throw new RuntimeError("E_USAGE", `--http-method: GET or HEAD, not "${opts.httpMethod}"`, {
            exitCode: 2,
          });
        const timeoutS = int(opts.timeout, "--timeout");
        const co: CheckOptions = {};
        if (opts.httpPort || opts.httpPath || method || opts.httpStatus || opts.httpProxy) {
          co.http = {
            port: int(opts.httpPort, "--http-port"),
            path: opts.httpPath,
            method: method as "GET" | "HEAD" | undefined,
            status: int(opts.httpStatus, "--http-status"),
            proxy: opts.httpProxy,
          };
        }
        if (opts.uid !== undefined) {
          const uid = int(opts.uid, "--uid") as number;
          if (uid > 0xfffffffe)
            throw new RuntimeError("E_USAGE", `--uid: at most 4294967294, got ${uid}`, { exitCode: 2 });
          co["any-uid"] = { uid };
        }
        if (opts.stopExitCode || opts.stopTimeout || opts.expectLog) {
          const s = int(opts.stopTimeout, "--stop-timeout");
          co["graceful-stop"] = {
            exitCode: int(opts.stopExitCode, "--stop-exit-code"),
            withinMs: s === undefined ? undefined : s * 1000,
            logs: opts.expectLog,
          };
        }
        if (opts.startupMaxMs) co["startup-time"] = { maxMs: int(opts.startupMaxMs, "--startup-max-ms") };
        if (opts.mainProcess) co["main-dies"] = { process: opts.mainProcess };
        for (const k of Object.keys(co) as Array<keyof CheckOptions>) {
          const v = co[k] as Record<string, unknown>;
          for (const kk of Object.keys(v)) if (v[kk] === undefined) delete v[kk];
        }
        if (timeoutS) co.timeoutMs = timeoutS * 1000;
        installInterruptCleanup();
        const report = await testImage(image, {
          driver: opts.driver as DriverName | undefined,
          structure,
          checks,
          checkOptions: co,
          timeoutMs: timeoutS ? timeoutS * 1000 : undefined,
          platform: opts.platform,
          ...registry,
        });
        const text =
          format === "json" ? testJson(report) : format === "junit" ? testJunit(report) : testText(report);
        if (opts.output) {
          await writeFileAtomic(opts.output, text);
          info(
            `test: ${report.passed ? "PASS" : "FAIL"} (${report.counts.passed} passed, ${report.counts.failed} failed); report in ${opts.output}`,
          );
          if (!report.passed) process.stderr.write(testText(report));
        } else process.stdout.write(text);
        return report.passed ? 0 : 3;
      }),
    );
}
