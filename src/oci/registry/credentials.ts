/**
 * Registry credentials, found where docker, podman and skopeo keep them. First match wins:
 *
 *   1. `--creds USER:PASSWORD` (skopeo's --creds)
 *   2. `$SHELLFREE_REGISTRY_USER` + `$SHELLFREE_REGISTRY_PASSWORD`
 *   3. the auth files, in the order podman and skopeo (containers/image) search them:
 *        `$REGISTRY_AUTH_FILE` when set — then only that file, as with --authfile; else
 *        `$XDG_RUNTIME_DIR/containers/auth.json` (without $XDG_RUNTIME_DIR:
 *        `/run/containers/$UID/auth.json`, e.g. /run/containers/0/auth.json as root),
 *        `$XDG_CONFIG_HOME/containers/auth.json` (~/.config/containers/auth.json),
 *        `$DOCKER_CONFIG/config.json` (~/.docker/config.json).
 *      In each file: `credHelpers[REGISTRY]` (run `docker-credential-NAME get`), then docker's
 *      `credsStore` (the helper for every registry), then `auths` — the most specific key wins
 *      (`host/ns/repo` before `host/ns` before `host`; `https://host/v1/` style keys too), its
 *      `auth` (base64 USER:PASSWORD) and `identitytoken` (an OAuth2 refresh token, traded at the
 *      token endpoint with grant_type=refresh_token). Docker Hub answers to docker.io,
 *      index.docker.io, registry-1.docker.io and https://index.docker.io/v1/ alike.
 *
 * An entry that is there but malformed is an error naming the file and the entry (never a silent
 * "anonymous"); an empty entry (`{}`, what `docker login` leaves beside a credential store) is
 * skipped. Secrets never appear in messages.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { OciError } from "../errors.ts";
import { helperGet } from "./cred-helper.ts";

export interface Credentials {
  username: string;
  password: string;
  /** an OAuth2 refresh token (docker's `identitytoken`); username/password may then be empty */
  identityToken?: string;
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

/** The auth files to look in, in order of preference (see the module comment). */
export function authFilePaths(
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? 0,
): string[] {
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE];
  const home = env.HOME || homedir();
  return [
    env.XDG_RUNTIME_DIR
      ? join(env.XDG_RUNTIME_DIR, "containers", "auth.json")
      : `/run/containers/${uid}/auth.json`,
    join(env.XDG_CONFIG_HOME || join(home, ".config"), "containers", "auth.json"),
    join(env.DOCKER_CONFIG || join(home, ".docker"), "config.json"),
  ];
}

const HUB = "index.docker.io";
const HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** A registry host as auth files name it: Docker Hub's aliases are one. */
export function normalizeRegistry(host: string): string {
  const h = host.toLowerCase();
  return HUB_ALIASES.has(h) ? HUB : h;
}

/**
 * An auth file key as `host[/path]`: "https://host:port/v1/" → "host:port" (a URL names a
 * registry), "host/ns/repo" stays (podman allows repository keys), Docker Hub's names are one.
 */
