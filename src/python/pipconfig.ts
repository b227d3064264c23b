/**
 * Which package index to use, found the way pip finds it — never a constant in shellfree:
 *   1. the spec's `python.index-url`;
 *   2. `--index-url` in the requirements file;
 *   3. `$PIP_INDEX_URL`;
 *   4. pip's configuration files, later ones winning: the global files
 *      (`$XDG_CONFIG_DIRS`/pip/pip.conf, else /etc/xdg/pip/pip.conf; then /etc/pip.conf), the
 *      user files (~/.pip/pip.conf, then `$XDG_CONFIG_HOME`/pip/pip.conf), then
 *      `$PIP_CONFIG_FILE` (when it is /dev/null no file is read); in each, `[install]`
 *      overrides `[global]`.
 * Extra indexes add up the same way (`extra-index-url`, `$PIP_EXTRA_INDEX_URL`, space- or
 * newline-separated). Credentials in a URL are used for requests to that host and never printed.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { redactUrl } from "../util/http.ts";
import { PythonError } from "./errors.ts";

export interface IndexConfig {
  /** the primary index URL, or undefined when nothing configures one */
  indexUrl?: string;
  extraIndexUrls: string[];
  /** where indexUrl came from, for messages: "spec", "requirements file", "PIP_INDEX_URL", a file path */
  source?: string;
}

export interface IndexConfigOptions {
  /** the spec's python.index-url */
  specIndexUrl?: string;
  /** `--index-url`/`--extra-index-url` from the requirements file (first is the index) */
  requirementsIndexUrls?: string[];
  env?: Record<string, string | undefined>;
  home?: string;
  /** read a file (default: the file system); throws when absent */
  readFile?: (path: string) => string;
}

/** Parse the INI format of pip.conf (configparser: `key = value`, `key: value`, indented continuations). */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(raw) || !raw.trim()) {
      if (!raw.trim()) lastKey = undefined;
      continue;
    }
    if (/^\s/.test(raw) && section && lastKey !== undefined) {
      section[lastKey] = `${section[lastKey]}\n${raw.trim()}`;
      continue;
    }
    const sec = /^\s*\[([^\]]+)\]\s*$/.exec(raw);
    if (sec) {
      const name = sec[1].trim().toLowerCase();
      out[name] ??= {};
      section = out[name];
      lastKey = undefined;
      continue;
    }
    const kv = /^\s*([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!kv || !section) continue;
    lastKey = kv[1].toLowerCase().replace(/_/g, "-");
    section[lastKey] = kv[2].trim();
  }
  return out;
}

/** The configuration files pip reads, lowest priority first. */
export function pipConfigFiles(env: Record<string, string | undefined>, home: string): string[] {
  if (env.PIP_CONFIG_FILE === "/dev/null") return [];
  const xdgDirs = (env.XDG_CONFIG_DIRS || "/etc/xdg").split(":").filter(Boolean);
  const files = xdgDirs.reverse().map((d) => join(d, "pip", "pip.conf"));
  files.push("/etc/pip.conf");
  files.push(join(home, ".pip", "pip.conf"));
  files.push(join(env.XDG_CONFIG_HOME || join(home, ".config"), "pip", "pip.conf"));
  if (env.PIP_CONFIG_FILE) files.push(env.PIP_CONFIG_FILE);
  return files;
}

const splitList = (s: string) => s.split(/\s+/).filter(Boolean);

function checkUrl(url: string, source: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PythonError(
      "E_PY_INDEX",
      `index URL ${JSON.stringify(redactUrl(url))} from ${source} is not a URL`,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new PythonError(
      "E_PY_INDEX",
      `index URL ${redactUrl(url)} from ${source}: only http and https (a local directory is python.wheels)`,
    );
  }
  return url;
}

/** The index configuration, by the precedence above. */
export function indexConfig(opts: IndexConfigOptions = {}): IndexConfig {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const read = opts.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  let indexUrl: string | undefined;
  let source: string | undefined;
  let extra: string[] = [];
  for (const f of pipConfigFiles(env, home)) {
    let text: string;
    try {
      text = read(f);
    } catch {
      continue;
    }
    const ini = parseIni(text);
    for (const sec of ["global", "install"]) {
      const s = ini[sec];
      if (!s) continue;
      if (s["index-url"]) {
        indexUrl = s["index-url"];
        source = f;
      }
      if (s["extra-index-url"]) extra = splitList(s["extra-index-url"]);
      if (s["no-index"] && /^(1|true|yes|on)$/i.test(s["no-index"])) {
        indexUrl = undefined;
        source = `${f} (no-index)`;
      }
    }
  }
  if (env.PIP_INDEX_URL) {
    indexUrl = env.PIP_INDEX_URL;
    source = "PIP_INDEX_URL";
  }
  if (env.PIP_EXTRA_INDEX_URL) extra = splitList(env.PIP_EXTRA_INDEX_URL);
  const fromReq = opts.requirementsIndexUrls ?? [];
  if (fromReq.length) {
    indexUrl = fromReq[0];
    source = "the requirements file";
    extra = fromReq.slice(1);
  }
  if (opts.specIndexUrl) {
    indexUrl = opts.specIndexUrl;
    source = "the spec (python.index-url)";
  }
  return {
    indexUrl: indexUrl === undefined ? undefined : checkUrl(indexUrl, source ?? "configuration"),
    extraIndexUrls: extra.map((u) => checkUrl(u, "extra-index-url")),
    source,
  };
}
