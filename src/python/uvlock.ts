/**
 * uv's lockfile (`uv.lock`, version 1): a universal resolution — every package any platform
 * needs, with environment markers on the dependency edges. What to install for the target is
 * found as `uv export --no-dev` finds it: walk from the project (the workspace members,
 * `source = { editable/virtual = … }`) along `dependencies` whose marker holds, plus the
 * root's `optional-dependencies` for the extras asked for and its `dev-dependencies` for the
 * groups asked for; an edge with `extra = [...]` also takes the target's optional
 * dependencies. The project itself is not installed (its code is the image's own files).
 */
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { PythonError } from "./errors.ts";
import { parseHashSpec } from "./hashes.ts";
import { fileNameOf, type LockOptions, parseToml, type TomlTable } from "./lockdata.ts";
import { markerMatches } from "./markers.ts";
import { normalizeName } from "./names.ts";
import type { DistFile, HashSpec, PinnedRequirement, RequirementSet } from "./types.ts";
import { sameVersion, satisfiesSpecifierSet } from "./version.ts";

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function fail(file: string, msg: string): never {
  throw new PythonError("E_PYLOCK", `${file}: ${msg}`);
}

interface Pkg {
  name: string;
  displayName: string;
  version: string;
  source: TomlTable;
  raw: TomlTable;
}

interface Edge {
  name: string;
  version?: string;
  marker?: string;
  extras: string[];
  source?: TomlTable;
}

function edges(v: unknown): Edge[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((d): d is TomlTable => !!d && typeof d === "object")
    .map((d) => ({
      name: normalizeName(String(d.name ?? "")),
      version: str(d.version),
      marker: str(d.marker),
      extras: Array.isArray(d.extra) ? d.extra.filter((x): x is string => typeof x === "string") : [],
      source: d.source && typeof d.source === "object" ? (d.source as TomlTable) : undefined,
    }));
}

const ROOT_SOURCES = ["editable", "virtual"];

function sourceKind(s: TomlTable): string {
  return Object.keys(s)[0] ?? "none";
}

function sameSource(a: TomlTable, b: TomlTable): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function uvFile(t: unknown, file: string, what: string, base: string): DistFile {
  if (!t || typeof t !== "object") fail(file, `${what}: not a table`);
  const f = t as TomlTable;
  const url = str(f.url);
  const path = str(f.path);
  if (!url && !path) fail(file, `${what}: has neither url nor path`);
  const hashText = str(f.hash);
  const h = hashText === undefined ? "no hash" : parseHashSpec(hashText);
  if (typeof h === "string") fail(file, `${what}: ${h}`);
  const hashes: HashSpec[] = [h];
  return {
    filename: str(f.filename) ?? fileNameOf(url ?? path!),
    url,
    path: path === undefined ? undefined : isAbsolute(path) ? path : resolvePath(base, path),
    hashes,
    size: typeof f.size === "number" ? f.size : typeof f.size === "bigint" ? Number(f.size) : undefined,
    origin: file,
  };
}

