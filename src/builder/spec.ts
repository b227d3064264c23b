/**
 * The image spec (`shellfree.yaml`): parsing, validation with file:line: field errors, `extends`
 * and presets, defaults. Validation walks the YAML syntax tree by hand so that every message
 * points at the line of the offending key or value:
 *
 *   shellfree.yaml:12: config.entrypoint: must be an array (exec form); a shell-form string is not allowed
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { BuildError } from "./errors.ts";
import { PRESETS, presetNames } from "./presets/index.ts";

export const KNOWN_ARCHES = ["amd64", "arm64", "armhf", "i386", "ppc64el", "s390x", "riscv64"] as const;

export interface GroupSpec {
  name: string;
  gid: number;
}
export interface UserSpec {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell?: string;
}
export type PathSpec =
  | { path: string; type: "directory"; uid: number; gid: number; mode: number }
  | { path: string; type: "symlink"; target: string; uid: number; gid: number }
  | { path: string; type: "file"; content: string; uid: number; gid: number; mode: number };
export interface FileSpec {
  /** absolute path on the build host */
  src: string;
  /** absolute path in the image */
  dest: string;
  /** file mode (directories copied with their own modes unless `mode` given: then files get it) */
  mode?: number;
  uid: number;
  gid: number;
  /** where it was declared, for error messages */
  where: string;
}
export interface HealthcheckSpec {
  test: string[];
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: number;
}
export interface ConfigSpec {
  entrypoint?: string[];
  cmd?: string[];
  env: Record<string, string>;
  workdir?: string;
  user?: string;
  exposedPorts: string[];
  volumes: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  stopSignal?: string;
  healthcheck?: HealthcheckSpec;
}
export interface LayerSpec {
  name: string;
  packages: string[];
}

export interface Spec {
  /** where the spec came from: a file path or "preset:NAME" */
  source: string;
  /** directory `files:` sources are relative to */
  baseDir: string;
  name: string;
  suite: string;
  architectures: string[];
  presets: string[];
  packages: {
    include: string[];
    exclude: string[];
    keep: string[];
    pins: Record<string, string>;
    allow: string[];
  };
  sources: { security: boolean; components: string[]; extraSuites: string[] };
  runtime: { node?: string };
  accounts: { groups: GroupSpec[]; users: UserSpec[]; runAs?: string };
  paths: PathSpec[];
  files: FileSpec[];
  /** the `init:` section as plain data (validated by src/init's parseInitConfig) */
  init?: unknown;
  config: ConfigSpec;
  layers: LayerSpec[];
  alternatives: Record<string, string>;
}

/** One spec file (or preset) before merging: every field optional. */
export interface SpecFragment {
  name?: string;
  suite?: string;
  architectures?: string[];
  preset?: string;
  extends?: string;
  packages?: Partial<Spec["packages"]>;
  sources?: Partial<Spec["sources"]>;
  runtime?: Spec["runtime"];
  accounts?: Partial<Spec["accounts"]>;
  paths?: PathSpec[];
  files?: FileSpec[];
  init?: unknown;
  config?: Partial<ConfigSpec>;
  layers?: LayerSpec[];
  alternatives?: Record<string, string>;
}

/** Packages that only maintainer scripts need: excluded unless `packages.keep` names them. */
export const DEFAULT_EXCLUDES = [
  "adduser",
  "debconf",
  "debconf-2.0",
  "cdebconf",
  "perl-base",
  "init-system-helpers",
  "logrotate",
  "libdbi-perl",
  "openssl",
  "ucf",
  "lsb-base",
  "sysvinit-utils",
  "systemd",
  "systemd-sysv",
  "systemd-standalone-sysusers",
  "systemd-standalone-tmpfiles",
  "systemd-tmpfiles",
  "dpkg",
  // awk: base-files' maintainer scripts need it; a shell-free image does not
  "mawk",
  "gawk",
  "original-awk",
];

/** Shells and package managers: their presence in the closure fails the build unless allowed. */
export const FORBIDDEN_PACKAGES = [
  "dash",
  "bash",
  "bash-static",
  "busybox",
  "busybox-static",
  "zsh",
  "zsh-static",
  "ksh",
  "ksh93u+m",
  "mksh",
  "tcsh",
  "csh",
  "fish",
  "yash",
  "posh",
  "rc",
  "sash",
  "toybox",
  "apt",
  "dpkg",
  "aptitude",
  "rpm",
  "dnf",
  "yum",
];

