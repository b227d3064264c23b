/**
 * A wheel's `.dist-info/RECORD`: CSV rows `path,hash,size` as Python's csv module writes them
 * (fields with a comma, quote or line break are quoted, quotes doubled). Hashes are
 * `sha256=<urlsafe base64 without padding>`.
 */

export interface RecordRow {
  path: string;
  hash: string;
  size: string;
}

/** Parse RECORD's CSV. Returns the rows, or the 1-based line of the first malformed one. */
export function parseRecord(text: string): RecordRow[] | { badLine: number } {
  const rows: RecordRow[] = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const fields: string[] = [];
    const startLine = line;
    for (;;) {
      let f = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) return { badLine: startLine };
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              f += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          f += c;
          i++;
        }
      } else {
        while (i < text.length && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") f += text[i++];
      }
      fields.push(f);
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "\r") i++;
      if (text[i] === "\n") {
        i++;
        line++;
      } else if (i < text.length) return { badLine: startLine };
      break;
    }
    if (fields.length === 1 && fields[0] === "") continue;
    if (fields.length !== 3) return { badLine: startLine };
    rows.push({ path: fields[0], hash: fields[1], size: fields[2] });
  }
  return rows;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RECORD text for these rows (one line each, `\n`-terminated, as pip writes it). */
export function formatRecord(rows: RecordRow[]): string {
  return rows.map((r) => `${csvField(r.path)},${csvField(r.hash)},${csvField(r.size)}\n`).join("");
}
