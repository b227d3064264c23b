/**
 * Licenses from Debian `copyright` files in the machine-readable format (DEP-5,
 * copyright-format/1.0). Only the header paragraph and `Files:` paragraphs count (standalone
 * `License:` paragraphs only carry texts). Each `License:` first line is an expression over
 * short names: "A or B", "A and B", "A with X exception", commas for lower precedence
 * ("A or B, and C" = (A or B) and C). Short names are case-insensitive and mapped to SPDX ids
 * where Debian's name has a standard equivalent (GPL-2+ → GPL-2.0-or-later, Expat → MIT, ...);
 * anything else becomes `LicenseRef-<name>`. Files in any other format give [].
 */
import type { SbomPackage } from "./sbom/types.ts";

/** SPDX license and exception ids this module emits (all on the SPDX license list). */
const SPDX_IDS = [
  "0BSD",
  "AGPL-1.0-only",
  "AGPL-1.0-or-later",
  "AGPL-3.0-only",
  "AGPL-3.0-or-later",
  "Apache-1.0",
  "Apache-1.1",
  "Apache-2.0",
  "Artistic-1.0",
  "Artistic-1.0-Perl",
  "Artistic-1.0-cl8",
  "Artistic-2.0",
  "Beerware",
  "BSD-1-Clause",
  "BSD-2-Clause",
  "BSD-2-Clause-Patent",
  "BSD-3-Clause",
  "BSD-3-Clause-Attribution",
  "BSD-4-Clause",
  "BSD-4-Clause-UC",
  "BSD-Source-Code",
  "BSL-1.0",
  "bzip2-1.0.6",
  "CC-BY-3.0",
  "CC-BY-4.0",
  "CC-BY-SA-3.0",
  "CC-BY-SA-4.0",
  "CC0-1.0",
  "CDDL-1.0",
  "curl",
  "EPL-1.0",
  "EPL-2.0",
  "FSFAP",
  "FSFUL",
  "FSFULLR",
  "FTL",
  "GFDL-1.1-only",
  "GFDL-1.1-or-later",
  "GFDL-1.2-only",
  "GFDL-1.2-or-later",
  "GFDL-1.2-no-invariants-only",
  "GFDL-1.2-no-invariants-or-later",
  "GFDL-1.3-only",
  "GFDL-1.3-or-later",
  "GFDL-1.3-no-invariants-only",
  "GFDL-1.3-no-invariants-or-later",
  "GPL-1.0-only",
  "GPL-1.0-or-later",
  "GPL-2.0-only",
  "GPL-2.0-or-later",
  "GPL-3.0-only",
  "GPL-3.0-or-later",
  "HPND",
  "ICU",
  "IJG",
  "ISC",
  "JSON",
  "Latex2e",
  "LGPL-2.0-only",
  "LGPL-2.0-or-later",
  "LGPL-2.1-only",
  "LGPL-2.1-or-later",
  "LGPL-3.0-only",
  "LGPL-3.0-or-later",
  "Libpng",
  "libpng-2.0",
  "LPPL-1.3c",
  "MirOS",
  "MIT",
  "MIT-0",
  "MIT-CMU",
  "MPL-1.1",
  "MPL-2.0",
  "MS-PL",
  "MS-RL",
  "NCSA",
  "NTP",
  "OFL-1.1",
  "OLDAP-2.8",
  "OpenSSL",
  "PHP-3.01",
  "PostgreSQL",
  "PSF-2.0",
  "Python-2.0",
  "Ruby",
  "Sleepycat",
  "TCL",
  "Unicode-3.0",
  "Unicode-DFS-2015",
  "Unicode-DFS-2016",
  "Unlicense",
  "Vim",
  "W3C",
  "WTFPL",
  "X11",
  "Zlib",
  "zlib-acknowledgement",
  "ZPL-2.1",
] as const;

const EXCEPTION_IDS = [
  "Autoconf-exception-2.0",
  "Autoconf-exception-3.0",
  "Autoconf-exception-generic",
  "Autoconf-exception-generic-3.0",
  "Autoconf-exception-macro",
  "Bison-exception-2.2",
  "Classpath-exception-2.0",
  "Font-exception-2.0",
  "GCC-exception-2.0",
  "GCC-exception-3.1",
  "Libtool-exception",
  "Linux-syscall-note",
  "LLVM-exception",
  "OCaml-LGPL-linking-exception",
  "openvpn-openssl-exception",
  "Qt-GPL-exception-1.0",
  "u-boot-exception-2.0",
  "WxWindows-exception-3.1",
] as const;

