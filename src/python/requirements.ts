/**
 * Fully pinned requirements files, as `pip-compile --generate-hashes` and `uv export` write
 * them:
 *
 *     anyio==4.4.0 \
 *         --hash=sha256:… \
 *         --hash=sha256:…
 *         # via fastapi
 *     colorama==0.4.6 ; sys_platform == "win32" --hash=sha256:…
 *
 * Read like pip reads them: a trailing backslash continues a line (a comment line ends the
 * continuation), `#` at the start or after whitespace starts a comment, `${VAR}` is expanded
 * from the environment, and a line is a requirement followed by its options. Every
 * requirement must be `name[extras]==version` with at least one `--hash` (pip's
 * `--require-hashes`); its environment marker is evaluated for the target and a false one
 * leaves it out. `-r`/`--requirement` includes another file, relative to the including file.
 * URLs, paths, VCS and editable requirements, constraints files and per-requirement build
 * options are refused: only wheels, chosen by name, version and hash, are installed.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { PythonError } from "./errors.ts";
import { formatHash, parseHashSpec } from "./hashes.ts";
import { type MarkerEnv, markerMatches } from "./markers.ts";
import { isValidName, normalizeName } from "./names.ts";
import type { HashSpec, PinnedRequirement, RequirementSet } from "./types.ts";
import { sameVersion } from "./version.ts";

export interface RequirementsOptions {
  /** marker environment of the target (target.ts `markerEnvironment`) */
  env: MarkerEnv;
  /** variables for `${VAR}` (default process.env) */
  vars?: Record<string, string | undefined>;
  /** read an included file (default: the file system) */
  readFile?: (path: string) => string;
}

export interface ParsedRequirements extends RequirementSet {
  /** `--no-index` was given: only wheel directories and `--find-links` may be used */
  noIndex: boolean;
}

interface Line {
  file: string;
  line: number;
  text: string;
}

/** Logical lines: continuations joined, comments removed, `${VAR}` expanded, blanks dropped. */
function logicalLines(text: string, file: string, vars: Record<string, string | undefined>): Line[] {
  const out: Line[] = [];
  const phys = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let buf: string[] = [];
  let start = 0;
  const isComment = (l: string) => /^\s*#/.test(l);
  const emit = (n: number, t: string) => {
    const noComment = t.replace(/(^|\s+)#.*$/, "");
    const expanded = noComment.replace(/\$\{([A-Z0-9_]+)\}/g, (whole, name: string) => vars[name] ?? whole);
    const trimmed = expanded.trim();
    if (trimmed) out.push({ file, line: n, text: trimmed });
  };
  for (let i = 0; i < phys.length; i++) {
    const l = phys[i];
    if (!l.endsWith("\\") || isComment(l)) {
      if (buf.length) {
        // a comment line ends the continuation; the comment itself is dropped
        if (!isComment(l)) buf.push(l);
        emit(start, buf.join(""));
        buf = [];
      } else emit(i + 1, l);
    } else {
      if (!buf.length) start = i + 1;
      buf.push(l.slice(0, -1));
    }
  }
  if (buf.length) emit(start, buf.join(""));
  return out;
}

/** Options that take a value, and whether they are allowed at all. */
const GLOBAL_WITH_VALUE = new Set([
  "-r",
  "--requirement",
  "-c",
  "--constraint",
  "-e",
  "--editable",
  "-i",
  "--index-url",
  "--extra-index-url",
  "-f",
  "--find-links",
  "--trusted-host",
  "--only-binary",
  "--no-binary",
  "--use-feature",
]);
const GLOBAL_FLAGS = new Set(["--no-index", "--require-hashes", "--prefer-binary", "--pre"]);

class Problems {
  readonly list: string[] = [];
  add(l: Line, msg: string) {
    this.list.push(`${l.file}:${l.line}: ${msg}`);
  }
  throwIfAny() {
    if (!this.list.length) return;
    const more = this.list.length - 1;
    throw new PythonError("E_REQUIREMENTS", this.list[0], {
      hint: more
        ? `${more} more problem${more > 1 ? "s" : ""}: ${this.list
            .slice(1, 6)
            .map((p) => p.split(": ")[0])
            .join(", ")}${more > 5 ? ", …" : ""}`
        : "every line must be name==version with --hash=sha256:… (pip-compile --generate-hashes, uv export)",
    });
  }
}

/** Split `--opt=value` / `--opt value` / `-xvalue` tokens into [option, value]. */
function splitOptions(tokens: string[], l: Line, problems: Problems): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!t.startsWith("-")) {
      problems.add(l, `unexpected ${JSON.stringify(t)} among options`);
      return out;
    }
    const eq = t.indexOf("=");
    if (t.startsWith("--") && eq > 0) {
      out.push([t.slice(0, eq), t.slice(eq + 1)]);
    } else if (!t.startsWith("--") && t.length > 2) {
      out.push([t.slice(0, 2), t.slice(2)]);
    } else if (GLOBAL_WITH_VALUE.has(t) || t === "--hash") {
      if (i + 1 >= tokens.length) {
        problems.add(l, `${t} needs a value`);
        return out;
      }
      out.push([t, tokens[++i]]);
    } else out.push([t, undefined]);
  }
  return out;
}

