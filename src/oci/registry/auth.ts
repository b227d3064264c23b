/**
 * Registry credentials and authentication challenges.
 *
 * Credentials come, first match wins, from: an explicit "user:pass" (`--creds`), the environment
 * (`SHELLFREE_REGISTRY_USER` + `SHELLFREE_REGISTRY_PASSWORD`), or the container tools' auth files
 * (`$REGISTRY_AUTH_FILE`, `${XDG_RUNTIME_DIR}/containers/auth.json`,
 * `~/.config/containers/auth.json`, `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`),
 * whose `auths` entries hold base64("user:pass"). Credential helpers (`credsStore`,
 * `credHelpers`) are not run.
 *
 * Secrets never appear in messages: every error that leaves the registry client goes through
 * `Secrets.redact`.
 */

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { addSecret } from "../../util/secrets.ts";
import { OciError } from "../errors.ts";

export interface Credentials {
  username: string;
  password: string;
  /** where they came from, for messages ("--creds", "environment", a file path) — never the secret */
  source: string;
}

/** Parse "user:pass" (the password may contain ':'). */
export function parseCreds(s: string, source = "--creds"): Credentials {
  const i = s.indexOf(":");
  if (i <= 0) {
    throw new OciError("E_REGISTRY_CREDS", `${source}: expected USER:PASSWORD`, {
      hint: "give credentials as user:password",
      exitCode: 2,
    });
  }
  return { username: s.slice(0, i), password: s.slice(i + 1), source };
}

/** The auth files to look in, in order of preference. */
export function authFilePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || homedir();
  const out: string[] = [];
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) out.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  out.push(join(env.XDG_CONFIG_HOME || join(home, ".config"), "containers", "auth.json"));
  out.push(join(env.DOCKER_CONFIG || join(home, ".docker"), "config.json"));
  return out;
}

/** "https://host:port/v1/" → "host:port"; "host/ns/repo" stays (podman allows repository keys). */
function normalizeAuthKey(key: string): string {
  let k = key.trim().replace(/^[a-z]+:\/\//i, "");
  k = k.replace(/\/v[12]\/?$/, "").replace(/\/+$/, "");
  return k.toLowerCase();
}

/**
 * Find credentials for `registry` (host[:port]) and `repository` in one parsed auth file
 * (`{ auths: { KEY: { auth: base64(user:pass) } | { username, password } } }`). The most specific
 * key wins: "host/ns/repo" before "host/ns" before "host".
 */
export function credsFromAuthConfig(
  config: unknown,
  registry: string,
  repository: string,
  source: string,
): Credentials | undefined {
  const auths = (config as { auths?: Record<string, unknown> })?.auths;
  if (!auths || typeof auths !== "object") return undefined;
  const want = `${registry}/${repository}`.toLowerCase();
  let best: { len: number; creds: Credentials } | undefined;
  for (const [key, value] of Object.entries(auths)) {
    const k = normalizeAuthKey(key);
    if (!(want === k || want.startsWith(`${k}/`))) continue;
    const v = value as { auth?: unknown; username?: unknown; password?: unknown };
    // a malformed entry for this registry is an error naming the file and the key (never its
    // value), not "no credentials were given"; an empty entry is a credential helper's
    const malformed = (why: string) =>
      new OciError("E_REGISTRY_CREDS", `${source}: the entry for "${key}" is malformed: ${why}`, {
        hint: "fix it (auth: base64 of USER:PASSWORD), log in again, or remove it",
      });
    let creds: Credentials | undefined;
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw malformed("not an object");
    if (v.auth !== undefined && v.auth !== "") {
      if (typeof v.auth !== "string") throw malformed("auth is not a string");
      const compact = v.auth.replace(/\s+/g, "");
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw malformed("auth is not base64");
      const decoded = Buffer.from(compact, "base64").toString("utf8");
      const i = decoded.indexOf(":");
      if (i <= 0) throw malformed("auth is not base64 of USER:PASSWORD");
      creds = { username: decoded.slice(0, i), password: decoded.slice(i + 1), source };
    } else if (v.username !== undefined || v.password !== undefined) {
      if (typeof v.username !== "string" || typeof v.password !== "string")
        throw malformed("username and password must both be strings");
      creds = { username: v.username, password: v.password, source };
    }
    if (creds && (!best || k.length > best.len)) best = { len: k.length, creds };
  }
  return best?.creds;
}

/**
 * Resolve credentials for a registry: explicit > environment > auth files. Undefined means
 * anonymous.
 */
export function resolveCredentials(
  registry: string,
  repository: string,
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
): Credentials | undefined {
  if (explicit !== undefined && explicit !== "") return parseCreds(explicit);
  const user = env.SHELLFREE_REGISTRY_USER;
  const pass = env.SHELLFREE_REGISTRY_PASSWORD;
  if (user && pass !== undefined) return { username: user, password: pass, source: "environment" };
  for (const path of authFilePaths(env)) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue;
    }
    let config: unknown;
    try {
      config = JSON.parse(text);
    } catch {
      throw new OciError("E_REGISTRY_CREDS", `${path}: not valid JSON`, {
        hint: "fix or remove the auth file",
      });
    }
    const c = credsFromAuthConfig(config, registry, repository, path);
    if (c) return c;
  }
  return undefined;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parse a WWW-Authenticate header value (RFC 7235): one or more challenges, each a scheme and
 * comma-separated `key=value` / `key="quoted value"` parameters.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const token = () => {
    const start = i;
    while (i < s.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(s[i])) i++;
    return s.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < s.length) {
    skipWs();
    if (s[i] === ",") {
      i++;
      continue;
    }
    const start = i;
    const t = token();
    if (t === "") {
      i++; // skip garbage
      continue;
    }
    skipWs();
    if (s[i] === "=" && current) {
      i++;
      skipWs();
      let value = "";
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === "\\" && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        const vs = i;
        while (i < s.length && s[i] !== "," && s[i] !== " ") i++;
        value = s.slice(vs, i);
      }
      current.params[t.toLowerCase()] = value;
    } else {
      // a new challenge: the scheme; token68 values after it are ignored
      i = start + t.length;
      current = { scheme: t.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/** Secrets known to a client; `redact` removes every one of them from a text. */
export class Secrets {
  private readonly values = new Set<string>();
  add(v: string | undefined): void {
    if (v && v.length >= 3) {
      this.values.add(v);
      addSecret(v); // and from anything this process prints
    }
  }
  addCreds(c: Credentials | undefined): void {
    if (!c) return;
    this.add(c.password);
    this.add(Buffer.from(`${c.username}:${c.password}`).toString("base64"));
    this.add(encodeURIComponent(c.password));
  }
  redact(text: string): string {
    let out = text;
    // longest first, so a secret containing another is removed whole
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join("***");
    return out;
  }
}
