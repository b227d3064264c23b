/**
 * How e2e tests reach the Debian mirror: exactly as shellfree does (src/debian/sources.ts):
 * `$SHELLFREE_MIRROR`, else the host's apt sources. No host name is written here. A machine
 * without a configured mirror fails these tests (CI configures one); they never skip.
 *
 *   const opts = archiveOptions("trixie", "amd64");         // sources + keyring + shared cache
 *   const universe = await loadUniverse(opts);
 */
import type { ArchiveOptions } from "../../src/debian/archive.ts";
import { configuredSources, type SourceOptions } from "../../src/debian/sources.ts";
import type { AptSource } from "../../src/debian/types.ts";

/** Shared across test files and runs, so each .deb and index is downloaded once. */
export const TEST_CACHE: string = process.env.SHELLFREE_TEST_CACHE ?? "/tmp/shellfree-test-cache";

/** The main mirror's base URL (configuration, never a constant). */
export function testMirror(): string {
  return configuredSources({ suite: "trixie" })[0].uri;
}

/** Sources for `suite` on the configured mirror (plus `-security` when asked). */
export function mirrorSources(suite = "trixie", opts: Partial<SourceOptions> = {}): AptSource[] {
  return configuredSources({ suite, ...opts });
}

/** ArchiveOptions for the configured mirror, the host keyring and the shared test cache. */
export function archiveOptions(
  suite = "trixie",
  arch = "amd64",
  opts: Partial<SourceOptions> & Partial<Omit<ArchiveOptions, "sources" | "arch">> = {},
): ArchiveOptions {
  const { mirror, securityMirror, components, security, extraSuites, ...archive } = opts;
  return {
    sources: mirrorSources(suite, { mirror, securityMirror, components, security, extraSuites }),
    arch,
    cacheDir: TEST_CACHE,
    ...archive,
  };
}
