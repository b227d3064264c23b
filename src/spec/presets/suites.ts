/**
 * Presets name Debian packages, and some names differ between releases (bookworm's `libssl3`
 * is `libssl3t64` from trixie on, after the 64-bit time_t transition; the default CPython is
 * 3.11 on bookworm and 3.13 on trixie). So a preset's packages are data keyed by suite
 * codename: the suite is known only once the whole spec is merged (a spec sets `suite:` over
 * the presets it names), and finish.ts picks the list then.
 */

/** The suite codenames every preset has a package list for. */
export const PRESET_SUITES = ["bookworm", "trixie", "forky", "sid"] as const;
export type PresetSuite = (typeof PRESET_SUITES)[number];

/** A preset's packages: one list per suite codename. */
export type SuitePackages = Readonly<Record<PresetSuite, readonly string[]>>;

/** The same names on every suite. */
export function everySuite(names: readonly string[]): SuitePackages {
  return Object.fromEntries(PRESET_SUITES.map((s) => [s, names])) as unknown as SuitePackages;
}

/** `common` on every suite plus, per suite, the names that differ. */
export function perSuite(common: readonly string[], differs: SuitePackages): SuitePackages {
  return Object.fromEntries(
    PRESET_SUITES.map((s) => [s, [...common, ...differs[s]]]),
  ) as unknown as SuitePackages;
}

/** OpenSSL's library package: renamed by the 64-bit time_t transition (trixie). */
export const LIBSSL: SuitePackages = {
  bookworm: ["libssl3"],
  trixie: ["libssl3t64"],
  forky: ["libssl3t64"],
  sid: ["libssl3t64"],
};