/** Read a uv.lock's text. */
export function parseUvLock(text: string, file: string, opts: LockOptions): RequirementSet {
  const doc = parseToml(text, file);
  if (doc.version !== 1 && doc.version !== 1n) {
    fail(file, `uv.lock version ${String(doc.version)} is not supported (only 1)`);
  }
  const env = opts.env;
  const requiresPython = str(doc["requires-python"]);
  if (requiresPython && satisfiesSpecifierSet(String(env.python_full_version), requiresPython) === false) {
    fail(file, `requires-python ${requiresPython} excludes the image's python ${env.python_full_version}`);
  }
  if (!Array.isArray(doc.package)) fail(file, "no [[package]]");
  const base = dirname(resolvePath(file));
  const pkgs: Pkg[] = doc.package.map((raw, i) => {
    if (!raw || typeof raw !== "object") fail(file, `package[${i}] is not a table`);
    const p = raw as TomlTable;
    const displayName = str(p.name);
    if (!displayName) fail(file, `package[${i}]: no name`);
    const source = p.source && typeof p.source === "object" ? (p.source as TomlTable) : {};
    return {
      name: normalizeName(displayName),
      displayName,
      version: str(p.version) ?? "",
      source,
      raw: p,
    };
  });
  const byName = new Map<string, Pkg[]>();
  for (const p of pkgs) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);

  const manifest = doc.manifest as TomlTable | undefined;
  const members = new Set(
    (Array.isArray(manifest?.members) ? manifest.members : []).map((m) => normalizeName(String(m))),
  );
  let roots = pkgs.filter(
    (p) => members.has(p.name) || ROOT_SOURCES.some((k) => str(p.source[k]) === "." && !members.size),
  );
  if (!roots.length) roots = pkgs.filter((p) => ROOT_SOURCES.includes(sourceKind(p.source)));
  if (!roots.length) fail(file, "no project package (source editable or virtual) to start from");
  const rootSet = new Set(roots);

  const find = (e: Edge, from: Pkg): Pkg => {
    const cands = (byName.get(e.name) ?? []).filter(
      (p) =>
        (e.version === undefined || sameVersion(p.version, e.version)) &&
        (e.source === undefined || sameSource(p.source, e.source)),
    );
    if (cands.length !== 1) {
      fail(
        file,
        `${from.displayName} depends on ${e.name}${e.version ? ` ${e.version}` : ""}: ${cands.length ? "ambiguous" : "not in the lock"}`,
      );
    }
    return cands[0];
  };

  const extrasWanted = (opts.extras ?? []).map(normalizeName);
  const groupsWanted = (opts.groups ?? []).map(normalizeName);
  const chosen = new Map<Pkg, Set<string>>(); // package → extras taken
  const out: RequirementSet = { requirements: [], indexUrls: [], findLinks: [], skipped: [] };
  const skipped = new Set<string>();
  const queue: Array<[Pkg, Edge[]]> = [];

  const table = (p: Pkg, key: string): Record<string, unknown> =>
    p.raw[key] && typeof p.raw[key] === "object" ? (p.raw[key] as Record<string, unknown>) : {};
  const extraEdges = (p: Pkg, extras: string[]): Edge[] => {
    const t = table(p, "optional-dependencies");
    const byNorm = new Map(Object.keys(t).map((k) => [normalizeName(k), k]));
    return extras.flatMap((x) => {
      const key = byNorm.get(normalizeName(x));
      if (key === undefined) fail(file, `${p.displayName} has no extra ${JSON.stringify(x)}`);
      return edges(t[key]);
    });
  };

  for (const r of roots) {
    let es = edges(r.raw.dependencies);
    if (extrasWanted.length) es = es.concat(extraEdges(r, extrasWanted));
    const dev = table(r, "dev-dependencies");
    const devNorm = new Map(Object.keys(dev).map((k) => [normalizeName(k), k]));
    for (const g of groupsWanted) {
      const key = devNorm.get(g);
      if (key !== undefined) es = es.concat(edges(dev[key]));
      else if (roots.length === 1)
        fail(file, `${r.displayName} has no dependency group ${JSON.stringify(g)}`);
    }
    queue.push([r, es]);
  }
  while (queue.length) {
    const [from, es] = queue.shift()!;
    for (const e of es) {
      if (e.marker && !markerMatches(e.marker, env)) {
        if (!skipped.has(e.name)) {
          skipped.add(e.name);
          out.skipped.push({
            name: e.name,
            where: `${file}: ${from.displayName} → ${e.name}`,
            marker: e.marker,
          });
        }
        continue;
      }
      const p = find(e, from);
      if (rootSet.has(p)) continue;
      let taken = chosen.get(p);
      const fresh = !taken;
      if (!taken) chosen.set(p, (taken = new Set()));
      const newExtras = e.extras.map(normalizeName).filter((x) => !taken.has(x));
      for (const x of newExtras) taken.add(x);
      const next = (fresh ? edges(p.raw.dependencies) : []).concat(
        newExtras.length ? extraEdges(p, newExtras) : [],
      );
      if (next.length || fresh) queue.push([p, next]);
    }
  }
  // a name reached along one edge and skipped along another is installed
  out.skipped = out.skipped.filter((s) => ![...chosen.keys()].some((p) => p.name === s.name));

  const names = new Map<string, Pkg>();
  for (const p of [...chosen.keys()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const other = names.get(p.name);
    if (other)
      fail(file, `${p.displayName} is selected twice for the image (${other.version} and ${p.version})`);
    names.set(p.name, p);
    const where = `${file}: package ${p.displayName}`;
    const kind = sourceKind(p.source);
    if (!["registry", "url", "path"].includes(kind)) {
      fail(
        file,
        `package ${p.displayName}: a ${kind} source needs a build from source; only wheels are installed`,
      );
    }
    if (!p.version) fail(file, `package ${p.displayName}: no version`);
    const files: DistFile[] = [];
    if (Array.isArray(p.raw.wheels)) {
      p.raw.wheels.forEach((w, j) => {
        files.push(uvFile(w, file, `package ${p.displayName} wheels[${j}]`, base));
      });
    }
    if (p.raw.sdist !== undefined)
      files.push(uvFile(p.raw.sdist, file, `package ${p.displayName} sdist`, base));
    if (!files.length) fail(file, `package ${p.displayName}: lists no wheels`);
    const req: PinnedRequirement = {
      name: p.name,
      displayName: p.displayName,
      version: p.version,
      extras: [...(chosen.get(p) ?? [])].sort(),
      hashes: files.flatMap((f) => f.hashes),
      where,
      files,
    };
    out.requirements.push(req);
  }
  return out;
}