const REQ_RE = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$/;

function looksLikePathOrUrl(s: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ||
    /^(git|hg|svn|bzr)\+/i.test(s) ||
    s.startsWith(".") ||
    s.startsWith("/") ||
    s.startsWith("~") ||
    /\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar\.xz|tar)$/i.test(s.split(/[\s;]/)[0])
  );
}

/** Parse a requirements file's text. `file` names it in messages and anchors `-r` includes. */
export function parseRequirements(text: string, file: string, opts: RequirementsOptions): ParsedRequirements {
  const vars = opts.vars ?? process.env;
  const read = opts.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const problems = new Problems();
  const result: ParsedRequirements = {
    requirements: [],
    indexUrls: [],
    findLinks: [],
    skipped: [],
    noIndex: false,
  };
  const seen = new Map<string, PinnedRequirement>();
  const active = new Set<string>();

  const visit = (body: string, path: string) => {
    active.add(resolvePath(path));
    for (const l of logicalLines(body, path, vars)) {
      if (l.text.startsWith("-")) globalLine(l, path);
      else requirementLine(l);
    }
    active.delete(resolvePath(path));
  };

  const globalLine = (l: Line, path: string) => {
    for (const [opt, value] of splitOptions(l.text.split(/\s+/), l, problems)) {
      switch (opt) {
        case "-r":
        case "--requirement": {
          const inc = isAbsolute(value!) ? value! : resolvePath(dirname(path), value!);
          if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value!)) {
            problems.add(l, `${opt} ${value}: only local files can be included`);
          } else if (active.has(resolvePath(inc))) {
            problems.add(l, `${opt} ${value}: includes itself (a cycle)`);
          } else {
            let body: string;
            try {
              body = read(inc);
            } catch (e) {
              problems.add(
                l,
                `${opt} ${value}: cannot read ${inc} (${(e as NodeJS.ErrnoException).code ?? e})`,
              );
              break;
            }
            visit(body, inc);
          }
          break;
        }
        case "-c":
        case "--constraint":
          problems.add(
            l,
            `${opt}: constraints files are not supported (pin every requirement with == and --hash)`,
          );
          break;
        case "-e":
        case "--editable":
          problems.add(
            l,
            `${opt} ${value}: editable requirements are not supported (only wheels are installed)`,
          );
          break;
        case "-i":
        case "--index-url":
          result.indexUrls = [value!, ...result.indexUrls.slice(1)];
          break;
        case "--extra-index-url":
          result.indexUrls.push(value!);
          break;
        case "-f":
        case "--find-links":
          if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value!) && !value!.startsWith("file://")) {
            problems.add(l, `${opt} ${value}: only local directories are supported for --find-links`);
          } else {
            const dir = value!.replace(/^file:\/\//, "");
            result.findLinks.push(isAbsolute(dir) ? dir : resolvePath(dirname(path), dir));
          }
          break;
        case "--no-index":
          result.noIndex = true;
          break;
        case "--no-binary":
          if (value !== ":none:") {
            problems.add(l, `--no-binary ${value}: only wheels are installed (no builds from source)`);
          }
          break;
        case "--require-hashes":
        case "--prefer-binary":
        case "--pre":
        case "--only-binary":
        case "--trusted-host":
          break; // hashes are always required; only binaries are used; pins decide pre-releases
        default:
          if (GLOBAL_FLAGS.has(opt) || GLOBAL_WITH_VALUE.has(opt)) break;
          problems.add(l, `unsupported option ${opt}`);
      }
    }
  };

  const requirementLine = (l: Line) => {
    const tokens = l.text.split(/\s+/);
    const firstOpt = tokens.findIndex((t) => t.startsWith("-") && !/^-+\d/.test(t));
    const reqText = (firstOpt < 0 ? tokens : tokens.slice(0, firstOpt)).join(" ");
    const optTokens = firstOpt < 0 ? [] : tokens.slice(firstOpt);
    if (looksLikePathOrUrl(reqText)) {
      problems.add(
        l,
        `${reqText}: direct URL, path and VCS requirements are not supported (name==version with --hash only)`,
      );
      return;
    }
    const semi = reqText.indexOf(";");
    const spec = (semi < 0 ? reqText : reqText.slice(0, semi)).trim();
    const marker = semi < 0 ? undefined : reqText.slice(semi + 1).trim();
    const m = REQ_RE.exec(spec);
    if (!m || !isValidName(m[1])) {
      problems.add(l, `cannot parse requirement ${JSON.stringify(reqText)}`);
      return;
    }
    const [, displayName, extrasText, versionPart] = m;
    if (versionPart.trim().startsWith("@")) {
      problems.add(
        l,
        `${displayName}: direct URL requirements are not supported (name==version with --hash only)`,
      );
      return;
    }
    const extras = extrasText === undefined ? [] : extrasText.split(",").map((x) => x.trim());
    if (extras.some((x) => !isValidName(x))) {
      problems.add(l, `${displayName}: invalid extras [${extrasText}]`);
      return;
    }
    const clauses = versionPart
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean);
    const pin = clauses.length === 1 ? /^==\s*([^=*\s][^*\s]*)$/.exec(clauses[0]) : null;
    if (!pin) {
      problems.add(
        l,
        `${displayName}${versionPart ? ` ${versionPart.trim()}` : ""} is not pinned: write ${displayName}==VERSION`,
      );
      return;
    }
    const version = pin[1];
    const hashes: HashSpec[] = [];
    for (const [opt, value] of splitOptions(optTokens, l, problems)) {
      if (opt !== "--hash") {
        problems.add(l, `${displayName}: option ${opt} is not supported on a requirement`);
        return;
      }
      const h = parseHashSpec(value ?? "");
      if (typeof h === "string") {
        problems.add(l, `${displayName}: ${h}`);
        return;
      }
      if (!hashes.some((x) => formatHash(x) === formatHash(h))) hashes.push(h);
    }
    if (!hashes.length) {
      problems.add(
        l,
        `${displayName}==${version} has no --hash=sha256:… (every requirement must carry its hashes)`,
      );
      return;
    }
    if (marker !== undefined) {
      let ok: boolean;
      try {
        ok = markerMatches(marker, opts.env);
      } catch (e) {
        problems.add(l, (e as Error).message);
        return;
      }
      if (!ok) {
        result.skipped.push({ name: normalizeName(displayName), where: `${l.file}:${l.line}`, marker });
        return;
      }
    }
    const name = normalizeName(displayName);
    const prev = seen.get(name);
    if (prev) {
      if (!sameVersion(prev.version, version)) {
        problems.add(
          l,
          `${displayName}==${version} conflicts with ${prev.displayName}==${prev.version} at ${prev.where}`,
        );
      } else {
        problems.add(l, `${displayName} is listed twice (also at ${prev.where})`);
      }
      return;
    }
    const req: PinnedRequirement = {
      name,
      displayName,
      version,
      extras,
      hashes,
      marker,
      where: `${l.file}:${l.line}`,
    };
    seen.set(name, req);
    result.requirements.push(req);
  };

  visit(text, file);
  problems.throwIfAny();
  return result;
}

/** Read and parse a requirements file (and the files it includes). */
export function readRequirementsFile(path: string, opts: RequirementsOptions): ParsedRequirements {
  let text: string;
  try {
    text = (opts.readFile ?? ((p: string) => readFileSync(p, "utf8")))(path);
  } catch (e) {
    throw new PythonError(
      "E_REQUIREMENTS",
      `cannot read requirements file ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  return parseRequirements(text, path, opts);
}