const byLower = new Map<string, string>([...SPDX_IDS, ...EXCEPTION_IDS].map((id) => [id.toLowerCase(), id]));

/** Is `id` an SPDX license or exception id this module knows (exact spelling)? */
export function isKnownSpdxId(id: string): boolean {
  return byLower.get(id.toLowerCase()) === id;
}

/** All SPDX ids (licenses and exceptions) this module can emit, for tests and other modules. */
export const KNOWN_SPDX_IDS: readonly string[] = [...SPDX_IDS, ...EXCEPTION_IDS];

/** Debian short names (lower case) whose SPDX spelling differs. */
const DEBIAN_NAMES: Record<string, string> = {
  expat: "MIT",
  "mit/x11": "MIT",
  "bsd-2-clause": "BSD-2-Clause",
  "bsd-3-clause": "BSD-3-Clause",
  "bsd-4-clause": "BSD-4-Clause",
  "bsd-4-clause-uc": "BSD-4-Clause-UC",
  zlib: "Zlib",
  "zlib/libpng": "Zlib",
  apache: "Apache-2.0",
  "apache-2": "Apache-2.0",
  artistic: "Artistic-1.0",
  "artistic-1": "Artistic-1.0",
  "artistic-2": "Artistic-2.0",
  cc0: "CC0-1.0",
  "cc-by-3": "CC-BY-3.0",
  "cc-by-4": "CC-BY-4.0",
  "cc-by-sa-3": "CC-BY-SA-3.0",
  "cc-by-sa-4": "CC-BY-SA-4.0",
  "mpl-1.1": "MPL-1.1",
  "mpl-2": "MPL-2.0",
  "epl-1": "EPL-1.0",
  "epl-2": "EPL-2.0",
  "psf-2": "PSF-2.0",
  python: "Python-2.0",
  "openldap-2.8": "OLDAP-2.8",
  "oldap-2.8": "OLDAP-2.8",
  "ms-pl": "MS-PL",
  "ms-rl": "MS-RL",
  "sil-ofl-1.1": "OFL-1.1",
  "ofl-1.1": "OFL-1.1",
  "public-domain": "LicenseRef-public-domain",
  "public domain": "LicenseRef-public-domain",
  pd: "LicenseRef-public-domain",
  "pd-debian": "LicenseRef-public-domain",
  // unversioned GNU licenses: "any version"
  gpl: "GPL-1.0-or-later",
  lgpl: "LGPL-2.0-or-later",
};

/** GNU family: NAME-N[.M][+] (also Debian's older GPLvN+ spelling). */
function gnuName(lower: string): string | undefined {
  const m = /^(a?gpl|lgpl|gfdl(?:-niv)?)(?:-|v)?(\d)(?:\.(\d))?(\+)?$/.exec(lower);
  if (!m) return undefined;
  const fam = m[1];
  const ver = `${m[2]}.${m[3] ?? "0"}`;
  const later = m[4] === "+";
  if (fam === "gfdl" || fam === "gfdl-niv") {
    if (!["1.1", "1.2", "1.3"].includes(ver)) return undefined;
    const base = `GFDL-${ver}${fam === "gfdl-niv" ? "-no-invariants" : ""}`;
    if (fam === "gfdl-niv" && ver === "1.1") return undefined;
    return `${base}-${later ? "or-later" : "only"}`;
  }
  const upper = fam.toUpperCase();
  const valid: Record<string, string[]> = {
    GPL: ["1.0", "2.0", "3.0"],
    LGPL: ["2.0", "2.1", "3.0"],
    AGPL: ["1.0", "3.0"],
  };
  if (!valid[upper]?.includes(ver)) return undefined;
  return `${upper}-${ver}-${later ? "or-later" : "only"}`;
}

