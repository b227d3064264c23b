/**
 * CycloneDX 1.6 JSON for an image: metadata.component is the image (type container), then the
 * Debian release (operating-system), every Debian package (library, with its purl, .deb SHA-256
 * and declared licenses) and every extra component. Deterministic: the serialNumber is a
 * name-based UUID of a hash of the input, the timestamp is the input's date, lists are sorted.
 */
import { KNOWN_SPDX_IDS } from "../copyright.ts";
import { debPurl, ociPurl } from "./purl.ts";
import {
  distroQualifier,
  inputHash,
  isCompound,
  isoSeconds,
  isUrl,
  licenseExpression,
  normaliseLicense,
  sortComponents,
  sortFiles,
  sortPackages,
  splitMaintainer,
  uuidV5,
} from "./spdx.ts";
import type { SbomInput } from "./types.ts";

const known = new Set(KNOWN_SPDX_IDS);

/**
 * CycloneDX "licenses": a list of license objects when every entry is a single id, else one
 * SPDX expression (the schema allows exactly one expression object).
 */
export function cyclonedxLicenses(licenses: string[]): object[] | undefined {
  const norm = [...new Set(licenses.map(normaliseLicense).filter(Boolean))].sort();
  if (norm.length === 0) return undefined;
  if (norm.some(isCompound)) {
    return [{ expression: licenseExpression(norm), acknowledgement: "declared" }];
  }
  return norm.map((id) =>
    known.has(id)
      ? { license: { id, acknowledgement: "declared" } }
      : { license: { name: id, acknowledgement: "declared" } },
  );
}

function props(entries: Array<[string, string | undefined]>): object[] | undefined {
  const out = entries
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([name, value]) => ({ name, value }));
  return out.length ? out : undefined;
}

export function cyclonedxDocument(input: SbomInput): object {
  const hash = inputHash(input);
  const distro = distroQualifier(input);
  const imageRef = "image";
  const osRef = `os:${distro}`;

  const imageComponent: Record<string, unknown> = {
    type: "container",
    "bom-ref": imageRef,
    name: input.imageName,
    ...(input.imageVersion ? { version: input.imageVersion } : {}),
    description: `Container image built by shellfree from Debian ${input.distro.versionId} (${input.distro.codename}) packages for ${input.arch}`,
  };
  if (input.imageDigest && /^sha256:[0-9a-f]{64}$/.test(input.imageDigest)) {
    imageComponent.hashes = [{ alg: "SHA-256", content: input.imageDigest.slice(7) }];
    imageComponent.purl = ociPurl({ name: input.imageName, digest: input.imageDigest, arch: input.arch });
  }

  const os = {
    type: "operating-system",
    "bom-ref": osRef,
    supplier: { name: "Debian" },
    name: input.distro.id,
    version: input.distro.versionId,
    description: `Debian GNU/Linux ${input.distro.versionId} (${input.distro.codename})`,
  };

  const debs = sortPackages(input.packages).map((p) => {
    const purl = debPurl({ name: p.name, version: p.version, arch: p.arch, distro });
    const lic = cyclonedxLicenses(p.licenses);
    const m = p.maintainer ? splitMaintainer(p.maintainer) : undefined;
    return {
      type: "library",
      "bom-ref": purl,
      ...(m
        ? {
            supplier: {
              name: m.name,
              ...(m.email && /^[^@\s]+@[^@\s]+$/.test(m.email) ? { contact: [{ email: m.email }] } : {}),
            },
          }
        : {}),
      name: p.name,
      version: p.version,
      ...(p.description ? { description: p.description } : {}),
      hashes: [{ alg: "SHA-256", content: p.sha256 }],
      ...(lic ? { licenses: lic } : {}),
      ...(p.copyright?.trim() ? { copyright: p.copyright } : {}),
      purl,
      ...(isUrl(p.homepage) ? { externalReferences: [{ type: "website", url: p.homepage }] } : {}),
      // one property per path left out (CycloneDX properties may repeat a name)
      properties: props([
        ["shellfree:deb:architecture", p.arch],
        ["shellfree:deb:source", p.source],
        ["shellfree:deb:source-version", p.sourceVersion],
        ...(p.droppedPaths ?? []).map((path): [string, string] => ["shellfree:dropped-path", path]),
      ]),
    };
  });

  const comps = sortComponents(input.components).map((c) => {
    const lic = cyclonedxLicenses(c.licenses);
    return {
      type: c.type,
      "bom-ref": c.purl,
      name: c.name,
      version: c.version,
      ...(c.description ? { description: c.description } : {}),
      ...(c.sha256 ? { hashes: [{ alg: "SHA-256", content: c.sha256 }] } : {}),
      ...(lic ? { licenses: lic } : {}),
      ...(c.cpe ? { cpe: c.cpe } : {}),
      purl: c.purl,
      ...(() => {
        const p = props([
          ["shellfree:path", c.path],
          ...Object.entries(c.properties ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        ]);
        return p ? { properties: p } : {};
      })(),
    };
  });

  // files of no package (the spec's files:)
  const files = sortFiles(input.files ?? []).map((f) => ({
    type: "file",
    "bom-ref": `file:${f.path}`,
    name: f.path,
    hashes: [
      { alg: "SHA-1", content: f.sha1 },
      { alg: "SHA-256", content: f.sha256 },
    ],
    ...(f.comment ? { properties: [{ name: "shellfree:source", value: f.comment }] } : {}),
  }));

  // bom-refs must be unique: two entries with the same purl are one component
  const seen = new Set<string>([imageRef]);
  const components = [os, ...debs, ...comps, ...files].filter((c) => {
    const ref = c["bom-ref"];
    if (seen.has(ref)) return false;
    seen.add(ref);
    return true;
  });

  return {
    $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    serialNumber: `urn:uuid:${uuidV5(`shellfree:cyclonedx:${hash}`)}`,
    version: 1,
    metadata: {
      timestamp: isoSeconds(input.created),
      tools: { components: [{ type: "application", name: "shellfree", version: input.toolVersion }] },
      component: imageComponent,
      properties: [
        { name: "shellfree:architecture", value: input.arch },
        { name: "shellfree:distro", value: distro },
        { name: "shellfree:suite", value: input.distro.codename },
      ],
    },
    components,
    dependencies: [
      { ref: imageRef, dependsOn: components.map((c) => c["bom-ref"]).sort() },
      ...components
        .map((c) => c["bom-ref"])
        .sort()
        .map((ref) => ({ ref })),
    ],
  };
}
