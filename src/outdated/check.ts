/**
 * `outdated`: what is installed (input.ts) against the archive as it is now — the suite, its
 * `-updates` and other extra suites on the main mirror, and `<suite>-security` from the security
 * mirror — each Release fetched and verified exactly as a build verifies it (signature with the
 * keyring, Valid-Until, index hashes, the same cache), by src/debian's loaders.
 */
import {
  type AptSource,
  type ArchiveOptions,
  configuredSources,
  DebianError,
  loadRelease,
  loadUniverse,
  type ReleaseInfo,
} from "../debian/index.ts";
import { redactUrl } from "../util/http.ts";
import { info } from "../util/progress.ts";
import { compareInstalled } from "./compare.ts";
import type { Installed, PackageUpdate, Target, UnknownPackage } from "./types.ts";

export interface ArchiveAccess {
  mirror?: string;
  securityMirror?: string;
  keyring?: string;
  allowExpired?: boolean;
  cacheDir?: string;
  /** compare with `<suite>-security` too (default true) */
  security?: boolean;
  now?: Date;
}

export interface CheckedSource {
  suite: string;
  /** the archive's base URL (credentials removed) */
  uri: string;
  security: boolean;
  /** the Release's Date (ISO 8601), if it has one */
  date: string | null;
}

export interface TargetResult {
  target: Target;
  sources: CheckedSource[];
  updates: PackageUpdate[];
  unknown: UnknownPackage[];
}

export interface OutdatedResult {
  installed: Installed;
  targets: TargetResult[];
  warnings: string[];
}

const key = (s: AptSource) => `${s.uri}\0${s.suite}`;

/** Compare every target of `installed` with the archive. */
export async function checkOutdated(
  installed: Installed,
  access: ArchiveAccess = {},
): Promise<OutdatedResult> {
  const security = access.security !== false;
  const releases = new Map<string, Promise<ReleaseInfo>>();
  const results: TargetResult[] = [];
  for (const target of installed.targets) {
    const sources = configuredSources({
      suite: target.suite,
      mirror: access.mirror,
      securityMirror: access.securityMirror,
      components: installed.components,
      security,
      extraSuites: installed.extraSuites,
    });
    // configuredSources puts `<suite>-security` last
    const securityKeys = new Set(security ? [key(sources[sources.length - 1])] : []);
    const isSecurity = (s: AptSource) => securityKeys.has(key(s));
    const archive: ArchiveOptions = {
      sources,
      arch: target.architecture,
      keyring: access.keyring,
      allowExpired: access.allowExpired,
      cacheDir: access.cacheDir,
      now: access.now,
    };
    // every Release verified first (its date goes in the report); the loader re-reads InRelease
    // but not its signature, which it remembers
    const rels = await Promise.all(
      sources.map((s) => {
        let p = releases.get(key(s));
        if (!p) {
          p = loadRelease(s, archive).catch((e: unknown) => {
            // a suite without a security suite (sid) or a security mirror that is not one
            if (isSecurity(s) && e instanceof DebianError && e.code === "E_NOT_FOUND") {
              throw new DebianError("E_NOT_FOUND", e.message, {
                hint: "give the security archive with --security-mirror, or compare without it: --no-security",
              });
            }
            throw e;
          });
          releases.set(key(s), p);
        }
        return p;
      }),
    );
    info(
      `${target.platform ?? target.architecture}: comparing ${target.packages.length} packages with ${sources.map((s) => s.suite).join(", ")}`,
    );
    const universe = await loadUniverse(archive);
    const { updates, unknown } = compareInstalled(
      target.architecture,
      target.packages,
      universe.packages,
      isSecurity,
    );
    results.push({
      target,
      sources: sources.map((s, i) => ({
        suite: s.suite,
        uri: redactUrl(s.uri),
        security: isSecurity(s),
        date: rels[i].date?.toISOString() ?? null,
      })),
      updates,
      unknown,
    });
  }
  return { installed, targets: results, warnings: [...installed.warnings, ...adviceFor(installed, results)] };
}

/** What a weekly `outdated → lock → build --locked` would not fix by itself. */
function adviceFor(installed: Installed, results: TargetResult[]): string[] {
  const out: string[] = [];
  const updates = results.flatMap((r) => r.updates);
  const sec = new Set(updates.filter((u) => u.security).map((u) => u.name));
  if (installed.specSecurity === false && sec.size > 0) {
    out.push(
      `${installed.spec} does not enable sources.security: \`shellfree lock\` will not install the security update${sec.size > 1 ? "s" : ""} of ${[...sec].sort().join(", ")} (set sources: { security: true })`,
    );
  }
  const pinned = [...new Set(updates.filter((u) => u.name in installed.pins).map((u) => u.name))].sort();
  for (const n of pinned) {
    out.push(
      `${n} is pinned to ${installed.pins[n]} by ${installed.spec}: \`shellfree lock\` keeps that version`,
    );
  }
  return out;
}
