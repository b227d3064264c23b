/**
 * shellfree.lock: what a build resolved, so that the next build can install exactly that.
 * Per architecture the packages (name, version, architecture, sha256, size, archive-relative
 * filename, suite), the Node.js runtime (version + npm integrity), shellfree-init (version +
 * SHA256 of the binary, when the spec has `init:`) and the Python wheels (name, version, file
 * name, sha256: `build --locked` installs exactly those files); plus the hash of the spec
 * fields that decide resolution and the SOURCE_DATE_EPOCH the build used. Never a host name:
 * filenames are relative to whichever mirror is configured. JSON, keys in a fixed order, one
 * package per line — diff-friendly — and written atomically.
 */
import { readFile } from "node:fs/promises";
import type { BinaryPackage, PackageUniverse } from "../debian/index.ts";
import type { LockedWheel } from "../python/index.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { ioError } from "../util/io-error.ts";
import { BuildError } from "./errors.ts";

export const LOCK_VERSION = 1;
export const LOCK_FILE = "shellfree.lock";

export interface LockedPackage {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  size: number;
  filename: string;
  suite: string;
}

export interface LockedArch {
  packages: LockedPackage[];
  /** packages the exclude list dropped */
  excluded: string[];
  node?: { version: string; integrity: string };
  /** the wheels `python:` installed, for the image's CPython */
  python?: { wheels: LockedWheel[] };
  /** the native shellfree-init the image carries (the spec has `init:`) */
  init?: { version: string; sha256: string };
}

export interface Lockfile {
  lockfileVersion: number;
  /** sha256 of the spec's resolution inputs (see resolutionInputsHash) */
  inputs: string;
  suite: string;
  sourceDateEpoch: number;
  architectures: Record<string, LockedArch>;
}

export function lockedPackage(p: BinaryPackage): LockedPackage {
  return {
    name: p.name,
    version: p.version,
    architecture: p.architecture,
    sha256: p.sha256,
    size: p.size,
    filename: p.filename,
    suite: p.source.suite,
  };
}

/** Deterministic text: fixed key order, one package per line. */
export function formatLock(lock: Lockfile): string {
  const archs = Object.keys(lock.architectures).sort();
  const lines: string[] = [];
  lines.push("{");
  lines.push(`  "lockfileVersion": ${lock.lockfileVersion},`);
  lines.push(`  "inputs": ${JSON.stringify(lock.inputs)},`);
  lines.push(`  "suite": ${JSON.stringify(lock.suite)},`);
  lines.push(`  "sourceDateEpoch": ${lock.sourceDateEpoch},`);
  lines.push(`  "architectures": {`);
  archs.forEach((a, ai) => {
    const l = lock.architectures[a];
    lines.push(`    ${JSON.stringify(a)}: {`);
    if (l.node)
      lines.push(
        `      "node": ${JSON.stringify({ version: l.node.version, integrity: l.node.integrity })},`,
      );
    if (l.python) {
      const wheels = [...l.python.wheels].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      lines.push(`      "python": { "wheels": [`);
      wheels.forEach((w, i) => {
        const o = { name: w.name, version: w.version, filename: w.filename, sha256: w.sha256 };
        lines.push(`        ${JSON.stringify(o)}${i < wheels.length - 1 ? "," : ""}`);
      });
      lines.push("      ] },");
    }
    if (l.init)
      lines.push(`      "init": ${JSON.stringify({ version: l.init.version, sha256: l.init.sha256 })},`);
    lines.push(`      "excluded": ${JSON.stringify([...l.excluded].sort())},`);
    lines.push(`      "packages": [`);
    const pk = [...l.packages].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    pk.forEach((p, i) => {
      const o = {
        name: p.name,
        version: p.version,
        architecture: p.architecture,
        sha256: p.sha256,
        size: p.size,
        filename: p.filename,
        suite: p.suite,
      };
      lines.push(`        ${JSON.stringify(o)}${i < pk.length - 1 ? "," : ""}`);
    });
    lines.push("      ]");
    lines.push(`    }${ai < archs.length - 1 ? "," : ""}`);
  });
  lines.push("  }");
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

export function parseLock(text: string, file: string): Lockfile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new BuildError("E_LOCK", `${file}: not valid JSON (${(e as Error).message})`, {
      hint: "regenerate it with `shellfree lock`",
    });
  }
  const l = v as Lockfile;
  const bad = (what: string): never => {
    throw new BuildError("E_LOCK", `${file}: ${what}`, { hint: "regenerate it with `shellfree lock`" });
  };
  if (!l || typeof l !== "object") bad("not a lockfile");
  if (l.lockfileVersion !== LOCK_VERSION) bad(`unsupported lockfileVersion ${l.lockfileVersion}`);
  if (typeof l.inputs !== "string" || typeof l.suite !== "string") bad("missing inputs/suite");
  if (!Number.isInteger(l.sourceDateEpoch)) bad("missing sourceDateEpoch");
  if (!l.architectures || typeof l.architectures !== "object") bad("missing architectures");
  for (const [a, arch] of Object.entries(l.architectures)) {
    if (!Array.isArray(arch.packages)) bad(`architectures.${a}.packages is not a list`);
    for (const p of arch.packages) {
      if (
        typeof p.name !== "string" ||
        typeof p.version !== "string" ||
        !/^[0-9a-f]{64}$/.test(p.sha256 ?? "") ||
        !Number.isInteger(p.size) ||
        typeof p.filename !== "string"
      ) {
        bad(`architectures.${a}: invalid package entry ${JSON.stringify(p).slice(0, 120)}`);
      }
    }
    if (!Array.isArray(arch.excluded)) arch.excluded = [];
    if (arch.python !== undefined) {
      if (!arch.python || !Array.isArray(arch.python.wheels))
        bad(`architectures.${a}.python.wheels is not a list`);
      for (const w of arch.python.wheels) {
        if (
          typeof w?.name !== "string" ||
          typeof w.version !== "string" ||
          typeof w.filename !== "string" ||
          !w.filename.endsWith(".whl") ||
          !/^[0-9a-f]{64}$/.test(w.sha256 ?? "")
        ) {
          bad(`architectures.${a}.python: invalid wheel entry ${JSON.stringify(w).slice(0, 120)}`);
        }
      }
    }
    if (
      arch.init !== undefined &&
      (typeof arch.init?.version !== "string" || !/^[0-9a-f]{64}$/.test(arch.init?.sha256 ?? ""))
    )
      bad(`architectures.${a}.init: expected {"version", "sha256"}`);
  }
  return l;
}

