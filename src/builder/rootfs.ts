/**
 * The root filesystem, planned from package metadata (DebInfo) before any content is read:
 * - packages are unpacked in order, base-files first, so its merged-/usr symlinks (/bin, /lib,
 *   /lib64, /sbin → usr/...) exist and later paths under them are resolved through them (as dpkg
 *   does when it unpacks "lib/x" onto a system where /lib is a symlink);
 * - a directory shipped where a symlink already is keeps the symlink; identical files/symlinks
 *   shipped by two packages are shared; different ones are a conflict unless one package
 *   declares Replaces on the other (then it wins and the loser no longer lists the path);
 * - the spec's `packages.drop-paths` globs leave out what they match (a matched directory with
 *   everything below it), before anything else is decided;
 * - documentation, man/info pages, locales and shell-only files (init.d, completions, cron
 *   jobs, update-ca-certificates) are dropped by default — but each package's copyright file is kept — and dropped
 *   paths leave the package's dpkg file list, md5sums and Conffiles, so dpkg stays consistent.
 * Then layers are assembled per group of packages, each with the directories above its files.
 */
import { parseRelations } from "../debian/index.ts";
import type { DirEntry, TreeContent, TreeEntry } from "../oci/index.ts";
import { globToRegExp } from "../util/globs.ts";
import type { DebInfo, DebInfoEntry } from "./debinfo.ts";
import { BuildError } from "./errors.ts";

export interface RootfsInput {
  name: string;
  architecture: string;
  multiArch?: string;
  info: DebInfo;
}

export interface PlannedEntry extends Omit<DebInfoEntry, "path" | "linkTarget"> {
  /** canonical path in the image (relative) */
  path: string;
  /** symlink: target as stored; hardlink: canonical path of the linked file */
  target?: string;
  /** owning package */
  pkg: string;
  /** path inside the .deb (to find the content) */
  debPath: string;
}

export interface PackagePlan {
  name: string;
  /** .deb paths installed, in archive order (dpkg's .list) */
  installed: string[];
  /** .deb paths dropped (by the doc/locale policy or the spec's drop-paths) */
  droppedPaths: Set<string>;
  /** image paths ("/usr/sbin/x") the spec's drop-paths left out, in archive order */
  specDropped: string[];
  /** .deb paths lost to a package that Replaces this one */
  replacedPaths: Set<string>;
}

/** A `packages.drop-paths` glob (optionally only for one package's files). */
export interface DropRule {
  glob: string;
  package?: string;
}

/** What one drop-paths glob left out. */
export interface DropOutcome extends DropRule {
  /** entries left out (files, links, directories), in install order */
  paths: Array<{ path: string; package: string; type: string; size: number }>;
  /** regular files among them and their bytes */
  files: number;
  bytes: number;
}

export interface RootfsPlan {
  tree: Map<string, PlannedEntry>;
  packages: Map<string, PackagePlan>;
  /** by the default doc/locale/shell-only policy */
  dropped: { files: number; bytes: number };
  /** by the spec's drop-paths, one per glob in the spec's order (empty ones included) */
  dropPaths: DropOutcome[];
  /** kept symlinks whose target a drop-paths glob left out: "/link → /target" */
  danglingLinks: string[];
}

const DROP_DIRS =
  /^usr\/share\/(man|info|locale|lintian|linda|doc-base|bug|bash-completion|zsh|fish|gtk-doc|menu)(\/|$)|^etc\/(init\.d|rc[0-6S]\.d|cron\.(hourly|daily|weekly|monthly|yearly|d)|bash_completion\.d|update-motd\.d|skel|profile\.d|profile|bash\.bashrc)(\/|$)/;

/**
 * Shell scripts that only configure a system: shellfree does their job at build time (it
 * generates the CA bundle) and no shell is there to run them. Scripts outside this list stay,
 * and `shellfree verify` names any whose interpreter is missing.
 */
