/**
 * os-release(5): `KEY=value` lines, values optionally in single or double quotes, with `\`
 * escaping `"`, `'`, `$`, `` ` `` and `\`. The builder writes the image's /etc/os-release and
 * /usr/lib/os-release; verify and the SBOM read them.
 */

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The fields of an os-release text, in file order; comments, blank and malformed lines skipped. */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    if (eq <= 0 || !KEY.test(key)) continue;
    let value = line.slice(eq + 1);
    if (/^".*"$/.test(value) || /^'.*'$/.test(value)) value = value.slice(1, -1);
    out.set(key, value.replace(/\\(["'$`\\])/g, "$1"));
  }
  return out;
}

/** os-release text: every value double-quoted and escaped, one `KEY="value"` line per field. */
export function formatOsRelease(fields: Iterable<[string, string]>): string {
  let text = "";
  for (const [key, value] of fields) text += `${key}="${value.replace(/(["\\$`])/g, "\\$1")}"\n`;
  return text;
}
