/**
 * The image spec (`shellfree.yaml`) as plain data: what the checker (check.ts, sections/) makes
 * of a file, with defaults filled in (finish.ts). Field names are the YAML keys in camelCase.
 */

/** The Debian architectures a spec may name. */
export const KNOWN_ARCHES = ["amd64", "arm64", "armhf", "i386", "ppc64el", "s390x", "riscv64"] as const;

/** `accounts.groups[]`: a group in /etc/group. */
export interface GroupSpec {
  name: string;
  gid: number;
}

/** `accounts.users[]`: a user in /etc/passwd (no login shell unless `shell` names one). */
export interface UserSpec {
  name: string;
  uid: number;
  /** default: the uid */
  gid: number;
  /** default: /home/NAME */
  home: string;
  shell?: string;
}

/** `paths[]`: a directory, symlink or small file the image gets (default type: directory). */
export type PathSpec =
  | {
      path: string;
      type: "directory";
      uid: number;
      gid: number;
      mode: number;
      /** needed writable at run time (a tmpfs/emptyDir under a read-only root): the image's `dev.shellfree.writable` label */
      writable?: boolean;
    }
  | { path: string; type: "symlink"; target: string; uid: number; gid: number }
  | { path: string; type: "file"; content: string; uid: number; gid: number; mode: number };

/**
 * `files[]`: a file or directory of the build host copied into the image. Modes: `file-mode`
 * and `dir-mode` set files and directories exactly; `mode` sets the files' read/write bits and
 * keeps an executable's x bits (where it grants r), and directories get it with x where r is;
 * with none of them, files are 0755 when executable on the host, else 0644, directories 0755.
 */
export interface FileSpec {
  /** absolute path on the build host (the spec's relative `src` resolved against its directory) */
  src: string;
  /** absolute path in the image */
  dest: string;
  mode?: number;
  fileMode?: number;
  dirMode?: number;
  uid: number;
  gid: number;
  /** where it was declared (file:line), for error messages */
  where: string;
}

/** How `.py` files are compiled at build time (PEP 552 hash-based .pyc), or "none". */
export type BytecodeMode = "checked-hash" | "unchecked-hash" | "none";

/** `python:`: wheels (not Debian packages) and bytecode. Paths are absolute (resolved against the spec). */
export interface PythonSpec {
  /** a requirements file: every line pinned with == and carrying --hash */
  requirements?: string;
  /** a uv.lock or pylock.toml */
  lock?: string;
  /** directories of wheels */
  wheels: string[];
  /** a PEP 503/691 simple index (default: PIP_INDEX_URL, pip's configuration) */
  indexUrl?: string;
  /** extras of the locked project */
  extras: string[];
  /** dependency groups of the lock (default: its defaults) */
  groups?: string[];
  /** default checked-hash */
  bytecode?: BytecodeMode;
  /** where the section is (file:line) */
  where: string;
}

/** `config.healthcheck`: Docker's HEALTHCHECK, exec form only. */
export interface HealthcheckSpec {
  test: string[];
  /** Go-style durations: "10s", "1m30s" */
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: number;
}

/** `config`: the image config (OCI), exec form only. */
export interface ConfigSpec {
  entrypoint?: string[];
  cmd?: string[];
  env: Record<string, string>;
  workdir?: string;
  /** "uid[:gid]" or "name[:group]"; default: from `accounts.run-as` */
  user?: string;
  /** "PORT/proto" (a bare PORT is made PORT/tcp) */
  exposedPorts: string[];
  volumes: string[];
  labels: Record<string, string>;
  /** on the image index (several architectures) or the manifest */
  annotations: Record<string, string>;
  stopSignal?: string;
  healthcheck?: HealthcheckSpec;
}

/**
 * `packages.drop-paths[]`: files of the installed packages left out of the image (and out of
 * their dpkg file lists and md5sums, so the database stays true). A glob is an absolute image
 * path: `*` and `?` within one path segment, `**` across segments, a trailing `/` for
 * everything below a directory; a glob that matches a directory drops the directory and
 * everything below it. Written as a plain GLOB (any package's files) or as
 * `{ package: NAME, paths: [GLOB, ...] }` (only that package's files).
 */
export interface DropPathSpec {
  glob: string;
  /** only this package's files */
  package?: string;
  /** where it was declared (file:line), for messages */
  where: string;
}

/** `layers[]`: packages given their own layer (the rest share the "debian" layer). */
export interface LayerSpec {
  name: string;
  packages: string[];
}

/** The file and lines of a spec's `init:` section. */
export interface InitWhere {
  file: string;
  /** the line of the `init:` key */
  line: number;
  /** the line of each field in it, by its dotted path ("health.port", "tasks[0].run") */
  lines: Record<string, number>;
}

/** A spec with its `extends`/`preset` chain merged and its defaults filled in. */
export interface Spec {
  /** where the spec came from: a file path or "preset:NAME" */
  source: string;
  /** directory `files:` sources are relative to */
  baseDir: string;
  /** the image name (default: the last preset's, else "image") */
  name: string;
  /** Debian suite (default trixie) */
  suite: string;
  /** default: the host's (amd64 or arm64) */
  architectures: string[];
  /** the presets merged in, base first */
  presets: string[];
  packages: {
    /** NAME or NAME=VERSION */
    include: string[];
    /** added to the default excludes (package-policy.ts) */
    exclude: string[];
    /** taken back from the default excludes */
    keep: string[];
    /** NAME → VERSION */
    pins: Record<string, string>;
    /** shells or package managers allowed into the closure after all */
    allow: string[];
    /** files of included packages left out of the image */
    dropPaths: DropPathSpec[];
  };
  sources: {
    /** add the suite's -security source */
    security: boolean;
    /** default [main] */
    components: string[];
    /** more suites of the same mirror (e.g. trixie-backports) */
    extraSuites: string[];
  };
  /** `runtime.node`: a Node.js version ("24", "24.9.0") to add the official binary */
  runtime: { node?: string };
  accounts: {
    groups: GroupSpec[];
    users: UserSpec[];
    /** "name[:group]" or "uid[:gid]": the image's User */
    runAs?: string;
  };
  paths: PathSpec[];
  files: FileSpec[];
  /** the `init:` section as plain data (checked by src/init's parseInitConfig) */
  init?: unknown;
  /** where the `init:` section was written, for file:line messages about it */
  initWhere?: InitWhere;
  config: ConfigSpec;
  layers: LayerSpec[];
  /** alternative name → the candidate path chosen (else the highest priority wins) */
  alternatives: Record<string, string>;
  /** `python:` (wheels and bytecode), when the spec has one */
  python?: PythonSpec;
}

/** One spec file (or preset) before merging: every field optional. */
export interface SpecFragment {
  name?: string;
  suite?: string;
  architectures?: string[];
  /** a preset merged underneath */
  preset?: string;
  /** a preset name or another spec file (relative to this one) merged underneath */
  extends?: string;
  packages?: Partial<Spec["packages"]>;
  sources?: Partial<Spec["sources"]>;
  runtime?: Spec["runtime"];
  accounts?: Partial<Spec["accounts"]>;
  paths?: PathSpec[];
  files?: FileSpec[];
  init?: unknown;
  initWhere?: InitWhere;
  config?: Partial<ConfigSpec>;
  layers?: LayerSpec[];
  alternatives?: Record<string, string>;
  python?: PythonSpec;
  /**
   * The packages of the presets merged in (base first), per suite codename: finish.ts adds the
   * suite's lists to `packages.include` once the suite is known.
   */
  presetPackages?: Array<{ preset: string; packages: Readonly<Record<string, readonly string[]>> }>;
}
