/** `layers[]`: name and packages; names unique, each package in one layer at most. */
import { isSeq } from "yaml";
import { list, mapOf, PACKAGE_NAME, SIMPLE_NAME, type SpecDoc, str, type YamlNode } from "../check.ts";
import type { LayerSpec } from "../types.ts";

export function parseLayers(doc: SpecDoc, node: YamlNode, field: string): LayerSpec[] {
  const layers = list(doc, node, field, (item, at) => {
    const layer: Partial<LayerSpec> = {};
    mapOf(doc, item, at, {
      name: (value, valueAt) => {
        layer.name = str(doc, value, valueAt, SIMPLE_NAME, "lower-case letters, digits, . _ -");
      },
      packages: (value, valueAt) => {
        layer.packages = list(doc, value, valueAt, (pkg, pkgAt) =>
          str(doc, pkg, pkgAt, PACKAGE_NAME, "a Debian package name"),
        );
      },
    });
    if (!layer.name) doc.fail(item, at, "needs a name");
    if (!layer.packages?.length) doc.fail(item, at, "needs packages");
    return layer as LayerSpec;
  });
  const names = new Set<string>();
  const owner = new Map<string, string>();
  layers.forEach((layer, i) => {
    const item = isSeq(node) ? (node.items[i] as YamlNode) : node;
    if (names.has(layer.name)) doc.fail(item, `${field}[${i}].name`, `duplicate layer name "${layer.name}"`);
    names.add(layer.name);
    for (const pkg of layer.packages) {
      if (owner.has(pkg))
        doc.fail(item, `${field}[${i}].packages`, `"${pkg}" is already in layer "${owner.get(pkg)}"`);
      owner.set(pkg, layer.name);
    }
  });
  return layers;
}
