/**
 * What SBOMs say about each installed wheel: name, version, the package URL
 * `pkg:pypi/NAME@VERSION` (purl spec: the name lower-cased with `_` as `-`; name and version
 * percent-encoded except A-Z a-z 0-9 . - _ ~), the sha256 of the wheel, the license METADATA
 * declares and the files it installed.
 */
import type { InstalledDistribution } from "./types.ts";

export interface PythonSbomEntry {
  name: string;
  version: string;
  purl: string;
  /** the wheel's file name and sha256 (hex) */
  wheel: string;
  sha256: string;
  /** SPDX expression from License-Expression, if METADATA has one */
  licenseExpression?: string;
  /** the License field or the License classifiers, when there is no expression */
  licenseDeclared?: string;
  homepage?: string;
  summary?: string;
  /** installed files (relative in-image paths, sorted) */
  files: string[];
}

function encode(s: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9.\-_~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** `pkg:pypi/NAME@VERSION` */
export function pypiPurl(name: string, version: string): string {
  return `pkg:pypi/${encode(name.toLowerCase().replace(/_/g, "-"))}@${encode(version)}`;
}

export function sbomEntry(d: InstalledDistribution): PythonSbomEntry {
  const declared =
    d.license?.declared ?? (d.license?.classifiers.length ? d.license.classifiers.join(" AND ") : undefined);
  return {
    name: d.displayName,
    version: d.version,
    purl: pypiPurl(d.displayName, d.version),
    wheel: d.wheel,
    sha256: d.sha256,
    licenseExpression: d.license?.expression,
    licenseDeclared: d.license?.expression ? undefined : declared,
    homepage: d.homepage,
    summary: d.summary,
    files: d.files.map((f) => f.path).sort(),
  };
}
