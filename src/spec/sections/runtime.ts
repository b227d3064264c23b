/** `runtime:` node (a Node.js version: "24", "24.9", "24.9.0"). */
import { mapOf, type SpecDoc, scalarString, type YamlNode } from "../check.ts";
import type { Spec } from "../types.ts";

export function parseRuntime(doc: SpecDoc, node: YamlNode, field: string): Spec["runtime"] {
  const runtime: Spec["runtime"] = {};
  mapOf(doc, node, field, {
    node: (value, at) => {
      const version = scalarString(doc, value, at);
      if (!/^\d+(\.\d+){0,2}$/.test(version))
        doc.fail(value, at, `must be a Node.js version such as "24" or "24.9.0"`);
      runtime.node = version;
    },
  });
  return runtime;
}
