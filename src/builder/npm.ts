/**
 * npm registry configuration, discovered the way npm does it — never a constant in shellfree:
 * `$npm_config_registry`, then the project `.npmrc` (nearest directory upwards with a
 * package.json or node_modules), the user `.npmrc` (`$npm_config_userconfig` or ~/.npmrc), the
 * global npmrc (`$npm_config_globalconfig`), and finally `npm config get registry` (npm's own
 * built-in default) when npm is installed. Auth tokens (`//host/path/:_authToken=...`, `_auth`,
 * `username`/`_password`) are read from the same files and are never printed.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { BuildError } from "./errors.ts";

export interface NpmConfig {
  /** registry base URL, always ending in "/" */
  registry: string;
  /** where the registry value came from (for messages): "env", a file path, or "npm config" */
  registrySource: string;
  /** HTTP headers (Authorization) to send with a request to `url`; {} when no credentials apply */
  authHeaders(url: string): Record<string, string>;
}

export interface NpmConfigOptions {
  /** directory to start the project .npmrc search from (default process.cwd()) */
  cwd?: string;
  /** environment (default process.env) */
  env?: Record<string, string | undefined>;
  /** home directory for ~/.npmrc (default os.homedir()) */
  home?: string;
  /** ask `npm config get registry` when no file or variable names the registry (default true) */
  askNpm?: boolean;
}

/** Expand `${NAME}` (and `${NAME?}`) from `env` as npm does. */
function expandEnv(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/(\\*)\$\{([^}?]+)(\?)?\}/g, (whole, esc: string, name: string, optional?: string) => {
    if (esc.length % 2 === 1) return whole.slice(1);
    const v = env[name];
    if (v === undefined) return optional ? "" : whole;
    return esc + v;
  });
}

/** Parse the ini format of .npmrc into flat key → value (sections are ignored as npm does). */
export function parseNpmrc(
  text: string,
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith(";") || line.startsWith("#") || line.startsWith("[")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = expandEnv(line.slice(0, eq).trim(), env);
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
      value = value.slice(1, -1);
    }
    if (!key) continue;
    out[key] = expandEnv(value, env);
  }
  return out;
}

function readNpmrc(
  path: string | undefined,
  env: Record<string, string | undefined>,
): Record<string, string> {
  if (!path) return {};
  try {
    return parseNpmrc(readFileSync(path, "utf8"), env);
  } catch {
    return {};
  }
}

/** The project directory npm would use: nearest upwards with package.json or node_modules. */
function projectDir(cwd: string): string | undefined {
  let d = cwd;
  for (let i = 0; i < 64; i++) {
    if (existsSync(join(d, "package.json")) || existsSync(join(d, "node_modules"))) return d;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
  return undefined;
}

function normaliseRegistry(url: string, source: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BuildError(
      "E_NPM_REGISTRY",
      `npm registry from ${source} is not a URL: ${JSON.stringify(url)}`,
      {
        hint: "set npm_config_registry or `registry=` in .npmrc to the registry's URL",
      },
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new BuildError("E_NPM_REGISTRY", `npm registry from ${source} must be http(s): ${u.protocol}`);
  }
  return u.toString().endsWith("/") ? u.toString() : `${u.toString()}/`;
}

/**
 * Credentials for `url` from npmrc keys of the form `//host[:port]/path/:_authToken` (also
 * `_auth`, `username` + `_password`), longest matching path first, as npm matches them.
 */
export function authHeadersFor(settings: Record<string, string>, url: string): Record<string, string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return {};
  }
  // the "nerf dart": //host/path/ with the last path segment dropped, then each parent
  let path = u.pathname.replace(/[^/]*$/, "");
  for (let i = 0; i < 64; i++) {
    const prefix = `//${u.host}${path}`;
    const token = settings[`${prefix}:_authToken`];
    if (token) return { authorization: `Bearer ${token}` };
    const auth = settings[`${prefix}:_auth`];
    if (auth) return { authorization: `Basic ${auth}` };
    const user = settings[`${prefix}:username`];
    const pass = settings[`${prefix}:_password`];
    if (user && pass) {
      const clear = Buffer.from(pass, "base64").toString("utf8");
      return { authorization: `Basic ${Buffer.from(`${user}:${clear}`).toString("base64")}` };
    }
    if (path === "/") break;
    path = path.replace(/[^/]*\/$/, "");
    if (path === "") path = "/";
  }
  return {};
}

function npmConfigGetRegistry(
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      "npm",
      ["config", "get", "registry"],
      { cwd, env: env as NodeJS.ProcessEnv, timeout: 30_000, encoding: "utf8" },
      (err, stdout) => {
        if (err) return resolve(undefined);
        const v = stdout.trim().split(/\r?\n/).pop()?.trim();
        resolve(v && v !== "undefined" ? v : undefined);
      },
    );
  });
}

let memo: { key: string; value: Promise<NpmConfig> } | undefined;

/** Discover the npm registry and credentials. Memoised per process for the default options. */
export function npmConfig(opts: NpmConfigOptions = {}): Promise<NpmConfig> {
  const isDefault = opts.cwd === undefined && opts.env === undefined && opts.home === undefined;
  const key = `${process.cwd()}\0${process.env.npm_config_registry ?? ""}\0${opts.askNpm !== false}`;
  if (isDefault && memo?.key === key) return memo.value;
  const value = discover(opts);
  if (isDefault) {
    memo = { key, value };
    value.catch(() => {
      if (memo?.value === value) memo = undefined;
    });
  }
  return value;
}

async function discover(opts: NpmConfigOptions): Promise<NpmConfig> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? homedir();
  const proj = projectDir(cwd);
  // lowest precedence first; later layers override
  const layers: Array<{ source: string; values: Record<string, string> }> = [];
  const globalPath = env.npm_config_globalconfig ?? env.NPM_CONFIG_GLOBALCONFIG;
  if (globalPath) layers.push({ source: globalPath, values: readNpmrc(globalPath, env) });
  const userPath = env.npm_config_userconfig ?? env.NPM_CONFIG_USERCONFIG ?? join(home, ".npmrc");
  layers.push({ source: userPath, values: readNpmrc(userPath, env) });
  if (proj) {
    const p = join(proj, ".npmrc");
    if (p !== userPath) layers.push({ source: p, values: readNpmrc(p, env) });
  }
  const settings: Record<string, string> = {};
  let registry: string | undefined;
  let registrySource = "";
  for (const l of layers) {
    Object.assign(settings, l.values);
    if (l.values.registry) {
      registry = l.values.registry;
      registrySource = l.source;
    }
  }
  const envRegistry = env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY;
  if (envRegistry) {
    registry = envRegistry;
    registrySource = "$npm_config_registry";
  }
  if (!registry && opts.askNpm !== false) {
    registry = await npmConfigGetRegistry(cwd, env);
    registrySource = "npm config get registry";
  }
  if (!registry) {
    throw new BuildError("E_NPM_REGISTRY", "no npm registry is configured", {
      hint: "set npm_config_registry, or `registry=` in ~/.npmrc, or install npm",
    });
  }
  const reg = normaliseRegistry(registry, registrySource);
  return {
    registry: reg,
    registrySource,
    authHeaders: (url: string) => authHeadersFor(settings, url),
  };
}
