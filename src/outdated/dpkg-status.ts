/**
 * Installed packages from a dpkg database: `/var/lib/dpkg/status` as dpkg (and shellfree's
 * builder) writes it, and `/var/lib/dpkg/status.d/<name>` files with one paragraph each, as
 * distroless images have them (no Status field there; `<name>.md5sums` beside them).
 */
import { field, parseDeb822 } from "../debian/index.ts";
import type { InstalledPackage } from "./types.ts";

/** dpkg states in which a package's files are not on disk. */
const ABSENT_STATES = new Set(["not-installed", "config-files"]);

/** `Source: name` or `Source: name (version)` → name and version (default: the binary's). */
export function parseSourceField(
  value: string | undefined,
  binary: { name: string; version: string },
): { source: string; sourceVersion: string } {
  const m = /^\s*([^\s(]+)\s*(?:\(\s*([^\s)]+)\s*\))?\s*$/.exec(value ?? "");
  if (!m) return { source: binary.name, sourceVersion: binary.version };
  return { source: m[1], sourceVersion: m[2] ?? binary.version };
}

/**
 * The installed packages of one status text (`where` names it in errors). Paragraphs without
 * Package or Version, and packages whose state says their files are gone, are left out.
 */
export function parseDpkgStatus(text: string, where: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const p of parseDeb822(text, where)) {
    const name = field(p, "Package")?.trim();
    const version = field(p, "Version")?.trim();
    if (!name || !version) continue;
    const status = field(p, "Status")?.trim().split(/\s+/);
    if (status && status.length === 3 && ABSENT_STATES.has(status[2])) continue;
    const architecture = field(p, "Architecture")?.trim() || "all";
    const src = parseSourceField(field(p, "Source"), { name, version });
    out.push({ name, version, architecture, source: src.source, sourceVersion: src.sourceVersion });
  }
  return out;
}

/** status.d holds `<pkg>` paragraphs and `<pkg>.md5sums` lists: only the former are parsed. */
export function isStatusDParagraphFile(name: string): boolean {
  return !/\.(md5sums|list|conffiles|sha256sums)$/.test(name) && !name.startsWith(".");
}

/** Merge several sources of one database: one entry per name and architecture (first wins). */
export function mergeInstalled(lists: InstalledPackage[][]): InstalledPackage[] {
  const seen = new Set<string>();
  const out: InstalledPackage[] = [];
  for (const list of lists) {
    for (const p of list) {
      const k = `${p.name}\0${p.architecture}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(p);
    }
  }
  return out.sort((a, b) =>
    a.name === b.name ? (a.architecture < b.architecture ? -1 : 1) : a.name < b.name ? -1 : 1,
  );
}
