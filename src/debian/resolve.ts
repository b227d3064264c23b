/**
 * The dependency closure of a request, chosen the way apt chooses it for an empty system
 * (`apt-get install --simulate` with an empty dpkg status, Recommends off, no Essential set
 * added), so that `shellfree resolve X` and apt give the same package set.
 *
 * What "the way apt chooses" means here (apt-pkg/depcache.cc, pkgDepCache::MarkInstall):
 * - every name has one candidate: the highest version in any source (all sources have the same
 *   pin), or the version a pin (`pkg=ver`) names;
 * - the requested packages are marked first, then their dependencies are installed depth-first,
 *   Pre-Depends and Depends in the order the index lists them;
 * - an or-group already satisfied by something marked is left alone; otherwise its possible
 *   solutions are tried in order: alternatives left to right, and for each alternative the
 *   real package of that name before providers, then Essential, then `Important`/`Protected`,
 *   then the more important Priority, then the package apt's cache created last;
 * - a package whose dependencies cannot be met by any candidate is not chosen (the next
 *   solution is tried), and Conflicts/Breaks of a package being installed unmark what they
 *   hit, or make it uninstallable when the conflict comes from a requested package.
 * When the result still has unmet dependencies the request is unsatisfiable and the error
 * names the chain that fails (apt's problem resolver is not emulated: where apt would then
 * search for another solution, shellfree reports the first failure instead).
 *
 * The universe is one architecture: packages of that architecture and `all`. `foo:any` is
 * satisfied by a `Multi-Arch: allowed` foo (or by what such a package provides), `foo:native`
 * and `foo:<arch>` by foo itself, any other architecture qualifier by nothing.
 */
import { DebianError } from "./errors.ts";
import {
  forEachRelationTarget,
  formatDependency,
  formatOrGroup,
  type OrGroup,
  parseRelations,
} from "./relation.ts";
import type { BinaryPackage, PackageUniverse, Resolution } from "./types.ts";
import { compareVersions, parseVersion, type Relation, satisfiesRelation } from "./version.ts";

/**
 * The resolver's answers change only with this number: bump it with any change here (or in
 * relation.ts/version.ts) that can change which packages a request resolves to. Cached
 * resolutions (src/builder) are keyed by it.
 */
export const RESOLVER_VERSION = 1;

export interface ResolveOptions {
  /** follow Recommends too (apt's APT::Install-Recommends); off by default */
  withRecommends?: boolean;
  /**
   * Package names never put in the closure: a dependency that would install one of them is
   * treated as met, and the package is reported in `Resolution.excluded` with who wanted it.
   */
  exclude?: string[];
}

/** One requested package: `name`, `name:arch` or `name=version`. */
export interface ParsedRequest {
  name: string;
  version?: string;
}

type DepType = "Pre-Depends" | "Depends" | "Recommends" | "Conflicts" | "Breaks";

interface Target {
  /** the name apt looks the dependency up under: "foo", "foo:any", "foo:arm64" */
  key: string;
  op?: Relation;
  version?: string;
  text: string;
}

interface DepGroup {
  type: DepType;
  targets: Target[];
  /** the group as written, for messages */
  text: string;
}

interface Ver {
  pkg: Pkg;
  bin: BinaryPackage;
  version: string;
  /** apt's VerPriority: required 1 … extra 5, 0 when the field is absent (read on first use) */
  priority?: number;
  multiArch: string;
  deps?: DepGroup[];
}

interface Pkg {
  name: string;
  /** highest version first */
  versions: Ver[];
  candidate: Ver | null;
  /** the candidate before the run changed anything (for messages) */
  original: Ver | null;
  installVer: Ver | null;
  install: boolean;
  protect: boolean;
  essential: boolean;
  /** `Important: yes` or `Protected: yes` in any version (read on first use) */
  important?: boolean;
  excluded: boolean;
}

/** One alternative's candidate versions, ranked on first use. */
interface Alternative {
  key: string;
  vers: Ver[];
  /** which candidates were protected when apt would have ranked them; unset once ranked */
  protectedNow?: Set<Ver>;
}

interface Provide {
  ver: Ver;
  /** the provided version; undefined for an unversioned Provides */
  version?: string;
}

const PRIORITIES: Record<string, number> = { required: 1, important: 2, standard: 3, optional: 4, extra: 5 };
const SIMPLE_NAME = /^[a-z0-9][a-z0-9+.-]*$/;
const PROVIDE =
  /^\s*([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^\s)]+)\s*\))?\s*$/i;
const CRITICAL = new Set<DepType>(["Pre-Depends", "Depends"]);
const NEGATIVE = new Set<DepType>(["Conflicts", "Breaks"]);

