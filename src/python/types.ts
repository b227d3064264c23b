/**
 * The data that flows through src/python: what to install (pinned requirements from a
 * requirements file or a lockfile), the files that could satisfy them, the chosen wheels and
 * what installing them produced. Plain data only.
 */

export type HashAlgorithm = "sha256" | "sha384" | "sha512";

export interface HashSpec {
  algorithm: HashAlgorithm;
  /** lower-case hex */
  hex: string;
}

/** A distribution file (wheel or sdist) known for a requirement: from a lockfile, an index or a directory. */
export interface DistFile {
  filename: string;
  /** absolute URL (index, lockfile) */
  url?: string;
  /** absolute local path (wheel directory, lockfile `path`) */
  path?: string;
  /** hashes the source states for the file (index `#sha256=` fragment, lockfile, computed locally) */
  hashes: HashSpec[];
  size?: number;
  /** `data-requires-python` / `requires-python` */
  requiresPython?: string;
  /** where it was found, for messages: "index <url>", "directory <dir>", "uv.lock" */
  origin: string;
}

/** One pinned distribution to install. */
export interface PinnedRequirement {
  /** PEP 503-normalised name */
  name: string;
  /** the name as written */
  displayName: string;
  /** the pinned version as written */
  version: string;
  /** extras as written (informational: the set is already resolved) */
  extras: string[];
  /**
   * Hashes the wheel's bytes must match one of (`--require-hashes` semantics). Empty only for
   * wheels taken as they are from a local directory with nothing else naming them.
   */
  hashes: HashSpec[];
  /** the environment marker as written, already evaluated as true for the target */
  marker?: string;
  /** where it was declared: "requirements.txt:12", "uv.lock: package anyio" */
  where: string;
  /** files the lockfile lists for it (wheels and sdists); none for a requirements file */
  files?: DistFile[];
}

/** Pinned requirements read from a requirements file or a lockfile, for one target. */
export interface RequirementSet {
  requirements: PinnedRequirement[];
  /** `--index-url`/`--extra-index-url` in a requirements file (index URLs, in order) */
  indexUrls: string[];
  /** `--find-links` directories (absolute) */
  findLinks: string[];
  /** entries whose marker is false for the target (not installed) */
  skipped: Array<{ name: string; where: string; marker: string }>;
}

/** The wheel chosen for a requirement. */
export interface ChosenWheel {
  requirement: PinnedRequirement;
  file: DistFile;
  /** the best supported tag it carries ("cp313-cp313-manylinux_2_17_x86_64") */
  tag: string;
}

/** A wheel downloaded (or found) and checked against the requirement's hashes. */
export interface FetchedWheel extends ChosenWheel {
  /** path of the verified wheel (the content-addressed cache or the user's directory) */
  path: string;
  /** sha256 of the wheel's bytes (hex) */
  sha256: string;
  size: number;
}

/** One file installed from a wheel, as the builder puts it in the image. */
export interface InstalledFile {
  /** path in the image, relative to its root ("usr/local/bin/app") */
  path: string;
  /** permission bits: 0o644 or 0o755 */
  mode: number;
  data: Uint8Array;
}

/** What installing one wheel produced. */
export interface InstalledDistribution {
  /** PEP 503-normalised name */
  name: string;
  /** name and version as the wheel's METADATA states them */
  displayName: string;
  version: string;
  /** the wheel's filename and sha256 (hex) */
  wheel: string;
  sha256: string;
  /** "cp313-cp313-manylinux_2_17_x86_64" */
  tag: string;
  /** the `.dist-info` directory in the image */
  distInfo: string;
  /** files (not directories), sorted by path; RECORD and INSTALLER included */
  files: InstalledFile[];
  /** directories the files need (relative, sorted, parents first) */
  dirs: string[];
  /**
   * The license METADATA declares: `expression` from License-Expression (an SPDX expression),
   * else `declared` from a one-line License field; `classifiers` are the `License ::` ones
   * (without the prefix). Undefined when METADATA says nothing about it.
   */
  license?: { expression?: string; declared?: string; classifiers: string[] };
  /** the project's home page / source URLs from METADATA (Project-URL, Home-page) */
  homepage?: string;
  summary?: string;
}