// ---------------------------------------------------------------------------------------------
// validation over the YAML syntax tree

class Ctx {
  readonly file: string;
  readonly lc: LineCounter;
  constructor(file: string, lc: LineCounter) {
    this.file = file;
    this.lc = lc;
  }
  line(node: Node | null | undefined): number {
    const off = node?.range?.[0];
    return off === undefined ? 1 : this.lc.linePos(off).line;
  }
  fail(node: Node | null | undefined, field: string, msg: string): never {
    throw new BuildError("E_SPEC", `${this.file}:${this.line(node)}: ${field}: ${msg}`);
  }
}

type N = Node | null | undefined;
type Fields = Record<string, (value: N, field: string, keyNode: N) => void>;

function mapOf(ctx: Ctx, node: N, field: string, fields: Fields): void {
  if (!isMap(node)) ctx.fail(node, field, `must be a mapping (key: value)`);
  const seen = new Set<string>();
  for (const pair of (node as YAMLMap<N, N>).items) {
    const keyNode = pair.key as N;
    const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
    const sub = field ? `${field}.${key}` : String(key);
    if (key === undefined) ctx.fail(keyNode ?? node, field || "spec", "keys must be plain strings");
    if (seen.has(key)) ctx.fail(keyNode, sub, "duplicate key");
    seen.add(key);
    const handler = fields[key];
    if (!handler) {
      ctx.fail(keyNode, sub, `unknown key "${key}" (allowed: ${Object.keys(fields).join(", ")})`);
    }
    handler(pair.value as N, sub, keyNode);
  }
}

/** For maps with free-form keys (env, labels, alternatives): key → scalar string */
function stringMap(ctx: Ctx, node: N, field: string, keyRe?: RegExp, what?: string): Record<string, string> {
  if (!isMap(node)) ctx.fail(node, field, "must be a mapping (key: value)");
  const out: Record<string, string> = {};
  for (const pair of (node as YAMLMap<N, N>).items) {
    const keyNode = pair.key as N;
    if (!isScalar(keyNode) || keyNode.value === null)
      ctx.fail(keyNode ?? node, field, "keys must be strings");
    const key = String(keyNode.value);
    if (keyRe && !keyRe.test(key)) ctx.fail(keyNode, `${field}.${key}`, `invalid ${what ?? "key"}`);
    if (key in out) ctx.fail(keyNode, `${field}.${key}`, "duplicate key");
    out[key] = scalarString(ctx, pair.value as N, `${field}.${key}`);
  }
  return out;
}

/** A scalar turned into a string (numbers and booleans allowed: env values, labels). */
function scalarString(ctx: Ctx, node: N, field: string): string {
  if (!isScalar(node) || node.value === null || typeof node.value === "object") {
    ctx.fail(node, field, "must be a string");
  }
  return String(node.value);
}

function str(ctx: Ctx, node: N, field: string, re?: RegExp, what?: string): string {
  if (!isScalar(node) || typeof node.value !== "string") {
    ctx.fail(node, field, `must be a string${what ? ` (${what})` : ""}`);
  }
  const s = node.value as string;
  if (s === "") ctx.fail(node, field, "must not be empty");
  if (re && !re.test(s))
    ctx.fail(node, field, `invalid value ${JSON.stringify(s)}${what ? `: expected ${what}` : ""}`);
  return s;
}

function bool(ctx: Ctx, node: N, field: string): boolean {
  if (!isScalar(node) || typeof node.value !== "boolean") ctx.fail(node, field, "must be true or false");
  return node.value as boolean;
}

function int(ctx: Ctx, node: N, field: string, min: number, max: number): number {
  if (!isScalar(node) || typeof node.value !== "number" || !Number.isInteger(node.value)) {
    ctx.fail(node, field, "must be an integer");
  }
  const v = node.value as number;
  if (v < min || v > max) ctx.fail(node, field, `must be between ${min} and ${max}`);
  return v;
}

function list<T>(ctx: Ctx, node: N, field: string, item: (n: N, f: string) => T): T[] {
  if (!isSeq(node)) ctx.fail(node, field, "must be a list");
  return node.items.map((n, i) => item(n as N, `${field}[${i}]`));
}

