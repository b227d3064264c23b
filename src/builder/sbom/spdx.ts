/**
 * SPDX 2.3 JSON for an image: the image (CONTAINER), the Debian release (OPERATING-SYSTEM), every
 * Debian package and every extra component, with purls, .deb SHA-256s and declared licenses.
 * Deterministic: no clock, no randomness — the document namespace is derived from a hash of the
 * input, `created` is the input's date (SOURCE_DATE_EPOCH) at second precision, and every list
 * is sorted.
 *
 * The helpers shared with cyclonedx.ts (input hash, name-based UUID, license normalisation)
 * live here too.
 */
import { createHash } from "node:crypto";
import { isKnownSpdxId, licenseRef } from "../copyright.ts";
import { debPurl, ociPurl } from "./purl.ts";
import type { SbomComponent, SbomFile, SbomInput, SbomPackage } from "./types.ts";

// ---------------------------------------------------------------- shared helpers

/** ISO 8601 UTC with second precision: 2024-01-02T03:04:05Z */
export function isoSeconds(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new Error("SBOM creation date is invalid");
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function distroQualifier(input: SbomInput): string {
  return `${input.distro.id}-${input.distro.versionId}`;
}

const byKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };

export const sortPackages = (p: SbomPackage[]) =>
  [...p].sort(byKey((x) => `${x.name}\0${x.arch}\0${x.version}`));
export const sortComponents = (c: SbomComponent[]) => [...c].sort(byKey((x) => `${x.name}\0${x.purl}`));
export const sortFiles = (f: SbomFile[]) => [...f].sort(byKey((x) => x.path));