/** Exceptions named in "with X exception" (lower case, without the word "exception"). */
function exceptionId(licenseId: string, words: string): string | undefined {
  const w = words
    .toLowerCase()
    .replace(/\s+exception$/, "")
    .trim();
  const direct = byLower.get(w) ?? byLower.get(`${w}-exception`);
  if (direct && (EXCEPTION_IDS as readonly string[]).includes(direct)) return direct;
  const gpl3 = licenseId.startsWith("GPL-3.0");
  switch (w) {
    case "autoconf":
      return gpl3 ? "Autoconf-exception-3.0" : "Autoconf-exception-2.0";
    case "bison":
      return "Bison-exception-2.2";
    case "libtool":
      return "Libtool-exception";
    case "classpath":
      return "Classpath-exception-2.0";
    case "font":
      return "Font-exception-2.0";
    case "gcc-3.1":
    case "gcc-runtime-library":
      return "GCC-exception-3.1";
    case "linux-syscall-note":
    case "linux-syscall":
    case "syscall":
      return "Linux-syscall-note";
    case "llvm":
      return "LLVM-exception";
    default:
      return undefined;
  }
}

/** `LicenseRef-` + the name with anything outside [A-Za-z0-9.-] replaced. */
export function licenseRef(name: string): string {
  const idstring = name
    .trim()
    .replace(/\+/g, "-plus")
    .replace(/[^A-Za-z0-9.-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  return `LicenseRef-${idstring || "unknown"}`;
}

/** One short name (maybe "NAME with X exception") → SPDX id / "ID WITH EXC" / LicenseRef-. */
export function spdxForShortName(raw: string): string {
  const name = raw.trim().replace(/\s+/g, " ");
  const withM = /^(.+?)\s+with\s+(.+)$/i.exec(name);
  if (withM) {
    const lic = spdxForShortName(withM[1]);
    if (!lic.startsWith("LicenseRef-")) {
      const exc = exceptionId(lic, withM[2]);
      if (exc) return `${lic} WITH ${exc}`;
    }
    return licenseRef(name);
  }
  // SPDX-style "GPL-3.0-or-later-WITH-Autoconf-exception-macro" written as one name
  const hy = /^(.+?)-with-(.+)$/i.exec(name);
  if (hy) {
    const lic = spdxForShortName(hy[1]);
    const exc = byLower.get(hy[2].toLowerCase());
    if (
      !lic.startsWith("LicenseRef-") &&
      !/\s/.test(lic) &&
      exc &&
      (EXCEPTION_IDS as readonly string[]).includes(exc)
    ) {
      return `${lic} WITH ${exc}`;
    }
  }
  const lower = name.toLowerCase();
  const known = byLower.get(lower);
  if (known && (SPDX_IDS as readonly string[]).includes(known)) return known;
  if (DEBIAN_NAMES[lower]) return DEBIAN_NAMES[lower];
  const gnu = gnuName(lower);
  if (gnu) return gnu;
  if (lower === "perl") return "Artistic-1.0-Perl OR GPL-1.0-or-later";
  return licenseRef(name);
}

type Expr = { op: "and" | "or"; args: Expr[] } | { id: string };

function node(op: "and" | "or", parts: Expr[]): Expr {
  const args: Expr[] = [];
  for (const p of parts) {
    if ("op" in p && p.op === op) args.push(...p.args);
    else args.push(p);
  }
  return args.length === 1 ? args[0] : { op, args };
}

/** Parse a DEP-5 License first line into an expression tree. */
function parseLicenseLine(line: string): Expr | undefined {
  const text = line.trim();
  if (!text) return undefined;
  // commas give lower precedence: "A or B, and C"; a bare comma means "and"
  const clauses = text.split(/\s*,\s*/).filter(Boolean);
  let result: Expr | undefined;
  for (const c of clauses) {
    const m = /^(and|or)\s+(.*)$/i.exec(c);
    const connector = (m?.[1].toLowerCase() ?? "and") as "and" | "or";
    const body = m ? m[2] : c;
    const ors = body.split(/\s+or\s+/i).map((alt) =>
      node(
        "and",
        alt
          .split(/\s+and\s+/i)
          .filter(Boolean)
          .map((atom): Expr => ({ id: spdxForShortName(atom) })),
      ),
    );
    const clause = node("or", ors);
    result = result ? node(connector, [result, clause]) : clause;
  }
  return result;
}

function render(e: Expr, parent?: "and" | "or"): string {
  if ("id" in e) return / OR | AND /.test(e.id) && parent ? `(${e.id})` : e.id;
  const s = e.args.map((a) => render(a, e.op)).join(e.op === "and" ? " AND " : " OR ");
  return parent ? `(${s})` : s;
}

/** Top-level AND terms as separate entries (each applies); anything else one expression each. */
function entries(e: Expr): string[] {
  if ("op" in e && e.op === "and") return e.args.flatMap(entries);
  return [render(e)];
}

interface Paragraph {
  fields: Map<string, string>;
}

/** Lenient deb822 split: paragraphs by blank lines, fields "Name: value" + indented continuation. */
function paragraphs(text: string): Paragraph[] {
  const out: Paragraph[] = [];
  let cur: Paragraph | undefined;
  let last: string | undefined;
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    if (/^\s*$/.test(line)) {
      cur = undefined;
      last = undefined;
      continue;
    }
    if (line.startsWith("#")) continue;
    if (/^[ \t]/.test(line)) {
      if (cur && last) cur.fields.set(last, `${cur.fields.get(last)}\n${line.trim()}`);
      continue;
    }
    const m = /^([!-9;-~][!-9;-~]*):[ \t]*(.*)$/.exec(line);
    if (!m) continue;
    if (!cur) {
      cur = { fields: new Map() };
      out.push(cur);
    }
    last = m[1].toLowerCase();
    cur.fields.set(last, m[2].trim());
  }
  return out;
}

/** Is this a machine-readable (DEP-5) copyright file? */
export function isMachineReadableCopyright(text: string): boolean {
  const first = paragraphs(text)[0];
  const fmt = first?.fields.get("format") ?? first?.fields.get("format-specification");
  return !!fmt && /copyright-format|dep-?5/i.test(fmt);
}

export interface CopyrightInfo {
  machineReadable: boolean;
  /** SPDX ids / expressions, sorted, unique; [] when not machine-readable */
  licenses: string[];
  /** the Copyright: statements (one entry per line), unique, in file order */
  copyrights: string[];
}

export function parseCopyright(text: string): CopyrightInfo {
  const paras = paragraphs(text);
  const first = paras[0];
  const fmt = first?.fields.get("format") ?? first?.fields.get("format-specification");
  if (!fmt || !/copyright-format|dep-?5/i.test(fmt))
    return { machineReadable: false, licenses: [], copyrights: [] };
  const licenses = new Set<string>();
  const copyrights: string[] = [];
  const seen = new Set<string>();
  paras.forEach((p, i) => {
    if (i !== 0 && !p.fields.has("files")) return; // standalone License paragraphs carry text only
    const lic = p.fields.get("license");
    if (lic !== undefined) {
      const expr = parseLicenseLine(lic.split("\n")[0]);
      if (expr) for (const e of entries(expr)) licenses.add(e);
    }
    const c = p.fields.get("copyright");
    if (c) {
      for (const line of c.split("\n")) {
        const t = line.trim();
        if (t && t !== "." && !seen.has(t)) {
          seen.add(t);
          copyrights.push(t);
        }
      }
    }
  });
  return { machineReadable: true, licenses: [...licenses].sort(), copyrights };
}

export function licensesFromCopyright(text: string): string[] {
  return parseCopyright(text).licenses;
}

/** The Debian package data the SBOM needs (a subset of src/debian's BinaryPackage). */
export interface DebPackageFacts {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  /** the package's control/index fields (Source, Maintainer, Homepage, Description, ...) */
  fields: Record<string, string>;
}

/**
 * An SbomPackage for an installed .deb. `copyrightText` is the package's
 * /usr/share/doc/NAME/copyright as found in the image (resolve symlinks there: libgcc-s1's doc
 * directory, for one, is a symlink to gcc-14-base's); undefined when it has none.
 */
export function sbomPackageFromDeb(pkg: DebPackageFacts, copyrightText?: string): SbomPackage {
  const field = (k: string) => {
    const hit = Object.keys(pkg.fields).find((f) => f.toLowerCase() === k.toLowerCase());
    const v = hit === undefined ? undefined : pkg.fields[hit].trim();
    return v ? v : undefined;
  };
  const src = field("Source");
  const m = src ? /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(src) : null;
  const info = copyrightText === undefined ? undefined : parseCopyright(copyrightText);
  return {
    name: pkg.name,
    version: pkg.version,
    arch: pkg.architecture,
    source: m ? m[1] : pkg.name,
    sourceVersion: m?.[2] ?? pkg.version,
    licenses: info?.licenses ?? [],
    ...(info?.copyrights.length ? { copyright: info.copyrights.join("\n") } : {}),
    sha256: pkg.sha256,
    ...(field("Maintainer") ? { maintainer: field("Maintainer") } : {}),
    ...(field("Homepage") ? { homepage: field("Homepage") } : {}),
    ...(field("Description") ? { description: field("Description")?.split("\n")[0].trim() } : {}),
  };
}