const ID = 0xfffffffe;
const PKG_RE = /^[a-z0-9][a-z0-9+.-]+$/;
const ABS_PATH_RE = /^\/[^\0]*$/;

function absPath(ctx: Ctx, node: N, field: string): string {
  const s = str(ctx, node, field);
  if (!ABS_PATH_RE.test(s)) ctx.fail(node, field, `must be an absolute path (got ${JSON.stringify(s)})`);
  if (s.split("/").some((c) => c === ".." || c === "."))
    ctx.fail(node, field, `must not contain "." or ".."`);
  return s.replace(/\/+$/, "") || "/";
}

function mode(ctx: Ctx, node: N, field: string): number {
  if (isScalar(node) && typeof node.value === "number") {
    ctx.fail(node, field, `must be a quoted octal string such as "0644" (a bare number is read as decimal)`);
  }
  const s = str(ctx, node, field);
  if (!/^0?[0-7]{3,4}$/.test(s)) ctx.fail(node, field, `must be an octal mode such as "0644" or "1777"`);
  return Number.parseInt(s, 8);
}

function execForm(ctx: Ctx, node: N, field: string): string[] {
  if (isScalar(node) && typeof node.value === "string") {
    ctx.fail(node, field, "must be an array (exec form); a shell-form string is not allowed");
  }
  const out = list(ctx, node, field, (n, f) => scalarString(ctx, n, f));
  if (out.length === 0) ctx.fail(node, field, "must not be empty");
  return out;
}

const DURATION_RE = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;

