/** `sources:` security, components, suites (the spec's `suites` are `extraSuites`). */
import { bool, list, mapOf, type SpecDoc, SUITE_NAME, str, type YamlNode } from "../check.ts";
import type { SpecFragment } from "../types.ts";

export function parseSources(
  doc: SpecDoc,
  node: YamlNode,
  field: string,
): NonNullable<SpecFragment["sources"]> {
  const sources: NonNullable<SpecFragment["sources"]> = {};
  mapOf(doc, node, field, {
    security: (value, at) => {
      sources.security = bool(doc, value, at);
    },
    components: (value, at) => {
      sources.components = list(doc, value, at, (item, itemAt) => str(doc, item, itemAt, /^[a-z0-9-]+$/));
    },
    suites: (value, at) => {
      sources.extraSuites = list(doc, value, at, (item, itemAt) => str(doc, item, itemAt, SUITE_NAME));
    },
  });
  return sources;
}