const DROP_FILES = new Set([
  "usr/sbin/update-ca-certificates", // ca-certificates (the bundle is generated, see cacerts.ts)
  // python3's hooks for when a Python runtime is installed or removed (run by its maintainer
  // scripts through py3compile/py3clean; the build compiles the bytecode itself, bytecode.ts)
  "usr/share/python3/runtime.d/public_modules.rtinstall",
  "usr/share/python3/runtime.d/public_modules.rtremove",
]);

/** Is this .deb path dropped by the default policy? (copyright files are kept) */
export function isDropped(path: string): boolean {
  if (DROP_FILES.has(path)) return true;
  if (path.startsWith("usr/share/doc/")) {
    const rest = path.slice("usr/share/doc/".length);
    const slash = rest.indexOf("/");
    if (slash < 0) return false; // usr/share/doc/<pkg> itself (dir or symlink)
    return rest.slice(slash + 1) !== "copyright";
  }
  return DROP_DIRS.test(path);
}

function normalizeParts(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  return out;
}

/** Resolve symlinks among the parents of `path` (not the last component) in `tree`. */
export function canonicalPath(
  path: string,
  lookup: (p: string) => { type: string; target?: string } | undefined,
): string {
  let parts = path.split("/");
  for (let guard = 0; guard < 64; guard++) {
    let changed = false;
    for (let i = 1; i < parts.length; i++) {
      const e = lookup(parts.slice(0, i).join("/"));
      if (e?.type === "symlink" && e.target !== undefined) {
        const base = e.target.startsWith("/") ? [] : parts.slice(0, i - 1);
        parts = [...normalizeParts([...base, ...e.target.split("/")]), ...parts.slice(i)];
        changed = true;
        break;
      }
    }
    if (!changed) return parts.join("/");
  }
  throw new BuildError("E_BUILD", `${path}: too many levels of symbolic links`);
}

function replacesNames(info: DebInfo): Set<string> {
  const v = info.control.Replaces ?? "";
  const out = new Set<string>();
  if (!v.trim()) return out;
  try {
    for (const group of parseRelations(v)) for (const alt of group) out.add(alt.name);
  } catch {
    for (const m of v.matchAll(/([a-z0-9][a-z0-9+.-]+)/g)) out.add(m[1]);
  }
  return out;
}

/**
 * What a package layer contains for the same packages changes only with this number: bump it
 * with any change to planRootfs or packageLayerEntries (what is dropped, merged, linked).
 * Cached layers are keyed by it, with DEBINFO_VERSION and the OCI LAYER_FORMAT_VERSION.
 */
export const ROOTFS_PLAN_VERSION = 2;

/** base-files first, then the given order (the resolver's: by name). */
export function installOrder<T extends { name: string }>(pkgs: T[]): T[] {
  return [...pkgs.filter((p) => p.name === "base-files"), ...pkgs.filter((p) => p.name !== "base-files")];
}

/**
 * The spec's drop-paths as a matcher: the rule that drops an entry of `pkg` at .deb path `debPath`
 * (canonical path `cp`), by its glob or because a directory it dropped is above it.
 */
class DropMatcher {
  readonly outcomes: DropOutcome[];
  private readonly res: RegExp[];
  /** canonical directory path → index of the rule that dropped it */
  private readonly dirs = new Map<string, number>();
  constructor(rules: DropRule[]) {
    this.outcomes = rules.map((r) => ({
      glob: r.glob,
      ...(r.package !== undefined ? { package: r.package } : {}),
      paths: [],
      files: 0,
      bytes: 0,
    }));
    this.res = rules.map((r) => globToRegExp(r.glob));
  }
  get empty(): boolean {
    return this.res.length === 0;
  }
  private applies(i: number, pkg: string): boolean {
    const only = this.outcomes[i].package;
    return only === undefined || only === pkg;
  }
  match(pkg: string, debPath: string, cp: string): number | undefined {
    if (this.empty) return undefined;
    for (let i = 0; i < this.res.length; i++) {
      if (!this.applies(i, pkg)) continue;
      if (this.res[i].test(`/${cp}`) || this.res[i].test(`/${debPath}`)) return i;
    }
    const parts = cp.split("/");
    for (let n = parts.length - 1; n > 0 && this.dirs.size; n--) {
      const i = this.dirs.get(parts.slice(0, n).join("/"));
      if (i !== undefined && this.applies(i, pkg)) return i;
    }
    return undefined;
  }
  record(i: number, pkg: string, e: DebInfoEntry, cp: string): void {
    const o = this.outcomes[i];
    o.paths.push({ path: `/${cp}`, package: pkg, type: e.type, size: e.type === "file" ? e.size : 0 });
    if (e.type === "file") {
      o.files++;
      o.bytes += e.size;
    }
    if (e.type === "dir") this.dirs.set(cp, i);
  }
}

