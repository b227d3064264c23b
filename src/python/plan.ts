/**
 * From a spec's `python:` section to verified wheels and installed files:
 *   1. what to install: a requirements file or a lockfile (pinned, hashed), or — with only
 *      `wheels:` — every project in the wheel directories (one version each, taken as they are);
 *   2. where from: the wheel directories and `--find-links` first, then the lockfile's own file
 *      URLs, then the package index (pipconfig.ts) only for what is not found locally;
 *   3. which file: the best wheel for the target (select.ts);
 *   4. its bytes: downloaded or copied into the cache and checked against the hashes (download.ts);
 *   5. installed as pip would (install.ts), with no two wheels writing the same path.
 */
import { resolve as resolvePath } from "node:path";
import { redactUrl } from "../util/http.ts";
import { info } from "../util/progress.ts";
import { fetchWheels } from "./download.ts";
import { PythonError } from "./errors.ts";
import { installWheel } from "./install.ts";
import { readLockfile } from "./lockfile.ts";
import type { NetOptions } from "./net.ts";
import { indexConfig } from "./pipconfig.ts";
import { readRequirementsFile } from "./requirements.ts";
import { selectWheel } from "./select.ts";
import { listProjectFiles } from "./simple-index.ts";
import { tagPriorities } from "./tags.ts";
import { markerEnvironment, type PythonTarget } from "./target.ts";
import type {
  ChosenWheel,
  DistFile,
  FetchedWheel,
  InstalledDistribution,
  PinnedRequirement,
  RequirementSet,
} from "./types.ts";
import { compareVersionStrings, sameVersion } from "./version.ts";
import { listWheelDir } from "./wheeldir.ts";
import { parseSdistName, parseWheelName } from "./wheelname.ts";

/** The spec's `python:` section (paths already resolved against the spec's directory). */
export interface PythonDepsSpec {
  /** a requirements file (pinned, hashed) */
  requirements?: string;
  /** a `pylock.toml`/`pylock.NAME.toml` or `uv.lock` */
  lock?: string;
  /** directories of wheels */
  wheels?: string[];
  /** a PEP 503/691 simple index; default PIP_INDEX_URL, then pip's configuration files */
  indexUrl?: string;
  /** extras of the project (lockfiles) */
  extras?: string[];
  /** dependency groups (lockfiles; pylock default: its default-groups; uv.lock default: none) */
  groups?: string[];
}

/** A wheel as shellfree.lock records it: `build --locked` installs exactly this file. */
export interface LockedWheel {
  /** PEP 503-normalised name */
  name: string;
  version: string;
  filename: string;
  /** hex */
  sha256: string;
}

export interface PythonDepsOptions {
  target: PythonTarget;
  /** shellfree's cache directory (wheels go to `<cacheDir>/wheels/sha256/`) */
  cacheDir: string;
  /** environment for PIP_INDEX_URL, PIP_CONFIG_FILE, `${VAR}` in requirements (default process.env) */
  env?: Record<string, string | undefined>;
  /** home directory for pip's user configuration (default os.homedir()) */
  home?: string;
  net?: NetOptions;
  /** parallel index queries and downloads (default 4) */
  concurrency?: number;
  /**
   * The wheels a lockfile recorded for this target (`build --locked`): each requirement must
   * have one, of its version, and gets exactly that file (by name and sha256); a requirement
   * the lock lacks or a locked wheel no requirement names is an error.
   */
  locked?: { file: string; wheels: LockedWheel[] };
}

export interface ResolvedPythonDeps {
  /** the verified wheels, sorted by project name */
  wheels: FetchedWheel[];
  /** requirements left out because their marker is false for the target */
  skipped: RequirementSet["skipped"];
  /** the index used, if one was needed (credentials removed) and where it was configured */
  index?: { url: string; source: string };
}

function groupByProject(files: DistFile[]): Map<string, DistFile[]> {
  const out = new Map<string, DistFile[]>();
  for (const f of files) {
    const name = parseWheelName(f.filename, { lenient: true })?.name ?? parseSdistName(f.filename)?.name;
    if (!name) continue;
    out.set(name, [...(out.get(name) ?? []), f]);
  }
  return out;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}

