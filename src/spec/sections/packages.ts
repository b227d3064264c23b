/** `packages:` include (NAME or NAME=VERSION), exclude, keep, allow, pins, drop-paths. */
import { isMap } from "yaml";
import { list, mapOf, PACKAGE_NAME, type SpecDoc, str, stringMap, type YamlNode } from "../check.ts";
import type { SpecFragment } from "../types.ts";

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
      packages.dropPaths = list(doc, value, at, (item, itemAt) => {
        const raw = str(doc, item, itemAt);
        const bang = raw.startsWith("!") ? "!" : "";
        const glob = raw.slice(bang.length).replace(/^\/+/, "").replace(/\/+$/, "");
        const problem = dropGlobProblem(glob);
        if (problem) doc.fail(item, itemAt, `invalid path pattern "${raw}": ${problem}`);
        return bang + glob;
      });
    },
  });
  return packages;
}

/** Why a `drop-paths` glob is refused, or undefined. */
function dropGlobProblem(glob: string): string | undefined {
  if (glob === "" || glob === "**") return "it would drop everything";
  if (glob.split("/").some((part) => part === "" || part === "." || part === ".."))
    return 'empty, "." and ".." path components are not allowed';
  if (/[[\]{}\\]/.test(glob)) return "only *, ** and ? are special (no [], {} or \\)";
  return undefined;
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