/** Parse `name`, `name:arch` or `name=version` as given on a command line. */
export function parseRequest(s: string, arch: string): ParsedRequest {
  let name = s.trim();
  let version: string | undefined;
  const eq = name.indexOf("=");
  if (eq !== -1) {
    version = name.slice(eq + 1);
    name = name.slice(0, eq);
    parseVersion(version); // a clear E_VERSION for a malformed pin
  }
  const colon = name.indexOf(":");
  if (colon !== -1) {
    const q = name.slice(colon + 1);
    if (q !== arch && q !== "all" && q !== "native" && q !== "any") {
      throw new DebianError(
        "E_NOT_FOUND",
        `package '${s}': architecture '${q}' is not the one resolved (${arch})`,
      );
    }
    name = name.slice(0, colon);
  }
  if (!/^[a-z0-9][a-z0-9+.-]*$/i.test(name)) {
    throw new DebianError("E_NOT_FOUND", `'${s}' is not a package name`, {
      hint: "request packages as NAME, NAME:ARCH or NAME=VERSION",
    });
  }
  return version === undefined ? { name } : { name, version };
}

/**
 * What the resolver reads off a universe before it starts: packages by name and who provides
 * what. Built once per universe object (a second resolve in the same process reuses it).
 */
interface UniverseIndex {
  /** the universe's packages of its architecture by name, in index order */
  byName: Map<string, BinaryPackage | BinaryPackage[]>;
  /** provided name → the packages (index order) that provide it, with the provided version */
  provides: Map<string, Array<{ bin: BinaryPackage; version?: string }>>;
}

const INDEXES = new WeakMap<PackageUniverse, UniverseIndex>();

/**
 * The relationship fields in the order apt's cache generator meets them in a package (after
 * its name): the first mention of every name, over a whole archive, orders equal candidates.
 * With each, its deb822 name (for packages that carry it only in `fields`).
 */
const MENTION_FIELDS = [
  ["preDepends", "Pre-Depends"],
  ["depends", "Depends"],
  ["conflicts", "Conflicts"],
  ["breaks", "Breaks"],
  ["recommends", "Recommends"],
  ["suggests", "Suggests"],
  ["replaces", "Replaces"],
  ["enhances", "Enhances"],
  ["provides", "Provides"],
] as const;

function targetKeyFor(name: string, q: string | undefined, arch: string): string {
  if (q === undefined || q === "native" || q === arch) return name;
  return `${name}:${q}`;
}

function indexUniverse(universe: PackageUniverse): UniverseIndex {
  const cached = INDEXES.get(universe);
  if (cached) return cached;
  const arch = universe.arch;
  const byName = new Map<string, BinaryPackage | BinaryPackage[]>();
  const provides = new Map<string, Array<{ bin: BinaryPackage; version?: string }>>();
  const add = (key: string, bin: BinaryPackage, version: string | undefined) => {
    const entry = version === undefined ? { bin } : { bin, version };
    const list = provides.get(key);
    if (list) list.push(entry);
    else provides.set(key, [entry]);
  };
  for (const bin of universe.packages) {
    const a = bin.architecture;
    if (a !== arch && a !== "all") continue;
    const name = bin.name;
    const prev = byName.get(name);
    if (prev === undefined) byName.set(name, bin);
    else if (Array.isArray(prev)) prev.push(bin);
    else byName.set(name, [prev, bin]);
    // (the implicit `name:any` provides of Multi-Arch: allowed packages are derived on lookup)
    const prov = bin.provides;
    if (prov) {
      for (const raw of prov.split(",")) {
        const item = raw.trim();
        if (!item) continue;
        if (SIMPLE_NAME.test(item)) {
          add(item, bin, undefined);
          continue;
        }
        const m = PROVIDE.exec(item);
        if (!m)
          throw new DebianError("E_INDEX", `${name} ${bin.version}: cannot parse Provides item '${item}'`);
        // apt ignores Provides with a relation other than '='
        if (m[3] !== undefined && m[3] !== "=") continue;
        add(targetKeyFor(m[1], m[2], arch), bin, m[4]);
      }
    }
  }
  const ix = { byName, provides };
  INDEXES.set(universe, ix);
  return ix;
}

class Resolver {
  private readonly ix: UniverseIndex;
  private readonly pkgs = new Map<string, Pkg | null>();
  private readonly verOfBin = new Map<BinaryPackage, Ver>();
  private readonly provideCache = new Map<string, Provide[]>();
  private readonly excludeSet: Set<string>;
  /** first-mention positions found so far (see id) */
  private readonly ids = new Map<string, number>();
  /** how many packages id() has scanned */
  private idScan = 0;
  private readonly universe: PackageUniverse;
  private readonly withRecommends: boolean;

  constructor(universe: PackageUniverse, opts: ResolveOptions) {
    this.universe = universe;
    this.withRecommends = opts.withRecommends ?? false;
    this.excludeSet = new Set(opts.exclude ?? []);
    this.ix = indexUniverse(universe);
  }

