/**
 * The dpkg database of an image, as dpkg itself would have left it after unpacking and
 * configuring every package: /var/lib/dpkg/status with each package's real control fields and
 * `Status: install ok installed`, info/<pkg>.list (every path the package installed),
 * info/<pkg>.md5sums and info/<pkg>.conffiles. Multi-Arch: same packages use `<pkg>:<arch>`
 * file names, as dpkg does. Paths the builder dropped (docs, man pages, ...) are left out of
 * .list/.md5sums/Conffiles, so `dpkg --root=ROOT --verify` checks exactly what is there.
 * Maintainer scripts are not installed: they never ran and the image has no shell to run them.
 */
import { parseDeb822 } from "../debian/index.ts";

export interface DpkgPackage {
  name: string;
  architecture: string;
  multiArch?: string;
  /** DEBIAN/control verbatim */
  controlText: string;
  /** paths as in the .deb ("usr/bin/x"), in archive order, only those installed */
  paths: string[];
  /** md5sums lines ("<md5>  usr/bin/x") for installed files */
  md5sums: string;
  /** installed conffiles with the md5 of their shipped content */
  conffiles: Array<{ path: string; md5: string }>;
}

export const DPKG_DIR = "var/lib/dpkg";

/** dpkg's order of fields in the status file; anything else follows in control-file order. */
const FIELD_ORDER = [
  "Package",
  "Essential",
  "Protected",
  "Status",
  "Priority",
  "Section",
  "Installed-Size",
  "Origin",
  "Maintainer",
  "Bugs",
  "Architecture",
  "Multi-Arch",
  "Source",
  "Version",
  "Config-Version",
  "Replaces",
  "Provides",
  "Depends",
  "Pre-Depends",
  "Recommends",
  "Suggests",
  "Breaks",
  "Conflicts",
  "Enhances",
  "Conffiles",
  "Description",
  "Triggers-Pending",
  "Triggers-Awaited",
];

/** The name dpkg gives a package's info files. */
export function infoName(p: { name: string; architecture: string; multiArch?: string }): string {
  return p.multiArch === "same" ? `${p.name}:${p.architecture}` : p.name;
}

/** One status paragraph (without the trailing blank line). */
export function statusParagraph(p: DpkgPackage): string {
  const fields = parseDeb822(p.controlText, `${p.name} control`)[0] ?? {};
  const f = new Map<string, string>();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  f.set("Status", "install ok installed");
  f.delete("Conffiles");
  if (p.conffiles.length)
    f.set("Conffiles", `\n${p.conffiles.map((c) => ` /${c.path} ${c.md5}`).join("\n")}`);
  const keys = [...f.keys()];
  const rank = (k: string) => {
    const i = FIELD_ORDER.findIndex((x) => x.toLowerCase() === k.toLowerCase());
    return i < 0 ? FIELD_ORDER.length : i;
  };
  keys.sort((a, b) => rank(a) - rank(b) || keys.indexOf(a) - keys.indexOf(b));
  return keys
    .map((k) => {
      const v = f.get(k) ?? "";
      return v.startsWith("\n") ? `${k}:${v}` : `${k}: ${v}`;
    })
    .join("\n");
}

export interface DpkgFiles {
  /** relative path → content */
  files: Array<{ path: string; data: string }>;
  /** directories that must exist (relative) */
  dirs: string[];
}

/** The whole database for `pkgs`. Packages are ordered by name, then architecture, as dpkg writes them. */
export function dpkgDatabase(pkgs: DpkgPackage[]): DpkgFiles {
  const sorted = [...pkgs].sort((a, b) =>
    a.name === b.name ? (a.architecture < b.architecture ? -1 : 1) : a.name < b.name ? -1 : 1,
  );
  const files: DpkgFiles["files"] = [];
  files.push({ path: `${DPKG_DIR}/status`, data: sorted.map((p) => `${statusParagraph(p)}\n\n`).join("") });
  files.push({ path: `${DPKG_DIR}/available`, data: "" });
  // info database format 1: Multi-Arch: same packages' files are named <pkg>:<arch>.*
  files.push({ path: `${DPKG_DIR}/info/format`, data: "1\n" });
  for (const p of sorted) {
    const n = infoName(p);
    const list = ["/.", ...p.paths.map((x) => `/${x}`)];
    files.push({ path: `${DPKG_DIR}/info/${n}.list`, data: `${list.join("\n")}\n` });
    if (p.md5sums) files.push({ path: `${DPKG_DIR}/info/${n}.md5sums`, data: p.md5sums });
    if (p.conffiles.length) {
      files.push({
        path: `${DPKG_DIR}/info/${n}.conffiles`,
        data: p.conffiles.map((c) => `/${c.path}\n`).join(""),
      });
    }
  }
  return {
    files,
    dirs: [
      DPKG_DIR,
      `${DPKG_DIR}/info`,
      `${DPKG_DIR}/updates`,
      `${DPKG_DIR}/triggers`,
      `${DPKG_DIR}/alternatives`,
    ],
  };
}

/**
 * Keep the md5sums lines of installed paths only (`keep(path)` with the .deb's relative path).
 * Lines are "<32 hex>  <path>" (two spaces); anything else is kept as-is only if its path is kept.
 */
export function filterMd5sums(text: string, keep: (path: string) => boolean): string {
  let out = "";
  for (const line of text.split("\n")) {
    if (!line) continue;
    const m = /^([0-9a-f]{32}) [ *]?(.*)$/.exec(line);
    if (!m) continue;
    const path = m[2].replace(/^\.?\//, "");
    if (keep(path)) out += `${m[1]}  ${path}\n`;
  }
  return out;
}
