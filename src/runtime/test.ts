/**
 * `shellfree test`: run an image for real. Structure tests (container-structure-test YAML) and
 * the built-in behaviour checks, under one driver; everything it creates is removed afterwards —
 * also on failure and on Ctrl-C (`cleanupAll`, called by the CLI's SIGINT handler).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupPulls, openImage } from "../oci/index.ts";
import { info } from "../util/progress.ts";
import { CHECK_NAMES, CHECKS, type CheckOptions } from "./checks/index.ts";
import { type DriverName, makeDriver } from "./detect.ts";
import type { Driver } from "./driver.ts";
import { RuntimeError } from "./errors.ts";
import { killAllChildren } from "./proc.ts";
import { makeReport, type TestReport, type TestResult } from "./report.ts";
import { RuncDriver } from "./runc.ts";
import type { StructureConfig } from "./structure/config.ts";
import { runStructure } from "./structure/run.ts";
import { unpackImage } from "./unpack.ts";

export interface TestOptions {
  driver?: DriverName;
  structure?: StructureConfig[];
  checks?: string[];
  checkOptions?: CheckOptions;
  /** per command / wait (ms) */
  timeoutMs?: number;
  platform?: string;
  /** registry credentials / insecure registry, for registry: references */
  creds?: string;
  insecure?: boolean;
}

const active = new Set<() => Promise<void>>();

/** Remove every container/bundle/storage of tests still running (SIGINT handler). */
export async function cleanupAll(): Promise<void> {
  killAllChildren();
  await Promise.allSettled([...active].map((f) => f()));
  await cleanupPulls();
}

function mergeOptions(a: CheckOptions, b: Record<string, unknown> | undefined): CheckOptions {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b ?? {})) {
    if (k === "checks" || k === "skip") continue;
    out[k] =
      v && typeof v === "object" && !Array.isArray(v)
        ? { ...(v as object), ...((a as Record<string, object>)[k] ?? {}) }
        : ((a as Record<string, unknown>)[k] ?? v);
  }
  return out as CheckOptions;
}

export async function testImage(ref: string, opts: TestOptions = {}): Promise<TestReport> {
  const t0 = performance.now();
  const structures = opts.structure ?? [];
  const asked = [
    ...new Set([...(opts.checks ?? []), ...structures.flatMap((s) => s.shellfree?.checks ?? [])]),
  ];
  for (const c of [...asked, ...structures.flatMap((s) => s.shellfree?.skip ?? [])]) {
    if (!CHECKS[c])
      throw new RuntimeError("E_USAGE", `unknown check "${c}" (checks: ${CHECK_NAMES.join(", ")})`, {
        exitCode: 2,
      });
  }
  // a structure-test file may say which built-in checks do not fit its image (shellfree.skip)
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const s of structures) {
    for (const name of s.shellfree?.skip ?? []) {
      if (asked.includes(name) && !skipped.some((k) => k.name === name))
        skipped.push({ name, reason: `${s.source ?? "the structure-test file"}: shellfree.skip` });
    }
  }
  const checks = asked.filter((c) => !skipped.some((k) => k.name === c));
  if (asked.length === 0 && structures.length === 0) {
    throw new RuntimeError(
      "E_USAGE",
      "nothing to test: give --config FILE (container-structure-test YAML) and/or --checks",
      { exitCode: 2, hint: `checks: ${CHECK_NAMES.join(", ")} (or --checks all)` },
    );
  }
  let options = opts.checkOptions ?? {};
  for (const s of structures) options = mergeOptions(options, s.shellfree);
  if (opts.timeoutMs && !options.timeoutMs) options = { ...options, timeoutMs: opts.timeoutMs };
  const img = await openImage(ref, {
    platform: opts.platform,
    creds: opts.creds,
    insecure: opts.insecure,
  });
  let driver: Driver | undefined;
  let fileRoot: string | undefined;
  const cleanup = async () => {
    await driver?.cleanup().catch(() => undefined);
    if (fileRoot) await rm(fileRoot, { recursive: true, force: true }).catch(() => undefined);
    fileRoot = undefined;
  };
  active.add(cleanup);
  try {
    driver = await makeDriver(opts.driver, { ref: img.localRef, config: img.config, layers: img.layers });
    info(`test: preparing the image for ${driver.name}`);
    await driver.prepare();
    const results: TestResult[] = [];
    const onResult = (r: TestResult) => info(`test: ${r.passed ? "ok  " : "FAIL"} ${r.kind} ${r.name}`);
    for (const k of skipped) info(`test: skip check ${k.name} (${k.reason})`);
    const needFiles = structures.some(
      (s) => (s.fileExistenceTests?.length ?? 0) + (s.fileContentTests?.length ?? 0) > 0,
    );
    let root = "";
    if (needFiles) {
      if (driver instanceof RuncDriver) root = driver.rootfs();
      else {
        fileRoot = await mkdtemp(join(tmpdir(), "shellfree-files-"));
        root = join(fileRoot, "rootfs");
        await unpackImage(root, img.layers);
      }
    }
    for (const s of structures) {
      results.push(
        ...(await runStructure(driver, img.config, root, s, {
          timeoutMs: opts.timeoutMs ?? 60_000,
          onResult,
        })),
      );
    }
    for (const c of checks) {
      info(`test: check ${c}`);
      const c0 = performance.now();
      // a check that cannot run (a driver error) is a failed result, not the end of the run
      const r = await CHECKS[c]({ driver, image: img.config, options }).catch(
        (e: unknown): TestResult => ({
          kind: "check",
          name: c,
          passed: false,
          message: `could not run: ${e instanceof Error ? e.message : String(e)}`,
          durationMs: Math.round(performance.now() - c0),
        }),
      );
      onResult(r);
      results.push(r);
    }
    return makeReport(ref, driver.name, results, Math.round(performance.now() - t0), skipped);
  } finally {
    await cleanup();
    active.delete(cleanup);
    await img.close();
  }
}