/** Kept symlinks pointing at something drop-paths left out (what they name is gone). */
function linksToDropped(tree: Map<string, PlannedEntry>, outcomes: DropOutcome[]): string[] {
  const gone = new Set(outcomes.flatMap((o) => o.paths.map((p) => p.path.slice(1))));
  if (gone.size === 0) return [];
  const out: string[] = [];
  for (const e of tree.values()) {
    if (e.type !== "symlink" || e.target === undefined) continue;
    const base = e.target.startsWith("/") ? [] : e.path.split("/").slice(0, -1);
    const target = normalizeParts([...base, ...e.target.split("/")]).join("/");
    if (gone.has(target) && !tree.has(target)) out.push(`/${e.path} → /${target}`);
  }
  return out.sort();
}

export function planRootfs(
  inputs: RootfsInput[],
  opts: { dropDocs?: boolean; mergedUsr?: boolean; arch?: string; dropPaths?: DropRule[] } = {},
): RootfsPlan {
  const dropDocs = opts.dropDocs !== false;
  const tree = new Map<string, PlannedEntry>();
  const packages = new Map<string, PackagePlan>();
  const replaces = new Map<string, Set<string>>();
  const dropped = { files: 0, bytes: 0 };
  const drops = new DropMatcher(opts.dropPaths ?? []);
  const lookup = (p: string) => tree.get(p);
  // merged /usr: trixie's base-files ships /bin, /lib, /lib64, /sbin → usr/...; on older suites
  // (bookworm) dpkg-level merging came from the usrmerge package's scripts, so the builder makes
  // the same symlinks (owned by base-files' layer) before anything is unpacked.
  const bf = inputs.find((i) => i.name === "base-files");
  if (
    bf &&
    opts.mergedUsr !== false &&
    !bf.info.entries.some((e) => e.path === "lib" && e.type === "symlink")
  ) {
    const links = ["bin", "sbin", "lib", ...(opts.arch === "amd64" ? ["lib64"] : [])];
    for (const l of links) {
      const mtime = bf.info.entries[0]?.mtime ?? 0;
      tree.set(l, {
        path: l,
        type: "symlink",
        target: `usr/${l}`,
        mode: 0o777,
        uid: 0,
        gid: 0,
        mtime,
        size: 0,
        pkg: "base-files",
        debPath: l,
      });
    }
  }
  for (const input of installOrder(inputs)) {
    const pp: PackagePlan = {
      name: input.name,
      installed: [],
      droppedPaths: new Set(),
      specDropped: [],
      replacedPaths: new Set(),
    };
    packages.set(input.name, pp);
    replaces.set(input.name, replacesNames(input.info));
    for (const e of input.info.entries) {
      const cp = canonicalPath(e.path, lookup);
      const rule = drops.match(input.name, e.path, cp);
      if (rule !== undefined) {
        drops.record(rule, input.name, e, cp);
        pp.droppedPaths.add(e.path);
        pp.specDropped.push(`/${cp}`);
        continue;
      }
      if (dropDocs && (isDropped(e.path) || isDropped(cp))) {
        pp.droppedPaths.add(e.path);
        if (e.type === "file") {
          dropped.files++;
          dropped.bytes += e.size;
        }
        continue;
      }
      const entry: PlannedEntry = {
        path: cp,
        type: e.type,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        mtime: e.mtime,
        size: e.size,
        md5: e.md5,
        pkg: input.name,
        debPath: e.path,
      };
      if (e.type === "symlink") entry.target = e.linkTarget;
      if (e.type === "hardlink") entry.target = canonicalPath(e.linkTarget ?? "", lookup);
      const old = tree.get(cp);
      pp.installed.push(e.path);
      if (!old) {
        tree.set(cp, entry);
        continue;
      }
      if (old.type === "dir" && e.type === "dir") continue;
      if (old.type === "symlink" && e.type === "dir") continue; // dpkg keeps a symlink to a directory
      const same =
        old.type === e.type &&
        ((e.type === "file" && old.md5 === e.md5 && old.size === e.size) ||
          (e.type === "symlink" && old.target === entry.target) ||
          (e.type === "hardlink" && old.target === entry.target));
      if (same) continue;
      if (replaces.get(input.name)?.has(old.pkg)) {
        tree.set(cp, entry);
        packages.get(old.pkg)?.replacedPaths.add(old.debPath);
        continue;
      }
      if (replaces.get(old.pkg)?.has(input.name)) {
        pp.installed.pop();
        pp.replacedPaths.add(e.path);
        continue;
      }
      throw new BuildError(
        "E_FILE_CONFLICT",
        `/${cp}: ${input.name} and ${old.pkg} both ship it with different content (${old.type} vs ${e.type}) and neither Replaces the other`,
        { hint: "exclude one of the packages (packages.exclude) or pin compatible versions" },
      );
    }
  }
  for (const pp of packages.values()) {
    if (pp.replacedPaths.size) pp.installed = pp.installed.filter((p) => !pp.replacedPaths.has(p));
  }
  for (const e of tree.values()) {
    if (e.type === "hardlink" && !tree.has(e.target ?? "")) {
      throw new BuildError(
        "E_DROP_PATHS",
        `/${e.path} (${e.pkg}) is a hard link to /${e.target}, which packages.drop-paths leaves out`,
        { hint: `drop /${e.path} as well, or keep /${e.target}` },
      );
    }
  }
  return {
    tree,
    packages,
    dropped,
    dropPaths: drops.outcomes,
    danglingLinks: linksToDropped(tree, drops.outcomes),
  };
}