export async function readLock(file: string): Promise<Lockfile | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw ioError(e, `cannot read ${file}`);
  }
  return parseLock(text, file);
}

export async function writeLock(file: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(file, formatLock(lock));
}

/**
 * `--locked`: the spec must still be what the lock was made from, and every locked package must
 * be in the archive with the same SHA256. Returns the universe's packages for the lock.
 */
export function packagesFromLock(
  lock: Lockfile,
  lockFile: string,
  inputsHash: string,
  arch: string,
  universe: PackageUniverse,
): BinaryPackage[] {
  if (lock.inputs !== inputsHash) {
    throw new BuildError(
      "E_LOCKED",
      `${lockFile} does not match the spec: its packages, suite, sources, architectures or runtime changed since the lock was written`,
      { hint: "run `shellfree lock` to update it (or build without --locked)" },
    );
  }
  const la = lock.architectures[arch];
  if (!la) {
    throw new BuildError("E_LOCKED", `${lockFile} has no entry for architecture ${arch}`, {
      hint: "run `shellfree lock` to update it",
    });
  }
  const index = new Map<string, BinaryPackage[]>();
  for (const p of universe.packages) {
    const k = `${p.name}\0${p.version}\0${p.architecture}`;
    const list = index.get(k) ?? [];
    list.push(p);
    index.set(k, list);
  }
  const out: BinaryPackage[] = [];
  const problems: string[] = [];
  for (const lp of la.packages) {
    const cands = index.get(`${lp.name}\0${lp.version}\0${lp.architecture}`) ?? [];
    const hit = cands.find((c) => c.sha256 === lp.sha256);
    if (hit) out.push(hit);
    else if (cands.length)
      problems.push(`${lp.name} ${lp.version} (${lp.architecture}): SHA256 differs from the lock`);
    else {
      const now = universe.packages.find(
        (c) => c.name === lp.name && (c.architecture === lp.architecture || c.architecture === "all"),
      );
      problems.push(
        `${lp.name} ${lp.version} (${lp.architecture}) is no longer in the archive${now ? ` (it has ${now.version})` : ""}`,
      );
    }
  }
  if (problems.length) {
    throw new BuildError(
      "E_LOCKED",
      `${lockFile} (${arch}) disagrees with the archive: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; and ${problems.length - 5} more` : ""}`,
      { hint: "run `shellfree lock` to move to what the archive has now" },
    );
  }
  return out;
}

/** What changed between a lock and a fresh resolution (for messages and `shellfree lock`). */
export function diffLock(old: LockedArch | undefined, now: LockedArch): string[] {
  const out: string[] = [];
  const before = new Map((old?.packages ?? []).map((p) => [p.name, p]));
  const after = new Map(now.packages.map((p) => [p.name, p]));
  for (const [n, p] of after) {
    const b = before.get(n);
    if (!b) out.push(`+ ${n} ${p.version}`);
    else if (b.version !== p.version) out.push(`~ ${n} ${b.version} → ${p.version}`);
    else if (b.sha256 !== p.sha256) out.push(`~ ${n} ${p.version} (new SHA256)`);
  }
  for (const [n, p] of before) if (!after.has(n)) out.push(`- ${n} ${p.version}`);
  const wb = new Map((old?.python?.wheels ?? []).map((w) => [w.name, w]));
  const wa = new Map((now.python?.wheels ?? []).map((w) => [w.name, w]));
  for (const [n, w] of wa) {
    const b = wb.get(n);
    if (!b) out.push(`+ ${n} ${w.version} (wheel)`);
    else if (b.version !== w.version) out.push(`~ ${n} ${b.version} → ${w.version} (wheel)`);
    else if (b.sha256 !== w.sha256) out.push(`~ ${n} ${w.version} (wheel ${w.filename})`);
  }
  for (const [n, w] of wb) if (!wa.has(n)) out.push(`- ${n} ${w.version} (wheel)`);
  if (old?.node?.version !== now.node?.version && (old?.node || now.node)) {
    out.push(`~ node ${old?.node?.version ?? "none"} → ${now.node?.version ?? "none"}`);
  }
  if (old?.init?.sha256 !== now.init?.sha256 && (old?.init || now.init)) {
    const show = (i?: { version: string; sha256: string }) =>
      i ? `${i.version} (sha256:${i.sha256.slice(0, 12)})` : "none";
    out.push(`~ shellfree-init ${show(old?.init)} → ${show(now.init)}`);
  }
  return out.sort();
}
