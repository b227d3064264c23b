/**
 * elf-deps: every dynamically linked ELF file can be loaded: its interpreter (PT_INTERP) exists
 * and every DT_NEEDED library is found the way glibc's ld.so finds it — DT_RPATH (when there is
 * no DT_RUNPATH), LD_LIBRARY_PATH from the image's env, DT_RUNPATH ($ORIGIN, $LIB, $PLATFORM
 * expanded), the directories of /etc/ld.so.conf(.d) (only effective when /etc/ld.so.cache
 * exists: ld.so reads the cache, not the conf), then the default directories incl. Debian's
 * multiarch ones (/lib/<triplet>, /usr/lib/<triplet>). A candidate of the wrong ELF class or
 * machine is skipped, as ld.so skips it.
 */
import { type ElfInfo, ET_DYN, ET_EXEC, MULTIARCH } from "../elf.ts";
import { dirnameOf, type FsNode, type ImageFs, normalizePath } from "../image-fs.ts";
import { envOf, nodeText } from "./lookup.ts";
import type { ImageConfigJson, RawFinding, Rule } from "./types.ts";

function defaultDirs(e: ElfInfo): string[] {
  const t = MULTIARCH[e.machine]?.triplet;
  const dirs: string[] = [];
  if (t) dirs.push(`/lib/${t}`, `/usr/lib/${t}`);
  if (e.bits === 64) dirs.push("/lib64", "/usr/lib64");
  else dirs.push("/lib32", "/usr/lib32");
  dirs.push("/lib", "/usr/lib");
  return dirs;
}

