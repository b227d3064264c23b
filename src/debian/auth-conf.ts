/**
 * apt's login files (apt_auth.conf(5)): `/etc/apt/auth.conf` and `/etc/apt/auth.conf.d/*.conf`
 * (under $SHELLFREE_APT_ETC instead of /etc/apt when set), netrc-like tokens
 *
 *   machine [protocol://]host[:port][/path]  login USER  password SECRET
 *
 * An entry without a protocol matches https only (as apt does); without a port, any port;
 * with a path, URLs whose path starts with it. The first matching entry wins (auth.conf, then
 * the .conf files in name order). Unknown tokens are skipped; a `machine` without login or
 * password is ignored with a warning naming the file and the machine, never the password.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { basicAuth, credentialsFor } from "../util/http.ts";
import { warn } from "../util/progress.ts";
import { addSecret } from "../util/secrets.ts";

export interface AptAuthEntry {
  protocol?: string;
  host: string;
  port?: string;
  path?: string;
  login: string;
  password: string;
  where: string;
}

/** Parse one auth.conf file's text. */
export function parseAptAuth(text: string, where: string): AptAuthEntry[] {
  const tokens: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t.startsWith("#")) continue;
    tokens.push(...t.split(/\s+/).filter(Boolean));
  }
  const out: AptAuthEntry[] = [];
  let cur: { machine: string; login?: string; password?: string } | undefined;
  const flush = () => {
    if (!cur) return;
    if (cur.login === undefined || cur.password === undefined) {
      warn(
        `${where}: machine ${cur.machine} has no ${cur.login === undefined ? "login" : "password"}; ignored`,
      );
    } else {
      const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/:]+|\[[^\]]+\])(?::([0-9]+))?(\/.*)?$/i.exec(cur.machine);
      if (!m) warn(`${where}: machine ${cur.machine} is not [protocol://]host[:port][/path]; ignored`);
      else {
        addSecret(cur.password);
        out.push({
          protocol: m[1]?.toLowerCase(),
          host: m[2].toLowerCase(),
          port: m[3],
          path: m[4]?.replace(/\/+$/, ""),
          login: cur.login,
          password: cur.password,
          where,
        });
      }
    }
    cur = undefined;
  };
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    const val = tokens[i + 1];
    if (tok === "machine") {
      flush();
      cur = { machine: val ?? "" };
      i++;
    } else if ((tok === "login" || tok === "password") && cur) {
      if (val !== undefined) cur[tok] = val;
      i++;
    }
  }
  flush();
  return out;
}

let loaded: AptAuthEntry[] | undefined;

/** Every entry of the host's apt login files (read once). Unreadable files are skipped. */
export function aptAuthEntries(): AptAuthEntry[] {
  if (loaded) return loaded;
  const etc = process.env.SHELLFREE_APT_ETC || "/etc/apt";
  const files = [join(etc, "auth.conf")];
  try {
    for (const n of readdirSync(join(etc, "auth.conf.d")).sort()) {
      if (n.endsWith(".conf")) files.push(join(etc, "auth.conf.d", n));
    }
  } catch {
    // no auth.conf.d
  }
  loaded = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    loaded.push(...parseAptAuth(text, f));
  }
  return loaded;
}

/** The entry for `url`, if any (see the module comment for how apt matches). */
export function aptAuthFor(url: string, entries = aptAuthEntries()): AptAuthEntry | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const protocol = u.protocol.replace(/:$/, "");
  const host = u.hostname.toLowerCase();
  const path = u.pathname;
  return entries.find(
    (e) =>
      (e.protocol ? e.protocol === protocol : protocol === "https") &&
      e.host.replace(/^\[|\]$/g, "") === host.replace(/^\[|\]$/g, "") &&
      (e.port === undefined || e.port === (u.port || (protocol === "https" ? "443" : "80"))) &&
      (e.path === undefined || path === e.path || path.startsWith(`${e.path}/`)),
  );
}

/**
 * The Authorization header for a mirror URL: credentials given in the mirror's URL first
 * (util/http.ts sends those itself: none here), else apt's login files.
 */
export function aptAuthHeader(url: string): string | undefined {
  if (credentialsFor(url)) return undefined;
  const e = aptAuthFor(url);
  return e ? basicAuth(e.login, e.password) : undefined;
}
