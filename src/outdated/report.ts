/**
 * The answer of `outdated`: a stable JSON document (schemaVersion 1), a text table, and the exit
 * code a scheduled job acts on.
 */
import type { OutdatedResult } from "./check.ts";
import type { PackageUpdate, UnknownPackage } from "./types.ts";

/** A package has a newer version in `<suite>-security`. */
export const EXIT_SECURITY = 10;
/** Newer versions, none from the security suite. */
export const EXIT_UPDATES = 11;

/** Which findings make the exit code non-zero. */
export const FAIL_ON = ["any", "security", "never"] as const;
export type FailOn = (typeof FAIL_ON)[number];

export type OutdatedStatus = "up-to-date" | "updates" | "security-updates";

export interface OutdatedJson {
  schemaVersion: 1;
  input: { kind: "lockfile" | "image"; ref: string; spec: string | null };
  status: OutdatedStatus;
  exitCode: number;
  summary: { packages: number; updates: number; security: number };
  targets: Array<{
    architecture: string;
    platform: string | null;
    manifest: string | null;
    suite: string;
    packages: number;
    updates: number;
    security: number;
    sources: Array<{ suite: string; uri: string; security: boolean; date: string | null }>;
  }>;
  updates: PackageUpdate[];
  notInArchive: UnknownPackage[];
  warnings: string[];
}

export function statusOf(r: OutdatedResult): OutdatedStatus {
  const updates = r.targets.flatMap((t) => t.updates);
  if (updates.some((u) => u.security)) return "security-updates";
  return updates.length ? "updates" : "up-to-date";
}

export function exitCodeFor(status: OutdatedStatus, failOn: FailOn): number {
  if (failOn === "never" || status === "up-to-date") return 0;
  if (status === "security-updates") return EXIT_SECURITY;
  return failOn === "any" ? EXIT_UPDATES : 0;
}

export function outdatedJson(r: OutdatedResult, failOn: FailOn): OutdatedJson {
  const status = statusOf(r);
  const updates = r.targets.flatMap((t) => t.updates);
  return {
    schemaVersion: 1,
    input: { kind: r.installed.kind, ref: r.installed.ref, spec: r.installed.spec ?? null },
    status,
    exitCode: exitCodeFor(status, failOn),
    summary: {
      packages: r.targets.reduce((n, t) => n + t.target.packages.length, 0),
      updates: updates.length,
      security: updates.filter((u) => u.security).length,
    },
    targets: r.targets.map((t) => ({
      architecture: t.target.architecture,
      platform: t.target.platform ?? null,
      manifest: t.target.manifest ?? null,
      suite: t.target.suite,
      packages: t.target.packages.length,
      updates: t.updates.length,
      security: t.updates.filter((u) => u.security).length,
      sources: t.sources,
    })),
    updates: updates.map((u) => ({
      architecture: u.architecture,
      name: u.name,
      installed: u.installed,
      candidate: u.candidate,
      suite: u.suite,
      security: u.security,
      securityVersion: u.securityVersion,
      source: u.source,
      sourceVersion: u.sourceVersion,
    })),
    notInArchive: r.targets.flatMap((t) => t.unknown),
    warnings: r.warnings,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  "))
    .join("\n");
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The text report (stdout). */
export function formatOutdated(r: OutdatedResult): string {
  const lines: string[] = [];
  const multi = r.targets.length > 1;
  for (const t of r.targets) {
    const what = t.target.platform ?? t.target.architecture;
    lines.push(
      `${r.installed.ref} (${t.target.suite}, ${what}): ${plural(t.target.packages.length, "package")} compared with ${t.sources.map((s) => s.suite).join(", ")}`,
    );
  }
  const updates = r.targets.flatMap((t) => t.updates);
  if (updates.length) {
    const head = [
      "PACKAGE",
      ...(multi ? ["ARCH"] : []),
      "INSTALLED",
      "CANDIDATE",
      "SUITE",
      "SECURITY",
      "SOURCE",
    ];
    const rows = updates.map((u) => [
      u.name,
      ...(multi ? [u.architecture] : []),
      u.installed,
      u.candidate,
      u.suite,
      u.security ? (u.securityVersion === u.candidate ? "yes" : `yes (${u.securityVersion})`) : "no",
      `${u.source} ${u.sourceVersion}`,
    ]);
    lines.push("", table([head, ...rows]));
  }
  const unknown = r.targets.flatMap((t) => t.unknown);
  if (unknown.length) {
    lines.push(
      "",
      `not in the archive: ${unknown.map((u) => `${u.name} ${u.installed}${multi ? ` (${u.architecture})` : ""}`).join(", ")}`,
    );
  }
  const sec = updates.filter((u) => u.security).length;
  lines.push(
    "",
    updates.length === 0
      ? "up to date"
      : `${plural(updates.length, "newer version")}, ${sec === 0 ? "none from the security suite" : `${plural(sec, "security update")}`}`,
  );
  return `${lines.join("\n")}\n`;
}