/** Directories named by /etc/ld.so.conf and its `include` globs. */
export function ldSoConfDirs(fs: ImageFs): string[] {
  const dirs: string[] = [];
  const seen = new Set<string>();
  const readConf = (path: string, depth: number) => {
    if (depth > 8 || seen.has(path)) return;
    seen.add(path);
    const text = nodeText(fs, path);
    if (text === undefined) return;
    for (let line of text.split("\n")) {
      line = line.replace(/#.*/, "").trim();
      if (!line) continue;
      const m = /^include\s+(.+)$/.exec(line);
      if (m) {
        for (const pat of m[1].split(/\s+/)) {
          const abs = pat.startsWith("/") ? pat : `${dirnameOf(path)}/${pat}`;
          const re = new RegExp(
            `^${abs
              .replace(/[.+^${}()|[\]\\]/g, "\\$&")
              .replaceAll("*", "[^/]*")
              .replaceAll("?", "[^/]")}$`,
          );
          const matches = [...fs.nodes.keys()].filter((p) => re.test(p)).sort();
          for (const f of matches) readConf(f, depth + 1);
        }
      } else dirs.push(...line.split(/[:\s,]+/).filter(Boolean));
    }
  };
  readConf("/etc/ld.so.conf", 0);
  return dirs;
}

function expand(dir: string, origin: string, e: ElfInfo): string | undefined {
  const t = MULTIARCH[e.machine];
  const out = dir
    .replace(/\$(?:\{ORIGIN\}|ORIGIN\b)/g, origin)
    .replace(/\$(?:\{LIB\}|LIB\b)/g, t ? `lib/${t.triplet}` : "lib")
    .replace(/\$(?:\{PLATFORM\}|PLATFORM\b)/g, t?.name ?? "");
  if (out.includes("$")) return undefined;
  return normalizePath(out.startsWith("/") ? out : `${origin}/${out}`);
}

function compatible(n: FsNode, e: ElfInfo): boolean {
  const o = n.content?.elf;
  return !!o && o.bits === e.bits && o.machine === e.machine && o.little === e.little;
}

export interface LibSearch {
  found?: string;
  via?: string;
  /** found only through ld.so.conf dirs while there is no /etc/ld.so.cache */
  needsCache?: string;
}

export function findLibrary(
  fs: ImageFs,
  config: ImageConfigJson,
  obj: { path: string; elf: ElfInfo },
  lib: string,
  confDirs: string[],
): LibSearch {
  const e = obj.elf;
  const lookup = (p: string): FsNode | undefined => {
    const r = fs.resolve(p);
    if ("missing" in r || r.node.type !== "file") return undefined;
    return compatible(r.node, e) ? r.node : undefined;
  };
  if (lib.includes("/")) return lookup(lib) ? { found: normalizePath(lib), via: "path" } : {};
  const origin = dirnameOf(obj.path);
  const lists: Array<[string, string[]]> = [];
  if (e.runpath.length === 0) lists.push(["DT_RPATH", e.rpath]);
  const llp = envOf(config).get("LD_LIBRARY_PATH");
  if (llp) lists.push(["LD_LIBRARY_PATH", llp.split(/[:;]/).filter(Boolean)]);
  lists.push(["DT_RUNPATH", e.runpath]);
  const hasCache = !!fs.get("/etc/ld.so.cache");
  if (hasCache) lists.push(["ld.so.conf", confDirs]);
  lists.push(["default", defaultDirs(e)]);
  for (const [via, dirs] of lists) {
    for (const d of dirs) {
      const dir = expand(d, origin, e);
      if (!dir) continue;
      const p = `${dir === "/" ? "" : dir}/${lib}`;
      if (lookup(p)) return { found: p, via };
    }
  }
  if (!hasCache) {
    for (const d of confDirs) {
      const p = `${normalizePath(d)}/${lib}`;
      if (lookup(p)) return { needsCache: p };
    }
  }
  return {};
}

export const rule: Rule = {
  id: "elf-deps",
  title: "Shared libraries resolvable",
  description:
    "Every ELF's interpreter exists and every DT_NEEDED library resolves inside the image (RPATH, LD_LIBRARY_PATH, RUNPATH with $ORIGIN, ld.so.conf, multiarch default dirs).",
  defaultSeverity: "error",
  hint: "add the package that ships the library (see `dpkg -S <lib>` on a Debian host), or remove the program",
  securitySeverity: 3.0,
  tags: ["reliability", "container"],
  precision: "very-high",
  check({ fs, config }) {
    const out: RawFinding[] = [];
    const confDirs = ldSoConfDirs(fs);
    const cache = new Map<string, LibSearch>();
    for (const n of fs.files()) {
      const e = n.content?.elf;
      if (!e || n.hardlinkOf) continue;
      if (e.type !== ET_EXEC && e.type !== ET_DYN) continue;
      if (e.incomplete) {
        out.push({
          path: n.path,
          severity: "warning",
          message: `${n.path}: ELF not fully readable (${e.incomplete}); its libraries were not checked`,
          hint: "report this file to the shellfree developers",
        });
      }
      if (e.interp) {
        const r = fs.resolve(e.interp);
        if ("missing" in r || r.node.type !== "file") {
          out.push({
            path: n.path,
            message: `${n.path}: ELF interpreter ${e.interp} is not in the image${"missing" in r ? ` (${r.missing} missing)` : ""}`,
            hint: "add libc6 (it ships the dynamic loader) and base-files (the /lib64 symlink), or use a static build",
          });
        }
      }
      for (const lib of e.needed) {
        const key = `${e.bits}/${e.machine}/${lib}/${e.runpath.join(":")}/${e.rpath.join(":")}/${e.runpath.length || e.rpath.length ? dirnameOf(n.path) : ""}`;
        let s = cache.get(key);
        if (!s) {
          s = findLibrary(fs, config, { path: n.path, elf: e }, lib, confDirs);
          cache.set(key, s);
        }
        if (s.found) continue;
        if (s.needsCache) {
          out.push({
            path: n.path,
            message: `${n.path}: needs ${lib}, which is only in ${dirnameOf(s.needsCache)} (an /etc/ld.so.conf dir), but there is no /etc/ld.so.cache so ld.so will not look there`,
            hint: "generate /etc/ld.so.cache at build time, or set RUNPATH/LD_LIBRARY_PATH",
          });
        } else {
          out.push({
            path: n.path,
            message: `${n.path}: needs ${lib}, which is not in the image`,
            hint: `add the package that ships ${lib}`,
          });
        }
      }
    }
    return out;
  },
};
