/**
 * The RFC 822-style files of a `.dist-info` directory: METADATA (core metadata) and WHEEL.
 * Header fields may repeat (Classifier, Project-URL) and continue on lines that start with
 * whitespace; the body after the first blank line (the description) is not needed here.
 */

export type Headers = Map<string, string[]>;

/** Parse header fields (names lower-cased) up to the first blank line. */
export function parseHeaders(text: string): Headers {
  const out: Headers = new Map();
  let last: { key: string; i: number } | undefined;
  for (const line of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    if (line === "") break;
    if (/^[ \t]/.test(line) && last) {
      const vals = out.get(last.key)!;
      vals[last.i] += `\n${line.replace(/^[ \t]+\|?/, "")}`;
      continue;
    }
    const m = /^([^:\s]+)\s*:\s?(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1].toLowerCase();
    const vals = out.get(key) ?? [];
    vals.push(m[2].trim());
    out.set(key, vals);
    last = { key, i: vals.length - 1 };
  }
  return out;
}

export function header(h: Headers, name: string): string | undefined {
  return h.get(name.toLowerCase())?.[0];
}

export interface CoreMetadata {
  name?: string;
  version?: string;
  summary?: string;
  /** License-Expression (core metadata 2.4, an SPDX expression) */
  licenseExpression?: string;
  /** the free-text License field, when short (one line); long texts are not a license name */
  license?: string;
  /** `License ::` classifiers, without the prefix */
  licenseClassifiers: string[];
  homepage?: string;
}

/** The fields of METADATA that installation and SBOMs use. */
export function parseMetadata(text: string): CoreMetadata {
  const h = parseHeaders(text);
  const license = header(h, "License");
  const urls = h.get("project-url") ?? [];
  const homeFromUrls = urls
    .map((u) => /^([^,]+),\s*(\S+)$/.exec(u))
    .find((m) => m && /^(home|homepage|home-page|source|repository)$/i.test(m[1].trim()))?.[2];
  return {
    name: header(h, "Name"),
    version: header(h, "Version"),
    summary: header(h, "Summary"),
    licenseExpression: header(h, "License-Expression"),
    license:
      license && !license.includes("\n") && license.length <= 120 && license !== "UNKNOWN"
        ? license
        : undefined,
    licenseClassifiers: (h.get("classifier") ?? [])
      .filter((c) => c.startsWith("License ::"))
      .map((c) => c.replace(/^License ::\s*/, "")),
    homepage: header(h, "Home-page") ?? homeFromUrls,
  };
}