/** SHA-256 (hex) over a canonical rendering of the input (order-independent for lists). */
export function inputHash(input: SbomInput): string {
  const canonical = {
    imageName: input.imageName,
    imageVersion: input.imageVersion ?? null,
    created: isoSeconds(input.created),
    arch: input.arch,
    distro: input.distro,
    packages: sortPackages(input.packages).map((p) => [
      p.name,
      p.version,
      p.arch,
      p.source ?? null,
      p.sourceVersion ?? null,
      [...p.licenses].sort(),
      p.copyright ?? null,
      p.sha256,
      p.maintainer ?? null,
      p.homepage ?? null,
      p.description ?? null,
      // only when there are any: the hashes of SBOMs without drop-paths stay as they were
      ...(p.droppedPaths?.length ? [p.droppedPaths] : []),
    ]),
    components: sortComponents(input.components).map((c) => [
      c.name,
      c.version,
      c.purl,
      c.type,
      [...c.licenses].sort(),
      c.sha256 ?? null,
      c.description ?? null,
      c.path ?? null,
      c.cpe ?? null,
      Object.entries(c.properties ?? {}).sort(),
    ]),
    imageDigest: input.imageDigest ?? null,
    toolVersion: input.toolVersion,
    // only when there are files: the hash (and so the document id) of other SBOMs is unchanged
    ...(input.files?.length
      ? { files: sortFiles(input.files).map((f) => [f.path, f.sha256, f.sha1, f.comment ?? null]) }
      : {}),
  };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/** RFC 4122 version-5 (name-based, SHA-1) UUID of `name` in the URL namespace. */
export function uuidV5(name: string): string {
  const ns = Buffer.from("6ba7b8119dad11d180b400c04fd430c8", "hex");
  const h = createHash("sha1").update(ns).update(name, "utf8").digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/**
 * A license term as SPDX accepts it: a known SPDX id or a LicenseRef-; anything else (a name we
 * cannot vouch for) becomes a LicenseRef-.
 */
function normaliseTerm(term: string): string {
  if (term.startsWith("LicenseRef-")) return licenseRef(term.slice("LicenseRef-".length));
  if (isKnownSpdxId(term)) return term;
  return licenseRef(term);
}

export const isCompound = (e: string) => /\s(AND|OR|WITH)\s/.test(e);

/** One license entry (id or expression) with every term normalised. */
export function normaliseLicense(entry: string): string {
  // a name with spaces but no operator is one (non-SPDX) name, not an expression
  if (!isCompound(entry.trim())) return entry.trim() ? normaliseTerm(entry.trim()) : "";
  return entry
    .trim()
    .split(/(\s+|\(|\))/)
    .map((tok) => {
      if (!tok || /^\s+$/.test(tok) || tok === "(" || tok === ")") return tok;
      if (tok === "AND" || tok === "OR" || tok === "WITH") return tok;
      return normaliseTerm(tok);
    })
    .join("")
    .replace(/\s+/g, " ");
}

/** Entries joined with AND (compound ones parenthesised); undefined for []. */
export function licenseExpression(licenses: string[]): string | undefined {
  const norm = [...new Set(licenses.map(normaliseLicense).filter(Boolean))].sort();
  if (norm.length === 0) return undefined;
  if (norm.length === 1) return norm[0];
  return norm.map((e) => (/\s(AND|OR)\s/.test(e) ? `(${e})` : e)).join(" AND ");
}

/** Every LicenseRef- an expression uses. */
export function licenseRefsIn(expr: string | undefined): string[] {
  return expr ? [...expr.matchAll(/LicenseRef-[A-Za-z0-9.-]+/g)].map((m) => m[0]) : [];
}

/** "Name <email>" → { name, email } */
export function splitMaintainer(m: string): { name: string; email?: string } {
  const r = /^\s*(.*?)\s*<([^>]*)>\s*$/.exec(m);
  return r ? { name: r[1] || r[2], email: r[2] || undefined } : { name: m.trim() };
}

export function isUrl(s: string | undefined): s is string {
  if (!s) return false;
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- SPDX

/** How an SPDX package's comment introduces the paths packages.drop-paths left out. */
export const DROPPED_NOTE =
  "shellfree left these files of the package out of the image (packages.drop-paths)";

function spdxIdPart(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, "-");
}

const PURPOSE: Record<SbomComponent["type"], string> = {
  application: "APPLICATION",
  framework: "FRAMEWORK",
  library: "LIBRARY",
};

export function spdxDocument(input: SbomInput): object {
  const hash = inputHash(input);
  const uuid = uuidV5(`shellfree:sbom:${hash}`);
  const distro = distroQualifier(input);
  const docName = input.imageVersion ? `${input.imageName}:${input.imageVersion}` : input.imageName;
  /** LicenseRef- → names of the packages/components that use it */
  const refs = new Map<string, Set<string>>();
  const useRef = (r: string, who: string) => {
    const set = refs.get(r) ?? new Set<string>();
    set.add(who);
    refs.set(r, set);
  };
  const usedIds = new Set<string>(["SPDXRef-DOCUMENT", "SPDXRef-Image", "SPDXRef-OperatingSystem"]);
  const uniqueId = (base: string) => {
    let id = base;
    for (let i = 2; usedIds.has(id); i++) id = `${base}-${i}`;
    usedIds.add(id);
    return id;
  };

  const image: Record<string, unknown> = {
    name: input.imageName,
    SPDXID: "SPDXRef-Image",
    ...(input.imageVersion ? { versionInfo: input.imageVersion } : {}),
    supplier: "NOASSERTION",
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    ...(input.imageDigest && /^sha256:[0-9a-f]{64}$/.test(input.imageDigest)
      ? {
          checksums: [{ algorithm: "SHA256", checksumValue: input.imageDigest.slice(7) }],
          externalRefs: [
            {
              referenceCategory: "PACKAGE-MANAGER",
              referenceType: "purl",
              referenceLocator: ociPurl({
                name: input.imageName,
                digest: input.imageDigest,
                arch: input.arch,
              }),
            },
          ],
        }
      : {}),
    licenseConcluded: "NOASSERTION",
    licenseDeclared: "NOASSERTION",
    copyrightText: "NOASSERTION",
    description: `Container image built by shellfree from Debian ${input.distro.versionId} (${input.distro.codename}) packages for ${input.arch}`,
    primaryPackagePurpose: "CONTAINER",
  };

  const os = {
    name: input.distro.id,
    SPDXID: "SPDXRef-OperatingSystem",
    versionInfo: input.distro.versionId,
    supplier: "Organization: Debian",
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: "NOASSERTION",
    copyrightText: "NOASSERTION",
    description: `Debian GNU/Linux ${input.distro.versionId} (${input.distro.codename})`,
    primaryPackagePurpose: "OPERATING_SYSTEM",
  };

  const debs = sortPackages(input.packages).map((p) => {
    const expr = licenseExpression(p.licenses);
    for (const r of licenseRefsIn(expr)) useRef(r, p.name);
    const m = p.maintainer ? splitMaintainer(p.maintainer) : undefined;
    const pkg: Record<string, unknown> = {
      name: p.name,
      SPDXID: uniqueId(`SPDXRef-Package-deb-${spdxIdPart(p.name)}-${spdxIdPart(p.arch)}`),
      versionInfo: p.version,
      supplier: m ? `Person: ${m.name}${m.email ? ` (${m.email})` : ""}` : "NOASSERTION",
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      checksums: [{ algorithm: "SHA256", checksumValue: p.sha256 }],
      ...(isUrl(p.homepage) ? { homepage: p.homepage } : {}),
      ...(p.source || p.sourceVersion
        ? { sourceInfo: `built package from: ${p.source ?? p.name} ${p.sourceVersion ?? p.version}` }
        : {}),
      licenseConcluded: "NOASSERTION",
      licenseDeclared: expr ?? "NOASSERTION",
      copyrightText: p.copyright?.trim() ? p.copyright : "NOASSERTION",
      ...(p.description ? { summary: p.description } : {}),
      ...(p.droppedPaths?.length ? { comment: `${DROPPED_NOTE}:\n${p.droppedPaths.join("\n")}` } : {}),
      externalRefs: [
        {
          referenceCategory: "PACKAGE-MANAGER",
          referenceType: "purl",
          referenceLocator: debPurl({ name: p.name, version: p.version, arch: p.arch, distro }),
        },
      ],
    };
    return pkg;
  });

  const comps = sortComponents(input.components).map((c) => {
    const expr = licenseExpression(c.licenses);
    for (const r of licenseRefsIn(expr)) useRef(r, c.name);
    const notes = [
      ...(c.path ? [`installed at ${c.path}`] : []),
      ...Object.entries(c.properties ?? {})
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}: ${v}`),
    ];
    return {
      name: c.name,
      SPDXID: uniqueId(`SPDXRef-Package-${spdxIdPart(c.type)}-${spdxIdPart(c.name)}`),
      versionInfo: c.version,
      supplier: "NOASSERTION",
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      ...(c.sha256 ? { checksums: [{ algorithm: "SHA256", checksumValue: c.sha256 }] } : {}),
      licenseConcluded: "NOASSERTION",
      licenseDeclared: expr ?? "NOASSERTION",
      copyrightText: "NOASSERTION",
      ...(c.description ? { description: c.description } : {}),
      ...(notes.length ? { comment: notes.join("\n") } : {}),
      externalRefs: [
        { referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: c.purl },
        ...(c.cpe
          ? [{ referenceCategory: "SECURITY", referenceType: "cpe23Type", referenceLocator: c.cpe }]
          : []),
      ],
      primaryPackagePurpose: PURPOSE[c.type],
    } as Record<string, unknown>;
  });

  // files of no package: SPDX requires a SHA1 for each (SHA256 beside it)
  const files = sortFiles(input.files ?? []).map((f) => ({
    fileName: `.${f.path}`,
    SPDXID: uniqueId(`SPDXRef-File-${spdxIdPart(f.path.replace(/^\//, ""))}`),
    checksums: [
      { algorithm: "SHA1", checksumValue: f.sha1 },
      { algorithm: "SHA256", checksumValue: f.sha256 },
    ],
    licenseConcluded: "NOASSERTION",
    copyrightText: "NOASSERTION",
    ...(f.comment ? { comment: f.comment } : {}),
  }));

  const contained = [os, ...debs, ...comps, ...files].map((p) => p.SPDXID as string);
  const relationships = [
    { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: "SPDXRef-Image" },
    ...contained.map((id) => ({
      spdxElementId: "SPDXRef-Image",
      relationshipType: "CONTAINS",
      relatedSpdxElement: id,
    })),
  ];

  const doc: Record<string, unknown> = {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: docName,
    documentNamespace: `https://spdx.org/spdxdocs/shellfree/${encodeURIComponent(input.imageName)}-${uuid}`,
    creationInfo: {
      created: isoSeconds(input.created),
      creators: [`Tool: shellfree-${input.toolVersion}`],
    },
    packages: [image, os, ...debs, ...comps],
    ...(files.length ? { files } : {}),
    relationships,
  };
  if (refs.size) {
    doc.hasExtractedLicensingInfos = [...refs.keys()].sort().map((licenseId) => {
      const name = licenseId.slice("LicenseRef-".length);
      const users = [...(refs.get(licenseId) ?? [])].sort().join(", ");
      return {
        licenseId,
        name,
        extractedText:
          licenseId === "LicenseRef-public-domain"
            ? `Public domain, as stated in the Debian copyright files of: ${users}.`
            : `The license called "${name}" (no SPDX identifier) in the Debian copyright files (/usr/share/doc/NAME/copyright) of: ${users}. Its full text is in those files.`,
      };
    });
  }
  return doc;
}
