/** `alternatives:` NAME: the absolute path of the candidate chosen. */
import { type SpecDoc, stringMap, type YamlNode } from "../check.ts";

export function parseAlternatives(doc: SpecDoc, node: YamlNode, field: string): Record<string, string> {
  const alternatives = stringMap(doc, node, field, /^[A-Za-z0-9_.+-]+$/, "alternative name");
  for (const [name, path] of Object.entries(alternatives)) {
    if (!path.startsWith("/"))
      doc.fail(node, `${field}.${name}`, "must be the absolute path of the chosen candidate");
  }
  return alternatives;
}
