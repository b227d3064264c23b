/**
 * Where packages come from. The mirror is configuration, never a constant: `--mirror`,
 * `$SHELLFREE_MIRROR`, or the host's apt sources (deb822 `*.sources` files and one-line
 * `sources.list` / `*.list` files), whose URI ending in `/debian` is the main archive and whose
 * URI ending in `/debian-security` is the security archive.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { redactUrl, stripCredentials } from "../util/http.ts";
import { parseDeb822 } from "./deb822.ts";
import { DebianError } from "./errors.ts";
import type { AptSource } from "./types.ts";

export interface SourceOptions {
  mirror?: string;
  securityMirror?: string;
  suite: string;
  /** default ["main"] */
  components?: string[];
  /** add `${suite}-security` from the security mirror */
  security?: boolean;
  /** e.g. "trixie-updates" on the main mirror */
  extraSuites?: string[];
}

/** One apt source entry as configured on a host (either file format). */
export interface AptSourceEntry {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  enabled: boolean;
  /** options such as arch=, signed-by= (lower-cased keys) */
  options: Record<string, string>;
  /** file and line/paragraph it came from */
  where: string;
}

const split = (v: string | undefined) => (v ?? "").split(/\s+/).filter(Boolean);

/** Parse an apt deb822 `.sources` file. */
export function parseSourcesFile(text: string, where = "sources file"): AptSourceEntry[] {
  const out: AptSourceEntry[] = [];
  parseDeb822(text, where).forEach((p, i) => {
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(p)) lower[k.toLowerCase()] = v;
    const { types, uris, suites, components, enabled, ...rest } = lower;
    if (!types && !uris) return;
    out.push({
      types: split(types),
      uris: split(uris),
      suites: split(suites),
      components: split(components),
      enabled: (enabled ?? "yes").trim().toLowerCase() !== "no",
      options: rest,
      where: `${where} (paragraph ${i + 1})`,
    });
  });
  return out;
}

/** Parse a one-line-format `sources.list` (`deb [opts] uri suite comp...`). */
export function parseSourcesList(text: string, where = "sources.list"): AptSourceEntry[] {
  const out: AptSourceEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) {
      throw new DebianError("E_SOURCES", `${where}:${i + 1}: cannot parse ${JSON.stringify(line)}`);
    }
    const options: Record<string, string> = {};
    for (const kv of split(m[2])) {
      const eq = kv.indexOf("=");
      if (eq > 0) options[kv.slice(0, eq).toLowerCase()] = kv.slice(eq + 1);
    }
    out.push({
      types: [m[1]],
      uris: [m[3]],
      suites: [m[4]],
      components: split(m[5]),
      enabled: true,
      options,
      where: `${where}:${i + 1}`,
    });
  });
  return out;
}

/** Every apt source entry configured under `aptDir` (default /etc/apt). Unreadable files are skipped. */
export function hostSourceEntries(aptDir = "/etc/apt"): AptSourceEntry[] {
  const out: AptSourceEntry[] = [];
  const read = (p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return null;
    }
  };
  const list = read(join(aptDir, "sources.list"));
  if (list !== null) out.push(...parseSourcesList(list, join(aptDir, "sources.list")));
  let names: string[] = [];
  try {
    names = readdirSync(join(aptDir, "sources.list.d")).sort();
  } catch {
    names = [];
  }
  for (const n of names) {
    const p = join(aptDir, "sources.list.d", n);
    if (n.endsWith(".sources")) {
      const t = read(p);
      if (t !== null) out.push(...parseSourcesFile(t, p));
    } else if (n.endsWith(".list")) {
      const t = read(p);
      if (t !== null) out.push(...parseSourcesList(t, p));
    }
  }
  return out;
}

const trimSlash = (u: string) => u.replace(/\/+$/, "");

function pathEndsWith(uri: string, tail: string): boolean {
  try {
    const u = new URL(uri);
    if (u.protocol !== "http:" && u.protocol !== "https:") return false;
    return trimSlash(u.pathname).endsWith(tail);
  } catch {
    return false;
  }
}

