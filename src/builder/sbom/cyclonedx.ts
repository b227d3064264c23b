/**
 * CycloneDX 1.6 JSON for an image: metadata.component is the image (type container), then the
 * Debian release (operating-system), every Debian package (library, with its purl, .deb SHA-256
 * and declared licenses) and every extra component. Deterministic: the serialNumber is a
 * name-based UUID of a hash of the input, the timestamp is the input's date, lists are sorted.
 *
 * Written for scanners: each package's source package is in its purl (`upstream=`, as Syft
 * writes it) and in the properties Trivy's decoder reads (`aquasecurity:trivy:SrcName`,
 * `SrcVersion`, `SrcRelease`, `SrcEpoch`: Debian's advisories are keyed by source package);
 * `dependencies` is Trivy's shape: the image depends on the operating system and the extra
 * components, the operating system on the Debian packages, each package on what it needs.
 */
import { parseVersion } from "../../debian/index.ts";
import { KNOWN_SPDX_IDS } from "../copyright.ts";
import { debPurlOf, ociPurl } from "./purl.ts";
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
import type { SbomInput, SbomPackage } from "./types.ts";

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

/** Trivy's property namespace (pkg/sbom/cyclonedx: ToolVendor + ":" + ToolName + ":"). */
const TRIVY = "aquasecurity:trivy:";

/**
 * The source-package properties as Trivy writes them for a dpkg package: the source's name (the
 * binary's when there is no Source field), its upstream version, Debian revision and epoch
 * (omitted when 0), so its decoder does not fall back to the binary's name.
 */
export function trivySourceProperties(p: SbomPackage): Array<[string, string | undefined]> {
  let v: { epoch: number; upstream: string; revision: string };
  try {
    v = parseVersion(p.sourceVersion ?? p.version);
  } catch {
    return [[`${TRIVY}SrcName`, p.source ?? p.name]];
  }
  return [
    [`${TRIVY}SrcName`, p.source ?? p.name],
    [`${TRIVY}SrcVersion`, v.upstream],
    [`${TRIVY}SrcRelease`, v.revision || undefined],
    [`${TRIVY}SrcEpoch`, v.epoch ? String(v.epoch) : undefined],
  ];
}

function props(entries: Array<[string, string | undefined]>): object[] | undefined {
  const out = entries
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([name, value]) => ({ name, value }));
  return out.length ? out : undefined;
}

/**
 * The dependency graph: image → operating system and extra components; operating system → every
 * Debian package; package → the packages it depends on. Every component has an entry (an empty
 * one when it depends on nothing), as the specification asks.
 */
function dependencies(
  input: SbomInput,
  distro: string,
  imageRef: string,
  osRef: string,
  refs: string[],
): Array<{ ref: string; dependsOn?: string[] }> {
  const present = new Set(refs);
  const refOf = new Map(input.packages.map((p) => [p.name, debPurlOf(p, distro)]));
  const edges = new Map<string, Set<string>>();
  const add = (from: string, to: string) => {
    if (!present.has(to) || from === to) return;
    const set = edges.get(from) ?? new Set<string>();
    set.add(to);
    edges.set(from, set);
  };
  add(imageRef, osRef);
  for (const r of refs)
    if (r !== osRef && !input.packages.some((p) => refOf.get(p.name) === r)) add(imageRef, r);
  for (const p of input.packages) {
    const from = refOf.get(p.name) as string;
    add(osRef, from);
    for (const d of p.dependsOn ?? []) {
      const to = refOf.get(d);
      if (to) add(from, to);
    }
  }
  return [imageRef, ...[...refs].sort()].map((ref) => {
    const deps = [...(edges.get(ref) ?? [])].sort();
    return deps.length ? { ref, dependsOn: deps } : { ref };
  });
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
    const purl = debPurlOf(p, distro);
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
        ...trivySourceProperties(p),
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
    dependencies: dependencies(
      input,
      distro,
      imageRef,
      osRef,
      components.map((c) => c["bom-ref"]),
    ),
  };
}