export function normalizeAuthKey(key: string): string {
  let k = key.trim();
  const hadScheme = /^[a-z]+:\/\//i.test(k);
  k = k.replace(/^[a-z]+:\/\//i, "");
  if (hadScheme) k = k.split("/")[0];
  k = k.replace(/\/+$/, "");
  const slash = k.indexOf("/");
  const host = slash < 0 ? k : k.slice(0, slash);
  return normalizeRegistry(host) + (slash < 0 ? "" : k.slice(slash));
}

/** The server URL a credential helper is asked for (docker's for Docker Hub first). */
function helperServerUrls(registry: string): string[] {
  return normalizeRegistry(registry) === HUB ? ["https://index.docker.io/v1/", "docker.io"] : [registry];
}

function malformed(file: string, what: string, why: string): never {
  throw new OciError("E_REGISTRY_CREDS", `${file}: ${what} ${why}`, {
    hint: `fix or remove that entry (docker login / podman login rewrite it)`,
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One `auths` entry as credentials; undefined for an empty entry (a credential store's marker). */
function authEntry(file: string, key: string, value: unknown): Credentials | undefined {
  const what = `auths[${JSON.stringify(key)}]`;
  if (!isObject(value)) malformed(file, what, "is not an object");
  const { auth, identitytoken, username, password } = value;
  if (identitytoken !== undefined && typeof identitytoken !== "string")
    malformed(file, `${what}.identitytoken`, "is not a string");
  const token = (identitytoken as string | undefined) || undefined;
  if (auth !== undefined && auth !== "") {
    if (typeof auth !== "string") malformed(file, `${what}.auth`, "is not a string");
    const b = auth.replace(/\s+/g, "");
    if (!BASE64.test(b) || b.length % 4 === 1) malformed(file, `${what}.auth`, "is not base64");
    const decoded = Buffer.from(b, "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i < 0 || decoded === ":")
      malformed(file, `${what}.auth`, "does not decode to USER:PASSWORD (no colon)");
    return {
      username: decoded.slice(0, i),
      password: decoded.slice(i + 1).replace(/\0+$/, ""),
      ...(token ? { identityToken: token } : {}),
      source: file,
    };
  }
  if (username !== undefined || password !== undefined) {
    if (typeof username !== "string" || typeof password !== "string")
      malformed(file, what, 'has "username"/"password" that are not both strings');
    return { username, password, ...(token ? { identityToken: token } : {}), source: file };
  }
  if (token) return { username: "", password: "", identityToken: token, source: file };
  return undefined;
}

/** Credentials from a helper, named by where it was configured. */
function fromHelper(name: string, registry: string, origin: string): Credentials | undefined {
  for (const url of helperServerUrls(registry)) {
    const c = helperGet(name, url, origin);
    if (!c) continue;
    const source = `docker-credential-${name} (${origin})`;
    return c.identityToken
      ? { username: "", password: "", identityToken: c.secret, source }
      : { username: c.username, password: c.secret, source };
  }
  return undefined;
}

/**
 * Credentials for `registry` (host[:port]) and `repository` in one parsed auth file: its
 * credHelpers entry, its credsStore, its auths (most specific key first). Throws on a malformed
 * entry that applies.
 */
export function credsFromAuthConfig(
  config: unknown,
  registry: string,
  repository: string,
  source: string,
): Credentials | undefined {
  if (!isObject(config)) malformed(source, "the file", "is not a JSON object");
  const host = normalizeRegistry(registry);
  const { credHelpers, credsStore, auths } = config;
  if (credHelpers !== undefined) {
    if (!isObject(credHelpers)) malformed(source, '"credHelpers"', "is not an object");
    for (const [key, name] of Object.entries(credHelpers)) {
      if (normalizeAuthKey(key) !== host) continue;
      if (typeof name !== "string" || name === "")
        malformed(source, `credHelpers[${JSON.stringify(key)}]`, "is not a helper name");
      const c = fromHelper(name, registry, `${source} credHelpers[${JSON.stringify(key)}]`);
      if (c) return c;
    }
  }
  if (credsStore !== undefined && credsStore !== "") {
    if (typeof credsStore !== "string") malformed(source, '"credsStore"', "is not a helper name");
    const c = fromHelper(credsStore, registry, `${source} credsStore`);
    if (c) return c;
  }
  if (auths === undefined) return undefined;
  if (!isObject(auths)) malformed(source, '"auths"', "is not an object");
  const want = `${host}/${repository}`.toLowerCase();
  const matches = Object.keys(auths)
    .map((key) => ({ key, k: normalizeAuthKey(key).toLowerCase() }))
    .filter(({ k }) => want === k || want.startsWith(`${k}/`))
    // the most specific key first; among equals, an exact spelling before a normalized one
    .sort((a, b) => b.k.length - a.k.length || Number(b.key === b.k) - Number(a.key === a.k));
  for (const { key } of matches) {
    const c = authEntry(source, key, auths[key]);
    if (c) return c;
  }
  return undefined;
}

/**
 * Resolve credentials for a registry: explicit > environment > auth files. Undefined means
 * anonymous (nothing applies anywhere).
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
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") continue;
      throw new OciError("E_REGISTRY_CREDS", `${path}: cannot read the auth file: ${code}`, {
        hint: "fix its permissions, or point $REGISTRY_AUTH_FILE at another file",
      });
    }
    let config: unknown;
    try {
      config = JSON.parse(text);
    } catch (e) {
      // the parser's message quotes the text around the error, which may be a secret: only where
      const at = /position (\d+)/.exec((e as Error).message);
      let where = "";
      if (at) {
        const before = text.slice(0, Number(at[1])).split("\n");
        where = ` at line ${before.length}, column ${(before.at(-1) ?? "").length + 1}`;
      }
      throw new OciError("E_REGISTRY_CREDS", `${path}: not valid JSON${where}`, {
        hint: "fix or remove the auth file",
      });
    }
    const c = credsFromAuthConfig(config, registry, repository, path);
    if (c) return c;
  }
  return undefined;
}