/** Requirements for "every project in the wheel directories": one version each, no hashes to check. */
function requirementsFromDirectories(local: Map<string, DistFile[]>): RequirementSet {
  const requirements: PinnedRequirement[] = [];
  for (const [name, files] of [...local].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const wheels = files
      .map((f) => ({ f, w: parseWheelName(f.filename, { lenient: true }) }))
      .filter((x) => x.w);
    if (!wheels.length) continue; // an sdist alone is not installed without a requirement naming it
    const versions = [...new Set(wheels.map((x) => x.w!.version))].sort(compareVersionStrings);
    const distinct = versions.filter((v, i) => !versions.slice(0, i).some((u) => sameVersion(u, v)));
    if (distinct.length > 1) {
      throw new PythonError(
        "E_REQUIREMENTS",
        `the wheel directories hold ${name} in versions ${distinct.join(", ")}: name the one to install in python.requirements`,
      );
    }
    const w = wheels[0].w!;
    requirements.push({
      name,
      displayName: w.distribution,
      version: w.version,
      extras: [],
      hashes: [],
      where: wheels[0].f.origin,
    });
  }
  return { requirements, indexUrls: [], findLinks: [], skipped: [] };
}

/**
 * The requirements restricted to what the lock says: each one's allowed hashes become the
 * locked wheel's sha256 (which must be one the requirement allows, when it names any).
 */
