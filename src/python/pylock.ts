/**
 * PEP 751 lockfiles (`pylock.toml`): a flat list of packages, each with an optional marker
 * (which may test the set-valued `extras` and `dependency_groups`), and the files it can be
 * installed from. An installer evaluates each package's marker for the target and installs
 * the ones that hold. Only `wheels` (and an `sdist`, for the error that names it) are usable:
 * `vcs`, `directory` and `archive` sources would need a build from source.
 */
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { PythonError } from "./errors.ts";
import { fileNameOf, hashTable, type LockOptions, parseToml, type TomlTable } from "./lockdata.ts";
import { markerMatches } from "./markers.ts";
import { isValidName, normalizeName } from "./names.ts";
import type { DistFile, HashSpec, PinnedRequirement, RequirementSet } from "./types.ts";
import { satisfiesSpecifierSet } from "./version.ts";
import { parseWheelName } from "./wheelname.ts";

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);

function fail(file: string, msg: string): never {
  throw new PythonError("E_PYLOCK", `${file}: ${msg}`);
}

function distFile(t: unknown, file: string, what: string, base: string): DistFile {
  if (!t || typeof t !== "object") fail(file, `${what}: not a table`);
  const f = t as TomlTable;
  const url = str(f.url);
  const path = str(f.path);
  if (!url && !path) fail(file, `${what}: has neither url nor path`);
  const filename = str(f.name) ?? fileNameOf(url ?? path!);
  const hashes: HashSpec[] = hashTable(f.hashes);
  if (!hashes.length) fail(file, `${what} ${filename}: no sha256/sha384/sha512 in hashes`);
  return {
    filename,
    url,
    path: path === undefined ? undefined : isAbsolute(path) ? path : resolvePath(base, path),
    hashes,
    size: typeof f.size === "number" ? f.size : typeof f.size === "bigint" ? Number(f.size) : undefined,
    origin: file,
  };
}

/** Read a PEP 751 lockfile's text. */
export function parsePylock(text: string, file: string, opts: LockOptions): RequirementSet {
  const doc = parseToml(text, file);
  const lockVersion = str(doc["lock-version"]);
  if (!lockVersion) fail(file, "no lock-version (is this a PEP 751 lockfile?)");
  if (!/^1(\.\d+)?$/.test(lockVersion)) {
    fail(file, `lock-version ${lockVersion} is not supported (only 1.x)`);
  }
  const env = opts.env;
  const environments = strList(doc.environments);
  if (environments.length && !environments.some((m) => markerMatches(m, env))) {
    fail(
      file,
      `none of its environments (${environments.join(" | ")}) is the image's (python ${env.python_full_version}, ${env.platform_machine})`,
    );
  }
  const requiresPython = str(doc["requires-python"]);
  if (requiresPython && satisfiesSpecifierSet(String(env.python_full_version), requiresPython) === false) {
    fail(file, `requires-python ${requiresPython} excludes the image's python ${env.python_full_version}`);
  }
  const knownExtras = new Set(strList(doc.extras).map(normalizeName));
  const knownGroups = new Set(strList(doc["dependency-groups"]).map(normalizeName));
  for (const x of opts.extras ?? []) {
    if (!knownExtras.has(normalizeName(x)))
      fail(file, `extra ${JSON.stringify(x)} is not in the lock's extras`);
  }
  for (const g of opts.groups ?? []) {
    if (!knownGroups.has(normalizeName(g))) {
      fail(file, `dependency group ${JSON.stringify(g)} is not in the lock's dependency-groups`);
    }
  }
  const groups = opts.groups ?? strList(doc["default-groups"]);
  const markerEnv = {
    ...env,
    extras: new Set((opts.extras ?? []).map(normalizeName)),
    dependency_groups: new Set(groups.map(normalizeName)),
  };
  const packages = doc.packages;
  if (!Array.isArray(packages)) fail(file, "no [[packages]]");
  const base = dirname(resolvePath(file));
  const out: RequirementSet = { requirements: [], indexUrls: [], findLinks: [], skipped: [] };
  const seen = new Map<string, string>();
  packages.forEach((raw, i) => {
    if (!raw || typeof raw !== "object") fail(file, `packages[${i}] is not a table`);
    const p = raw as TomlTable;
    const displayName = str(p.name);
    if (!displayName || !isValidName(displayName)) fail(file, `packages[${i}]: invalid or missing name`);
    const where = `${file}: package ${displayName}`;
    const name = normalizeName(displayName);
    const marker = str(p.marker);
    if (marker && !markerMatches(marker, markerEnv)) {
      out.skipped.push({ name, where, marker });
      return;
    }
    const pkgPython = str(p["requires-python"]);
    if (pkgPython && satisfiesSpecifierSet(String(env.python_full_version), pkgPython) === false) {
      fail(
        file,
        `package ${displayName} requires-python ${pkgPython}, the image has ${env.python_full_version}`,
      );
    }
    for (const kind of ["vcs", "directory", "archive"]) {
      if (p[kind] !== undefined) {
        fail(
          file,
          `package ${displayName}: a ${kind} source needs a build from source; only wheels are installed`,
        );
      }
    }
    const files: DistFile[] = [];
    if (Array.isArray(p.wheels)) {
      p.wheels.forEach((w, j) => {
        files.push(distFile(w, file, `package ${displayName} wheels[${j}]`, base));
      });
    }
    if (p.sdist !== undefined) files.push(distFile(p.sdist, file, `package ${displayName} sdist`, base));
    if (!files.length) fail(file, `package ${displayName}: lists no wheels`);
    let version = str(p.version);
    if (!version) {
      const versions = new Set(files.map((f) => parseWheelName(f.filename, { lenient: true })?.version));
      if (versions.size !== 1 || versions.has(undefined)) fail(file, `package ${displayName}: no version`);
      version = [...versions][0]!;
    }
    const prev = seen.get(name);
    if (prev) {
      fail(file, `package ${displayName} is selected twice for the image (versions ${prev} and ${version})`);
    }
    seen.set(name, version);
    const hashes = files.flatMap((f) => f.hashes);
    const req: PinnedRequirement = { name, displayName, version, extras: [], hashes, where, files };
    if (marker) req.marker = marker;
    out.requirements.push(req);
  });
  return out;
}
