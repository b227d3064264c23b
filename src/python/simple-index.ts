/**
 * The "simple" repository API: a project's page at `<index>/<normalised name>/`, served as
 * PEP 691 JSON (`application/vnd.pypi.simple.v1+json`) or PEP 503 HTML (anchors whose href
 * may end in `#sha256=…`, with `data-requires-python` and `data-yanked`). Content negotiation
 * asks for JSON first; whatever comes back is read by its Content-Type.
 */
import { HttpError, redactUrl } from "../util/http.ts";
import { PythonError } from "./errors.ts";
import { isHashAlgorithm, parseHashSpec } from "./hashes.ts";
import { getText, type NetOptions } from "./net.ts";
import type { DistFile, HashSpec } from "./types.ts";

export const SIMPLE_ACCEPT =
  "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";

/** `<index>/<name>/` */
export function projectUrl(indexUrl: string, name: string): string {
  return `${indexUrl.replace(/\/+$/, "")}/${encodeURIComponent(name)}/`;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** Decode the character references HTML attributes and text use. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code =
        ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(tag))) out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? "");
  return out;
}

function fragmentHashes(url: URL): HashSpec[] {
  const frag = url.hash.replace(/^#/, "");
  const h = parseHashSpec(frag);
  return frag && typeof h !== "string" ? [h] : [];
}

function fileFromLink(
  href: string,
  base: string,
  origin: string,
): Omit<DistFile, "filename"> & { url: string } {
  const url = new URL(href, base);
  const hashes = fragmentHashes(url);
  url.hash = "";
  return { url: url.toString(), hashes, origin };
}

/** The files of a PEP 503 HTML project page. */
export function parseSimpleHtml(html: string, pageUrl: string, origin: string): DistFile[] {
  const baseTag = /<base\s[^>]*>/i.exec(html);
  const base = baseTag
    ? new URL(attributes(baseTag[0].slice(5, -1)).href ?? "", pageUrl).toString()
    : pageUrl;
  const out: DistFile[] = [];
  const re = /<a\s([^>]*)>([\s\S]*?)<\/a\s*>/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html))) {
    const attrs = attributes(m[1]);
    if (!attrs.href) continue;
    const f = fileFromLink(attrs.href, base, origin);
    const text = decodeEntities(m[2].replace(/<[^>]*>/g, "")).trim();
    const filename = text || decodeURIComponent(new URL(f.url).pathname.split("/").pop() ?? "");
    const file: DistFile = { filename, ...f };
    if (attrs["data-requires-python"]) file.requiresPython = attrs["data-requires-python"];
    out.push(file);
  }
  return out;
}

/** The files of a PEP 691 JSON project page. */
export function parseSimpleJson(text: string, pageUrl: string, origin: string): DistFile[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new PythonError("E_PY_INDEX", `${redactUrl(pageUrl)}: invalid JSON (${(e as Error).message})`);
  }
  const d = doc as { meta?: { "api-version"?: string }; files?: unknown };
  const api = d.meta?.["api-version"];
  if (typeof api !== "string" || !/^1\.\d+$/.test(api)) {
    throw new PythonError(
      "E_PY_INDEX",
      `${redactUrl(pageUrl)}: unsupported simple API version ${JSON.stringify(api)}`,
    );
  }
  if (!Array.isArray(d.files)) throw new PythonError("E_PY_INDEX", `${redactUrl(pageUrl)}: no "files" list`);
  const out: DistFile[] = [];
  for (const raw of d.files) {
    const f = raw as { filename?: unknown; url?: unknown; hashes?: unknown; "requires-python"?: unknown };
    if (typeof f.filename !== "string" || typeof f.url !== "string") {
      throw new PythonError("E_PY_INDEX", `${redactUrl(pageUrl)}: a file without filename or url`);
    }
    const link = fileFromLink(f.url, pageUrl, origin);
    const hashes: HashSpec[] = [];
    for (const [algo, hex] of Object.entries((f.hashes ?? {}) as Record<string, unknown>)) {
      if (!isHashAlgorithm(algo) || typeof hex !== "string") continue;
      const h = parseHashSpec(`${algo}:${hex}`);
      if (typeof h !== "string") hashes.push(h);
    }
    const file: DistFile = { filename: f.filename, ...link, hashes: hashes.length ? hashes : link.hashes };
    if (typeof f["requires-python"] === "string") file.requiresPython = f["requires-python"];
    out.push(file);
  }
  return out;
}

/**
 * The files an index lists for a project; [] when the index does not know it (404).
 */
export async function listProjectFiles(indexUrl: string, name: string, net: NetOptions): Promise<DistFile[]> {
  const url = projectUrl(indexUrl, name);
  const origin = `index ${redactUrl(indexUrl)}`;
  let page: Awaited<ReturnType<typeof getText>>;
  try {
    page = await getText(url, { ...net, headers: { accept: SIMPLE_ACCEPT, ...net.headers } });
  } catch (e) {
    if (e instanceof HttpError && e.status === 404) return [];
    throw e;
  }
  const type = page.contentType.split(";")[0].trim().toLowerCase();
  if (type === "application/vnd.pypi.simple.v1+json") return parseSimpleJson(page.text, page.url, origin);
  if (type === "application/vnd.pypi.simple.v1+html" || type === "text/html" || type === "") {
    return parseSimpleHtml(page.text, page.url, origin);
  }
  throw new PythonError("E_PY_INDEX", `${redactUrl(url)}: unexpected Content-Type ${JSON.stringify(type)}`);
}
