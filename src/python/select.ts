/**
 * Choosing the file to install for a pinned requirement among the files its sources offer,
 * as pip does with `--require-hashes --only-binary :all:`:
 * - only wheels of that name and version whose tags the target accepts (tags.ts) and whose
 *   requires-python admits the image's python;
 * - a file whose stated hash is one the requirement allows beats one whose hash is unknown
 *   until it is downloaded; a file whose stated hash is not allowed is never chosen;
 * - then the best tag, then the highest build tag, then the file name (for a stable choice).
 * No wheel at all (only an sdist) and no wheel for the architecture are errors that name the
 * package, its version, the target and what was available.
 */
import { PythonError } from "./errors.ts";
import { comparable, formatHash, hashesOverlap } from "./hashes.ts";
import { bestTag } from "./tags.ts";
import { archInfo, type PythonTarget, pythonShort } from "./target.ts";
import type { ChosenWheel, DistFile, PinnedRequirement } from "./types.ts";
import { sameVersion, satisfiesSpecifierSet } from "./version.ts";
import { isSdistName, parseSdistName, parseWheelName } from "./wheelname.ts";

interface Ranked {
  file: DistFile;
  tag: string;
  priority: number;
  build: { n: number; rest: string };
  /** 0: stated hash allowed, 1: no stated hash to compare */
  hashRank: number;
}

/** A one-line description of the target: "cp313, x86_64, glibc 2.41". */
export function describeTarget(t: PythonTarget): string {
  return `Python ${pythonShort(t)} (cp${pythonShort(t).replace(".", "")}), ${t.arch}/${archInfo(t.arch).machine}, glibc ${t.glibc}`;
}

/**
 * The wheel to install for `req` from `files` (all sources' files for that project), or an
 * error. `priorities` is `tagPriorities(target)`. With `allowMissing`, undefined instead of any
 * error, so that the caller can ask another source (the index after the local directories) and
 * then call again with every file for the error that names them all.
 */
export function selectWheel(
  req: PinnedRequirement,
  files: DistFile[],
  target: PythonTarget,
  priorities: Map<string, number>,
  opts: { allowMissing?: boolean } = {},
): ChosenWheel | undefined {
  const id = `${req.displayName}==${req.version}`;
  const wheels: Array<{ file: DistFile; w: NonNullable<ReturnType<typeof parseWheelName>> }> = [];
  const sdists: DistFile[] = [];
  for (const f of files) {
    if (f.filename.endsWith(".whl")) {
      const w = parseWheelName(f.filename, { lenient: true });
      if (w && w.name === req.name && sameVersion(w.version, req.version)) wheels.push({ file: f, w });
    } else if (isSdistName(f.filename)) {
      const s = parseSdistName(f.filename);
      if (!s || (s.name === req.name && sameVersion(s.version, req.version))) sdists.push(f);
    }
  }
  const fail = (msg: string, hint?: string, code = "E_NO_WHEEL", exitCode = 1): undefined => {
    if (opts.allowMissing) return undefined;
    throw new PythonError(code, `${id} (${req.where}): ${msg}`, { hint, exitCode });
  };
  if (!wheels.length) {
    if (sdists.length) {
      return fail(
        `only a source distribution is available (${sdists[0].filename}); shellfree installs wheels only`,
        "build a wheel (pip wheel / uv build) and put it in the spec's python.wheels directory",
      );
    }
    return fail(
      `no file of this version was found`,
      files.length
        ? `found only: ${[...new Set(files.map((f) => f.filename))].slice(0, 8).join(", ")}`
        : undefined,
    );
  }
  const python = `${target.python}${/^\d+\.\d+$/.test(target.python) ? ".0" : ""}`;
  const fitting: Ranked[] = [];
  const wrongHash: Array<{ file: DistFile; priority: number }> = [];
  const tooNew: string[] = [];
  for (const { file, w } of wheels) {
    const best = bestTag(w, priorities);
    if (!best) continue;
    if (file.requiresPython && satisfiesSpecifierSet(python, file.requiresPython) === false) {
      tooNew.push(`${file.filename} (requires-python ${file.requiresPython})`);
      continue;
    }
    let hashRank = 1;
    if (req.hashes.length && comparable(file.hashes, req.hashes)) {
      if (!hashesOverlap(file.hashes, req.hashes)) {
        wrongHash.push({ file, priority: best.priority });
        continue;
      }
      hashRank = 0;
    } else if (!req.hashes.length && file.hashes.length) hashRank = 0;
    fitting.push({
      file,
      tag: best.tag,
      priority: best.priority,
      build: w.build ?? { n: -1, rest: "" },
      hashRank,
    });
  }
  if (!fitting.length) {
    if (wrongHash.length) {
      // name the file pip would have taken
      const f = wrongHash.sort((a, b) => a.priority - b.priority)[0].file;
      return fail(
        `${f.filename} from ${f.origin} has ${f.hashes.map(formatHash).join(", ")}, which is none of the allowed ${req.hashes.map(formatHash).join(", ")}`,
        "the file differs from the one the requirements were locked with; nothing was installed",
        "E_PY_HASH",
        3,
      );
    }
    if (tooNew.length) return fail(`no wheel admits Python ${python}: ${tooNew.slice(0, 5).join(", ")}`);
    const available = [...new Set(wheels.flatMap(({ w }) => w.tags))];
    return fail(
      `no wheel for ${describeTarget(target)}; available tags: ${available.slice(0, 12).join(", ")}${available.length > 12 ? ", …" : ""}`,
      "add a wheel built for this architecture to python.wheels, or choose another version",
    );
  }
  fitting.sort(
    (a, b) =>
      a.hashRank - b.hashRank ||
      a.priority - b.priority ||
      b.build.n - a.build.n ||
      (a.build.rest < b.build.rest ? 1 : a.build.rest > b.build.rest ? -1 : 0) ||
      (a.file.filename < b.file.filename ? -1 : a.file.filename > b.file.filename ? 1 : 0),
  );
  const best = fitting[0];
  return { requirement: req, file: best.file, tag: best.tag };
}
