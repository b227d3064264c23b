/** `packages:` include (NAME or NAME=VERSION), exclude, keep, allow, pins, drop-paths. */
import { isMap, isScalar } from "yaml";
import { list, mapOf, PACKAGE_NAME, type SpecDoc, str, stringMap, type YamlNode } from "../check.ts";
import type { DropPathSpec, SpecFragment } from "../types.ts";

export function parsePackages(
  doc: SpecDoc,
  node: YamlNode,
  field: string,
): NonNullable<SpecFragment["packages"]> {
  const packages: NonNullable<SpecFragment["packages"]> = {};
  const names = (value: YamlNode, at: string) =>
    list(doc, value, at, (item, itemAt) => str(doc, item, itemAt, PACKAGE_NAME, "a Debian package name"));
  mapOf(doc, node, field, {
    include: (value, at) => {
      packages.include = list(doc, value, at, (item, itemAt) => {
        const request = str(doc, item, itemAt);
        const [name, version] = request.split("=", 2);
        if (!PACKAGE_NAME.test(name) || (version !== undefined && version === "")) {
          doc.fail(item, itemAt, `invalid package "${request}": expected NAME or NAME=VERSION`);
        }
        return request;
      });
    },
    exclude: (value, at) => {
      packages.exclude = names(value, at);
    },
    keep: (value, at) => {
      packages.keep = names(value, at);
    },
    allow: (value, at) => {
      packages.allow = names(value, at);
    },
    pins: (value, at) => {
      packages.pins = parsePins(doc, value, at);
    },
    "drop-paths": (value, at) => {
      packages.dropPaths = parseDropPaths(doc, value, at);
    },
  });
  return packages;
}

/**
 * `drop-paths:` a list of GLOBs (any package's files) and `{ package: NAME, paths: [GLOB, ...] }`
 * (only that package's files).
 */
function parseDropPaths(doc: SpecDoc, node: YamlNode, field: string): DropPathSpec[] {
  const out: DropPathSpec[] = [];
  list(doc, node, field, (item, at) => {
    if (isScalar(item)) {
      out.push({ glob: dropGlob(doc, item, at), where: `${doc.file}:${doc.line(item)}` });
      return;
    }
    let pkg: string | undefined;
    const globs: DropPathSpec[] = [];
    mapOf(doc, item, at, {
      package: (value, pAt) => {
        pkg = str(doc, value, pAt, PACKAGE_NAME, "a Debian package name");
      },
      paths: (value, pAt) => {
        list(doc, value, pAt, (g, gAt) => {
          globs.push({ glob: dropGlob(doc, g, gAt), where: `${doc.file}:${doc.line(g)}` });
        });
        if (globs.length === 0) doc.fail(value, pAt, "must name at least one path");
      },
    });
    if (pkg === undefined) doc.fail(item, at, "needs a package (or write the glob as a plain string)");
    if (globs.length === 0) doc.fail(item, at, "needs paths: [GLOB, ...]");
    for (const g of globs) out.push({ ...g, package: pkg });
  });
  return out;
}

/** One drop-paths glob: an absolute image path with `*`, `?`, `**`; never one that drops everything. */
function dropGlob(doc: SpecDoc, node: YamlNode, field: string): string {
  const glob = str(doc, node, field, undefined, "an absolute path glob such as /usr/lib/squid/*.sh");
  if (!glob.startsWith("/") || glob.includes("\0"))
    doc.fail(node, field, `must be an absolute path glob (got ${JSON.stringify(glob)})`);
  if (glob.split("/").some((c) => c === "." || c === ".."))
    doc.fail(node, field, `must not contain "." or ".." segments`);
  if (/^[/*?]*$/.test(glob)) doc.fail(node, field, `${JSON.stringify(glob)} would drop everything`);
  return glob;
}

/** `pins:` as a mapping NAME: VERSION, or a list of NAME=VERSION. */
function parsePins(doc: SpecDoc, node: YamlNode, field: string): Record<string, string> {
  if (isMap(node)) return { ...stringMap(doc, node, field, PACKAGE_NAME, "package name") };
  const pins: Record<string, string> = {};
  list(doc, node, field, (item, at) => {
    const pin = str(doc, item, at);
    const eq = pin.indexOf("=");
    const name = pin.slice(0, eq);
    if (eq <= 0 || eq === pin.length - 1 || !PACKAGE_NAME.test(name)) {
      doc.fail(item, at, `invalid pin "${pin}": expected NAME=VERSION`);
    }
    pins[name] = pin.slice(eq + 1);
  });
  return pins;
}