/** The host's main (`…/debian`) and security (`…/debian-security`) archive URIs, if configured. */
export function hostMirrors(aptDir = "/etc/apt"): { mirror?: string; security?: string } {
  let mirror: string | undefined;
  let security: string | undefined;
  for (const e of hostSourceEntries(aptDir)) {
    if (!e.enabled || !e.types.includes("deb")) continue;
    for (const u of e.uris) {
      if (!mirror && pathEndsWith(u, "/debian")) mirror = trimSlash(u);
      if (!security && pathEndsWith(u, "/debian-security")) security = trimSlash(u);
    }
  }
  return { mirror, security };
}

/**
 * A mirror URL checked, without its credentials: `http://user:password@host/debian` works (the
 * credentials are sent as Basic auth to that mirror, util/http.ts) but is never shown or stored
 * with them.
 */
function checkUri(uri: string, from: string): string {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new DebianError(
      "E_SOURCES",
      `invalid mirror URL ${JSON.stringify(redactUrl(uri))} (from ${from})`,
      {
        hint: "give an http:// or https:// URL of a Debian archive, e.g. --mirror http://HOST/debian",
      },
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new DebianError(
      "E_SOURCES",
      `unsupported mirror URL ${JSON.stringify(redactUrl(uri))} (from ${from})`,
      {
        hint: "only http:// and https:// mirrors are supported",
      },
    );
  }
  return trimSlash(stripCredentials(uri));
}

/**
 * The sources to load for `opts.suite`: the main mirror's suite (+ extra suites) and, with
 * `security`, `${suite}-security` from the security mirror. `env`/`aptDir` exist for tests.
 */
export function configuredSources(
  opts: SourceOptions,
  ctx: { env?: NodeJS.ProcessEnv; aptDir?: string } = {},
): AptSource[] {
  const env = ctx.env ?? process.env;
  const components = opts.components?.length ? [...opts.components] : ["main"];
  if (!opts.suite || /\s|\//.test(opts.suite)) {
    throw new DebianError("E_SOURCES", `invalid suite ${JSON.stringify(opts.suite ?? "")}`);
  }
  let host: { mirror?: string; security?: string } | undefined;
  const hostM = () => (host ??= hostMirrors(ctx.aptDir));
  let mirror: string;
  if (opts.mirror === "") {
    throw new DebianError("E_SOURCES", "--mirror is empty", {
      hint: "give an http:// or https:// URL of a Debian archive, or leave --mirror out to use $SHELLFREE_MIRROR or the host's apt sources",
      exitCode: 2,
    });
  }
  if (opts.mirror) mirror = checkUri(opts.mirror, "--mirror");
  else if (env.SHELLFREE_MIRROR) mirror = checkUri(env.SHELLFREE_MIRROR, "$SHELLFREE_MIRROR");
  else {
    const m = hostM().mirror;
    if (!m) {
      throw new DebianError("E_SOURCES", "no Debian mirror configured", {
        hint: "pass --mirror http://HOST/debian, set $SHELLFREE_MIRROR, or configure apt sources (/etc/apt/sources.list.d/*.sources)",
      });
    }
    mirror = checkUri(m, "the host's apt sources");
  }
  const out: AptSource[] = [{ uri: mirror, suite: opts.suite, components }];
  for (const s of opts.extraSuites ?? []) {
    if (!s || /\s|\//.test(s)) throw new DebianError("E_SOURCES", `invalid suite ${JSON.stringify(s)}`);
    out.push({ uri: mirror, suite: s, components: [...components] });
  }
  if (opts.security) {
    let sec: string;
    if (opts.securityMirror === "") {
      throw new DebianError("E_SOURCES", "--security-mirror is empty", { exitCode: 2 });
    }
    if (opts.securityMirror) sec = checkUri(opts.securityMirror, "--security-mirror");
    else if (env.SHELLFREE_SECURITY_MIRROR)
      sec = checkUri(env.SHELLFREE_SECURITY_MIRROR, "$SHELLFREE_SECURITY_MIRROR");
    else {
      const h = hostM().security;
      sec = h ? checkUri(h, "the host's apt sources") : `${mirror}-security`;
    }
    out.push({ uri: sec, suite: `${opts.suite}-security`, components: [...components] });
  }
  return out;
}
