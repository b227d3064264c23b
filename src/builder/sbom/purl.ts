/**
 * Package URLs (purl spec): pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS. Namespace, name,
 * version and qualifier values are percent-encoded; only the unreserved characters
 * A-Z a-z 0-9 . - _ ~ stay as they are (so a Debian epoch's ':' becomes %3A and '+' becomes
 * %2B). Qualifier keys are lower case and sorted.
 */

/** Percent-encode everything except A-Z a-z 0-9 . - _ ~ (UTF-8 bytes, upper-case hex). */
export function purlEncode(s: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9.\-_~]/.test(c)) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function purl(p: {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers?: Record<string, string | undefined>;
  subpath?: string;
}): string {
  if (!/^[a-z][a-z0-9.+-]*$/.test(p.type)) throw new Error(`invalid purl type ${JSON.stringify(p.type)}`);
  if (!p.name) throw new Error("a purl needs a name");
  let s = `pkg:${p.type}/`;
  if (p.namespace) {
    s += `${p.namespace.split("/").filter(Boolean).map(purlEncode).join("/")}/`;
  }
  s += purlEncode(p.name);
  if (p.version) s += `@${purlEncode(p.version)}`;
  const q = Object.entries(p.qualifiers ?? {})
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => [k.toLowerCase(), v as string] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (q.length) s += `?${q.map(([k, v]) => `${k}=${purlEncode(v)}`).join("&")}`;
  if (p.subpath) {
    s += `#${p.subpath
      .split("/")
      .filter((x) => x && x !== "." && x !== "..")
      .map(purlEncode)
      .join("/")}`;
  }
  return s;
}

/**
 * pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-13[&upstream=SOURCE[@SOURCEVERSION]]: the
 * source package as Syft writes it (`upstream=`, only when the source's name differs from the
 * binary's, with `@version` only when its version differs too).
 */
export function debPurl(p: {
  name: string;
  version: string;
  arch: string;
  distro: string;
  source?: string;
  sourceVersion?: string;
}): string {
  const upstream = p.source ? (p.sourceVersion ? `${p.source}@${p.sourceVersion}` : p.source) : undefined;
  return purl({
    type: "deb",
    namespace: "debian",
    name: p.name,
    version: p.version,
    qualifiers: { arch: p.arch, distro: p.distro, upstream },
  });
}

/**
 * A Debian package's purl, with its source as `upstream=` when dpkg would have a Source field
 * for it: a source name other than the binary's, or a source version other than the binary's
 * (then `@VERSION`, and the name even when it is the binary's own).
 */
export function debPurlOf(
  p: { name: string; version: string; arch: string; source?: string; sourceVersion?: string },
  distro: string,
): string {
  const otherVersion = p.sourceVersion !== undefined && p.sourceVersion !== p.version;
  const otherName = p.source !== undefined && p.source !== p.name;
  return debPurl({
    name: p.name,
    version: p.version,
    arch: p.arch,
    distro,
    source: otherName || otherVersion ? (p.source ?? p.name) : undefined,
    sourceVersion: otherVersion ? p.sourceVersion : undefined,
  });
}

/** pkg:npm/NAME@VERSION, or pkg:npm/%40scope/name@VERSION for a scoped package. */
export function npmPurl(name: string, version: string): string {
  const m = /^(@[^/]+)\/(.+)$/.exec(name);
  return m
    ? purl({ type: "npm", namespace: m[1], name: m[2], version })
    : purl({ type: "npm", name, version });
}

/** pkg:oci/NAME@sha256%3A...?arch=...&repository_url=... (the image itself). */
export function ociPurl(p: {
  name: string;
  digest: string;
  arch?: string;
  repositoryUrl?: string;
  tag?: string;
}): string {
  const name = p.name.split("/").pop() ?? p.name;
  return purl({
    type: "oci",
    name: name.toLowerCase(),
    version: p.digest,
    qualifiers: { arch: p.arch, repository_url: p.repositoryUrl, tag: p.tag },
  });
}

/** pkg:generic/NAME@VERSION for things without a package ecosystem (e.g. shellfree-init). */
export function genericPurl(name: string, version: string): string {
  return purl({ type: "generic", name, version });
}

/**
 * The CPE 2.3 name vulnerability databases use for Node.js itself (NVD: vendor "nodejs",
 * product "node.js"), so scanners find Node's CVEs for the runtime in an image.
 */
export function nodeCpe(version: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`not a Node.js version: ${JSON.stringify(version)}`);
  return `cpe:2.3:a:nodejs:node.js:${version}:*:*:*:*:*:*:*`;
}
