/**
 * Package policy: what a shell-free image leaves out by default and what it refuses to contain,
 * and the spec's resolution inputs that follow from it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { uniq } from "./merge.ts";
import type { Spec } from "./types.ts";

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

/** The names of the packages the spec asks for (without `=version`). */
export function includeNames(spec: Spec): string[] {
  return spec.packages.include.map((s) => s.split("=")[0]);
}

/** The effective exclude list: defaults + spec excludes − keep − anything explicitly included. */
export function effectiveExcludes(spec: Spec): string[] {
  const keep = new Set([...spec.packages.keep, ...includeNames(spec)]);
  return uniq([...DEFAULT_EXCLUDES, ...spec.packages.exclude]).filter((p) => !keep.has(p));
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

/**
 * What decides the wheels a spec's `python:` installs, besides the wheel files themselves
 * (the lock names those): the requirements or lock file's content, extras and groups. Absent
 * for specs without wheels, so that their hash is what it always was.
 */
function pythonInputs(spec: Spec): object | undefined {
  const p = spec.python;
  if (!p || (!p.requirements && !p.lock && !p.wheels.length)) return undefined;
  const content = (file: string | undefined) => (file ? sha256(readFileSync(file)) : null);
  return {
    requirements: content(p.requirements),
    lock: content(p.lock),
    wheelDirs: p.wheels.length,
    extras: [...p.extras].sort(),
    groups: p.groups ? [...p.groups].sort() : null,
  };
}

/** Hash of everything that decides package resolution (for shellfree.lock). */
export function resolutionInputsHash(spec: Spec): string {
  const python = pythonInputs(spec);
  const data = {
    suite: spec.suite,
    architectures: [...spec.architectures].sort(),
    include: [...spec.packages.include].sort(),
    exclude: effectiveExcludes(spec).sort(),
    pins: Object.entries(spec.packages.pins).sort(),
    allow: [...spec.packages.allow].sort(),
    sources: spec.sources,
    node: spec.runtime.node ?? null,
    ...(python ? { python } : {}),
  };
  return `sha256:${sha256(JSON.stringify(data))}`;
}
