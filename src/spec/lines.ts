/**
 * Where things are in a spec file: the line of every key (dotted path, as the checker names
 * fields: `config.user`, `accounts.run-as`, `config.healthcheck.test`), and which key sets each
 * field of the image config — so a finding about `config.User` can point at the line that set it.
 */
import { isMap, isScalar, LineCounter, type Node, parseDocument } from "yaml";

/** Dotted key path → 1-based line of the key, for every mapping key in the document. */
export function specLines(text: string): Map<string, number> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const out = new Map<string, number>();
  const walk = (node: unknown, prefix: string) => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      if (!isScalar(key)) continue;
      const path = prefix ? `${prefix}.${String(key.value)}` : String(key.value);
      const offset = key.range?.[0];
      if (offset !== undefined && !out.has(path)) out.set(path, lines.linePos(offset).line);
      walk(pair.value, path);
    }
  };
  walk(doc.contents, "");
  return out;
}

/** The spec keys that set each image config field, most specific first. */
const SETS: Record<string, string[]> = {
  "config.User": ["config.user", "accounts.run-as"],
  "config.Entrypoint": ["config.entrypoint"],
  "config.Cmd": ["config.cmd", "config.entrypoint"],
  "config.Healthcheck.Test": ["config.healthcheck.test", "config.healthcheck"],
  "config.Healthcheck": ["config.healthcheck"],
  "config.Env": ["config.env"],
  "config.ExposedPorts": ["config.exposed-ports"],
  "config.Volumes": ["config.volumes"],
  "config.WorkingDir": ["config.workdir"],
  "config.Labels": ["config.labels"],
  "config.StopSignal": ["config.stop-signal"],
};

/**
 * The line a finding about image config `field` should point at: the key that sets it, else the
 * section it belongs in (`config`), else what the image inherits from (`preset`, `extends`),
 * else the image's `name`, else line 1. No field (the image as a whole): `name`, else line 1.
 */
export function specLineFor(lines: Map<string, number>, field?: string): number {
  const candidates = [
    ...(field ? (SETS[field] ?? []) : []),
    ...(field?.startsWith("config.") ? ["config"] : []),
    ...(field ? ["preset", "extends"] : []),
    "name",
  ];
  for (const c of candidates) {
    const line = lines.get(c);
    if (line !== undefined) return line;
  }
  return 1;
}
