/** The data `outdated` passes between reading what is installed, the archive and the report. */

/** One installed package: from a lockfile or an image's dpkg database. */
export interface InstalledPackage {
  name: string;
  version: string;
  /** "amd64", "arm64", "all", ... */
  architecture: string;
  /** the Debian source package, when the dpkg database says (a lockfile does not record it) */
  source?: string;
  sourceVersion?: string;
}

/** One set of installed packages compared as a whole: an architecture of a lock, a platform of an image. */
export interface Target {
  /** Debian architecture of the indices to compare with */
  architecture: string;
  /** the image platform ("linux/arm64/v8"), for an image */
  platform?: string;
  /** the image manifest digest, for an image */
  manifest?: string;
  /** the suite the packages come from (codename, e.g. "trixie") */
  suite: string;
  packages: InstalledPackage[];
}

/** What a spec, lockfile or image holds, and how to reach its archive. */
export interface Installed {
  kind: "lockfile" | "image";
  /** the lockfile's path or the image reference as given */
  ref: string;
  /** the spec the lockfile belongs to (a path, or `preset:NAME`) */
  spec?: string;
  targets: Target[];
  /** archive components to load (from the spec, the lock's pool paths, or the options) */
  components: string[];
  /** suites on the main mirror compared with besides the suite itself, e.g. trixie-updates */
  extraSuites: string[];
  /** whether the spec's own sources include `<suite>-security` (undefined: no spec) */
  specSecurity?: boolean;
  /** the spec's version pins (a lock keeps these whatever the archive has) */
  pins: Record<string, string>;
  warnings: string[];
}

/** A package with a newer version in the archive. */
export interface PackageUpdate {
  /** the target's architecture */
  architecture: string;
  name: string;
  installed: string;
  /** the newest version in the suites compared with */
  candidate: string;
  /** the suite the candidate comes from (the security suite when it has that version) */
  suite: string;
  /** a version newer than the installed one is in `<suite>-security` */
  security: boolean;
  /** the newest such version in the security suite, or null */
  securityVersion: string | null;
  /** the candidate's Debian source package and source version */
  source: string;
  sourceVersion: string;
}

/** An installed package no suite compared with has (for the target's architecture). */
export interface UnknownPackage {
  architecture: string;
  name: string;
  installed: string;
}