/** A directory entry for an ancestor that no package ships. */
function syntheticDir(path: string): DirEntry {
  return { path, type: "dir", mode: 0o755, uid: 0, gid: 0 };
}

function ancestors(path: string): string[] {
  const parts = path.split("/");
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join("/"));
  return out;
}

/** A file's content: its bytes, or where the layer writer reads them (with their size). */
export type FileContent = Uint8Array | { size: number; content: TreeContent };

/** Content lookup: the content of `debPath` in package `pkg`. */
export type ContentOf = (pkg: string, debPath: string) => FileContent;

function fileContent(c: FileContent): { size: number; content: TreeContent } {
  return c instanceof Uint8Array ? { size: c.length, content: { kind: "bytes", data: c } } : c;
}

/**
 * The entries of one layer made of `pkgs`: the files they own in the plan, plus every
 * ancestor directory (with the metadata of the package that ships it). A hard link whose
 * target lives in another layer becomes a copy.
 */
export function packageLayerEntries(plan: RootfsPlan, pkgs: Set<string>, contentOf: ContentOf): TreeEntry[] {
  const out = new Map<string, TreeEntry>();
  const toTree = (e: PlannedEntry): TreeEntry => {
    const base = { path: e.path, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
    switch (e.type) {
      case "dir":
        return { ...base, type: "dir" };
      case "symlink":
        return { ...base, type: "symlink", target: e.target ?? "" };
      case "hardlink": {
        const t = plan.tree.get(e.target ?? "");
        if (t && t.type === "file" && pkgs.has(t.pkg)) return { ...base, type: "hardlink", target: t.path };
        if (t?.type !== "file")
          throw new BuildError("E_BUILD", `/${e.path}: hard link to missing /${e.target}`);
        return { ...base, type: "file", ...fileContent(contentOf(t.pkg, t.debPath)) };
      }
      default: {
        const c = fileContent(contentOf(e.pkg, e.debPath));
        if (c.size !== e.size) throw new BuildError("E_BUILD", `/${e.path}: content size changed`);
        return { ...base, type: "file", ...c };
      }
    }
  };
  for (const e of plan.tree.values()) {
    if (!pkgs.has(e.pkg)) continue;
    out.set(e.path, toTree(e));
  }
  for (const p of [...out.keys()]) {
    for (const a of ancestors(p)) {
      if (out.has(a)) continue;
      const d = plan.tree.get(a);
      out.set(
        a,
        d && d.type === "dir"
          ? { path: a, type: "dir", mode: d.mode, uid: d.uid, gid: d.gid, mtime: d.mtime }
          : syntheticDir(a),
      );
    }
  }
  return [...out.values()];
}

/**
 * Builds a layer of generated entries on top of the planned tree: absolute paths are resolved
 * through the tree's symlinks (so /var/run/x lands in run/x when /var/run → /run), missing
 * ancestors are created 0755 root (or with the tree's metadata when a package ships them).
 */
export class GeneratedLayer {
  readonly entries = new Map<string, TreeEntry>();
  private readonly plan: RootfsPlan;
  constructor(plan: RootfsPlan) {
    this.plan = plan;
  }
  private lookup = (p: string): { type: string; target?: string } | undefined => {
    const own = this.entries.get(p);
    if (own) return own.type === "symlink" ? { type: "symlink", target: own.target } : own;
    return this.plan.tree.get(p);
  };
  /** canonical relative path for an absolute image path */
  resolve(abs: string): string {
    const rel = normalizeParts(abs.split("/")).join("/");
    if (!rel) throw new BuildError("E_BUILD", `cannot write the root directory itself`);
    return canonicalPath(rel, this.lookup);
  }
  private ensureParents(rel: string): void {
    for (const a of ancestors(rel)) {
      if (this.entries.has(a)) continue;
      const d = this.plan.tree.get(a);
      this.entries.set(
        a,
        d && d.type === "dir"
          ? { path: a, type: "dir", mode: d.mode, uid: d.uid, gid: d.gid }
          : syntheticDir(a),
      );
    }
  }
  file(abs: string, data: Uint8Array | string, mode = 0o644, uid = 0, gid = 0): string {
    const rel = this.resolve(abs);
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    this.ensureParents(rel);
    this.entries.set(rel, {
      path: rel,
      type: "file",
      mode,
      uid,
      gid,
      size: bytes.length,
      content: { kind: "bytes", data: bytes },
    });
    return rel;
  }
  diskFile(abs: string, src: string, size: number, mode: number, uid = 0, gid = 0): string {
    const rel = this.resolve(abs);
    this.ensureParents(rel);
    this.entries.set(rel, {
      path: rel,
      type: "file",
      mode,
      uid,
      gid,
      size,
      content: { kind: "file", path: src },
    });
    return rel;
  }
  dir(abs: string, mode = 0o755, uid = 0, gid = 0): string {
    const rel = this.resolve(abs);
    this.ensureParents(rel);
    this.entries.set(rel, { path: rel, type: "dir", mode, uid, gid });
    return rel;
  }
  symlink(abs: string, target: string, uid = 0, gid = 0): string {
    const rel = this.resolve(abs);
    this.ensureParents(rel);
    this.entries.set(rel, { path: rel, type: "symlink", mode: 0o777, uid, gid, target });
    return rel;
  }
  /** does the image (tree or this layer) have something at `abs`? */
  exists(abs: string): boolean {
    const rel = this.resolve(abs);
    return this.entries.has(rel) || this.plan.tree.has(rel);
  }
  list(): TreeEntry[] {
    return [...this.entries.values()];
  }
}
