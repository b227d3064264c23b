/** SBOM input for one architecture's image: its packages with licenses and copyrights, the runtime, the init. */

import { isAbsolute, relative } from "node:path";
import { closureDependencies } from "../../debian/index.ts";
import { parseOsRelease } from "../../formats/index.ts";
import { initVersion } from "../../init/index.ts";
import { sbomEntry } from "../../python/index.ts";
import type { Spec } from "../../spec/index.ts";
import type { ArchWork } from "../arch.ts";
import { parseCopyright } from "../copyright.ts";
import { type DebInfo, extractText } from "../debinfo.ts";
import { genericPurl, nodeCpe, npmPurl } from "./purl.ts";
import type { SbomComponent, SbomInput, SbomPackage } from "./types.ts";

/** The copyright file of a package, following a usr/share/doc/NAME → OTHER symlink. */
function copyrightOf(name: string, infos: Map<string, DebInfo>): string | undefined {
  const own = infos.get(name);
  if (!own) return undefined;
  const direct = extractText(own, `usr/share/doc/${name}/copyright`);
  if (direct !== undefined) return direct;
  const link = own.entries.find((e) => e.type === "symlink" && e.path === `usr/share/doc/${name}`);
  if (!link?.linkTarget) return undefined;
  const other = link.linkTarget.replace(/\/+$/, "").split("/").pop() as string;
  for (const inf of infos.values()) {
    const t = extractText(inf, `usr/share/doc/${other}/copyright`);
    if (t !== undefined) return t;
  }
  return undefined;
}

/** SBOM input for one architecture's image. */
export function sbomInput(spec: Spec, w: ArchWork, epoch: number): SbomInput {
  const { resolved, infos } = w;
  const bf = infos.get("base-files");
  const osr = parseOsRelease(bf ? (extractText(bf, "usr/lib/os-release") ?? "") : "");
  // The relations come from each .deb's own control file, as dpkg's status has them: the same
  // whether the packages came from the indices or (--locked, every .deb cached) from the lock
  // alone, which carries no relations.
  const related = resolved.packages.map((p) => {
    const c = infos.get(p.name)?.control;
    return {
      name: p.name,
      version: p.version,
      depends: c ? (c.Depends ?? "") : p.depends,
      preDepends: c ? (c["Pre-Depends"] ?? "") : p.preDepends,
      provides: c ? (c.Provides ?? "") : p.provides,
    };
  });
  const graph = closureDependencies(related, resolved.arch);
  const packages: SbomPackage[] = resolved.packages.map((p) => {
    const inf = infos.get(p.name);
    const c = inf?.control ?? {};
    const text = copyrightOf(p.name, infos);
    const cr = text ? parseCopyright(text) : undefined;
    const src = (c.Source ?? "").trim();
    const m = /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(src);
    return {
      name: p.name,
      version: p.version,
      arch: p.architecture,
      source: m && m[1] !== p.name ? m[1] : undefined,
      sourceVersion: m?.[2],
      dependsOn: graph.get(p.name),
      licenses: cr?.licenses ?? [],
      copyright: cr?.copyrights.length ? cr.copyrights.join("\n") : undefined,
      sha256: p.sha256,
      maintainer: c.Maintainer,
      homepage: c.Homepage,
      description: c.Description?.split("\n")[0],
      droppedPaths: w.specDropped.get(p.name),
    };
  });
  const components: SbomComponent[] = [];
  if (w.node) {
    components.push({
      name: "node",
      version: w.node.version,
      purl: npmPurl(w.node.packageName, w.node.version),
      type: "application",
      licenses: [w.node.license],
      sha256: w.node.sha256,
      // what NVD and the scanners matching on it call Node.js (the npm purl says where it came from)
      cpe: nodeCpe(w.node.version),
      path: "/usr/local/bin/node",
      description: "Node.js runtime (official binary)",
      properties: w.node.stripped
        ? { "shellfree:stripped": `debug sections removed: ${w.node.removedSections.join(" ")}` }
        : undefined,
    });
  }
  for (const d of w.python?.installed ?? []) {
    const e = sbomEntry(d);
    const license = e.licenseExpression ?? e.licenseDeclared;
    components.push({
      name: e.name,
      version: e.version,
      purl: e.purl,
      type: "library",
      licenses: license ? [license] : [],
      sha256: e.sha256,
      path: `/${d.distInfo}`,
      description: e.summary,
      properties: { "shellfree:wheel": e.wheel, "shellfree:wheel-tag": d.tag },
    });
  }
  if (w.init) {
    components.push({
      name: "shellfree-init",
      version: w.init.version,
      purl: genericPurl("shellfree-init", w.init.version),
      type: "application",
      licenses: ["Apache-2.0"],
      sha256: w.init.sha256,
      path: w.init.path,
      description: "shellfree's in-image supervisor (static native binary)",
    });
  }
  return {
    imageName: spec.name,
    created: new Date(epoch * 1000),
    arch: resolved.arch,
    distro: {
      id: "debian",
      versionId: osr.get("VERSION_ID") ?? "",
      codename: osr.get("VERSION_CODENAME") ?? spec.suite,
    },
    packages,
    components,
    files: w.localFiles.map((f) => ({
      path: f.path,
      sha256: f.sha256,
      sha1: f.sha1,
      comment: `copied by files: (${specRelative(spec.baseDir, f.where)})`,
    })),
    imageDigest: w.image.manifest.digest,
    toolVersion: initVersion(),
  };
}

/** "FILE:LINE" with FILE relative to the spec's directory: the SBOM must not depend on where the build ran. */
function specRelative(baseDir: string, where: string): string {
  const colon = where.lastIndexOf(":");
  const file = colon > 0 ? where.slice(0, colon) : where;
  if (!isAbsolute(file)) return where;
  return relative(baseDir, file) + where.slice(file.length);
}