function lockedRequirements(
  reqs: PinnedRequirement[],
  locked: NonNullable<PythonDepsOptions["locked"]>,
): PinnedRequirement[] {
  const byName = new Map(locked.wheels.map((w) => [w.name, w]));
  const problems: string[] = [];
  const out = reqs.map((req) => {
    const w = byName.get(req.name);
    byName.delete(req.name);
    if (!w) {
      problems.push(`${req.displayName}==${req.version} (${req.where}) is not in it`);
      return req;
    }
    if (!sameVersion(w.version, req.version)) {
      problems.push(`it has ${req.displayName} ${w.version}, ${req.where} wants ${req.version}`);
    } else if (req.hashes.length && !req.hashes.some((h) => h.algorithm === "sha256" && h.hex === w.sha256)) {
      problems.push(`its ${w.filename} (sha256:${w.sha256}) is not one of the hashes ${req.where} allows`);
    }
    return { ...req, hashes: [{ algorithm: "sha256" as const, hex: w.sha256 }] };
  });
  for (const w of byName.values()) problems.push(`it has ${w.name} ${w.version}, which nothing requires now`);
  if (problems.length) {
    throw new PythonError(
      "E_PY_LOCKED",
      `${locked.file} disagrees with the Python requirements: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; and ${problems.length - 5} more` : ""}`,
      { hint: "run `shellfree lock` to update it (or build without --locked)" },
    );
  }
  return out;
}

/** Read the spec's inputs, choose a wheel for every requirement and fetch it (verified) into the cache. */
export async function resolvePythonDeps(
  spec: PythonDepsSpec,
  opts: PythonDepsOptions,
): Promise<ResolvedPythonDeps> {
  const env = opts.env ?? process.env;
  const target = opts.target;
  const markerEnv = markerEnvironment(target);
  if (spec.requirements && spec.lock) {
    throw new PythonError("E_REQUIREMENTS", "python.requirements and python.lock are alternatives: give one");
  }
  let set: RequirementSet;
  let noIndex = false;
  if (spec.requirements) {
    const r = readRequirementsFile(resolvePath(spec.requirements), { env: markerEnv, vars: env });
    set = r;
    noIndex = r.noIndex;
  } else if (spec.lock) {
    set = readLockfile(resolvePath(spec.lock), { env: markerEnv, extras: spec.extras, groups: spec.groups });
  } else set = { requirements: [], indexUrls: [], findLinks: [], skipped: [] };

  const dirs = [...(spec.wheels ?? []), ...set.findLinks];
  const localFiles: DistFile[] = [];
  for (const d of dirs) localFiles.push(...(await listWheelDir(d)));
  const local = groupByProject(localFiles);
  if (!spec.requirements && !spec.lock) {
    if (!dirs.length) throw new PythonError("E_REQUIREMENTS", "python: needs requirements, lock or wheels");
    set = requirementsFromDirectories(local);
  }

  const priorities = tagPriorities(target);
  let index: ReturnType<typeof indexConfig> | undefined;
  const indexFor = () => {
    index ??= indexConfig({
      specIndexUrl: spec.indexUrl,
      requirementsIndexUrls: set.indexUrls,
      env,
      home: opts.home,
    });
    return index;
  };
  const credentials = () => {
    const c = indexFor();
    return [c.indexUrl, ...c.extraIndexUrls].filter((u): u is string => !!u);
  };
  let usedIndex = false;
  const net = (): NetOptions => ({
    ...opts.net,
    credentials: [...(opts.net?.credentials ?? []), ...credentials()],
  });

  if (opts.locked) set = { ...set, requirements: lockedRequirements(set.requirements, opts.locked) };
  const lockedFile = new Map((opts.locked?.wheels ?? []).map((w) => [w.name, w.filename]));
  const onlyLocked = (name: string, files: DistFile[]) => {
    const f = lockedFile.get(name);
    return f === undefined ? files : files.filter((x) => x.filename === f);
  };

  const chosen = await mapLimit(
    set.requirements,
    opts.concurrency ?? 4,
    async (req): Promise<ChosenWheel> => {
      let files = onlyLocked(req.name, [...(local.get(req.name) ?? []), ...(req.files ?? [])]);
      const found = selectWheel(req, files, target, priorities, { allowMissing: true });
      if (found) return found;
      if (!noIndex && !req.files?.length) {
        const cfg = indexFor();
        const urls = [cfg.indexUrl, ...cfg.extraIndexUrls].filter((u): u is string => !!u);
        if (!urls.length && !files.length) {
          throw new PythonError(
            "E_PY_INDEX",
            `${req.displayName}==${req.version} (${req.where}) is in no wheel directory and no package index is configured`,
            {
              hint: "set python.index-url, PIP_INDEX_URL or index-url in pip.conf, or add the wheel to python.wheels",
            },
          );
        }
        for (const u of urls) {
          usedIndex = true;
          files = files.concat(onlyLocked(req.name, await listProjectFiles(u, req.name, net())));
        }
      }
      return selectWheel(req, files, target, priorities)!;
    },
  );
  chosen.sort((a, b) => (a.requirement.name < b.requirement.name ? -1 : 1));
  const wheels = await fetchWheels(chosen, {
    cacheDir: opts.cacheDir,
    net: net(),
    concurrency: opts.concurrency,
  });
  const fromIndex = wheels.filter((w) => w.file.url).length;
  if (wheels.length) info(`python: ${wheels.length} wheels (${fromIndex} from an index or lockfile URL)`);
  const cfg = usedIndex ? indexFor() : undefined;
  return {
    wheels,
    skipped: set.skipped,
    index: cfg?.indexUrl ? { url: redactUrl(cfg.indexUrl), source: cfg.source ?? "" } : undefined,
  };
}

/** Install every wheel for the target; two wheels writing one path is an error. Sorted by name. */
export async function installWheels(
  wheels: FetchedWheel[],
  target: PythonTarget,
): Promise<InstalledDistribution[]> {
  const out: InstalledDistribution[] = [];
  const owner = new Map<string, string>();
  for (const w of wheels) {
    const d = await installWheel(
      { path: w.path, filename: w.file.filename, sha256: w.sha256, tag: w.tag },
      target,
    );
    for (const f of d.files) {
      const prev = owner.get(f.path);
      if (prev) {
        throw new PythonError("E_PY_CONFLICT", `${d.wheel} and ${prev} both install ${f.path}`);
      }
      owner.set(f.path, d.wheel);
    }
    out.push(d);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
