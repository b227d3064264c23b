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

/** The keys whose values `text` writes without quotes (Debian's `ID=debian`, `VERSION_CODENAME=trixie`). */
export function unquotedKeys(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=([^"'].*)?$/.exec(raw);
    if (m && BARE.test(m[2] ?? "")) out.add(m[1]);
  }
  return out;
}

/** A value os-release(5) allows without quotes: only A–Z, a–z, 0–9 and `._-`. */
const BARE = /^[A-Za-z0-9._-]+$/;

/**
 * os-release text, one `KEY=value` line per field: the keys in `bare` unquoted when their value
 * allows it (as Debian writes `ID=debian`), every other value double-quoted and escaped.
 */
export function formatOsRelease(
  fields: Iterable<[string, string]>,
  bare: ReadonlySet<string> = new Set(),
): string {
  let text = "";
  for (const [key, value] of fields)
    text +=
      bare.has(key) && BARE.test(value)
        ? `${key}=${value}\n`
        : `${key}="${value.replace(/(["\\$`])/g, "\\$1")}"\n`;
  return text;
}