function parseFragment(ctx: Ctx, root: N, baseDir: string): SpecFragment {
  const frag: SpecFragment = {};
  if (root === null || root === undefined) return frag;
  mapOf(ctx, root, "", {
    name: (v, f) => {
      frag.name = str(ctx, v, f, /^[a-z0-9][a-z0-9._-]*$/, "lower-case letters, digits, . _ -");
    },
    suite: (v, f) => {
      frag.suite = str(ctx, v, f, /^[a-z0-9][a-z0-9.-]*$/, "a Debian suite name such as trixie");
    },
    architectures: (v, f) => {
      frag.architectures = list(ctx, v, f, (n, g) => {
        const a = str(ctx, n, g);
        if (!(KNOWN_ARCHES as readonly string[]).includes(a)) {
          ctx.fail(n, g, `unknown architecture "${a}" (known: ${KNOWN_ARCHES.join(", ")})`);
        }
        return a;
      });
      if (frag.architectures.length === 0) ctx.fail(v, f, "must name at least one architecture");
    },
    preset: (v, f) => {
      const p = str(ctx, v, f);
      if (!PRESETS[p]) ctx.fail(v, f, `unknown preset "${p}" (known: ${presetNames().join(", ")})`);
      frag.preset = p;
    },
    extends: (v, f) => {
      frag.extends = str(ctx, v, f);
    },
    packages: (v, f) => {
      const p: NonNullable<SpecFragment["packages"]> = {};
      const names = (n: N, g: string) =>
        list(ctx, n, g, (m, h) => str(ctx, m, h, PKG_RE, "a Debian package name"));
      mapOf(ctx, v, f, {
        include: (n, g) => {
          p.include = list(ctx, n, g, (m, h) => {
            const s = str(ctx, m, h);
            const [name, ver] = s.split("=", 2);
            if (!PKG_RE.test(name) || (ver !== undefined && ver === "")) {
              ctx.fail(m, h, `invalid package "${s}": expected NAME or NAME=VERSION`);
            }
            return s;
          });
        },
        exclude: (n, g) => {
          p.exclude = names(n, g);
        },
        keep: (n, g) => {
          p.keep = names(n, g);
        },
        allow: (n, g) => {
          p.allow = names(n, g);
        },
        pins: (n, g) => {
          const pins: Record<string, string> = {};
          if (isMap(n)) {
            const m = stringMap(ctx, n, g, PKG_RE, "package name");
            Object.assign(pins, m);
          } else {
            list(ctx, n, g, (m, h) => {
              const s = str(ctx, m, h);
              const eq = s.indexOf("=");
              const name = s.slice(0, eq);
              if (eq <= 0 || eq === s.length - 1 || !PKG_RE.test(name)) {
                ctx.fail(m, h, `invalid pin "${s}": expected NAME=VERSION`);
              }
              pins[name] = s.slice(eq + 1);
            });
          }
          p.pins = pins;
        },
      });
      frag.packages = p;
    },
    sources: (v, f) => {
      const s: NonNullable<SpecFragment["sources"]> = {};
      mapOf(ctx, v, f, {
        security: (n, g) => {
          s.security = bool(ctx, n, g);
        },
        components: (n, g) => {
          s.components = list(ctx, n, g, (m, h) => str(ctx, m, h, /^[a-z0-9-]+$/));
        },
        suites: (n, g) => {
          s.extraSuites = list(ctx, n, g, (m, h) => str(ctx, m, h, /^[a-z0-9][a-z0-9.-]*$/));
        },
      });
      frag.sources = s;
    },
    runtime: (v, f) => {
      const r: Spec["runtime"] = {};
      mapOf(ctx, v, f, {
        node: (n, g) => {
          const s = scalarString(ctx, n, g);
          if (!/^\d+(\.\d+){0,2}$/.test(s))
            ctx.fail(n, g, `must be a Node.js version such as "24" or "24.9.0"`);
          r.node = s;
        },
      });
      frag.runtime = r;
    },
    accounts: (v, f) => {
      const a: NonNullable<SpecFragment["accounts"]> = {};
      mapOf(ctx, v, f, {
        groups: (n, g) => {
          a.groups = list(ctx, n, g, (m, h) => {
            const gr: Partial<GroupSpec> = {};
            mapOf(ctx, m, h, {
              name: (x, y) => {
                gr.name = str(ctx, x, y, /^[a-z_][a-z0-9_-]*$/, "a group name");
              },
              gid: (x, y) => {
                gr.gid = int(ctx, x, y, 0, ID);
              },
            });
            if (!gr.name) ctx.fail(m, h, "needs a name");
            if (gr.gid === undefined) ctx.fail(m, h, "needs a gid");
            return gr as GroupSpec;
          });
        },
        users: (n, g) => {
          a.users = list(ctx, n, g, (m, h) => {
            const u: Partial<UserSpec> = {};
            mapOf(ctx, m, h, {
              name: (x, y) => {
                u.name = str(ctx, x, y, /^[a-z_][a-z0-9_-]*$/, "a user name");
              },
              uid: (x, y) => {
                u.uid = int(ctx, x, y, 0, ID);
              },
              gid: (x, y) => {
                u.gid = int(ctx, x, y, 0, ID);
              },
              home: (x, y) => {
                u.home = absPath(ctx, x, y);
              },
              shell: (x, y) => {
                u.shell = absPath(ctx, x, y);
              },
            });
            if (!u.name) ctx.fail(m, h, "needs a name");
            if (u.uid === undefined) ctx.fail(m, h, "needs a uid");
            if (u.gid === undefined) u.gid = u.uid;
            if (!u.home) u.home = `/home/${u.name}`;
            return u as UserSpec;
          });
        },
        "run-as": (n, g) => {
          if (isScalar(n) && typeof n.value === "number") a.runAs = String(int(ctx, n, g, 0, ID));
          else
            a.runAs = str(ctx, n, g, /^[a-z_][a-z0-9_-]*(:[a-z0-9_-]+)?$|^\d+(:\d+)?$/, "a user name or uid");
        },
      });
      frag.accounts = a;
    },
    paths: (v, f) => {
      frag.paths = list(ctx, v, f, (n, g) => {
        const raw: Record<string, unknown> = {};
        const nodes: Record<string, N> = {};
        mapOf(ctx, n, g, {
          path: (x, y) => {
            raw.path = absPath(ctx, x, y);
            nodes.path = x;
          },
          type: (x, y) => {
            raw.type = str(ctx, x, y, /^(directory|symlink|file)$/, "directory, symlink or file");
          },
          uid: (x, y) => {
            raw.uid = int(ctx, x, y, 0, ID);
          },
          gid: (x, y) => {
            raw.gid = int(ctx, x, y, 0, ID);
          },
          mode: (x, y) => {
            raw.mode = mode(ctx, x, y);
          },
          target: (x, y) => {
            raw.target = str(ctx, x, y);
            nodes.target = x;
          },
          content: (x, y) => {
            if (!isScalar(x) || typeof x.value !== "string") ctx.fail(x, y, "must be a string");
            raw.content = x.value;
            nodes.content = x;
          },
        });
        if (raw.path === undefined) ctx.fail(n, g, "needs a path");
        if (raw.path === "/") ctx.fail(nodes.path, `${g}.path`, "must not be /");
        const type = (raw.type as string | undefined) ?? "directory";
        const uid = (raw.uid as number | undefined) ?? 0;
        const gid = (raw.gid as number | undefined) ?? 0;
        if (type === "symlink") {
          if (raw.target === undefined) ctx.fail(n, g, "a symlink needs a target");
          if (raw.mode !== undefined) ctx.fail(n, `${g}.mode`, "a symlink has no mode");
          if (raw.content !== undefined) ctx.fail(nodes.content, `${g}.content`, "only a file has content");
          return { path: raw.path as string, type, target: raw.target as string, uid, gid };
        }
        if (raw.target !== undefined) ctx.fail(nodes.target, `${g}.target`, "only a symlink has a target");
        if (type === "directory") {
          if (raw.content !== undefined) ctx.fail(nodes.content, `${g}.content`, "only a file has content");
          return {
            path: raw.path as string,
            type,
            uid,
            gid,
            mode: (raw.mode as number | undefined) ?? 0o755,
          };
        }
        return {
          path: raw.path as string,
          type: "file",
          content: (raw.content as string | undefined) ?? "",
          uid,
          gid,
          mode: (raw.mode as number | undefined) ?? 0o644,
        };
      });
    },
    files: (v, f) => {
      frag.files = list(ctx, v, f, (n, g) => {
        let src: string | undefined;
        let srcNode: N;
        let dest: string | undefined;
        let m: number | undefined;
        let uid = 0;
        let gid = 0;
        mapOf(ctx, n, g, {
          src: (x, y) => {
            src = str(ctx, x, y);
            srcNode = x;
          },
          dest: (x, y) => {
            dest = absPath(ctx, x, y);
          },
          mode: (x, y) => {
            m = mode(ctx, x, y);
          },
          uid: (x, y) => {
            uid = int(ctx, x, y, 0, ID);
          },
          gid: (x, y) => {
            gid = int(ctx, x, y, 0, ID);
          },
          owner: (x, y) => {
            const s = str(ctx, x, y, /^\d+(:\d+)?$/, "UID:GID (numbers)");
            const [u, gg] = s.split(":");
            uid = Number(u);
            gid = Number(gg ?? u);
          },
        });
        if (src === undefined) ctx.fail(n, g, "needs src (a local file or directory, relative to the spec)");
        if (dest === undefined) ctx.fail(n, g, "needs dest (an absolute path in the image)");
        const abs = isAbsolute(src) ? src : resolvePath(baseDir, src);
        try {
          statSync(abs);
        } catch {
          throw new BuildError(
            "E_FILE_MISSING",
            `${ctx.file}:${ctx.line(srcNode)}: ${g}.src: local file ${JSON.stringify(src)} does not exist (looked for ${abs})`,
          );
        }
        return { src: abs, dest, mode: m, uid, gid, where: `${ctx.file}:${ctx.line(srcNode)}` };
      });
    },
    init: (v) => {
      frag.init = v === null || v === undefined ? {} : (v as Node).toJSON();
    },
    config: (v, f) => {
      const c: Partial<ConfigSpec> = {};
      mapOf(ctx, v, f, {
        entrypoint: (n, g) => {
          c.entrypoint = execForm(ctx, n, g);
        },
        cmd: (n, g) => {
          c.cmd = execForm(ctx, n, g);
        },
        env: (n, g) => {
          c.env = stringMap(ctx, n, g, /^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable name");
        },
        workdir: (n, g) => {
          c.workdir = absPath(ctx, n, g);
        },
        user: (n, g) => {
          c.user = scalarString(ctx, n, g);
        },
        "exposed-ports": (n, g) => {
          c.exposedPorts = list(ctx, n, g, (m, h) => {
            const s = scalarString(ctx, m, h);
            if (!/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(s) || Number(s.split("/")[0]) > 65535) {
              ctx.fail(m, h, `invalid port "${s}": expected PORT or PORT/tcp|udp|sctp`);
            }
            return s.includes("/") ? s : `${s}/tcp`;
          });
        },
        volumes: (n, g) => {
          c.volumes = list(ctx, n, g, (m, h) => absPath(ctx, m, h));
        },
        labels: (n, g) => {
          c.labels = stringMap(ctx, n, g);
        },
        annotations: (n, g) => {
          c.annotations = stringMap(ctx, n, g);
        },
        "stop-signal": (n, g) => {
          c.stopSignal = scalarString(ctx, n, g);
          if (!/^(SIG[A-Z0-9+-]+|\d+)$/.test(c.stopSignal))
            ctx.fail(n, g, "must be a signal name such as SIGTERM");
        },
        healthcheck: (n, g) => {
          const h: Partial<HealthcheckSpec> = {};
          const dur = (x: N, y: string) => str(ctx, x, y, DURATION_RE, "a duration such as 10s or 1m30s");
          mapOf(ctx, n, g, {
            test: (x, y) => {
              h.test = execForm(ctx, x, y);
            },
            interval: (x, y) => {
              h.interval = dur(x, y);
            },
            timeout: (x, y) => {
              h.timeout = dur(x, y);
            },
            "start-period": (x, y) => {
              h.startPeriod = dur(x, y);
            },
            retries: (x, y) => {
              h.retries = int(ctx, x, y, 0, 1000);
            },
          });
          if (!h.test) ctx.fail(n, g, "needs test (exec form)");
          c.healthcheck = h as HealthcheckSpec;
        },
      });
      frag.config = c;
    },
    layers: (v, f) => {
      frag.layers = list(ctx, v, f, (n, g) => {
        const l: Partial<LayerSpec> = {};
        mapOf(ctx, n, g, {
          name: (x, y) => {
            l.name = str(ctx, x, y, /^[a-z0-9][a-z0-9._-]*$/, "lower-case letters, digits, . _ -");
          },
          packages: (x, y) => {
            l.packages = list(ctx, x, y, (m, h) => str(ctx, m, h, PKG_RE, "a Debian package name"));
          },
        });
        if (!l.name) ctx.fail(n, g, "needs a name");
        if (!l.packages?.length) ctx.fail(n, g, "needs packages");
        return l as LayerSpec;
      });
      const names = new Set<string>();
      const owner = new Map<string, string>();
      frag.layers.forEach((l, i) => {
        const item = isSeq(v) ? (v.items[i] as N) : v;
        if (names.has(l.name)) ctx.fail(item, `${f}[${i}].name`, `duplicate layer name "${l.name}"`);
        names.add(l.name);
        for (const p of l.packages) {
          if (owner.has(p))
            ctx.fail(item, `${f}[${i}].packages`, `"${p}" is already in layer "${owner.get(p)}"`);
          owner.set(p, l.name);
        }
      });
    },
    alternatives: (v, f) => {
      frag.alternatives = stringMap(ctx, v, f, /^[A-Za-z0-9_.+-]+$/, "alternative name");
      for (const [k, p] of Object.entries(frag.alternatives)) {
        if (!p.startsWith("/")) ctx.fail(v, `${f}.${k}`, "must be the absolute path of the chosen candidate");
      }
    },
  });
  return frag;
}

/** Parse and validate one spec document (no extends/preset merging). */
export function parseSpecText(
  text: string,
  file: string,
  baseDir = dirname(resolvePath(file)),
): SpecFragment {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const ctx = new Ctx(file, lc);
  const e = doc.errors[0];
  if (e) {
    const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
    throw new BuildError("E_SPEC", `${file}:${line}: invalid YAML: ${e.message.split("\n")[0]}`);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    ctx.fail(doc.contents as Node, "spec", "must be a mapping of keys such as name, packages, config");
  }
  return parseFragment(ctx, doc.contents as N, baseDir);
}

// ---------------------------------------------------------------------------------------------
// merging

const uniq = (xs: string[]) => [...new Set(xs)];

/** `over` applied on top of `base`: scalars replace, package lists union, entry lists append. */
export function mergeFragments(base: SpecFragment, over: SpecFragment): SpecFragment {
  const lists = <T>(a?: T[], b?: T[]) => (a || b ? [...(a ?? []), ...(b ?? [])] : undefined);
  const strs = (a?: string[], b?: string[]) => (a || b ? uniq([...(a ?? []), ...(b ?? [])]) : undefined);
  const out: SpecFragment = {
    ...base,
    ...over,
    packages:
      base.packages || over.packages
        ? {
            include: strs(base.packages?.include, over.packages?.include),
            exclude: strs(base.packages?.exclude, over.packages?.exclude),
            keep: strs(base.packages?.keep, over.packages?.keep),
            allow: strs(base.packages?.allow, over.packages?.allow),
            pins: { ...base.packages?.pins, ...over.packages?.pins },
          }
        : undefined,
    sources: base.sources || over.sources ? { ...base.sources, ...over.sources } : undefined,
    runtime: base.runtime || over.runtime ? { ...base.runtime, ...over.runtime } : undefined,
    accounts:
      base.accounts || over.accounts
        ? {
            groups: lists(base.accounts?.groups, over.accounts?.groups),
            users: lists(base.accounts?.users, over.accounts?.users),
            runAs: over.accounts?.runAs ?? base.accounts?.runAs,
          }
        : undefined,
    paths: lists(base.paths, over.paths),
    files: lists(base.files, over.files),
    init: over.init ?? base.init,
    config:
      base.config || over.config
        ? {
            ...base.config,
            ...over.config,
            env: { ...base.config?.env, ...over.config?.env },
            labels: { ...base.config?.labels, ...over.config?.labels },
            annotations: { ...base.config?.annotations, ...over.config?.annotations },
            exposedPorts: strs(base.config?.exposedPorts, over.config?.exposedPorts),
            volumes: strs(base.config?.volumes, over.config?.volumes),
          }
        : undefined,
    layers: lists(base.layers, over.layers),
    alternatives: { ...base.alternatives, ...over.alternatives },
  };
  // an explicit entrypoint in `over` without a cmd drops the base cmd (as Docker does)
  if (over.config?.entrypoint && !over.config.cmd && out.config) delete out.config.cmd;
  delete out.extends;
  delete out.preset;
  return out;
}

function isPresetRef(s: string): boolean {
  return !s.includes("/") && !/\.ya?ml$/.test(s);
}

/** Load a fragment with its `extends`/`preset` chain merged underneath it. */
function loadChain(
  file: string,
  seen: string[],
  presetsUsed: string[],
): { frag: SpecFragment; baseDir: string } {
  const abs = resolvePath(file);
  if (seen.includes(abs)) {
    throw new BuildError("E_SPEC", `${file}: extends loops back to itself (${[...seen, abs].join(" → ")})`);
  }
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch (e) {
    throw new BuildError(
      "E_SPEC_FILE",
      `cannot read spec ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  const baseDir = dirname(abs);
  const own = parseSpecText(text, file, baseDir);
  let base: SpecFragment = {};
  if (own.preset) base = mergeFragments(base, presetFragment(own.preset, presetsUsed));
  if (own.extends) {
    if (isPresetRef(own.extends)) {
      if (!PRESETS[own.extends]) {
        throw new BuildError(
          "E_SPEC",
          `${file}: extends: unknown preset "${own.extends}" (known: ${presetNames().join(", ")}; a spec file must end in .yaml)`,
        );
      }
      base = mergeFragments(base, presetFragment(own.extends, presetsUsed));
    } else {
      const parentPath = isAbsolute(own.extends) ? own.extends : resolvePath(baseDir, own.extends);
      base = mergeFragments(base, loadChain(parentPath, [...seen, abs], presetsUsed).frag);
    }
  }
  return { frag: mergeFragments(base, own), baseDir };
}

function presetFragment(name: string, used: string[]): SpecFragment {
  const p = PRESETS[name];
  if (!p) throw new BuildError("E_PRESET", `unknown preset "${name}" (known: ${presetNames().join(", ")})`);
  let frag: SpecFragment = {};
  if (p.extends) frag = presetFragment(p.extends, used);
  if (!used.includes(name)) used.push(name);
  return mergeFragments(frag, p.fragment);
}

function hostArch(): string {
  return process.arch === "arm64" ? "arm64" : "amd64";
}

/** Fill defaults and check cross-field rules on a fully merged fragment. */
export function finishSpec(frag: SpecFragment, source: string, baseDir: string, presets: string[]): Spec {
  const fail = (field: string, msg: string): never => {
    throw new BuildError("E_SPEC", `${source}: ${field}: ${msg}`);
  };
  const spec: Spec = {
    source,
    baseDir,
    name: frag.name ?? (presets.length ? presets[presets.length - 1] : "image"),
    suite: frag.suite ?? "trixie",
    architectures: uniq(frag.architectures ?? [hostArch()]),
    presets,
    packages: {
      include: frag.packages?.include ?? [],
      exclude: frag.packages?.exclude ?? [],
      keep: frag.packages?.keep ?? [],
      pins: frag.packages?.pins ?? {},
      allow: frag.packages?.allow ?? [],
    },
    sources: {
      security: frag.sources?.security ?? false,
      components: frag.sources?.components ?? ["main"],
      extraSuites: frag.sources?.extraSuites ?? [],
    },
    runtime: frag.runtime ?? {},
    accounts: {
      groups: frag.accounts?.groups ?? [],
      users: frag.accounts?.users ?? [],
      runAs: frag.accounts?.runAs,
    },
    paths: frag.paths ?? [],
    files: frag.files ?? [],
    init: frag.init,
    config: {
      entrypoint: frag.config?.entrypoint,
      cmd: frag.config?.cmd,
      env: frag.config?.env ?? {},
      workdir: frag.config?.workdir,
      user: frag.config?.user,
      exposedPorts: frag.config?.exposedPorts ?? [],
      volumes: frag.config?.volumes ?? [],
      labels: frag.config?.labels ?? {},
      annotations: frag.config?.annotations ?? {},
      stopSignal: frag.config?.stopSignal,
      healthcheck: frag.config?.healthcheck,
    },
    layers: frag.layers ?? [],
    alternatives: frag.alternatives ?? {},
  };
  if (spec.packages.include.length === 0)
    fail("packages.include", "no packages to install (add some or use a preset)");
  // accounts: unique names and ids; run-as must name a user
  const names = new Set(["root", "nobody", "nonroot"]);
  for (const u of spec.accounts.users) {
    if (names.has(u.name) && !["root", "nobody", "nonroot"].includes(u.name)) {
      fail("accounts.users", `duplicate user "${u.name}"`);
    }
    names.add(u.name);
  }
  if (spec.accounts.runAs !== undefined) {
    const who = spec.accounts.runAs.split(":")[0];
    if (!/^\d+$/.test(who) && !names.has(who)) {
      fail("accounts.run-as", `"${who}" is not a user (define it under accounts.users)`);
    }
  }
  if (spec.init !== undefined && !spec.runtime.node) {
    fail("init", 'shellfree-init runs on Node.js: add runtime.node (e.g. runtime: { node: "24" })');
  }
  const inLayers = new Map<string, string>();
  for (const l of spec.layers) {
    for (const p of l.packages) {
      if (inLayers.has(p)) fail("layers", `"${p}" is in layers "${inLayers.get(p)}" and "${l.name}"`);
      inLayers.set(p, l.name);
    }
  }
  return spec;
}

/** Load a spec file with its extends/preset chain, validated and with defaults. */
export function loadSpec(file: string): Spec {
  const presets: string[] = [];
  const { frag, baseDir } = loadChain(file, [], presets);
  return finishSpec(frag, file, baseDir, presets);
}

/** The spec of a preset on its own (`shellfree build --preset NAME`). */
export function presetSpec(name: string, overrides: { architectures?: string[] } = {}): Spec {
  const presets: string[] = [];
  const frag = presetFragment(name, presets);
  if (overrides.architectures) frag.architectures = overrides.architectures;
  return finishSpec(frag, `preset:${name}`, process.cwd(), presets);
}

/** The names of the packages the spec asks for (without `=version`). */
export function includeNames(spec: Spec): string[] {
  return spec.packages.include.map((s) => s.split("=")[0]);
}

/** The effective exclude list: defaults + spec excludes − keep − anything explicitly included. */
export function effectiveExcludes(spec: Spec): string[] {
  const keep = new Set([...spec.packages.keep, ...includeNames(spec)]);
  return uniq([...DEFAULT_EXCLUDES, ...spec.packages.exclude]).filter((p) => !keep.has(p));
}

/** Hash of everything that decides package resolution (for shellfree.lock). */
export function resolutionInputsHash(spec: Spec): string {
  const data = {
    suite: spec.suite,
    architectures: [...spec.architectures].sort(),
    include: [...spec.packages.include].sort(),
    exclude: effectiveExcludes(spec).sort(),
    pins: Object.entries(spec.packages.pins).sort(),
    allow: [...spec.packages.allow].sort(),
    sources: spec.sources,
    node: spec.runtime.node ?? null,
  };
  return `sha256:${createHash("sha256").update(JSON.stringify(data)).digest("hex")}`;
}