  /** The package `name` as apt's cache holds it (built on first use), or undefined. */
  private pkg(name: string): Pkg | undefined {
    let p: Pkg | null | undefined = this.pkgs.get(name);
    if (p === undefined) {
      p = null;
      const found = this.ix.byName.get(name);
      if (found) {
        const bins = Array.isArray(found) ? found : [found];
        const pkg: Pkg = {
          name,
          versions: [],
          candidate: null,
          original: null,
          installVer: null,
          install: false,
          protect: false,
          essential: name === "apt", // apt's pkgCacheGen::ForceEssential
          excluded: this.excludeSet.has(name),
        };
        for (const bin of bins) {
          // the same version from a later source is the same package to apt: first one wins
          if (pkg.versions.some((v) => v.version === bin.version)) continue;
          const ver: Ver = { pkg, bin, version: bin.version, multiArch: bin.multiArch || "no" };
          pkg.versions.push(ver);
          this.verOfBin.set(bin, ver);
          if (bin.essential) pkg.essential = true;
        }
        pkg.versions.sort((a, b) => compareVersions(b.version, a.version));
        pkg.candidate = pkg.original = pkg.versions[0];
        p = pkg;
      }
      this.pkgs.set(name, p);
    }
    return p ?? undefined;
  }

  /** Who provides `key` (apt's ProvidesList), as versions. */
  private providers(key: string): Provide[] {
    const cached = this.provideCache.get(key);
    if (cached) return cached;
    const list: Provide[] = [];
    const push = (e: { bin: BinaryPackage; version?: string }, onlyAllowed: boolean) => {
      this.pkg(e.bin.name);
      const ver = this.verOfBin.get(e.bin);
      // a duplicate of a version already seen adds nothing to apt's cache
      if (!ver || (onlyAllowed && ver.multiArch !== "allowed")) return;
      list.push(e.version === undefined ? { ver } : { ver, version: e.version });
    };
    for (const e of this.ix.provides.get(key) ?? []) push(e, false);
    if (key.endsWith(":any")) {
      // apt's implicit provides: a Multi-Arch: allowed package provides `name:any` (at its
      // version) and `p:any` for each unqualified `p` it provides
      const base = key.slice(0, -4);
      for (const v of this.pkg(base)?.versions ?? []) {
        if (v.multiArch === "allowed") list.push({ ver: v, version: v.version });
      }
      for (const e of this.ix.provides.get(base) ?? []) push(e, true);
    }
    this.provideCache.set(key, list);
    return list;
  }

  private targetKey(name: string, q: string | undefined): string {
    return targetKeyFor(name, q, this.universe.arch);
  }

  // ---- dependencies of a version, parsed on first use -------------------------------------

  private depsOf(ver: Ver): DepGroup[] {
    if (ver.deps) return ver.deps;
    const out: DepGroup[] = [];
    const fields: Array<[DepType, string]> = [
      ["Pre-Depends", ver.bin.preDepends],
      ["Depends", ver.bin.depends],
      ["Conflicts", ver.bin.conflicts],
      ["Breaks", ver.bin.breaks],
      ["Recommends", ver.bin.recommends],
    ];
    for (const [type, text] of fields) {
      if (!text?.trim()) continue;
      let groups: OrGroup[];
      try {
        groups = parseRelations(text, this.universe.arch);
      } catch (e) {
        throw new DebianError(
          "E_INDEX",
          `${ver.pkg.name} ${ver.version}: ${type}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      for (const g of groups) {
        out.push({
          type,
          text: formatOrGroup(g),
          targets: g.map((d) => ({
            key: this.targetKey(d.name, d.archQualifier),
            op: d.op,
            version: d.version,
            text: formatDependency(d),
          })),
        });
      }
    }
    ver.deps = out;
    return out;
  }

  private important(g: DepGroup): boolean {
    return g.type !== "Recommends" || this.withRecommends;
  }

  // ---- what satisfies a dependency ---------------------------------------------------------

  private verOk(t: Target, version: string | undefined): boolean {
    if (t.op === undefined) return true;
    if (version === undefined) return false;
    return satisfiesRelation(version, t.op, t.version!);
  }

  /** apt's DepInstall: satisfied by what is marked for install. */
  private satisfiedByInstall(t: Target): boolean {
    const p = this.pkg(t.key);
    if (p?.install && p.installVer && this.verOk(t, p.installVer.version)) return true;
    for (const prv of this.providers(t.key)) {
      if (prv.ver.pkg.install && prv.ver.pkg.installVer === prv.ver && this.verOk(t, prv.version))
        return true;
    }
    return false;
  }

  /** apt's DepCVer: satisfiable by candidate versions. */
  private satisfiableByCandidate(t: Target): boolean {
    const p = this.pkg(t.key);
    if (p?.candidate && this.verOk(t, p.candidate.version)) return true;
    for (const prv of this.providers(t.key)) {
      if (prv.ver.pkg.candidate === prv.ver && this.verOk(t, prv.version)) return true;
    }
    return false;
  }

  /** apt's VersionContainerInterface::FromDependency(CANDIDATE) for one alternative. */
  private candidatesFor(t: Target, parent: Pkg, negative: boolean): Ver[] {
    const out: Ver[] = [];
    const p = this.pkg(t.key);
    if (p?.candidate && !(negative && p === parent) && this.verOk(t, p.candidate.version))
      out.push(p.candidate);
    for (const prv of this.providers(t.key)) {
      if (negative && prv.ver.pkg === parent) continue;
      if (prv.ver.pkg.candidate === prv.ver && this.verOk(t, prv.version)) out.push(prv.ver);
    }
    return out;
  }

  /**
   * apt's getAllPossibleSolutions(CANDIDATE, sorted): alternatives in order, and within one
   * alternative the candidates ranked by apt's CompareProviders. apt ranks every alternative
   * before it marks anything; the only part of the ranking that marking can change is the
   * protected flag, so that is taken now and the ranking itself is done when (if) the
   * alternative is reached (`ordered`).
   */
  private solutions(g: DepGroup, parent: Pkg): Alternative[] {
    const negative = NEGATIVE.has(g.type);
    const seen = new Set<Ver>();
    const out: Alternative[] = [];
    for (const t of g.targets) {
      const vers = this.candidatesFor(t, parent, negative).filter((v) => {
        if (seen.has(v)) return false;
        seen.add(v);
        return negative || !(v.pkg.protect && !v.pkg.install);
      });
      if (!vers.length) continue;
      const protectedNow =
        vers.length > 1 && !negative ? new Set(vers.filter((v) => v.pkg.protect)) : undefined;
      out.push({ key: t.key, vers, protectedNow });
    }
    return out;
  }

  /** An alternative's candidates in apt's order (ties: the package its cache created last first). */
  private ordered(alt: Alternative): Ver[] {
    const snap = alt.protectedNow;
    if (snap) {
      alt.vers.sort((a, b) => this.rank(a, b, alt.key, snap) || this.id(b.pkg.name) - this.id(a.pkg.name));
      alt.protectedNow = undefined;
    }
    return alt.vers;
  }

  /**
   * apt's CompareProviders up to its last tie-break (negative when `a` is preferred): protected
   * first, then the real package of the name looked up, Essential, Important/Protected, and the
   * more important Priority. Equal here means only the cache-creation order decides.
   */
  private rank(a: Ver, b: Ver, key: string, protectedNow: Set<Ver>): number {
    const A = a.pkg;
    const B = b.pkg;
    if (A === B) return 0;
    const ap = protectedNow.has(a);
    if (ap !== protectedNow.has(b)) return ap ? -1 : 1;
    if ((A.name === key) !== (B.name === key)) return A.name === key ? -1 : 1;
    if (A.essential !== B.essential) return A.essential ? -1 : 1;
    const ai = importantOf(A);
    const bi = importantOf(B);
    if (ai !== bi) return ai ? -1 : 1;
    return priorityOf(a) - priorityOf(b);
  }

  /**
   * The order in which apt's cache generator would have created the package: first mention
   * in the indices (as a package, a dependency target or a provided name). Only breaks ties
   * between otherwise equal providers, so it is computed on first need.
   */
  private id(name: string): number {
    // The universe is scanned only as far as needed: a name's position is final once it has
    // been met, and the names ties are broken on are usually met early.
    const ids = this.ids;
    let v = ids.get(name);
    const pkgs = this.universe.packages;
    const arch = this.universe.arch;
    const touch = (n: string) => {
      if (!ids.has(n)) ids.set(n, ids.size);
    };
    const norm = (n: string, q: string | undefined) =>
      q === undefined || q === "native" || q === arch ? n : `${n}:${q}`;
    const onTarget = (n: string, q: string | undefined) => touch(norm(n, q));
    while (v === undefined && this.idScan < pkgs.length) {
      const bin = pkgs[this.idScan++];
      if (bin.architecture !== arch && bin.architecture !== "all") continue;
      touch(bin.name);
      for (const [f, deb822] of MENTION_FIELDS) {
        const field = bin[f] ?? bin.fields[deb822];
        if (field) forEachRelationTarget(field, onTarget);
      }
      v = ids.get(name);
    }
    return v ?? ids.size;
  }

  // ---- apt's marking -----------------------------------------------------------------------

  private stateChange(p: Pkg): void {
    p.install = true;
    p.installVer = p.candidate;
  }

  private discardInstall(p: Pkg): void {
    p.install = false;
    p.installVer = null;
    p.candidate = null;
  }

  private markKeep(p: Pkg): boolean {
    if (!p.install) return true;
    if (p.protect) return false;
    p.install = false;
    p.installVer = null;
    return true;
  }

  /**
   * apt's InstBroken: a Pre-Depends/Depends of the marked version is unmet or a Conflicts/Breaks
   * hits a marked package; with `policy`, apt's InstPolicyBroken (unmet Recommends count too
   * when Recommends are followed).
   */
  brokenGroup(p: Pkg, policy = false): DepGroup | undefined {
    if (!p.install || !p.installVer || p.excluded) return undefined;
    for (const g of this.depsOf(p.installVer)) {
      if (NEGATIVE.has(g.type)) {
        if (this.solutionsInstalled(g, p).length) return g;
        continue;
      }
      if (!CRITICAL.has(g.type) && !(policy && this.important(g))) continue;
      if (!g.targets.some((t) => this.satisfiedByInstall(t))) return g;
    }
    return undefined;
  }

  private solutionsInstalled(g: DepGroup, parent: Pkg): Ver[] {
    const out: Ver[] = [];
    for (const t of g.targets) {
      const p = this.pkg(t.key);
      if (p?.install && p.installVer && p !== parent && this.verOk(t, p.installVer.version))
        out.push(p.installVer);
      for (const prv of this.providers(t.key)) {
        if (prv.ver.pkg === parent) continue;
        if (prv.ver.pkg.install && prv.ver.pkg.installVer === prv.ver && this.verOk(t, prv.version))
          out.push(prv.ver);
      }
    }
    return out.filter((v) => !v.pkg.excluded);
  }

  /** apt's IsInstallOkDependenciesSatisfiableByCandidates. */
  private installOk(p: Pkg, autoInst: boolean): boolean {
    if (!autoInst || !p.candidate) return true;
    for (const g of this.depsOf(p.candidate)) {
      if (!CRITICAL.has(g.type)) continue;
      if (g.targets.some((t) => this.satisfiedByInstall(t) || this.satisfiableByCandidate(t))) continue;
      if (!p.protect) {
        p.candidate = null;
        p.install = false;
        p.installVer = null;
      }
      return false;
    }
    return true;
  }

  markInstall(p: Pkg, autoInst: boolean, fromUser: boolean): boolean {
    if (p.excluded) {
      if (!p.candidate) return false;
      if (!p.install) this.stateChange(p);
      return true;
    }
    // IsModeChangeOk
    if (!fromUser && !p.install && p.protect) return false;
    if (!p.candidate) return false;
    if (!p.protect && p.install && !this.brokenGroup(p, true)) return true;
    if (!this.installOk(p, autoInst)) return false;
    if (fromUser) this.stateChange(p);

    const failEarly = !p.protect && !fromUser;
    let hasFailed = false;
    if (!autoInst) {
      if (!fromUser) this.stateChange(p);
      return true;
    }
    const PV = p.candidate;
    const propagate = p.protect;
    const toInstall: DepGroup[] = [];
    const toRemove: DepGroup[] = [];
    for (const g of this.depsOf(PV)) {
      if (g.targets.some((t) => this.satisfiedByInstall(t)) && !propagate && !NEGATIVE.has(g.type)) continue;
      if (!this.important(g)) continue;
      (NEGATIVE.has(g.type) ? toRemove : toInstall).push(g);
    }
    if (!this.removeConflicts(p, toRemove, propagate, fromUser)) {
      if (failEarly) return false;
      hasFailed = true;
    }
    if (!fromUser) this.stateChange(p);

    if (!propagate) p.protect = true;
    try {
      if (!this.installDependencies(p, toInstall, propagate, fromUser)) {
        if (failEarly) {
          this.discardInstall(p);
          return false;
        }
        hasFailed = true;
      }
    } finally {
      if (!propagate) p.protect = false;
    }
    return !hasFailed;
  }

  private removeConflicts(p: Pkg, toRemove: DepGroup[], propagate: boolean, fromUser: boolean): boolean {
    let failed = false;
    for (const g of toRemove) {
      for (const v of this.solutions(g, p).flatMap((alt) => alt.vers)) {
        const q = v.pkg;
        if (q.candidate !== v || q.excluded) continue;
        if (q.install && !this.markKeep(q)) {
          failed = true;
          if (!propagate && !fromUser) break;
        } else if (propagate) {
          q.candidate = q.installVer;
          q.protect = true;
        }
      }
      if (failed && !propagate && !fromUser) break;
    }
    return !failed;
  }

  private installDependencies(p: Pkg, toInstall: DepGroup[], propagate: boolean, fromUser: boolean): boolean {
    let failed = false;
    for (const g of toInstall) {
      let found = g.targets.some((t) => this.satisfiedByInstall(t));
      if (found && !propagate) continue;
      const critical = CRITICAL.has(g.type);
      if (found) {
        if (!critical) continue;
        const sols = new Set(
          g.targets
            .flatMap((t) => this.candidatesFor(t, p, false))
            .filter((v) => !(v.pkg.protect && !v.pkg.install)),
        );
        if (sols.size !== 1) continue;
        const q = [...sols][0].pkg;
        if (q.protect) continue;
        q.protect = true;
        if (!this.markInstall(q, true, false)) failed = true;
        continue;
      }
      const alts = this.solutions(g, p);
      const only = alts.length === 1 && alts[0].vers.length === 1;
      search: for (const alt of alts) {
        for (const v of this.ordered(alt)) {
          const q = v.pkg;
          if (q.candidate !== v) continue;
          if (propagate && critical && only) {
            if (!this.markInstall(q, false, false)) continue;
            q.protect = true;
          }
          if (!this.markInstall(q, true, false)) continue;
          found = true;
          break search;
        }
      }
      if (!found && critical) {
        failed = true;
        if (!propagate && !fromUser) break;
      }
    }
    return !failed;
  }

  // ---- the request -------------------------------------------------------------------------

  resolve(requests: string[]): Resolution {
    const wanted: Pkg[] = [];
    for (const r of requests) {
      const req = parseRequest(r, this.universe.arch);
      const p = this.requested(req);
      if (p.excluded) {
        throw new DebianError("E_UNSATISFIABLE", `${p.name} is both requested and excluded`, {
          hint: "remove it from the exclude list or from the request",
        });
      }
      if (req.version !== undefined) {
        const v = p.versions.find((x) => compareVersions(x.version, req.version!) === 0);
        if (!v) {
          throw new DebianError(
            "E_NOT_FOUND",
            `version ${req.version} of ${p.name} is not in the archive (available: ${p.versions.map((x) => x.version).join(", ")})`,
          );
        }
        p.candidate = p.original = v;
      }
      if (!wanted.includes(p)) wanted.push(p);
    }
    for (const p of wanted) {
      p.protect = true;
      this.markInstall(p, false, true);
    }
    for (const p of wanted) this.markInstall(p, true, true);

    const installed = [...this.pkgs.values()].filter((p): p is Pkg => !!p?.install && !!p.installVer);
    const closure = installed.filter((p) => !p.excluded);
    for (const p of this.reachOrder(wanted)) {
      const g = this.brokenGroup(p);
      if (g) throw this.unsatisfiable(p, g, wanted);
    }
    for (const p of closure) {
      const g = this.brokenGroup(p);
      if (g) throw this.unsatisfiable(p, g, wanted);
    }

    const excluded = installed
      .filter((p) => p.excluded)
      .map((x) => ({
        name: x.name,
        wantedBy: closure
          .filter((p) =>
            this.depsOf(p.installVer!).some(
              (g) =>
                (CRITICAL.has(g.type) || this.important(g)) &&
                !NEGATIVE.has(g.type) &&
                g.targets.some((t) => this.satisfiedVia(t, x)) &&
                !g.targets.some((t) => this.satisfiedByInstallExcept(t, x)),
            ),
          )
          .map((p) => p.name)
          .sort(byName),
      }))
      .sort((a, b) => byName(a.name, b.name));
    return {
      packages: closure.map((p) => p.installVer!.bin).sort((a, b) => byName(a.name, b.name)),
      excluded,
    };
  }

  private satisfiedVia(t: Target, x: Pkg): boolean {
    if (t.key === x.name && this.verOk(t, x.installVer!.version)) return true;
    return this.providers(t.key).some((prv) => prv.ver === x.installVer && this.verOk(t, prv.version));
  }

  private satisfiedByInstallExcept(t: Target, x: Pkg): boolean {
    const p = this.pkg(t.key);
    if (p && p !== x && p.install && p.installVer && this.verOk(t, p.installVer.version)) return true;
    return this.providers(t.key).some(
      (prv) =>
        prv.ver.pkg !== x &&
        prv.ver.pkg.install &&
        prv.ver.pkg.installVer === prv.ver &&
        this.verOk(t, prv.version),
    );
  }

  /** The package a request names, or the only provider of a virtual name (as apt selects it). */
  private requested(req: ParsedRequest): Pkg {
    const p = this.pkg(req.name);
    if (p?.versions.length) return p;
    const providers = [...new Set(this.providers(req.name).map((x) => x.ver.pkg))];
    if (providers.length === 1 && req.version === undefined) return providers[0];
    if (providers.length > 1) {
      throw new DebianError(
        "E_UNSATISFIABLE",
        `${req.name} is a virtual package provided by ${providers
          .map((x) => x.name)
          .sort(byName)
          .join(", ")}`,
        { hint: "request one of them by name" },
      );
    }
    throw new DebianError(
      "E_NOT_FOUND",
      `package ${req.name} is not in the archive (${this.universe.arch})`,
      {
        hint: "check the spelling, the suite and the components of the sources",
      },
    );
  }

  /** Marked packages in breadth-first order from the request, with the path to each. */
  private paths(wanted: Pkg[]): Map<Pkg, Pkg[]> {
    const path = new Map<Pkg, Pkg[]>();
    const queue: Pkg[] = [];
    for (const p of wanted) {
      if (!path.has(p)) {
        path.set(p, [p]);
        queue.push(p);
      }
    }
    while (queue.length) {
      const p = queue.shift()!;
      if (!p.installVer || p.excluded) continue;
      for (const g of this.depsOf(p.installVer)) {
        if (NEGATIVE.has(g.type) || !this.important(g)) continue;
        for (const t of g.targets) {
          const hits: Pkg[] = [];
          const q = this.pkg(t.key);
          if (q?.install) hits.push(q);
          for (const prv of this.providers(t.key)) if (prv.ver.pkg.install) hits.push(prv.ver.pkg);
          for (const h of hits) {
            if (!path.has(h)) {
              path.set(h, [...path.get(p)!, h]);
              queue.push(h);
            }
          }
        }
      }
    }
    return path;
  }

  /**
   * Why `target` is in the closure this resolver's universe is: the shortest chain from a
   * requested package (`roots`) to it, as `paths` finds it (every package taken as installed).
   */
  chainTo(target: string, roots: string[]): string[] {
    for (const bin of this.universe.packages) {
      const p = this.pkg(bin.name);
      if (!p) continue;
      p.install = true;
      p.installVer = this.verOfBin.get(bin) ?? p.versions[0];
    }
    const wanted = roots.map((r) => this.pkg(r)).filter((p): p is Pkg => p !== undefined);
    const chain = this.paths(wanted).get(this.pkg(target) as Pkg);
    return chain ? chain.map((p) => p.name) : [target];
  }

  private reachOrder(wanted: Pkg[]): Pkg[] {
    return [...this.paths(wanted).keys()];
  }

  // ---- explaining a failure ----------------------------------------------------------------

  private unsatisfiable(p: Pkg, g: DepGroup, wanted: Pkg[]): DebianError {
    const chain = (this.paths(wanted).get(p) ?? [p]).map((x) => x.name);
    let detail: string;
    if (NEGATIVE.has(g.type)) {
      const hit = this.solutionsInstalled(g, p).map((v) => v.pkg.name);
      const verb = g.type === "Conflicts" ? "conflicts with" : "breaks";
      detail = `${verb} ${g.text} : but ${hit.join(", ")} is needed too`;
    } else {
      detail = this.explainGroup(g, new Set([p.name]));
    }
    return new DebianError("E_UNSATISFIABLE", `unsatisfiable: ${chain.join(" → ")} → ${detail}`, {
      hint: "pin another version (pkg=ver), add a source that has it, or exclude the package that needs it",
    });
  }

  /** "dep : reason", following the first installable-looking alternative one level deeper. */
  private explainGroup(g: DepGroup, seen: Set<string>): string {
    const reasons: string[] = [];
    for (const t of g.targets) {
      const cands = this.originalCandidatesFor(t);
      if (cands.length) {
        const v = cands[0];
        if (!seen.has(v.pkg.name) && seen.size < 12) {
          seen.add(v.pkg.name);
          for (const sub of this.depsOf(v)) {
            if (!CRITICAL.has(sub.type)) continue;
            if (sub.targets.some((st) => this.originalCandidatesFor(st).length)) continue;
            const via = v.pkg.name === t.key ? "" : ` (provided by ${v.pkg.name})`;
            return `${t.text}${via} → ${this.explainGroup(sub, seen)}`;
          }
        }
        const clash = this.findClash(v);
        reasons.push(
          clash
            ? `${t.text}: ${clash}`
            : `${t.text}: ${v.pkg.name} ${v.version} cannot be installed with the rest`,
        );
        continue;
      }
      reasons.push(g.targets.length > 1 ? `${t.text}: ${this.why(t)}` : this.why(t));
    }
    return g.targets.length > 1 ? `${g.text} : ${reasons.join("; ")}` : `${g.text} : ${reasons[0]}`;
  }

  /**
   * Why `start` could not be installed when its dependencies exist: the first package in its
   * dependency tree (first available alternatives, breadth first) that conflicts with, or is
   * broken by, a package being installed. "a → b conflicts with c", or undefined.
   */
  private findClash(start: Ver): string | undefined {
    const installed = [...this.pkgs.values()].filter(
      (p): p is Pkg => !!p?.install && !!p.installVer && !p.excluded,
    );
    const seen = new Set<Pkg>([start.pkg]);
    const queue: Array<{ v: Ver; path: string[] }> = [{ v: start, path: [start.pkg.name] }];
    for (let n = 0; queue.length && n < 500; n++) {
      const { v, path } = queue.shift()!;
      const at = path.join(" → ");
      for (const g of this.depsOf(v)) {
        if (!NEGATIVE.has(g.type)) continue;
        for (const t of g.targets) {
          const hit = installed.find(
            (q) => q !== v.pkg && q.installVer && this.verOk(t, q.installVer.version) && q.name === t.key,
          );
          if (hit) return `${at} ${g.type === "Conflicts" ? "conflicts with" : "breaks"} ${hit.name}`;
        }
      }
      for (const q of installed) {
        if (q === v.pkg) continue;
        for (const g of this.depsOf(q.installVer!)) {
          if (
            NEGATIVE.has(g.type) &&
            g.targets.some((t) => t.key === v.pkg.name && this.verOk(t, v.version))
          ) {
            return `${at}: ${q.name} ${g.type === "Conflicts" ? "conflicts with" : "breaks"} it`;
          }
        }
      }
      for (const g of this.depsOf(v)) {
        if (!CRITICAL.has(g.type)) continue;
        const next = g.targets.flatMap((t) => this.originalCandidatesFor(t))[0];
        if (next && !seen.has(next.pkg)) {
          seen.add(next.pkg);
          queue.push({ v: next, path: [...path, next.pkg.name] });
        }
      }
    }
    return undefined;
  }

  private originalCandidatesFor(t: Target): Ver[] {
    const out: Ver[] = [];
    const p = this.pkg(t.key);
    if (p?.original && this.verOk(t, p.original.version)) out.push(p.original);
    for (const prv of this.providers(t.key)) {
      if (prv.ver.pkg.original === prv.ver && this.verOk(t, prv.version)) out.push(prv.ver);
    }
    return out;
  }

  private why(t: Target): string {
    const colon = t.key.indexOf(":");
    if (colon !== -1 && !t.key.endsWith(":any")) {
      return `architecture ${t.key.slice(colon + 1)} is not resolved (${this.universe.arch} only)`;
    }
    const p = this.pkg(t.key);
    const provs = this.providers(t.key);
    if (p?.versions.length) {
      return `only ${p.versions.map((v) => v.version).join(", ")} available`;
    }
    if (t.key.endsWith(":any")) {
      const base = this.pkg(t.key.slice(0, -4));
      if (base?.versions.length && !provs.length) {
        return `${base.name} is not Multi-Arch: allowed, so ':any' cannot be met`;
      }
    }
    if (provs.length) {
      const list = provs.map(
        (x) => `${x.ver.pkg.name} (${x.version === undefined ? "unversioned" : `= ${x.version}`})`,
      );
      return `provided only as ${[...new Set(list)].join(", ")}`;
    }
    return "not in the archive";
  }
}

function flag(bin: BinaryPackage, field: string): boolean {
  return (bin.fields[field] ?? "").trim().toLowerCase() === "yes";
}

function importantOf(p: Pkg): boolean {
  p.important ??= p.versions.some(
    (v) => v.bin.important ?? (flag(v.bin, "Important") || flag(v.bin, "Protected")),
  );
  return p.important;
}

function priorityOf(v: Ver): number {
  if (v.priority === undefined) {
    const prio = v.bin.priority ?? v.bin.fields.Priority;
    v.priority = prio === undefined || prio === "" ? 0 : (PRIORITIES[prio.trim().toLowerCase()] ?? 5);
  }
  return v.priority;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The dependency closure of `requests` (names, `name:arch` or `name=version`) in `universe`,
 * sorted by name, with the excluded packages it would have contained and who wanted them.
 * Throws DebianError: E_NOT_FOUND for an unknown package or version, E_UNSATISFIABLE with the
 * failing chain, E_INDEX for a relationship field that cannot be parsed.
 */
export function resolve(
  universe: PackageUniverse,
  requests: string[],
  opts: ResolveOptions = {},
): Resolution {
  if (!requests.length) throw new DebianError("E_NOT_FOUND", "no package requested");
  return new Resolver(universe, opts).resolve(requests);
}

/**
 * Names in a closure (`packages`, one architecture) that pull in `target`, as a chain from one
 * of the requested packages `roots`: Pre-Depends and Depends, through Provides, shortest first.
 * The resolver's own explanation of a failed request walks the same paths. [target] when no
 * chain is found (or a relationship field cannot be parsed).
 */
export function dependencyChain(
  target: string,
  packages: BinaryPackage[],
  roots: string[],
  arch: string,
): string[] {
  try {
    return new Resolver({ arch, packages }, {}).chainTo(target, roots);
  } catch {
    return [target];
  }
}

/** `name version arch` lines, as `shellfree resolve` prints them. */
export function formatResolution(r: Resolution): string {
  return r.packages.map((p) => `${p.name} ${p.version} ${p.architecture}`).join("\n");
}

/** The JSON `shellfree resolve --json` prints: one object per package. */
export function resolutionJson(r: Resolution): Array<{
  name: string;
  version: string;
  architecture: string;
  filename: string;
  sha256: string;
  size: number;
}> {
  return r.packages.map((p) => ({
    name: p.name,
    version: p.version,
    architecture: p.architecture,
    filename: p.filename,
    sha256: p.sha256,
    size: p.size,
  }));
}
