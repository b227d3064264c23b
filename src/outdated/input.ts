/**
 * What `outdated` compares: the packages a lockfile records (a spec stands for the lockfile
 * beside it) or the dpkg database of an image (every platform of a multi-platform image).
 *
 * A spec without a lockfile is refused: a build without a lock installs the newest versions, so
 * resolving the spec now would compare the archive with itself and always answer "up to date",
 * which would keep a scheduled job from ever rebuilding. What was built is recorded only in the
 * lock and in the image.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { LOCK_FILE, type Lockfile, parseLock } from "../builder/index.ts";
import { listManifests, type OpenedImage, openImage, platformString } from "../oci/index.ts";
import { loadSpec, presetSpec, resolutionInputsHash, type Spec } from "../spec/index.ts";
import { OutdatedError } from "./errors.ts";
import { debianArch, readImageDb } from "./image-db.ts";
import type { Installed, Target } from "./types.ts";

export interface InputOptions {
  /** a spec file, a lockfile or an image reference (default: ./shellfree.yaml, else ./shellfree.lock) */
  target?: string;
  /** a preset stands for the spec (its lock: --lockfile, else ./shellfree.lock) */
  preset?: string;
  /** the spec's lockfile (default: shellfree.lock beside the spec) */
  lockfile?: string;
  /** only these (Debian) architectures */
  arch?: string[];
  /** image: only this platform (default: every platform of the image) */
  platform?: string;
  creds?: string;
  insecure?: boolean;
  tlsVerify?: boolean;
  /** image: the suite (default: VERSION_CODENAME of the image's os-release) */
  suite?: string;
  /** archive components (default: the spec's, else the lock's pool paths, else main) */
  components?: string[];
  /** more suites on the main mirror, e.g. trixie-updates */
  extraSuites?: string[];
}

const IMAGE_PREFIXES = ["oci:", "oci-archive:", "docker-archive:", "registry:", "docker://"];

export function isImageRef(s: string): boolean {
  return IMAGE_PREFIXES.some((p) => s.startsWith(p));
}

const usage = (msg: string, hint?: string) =>
  new OutdatedError("E_OUTDATED_INPUT", msg, { exitCode: 2, hint });

const exists = (p: string) =>
  stat(p).then(
    (s) => s.isFile(),
    () => false,
  );

const uniq = (xs: string[]) => [...new Set(xs)];

/** Read what `opts` names. */
export async function readInstalled(opts: InputOptions): Promise<Installed> {
  if (opts.target && opts.preset) throw usage("give either a target or --preset, not both");
  if (opts.target && isImageRef(opts.target)) {
    if (opts.lockfile) throw usage("--lockfile is for a spec, not an image");
    return readImage(opts.target, opts);
  }
  if (opts.platform) throw usage("--platform is for an image, not a spec or lockfile");
  if (opts.suite) throw usage("--suite is for an image: a lockfile names its suite");
  if (opts.preset) {
    const spec = presetSpec(opts.preset, { architectures: opts.arch?.length ? opts.arch : undefined });
    return fromSpec(spec, `preset:${opts.preset}`, opts.lockfile ?? LOCK_FILE, opts);
  }
  let target = opts.target;
  if (!target) {
    if (await exists("shellfree.yaml")) target = "shellfree.yaml";
    else if (await exists(LOCK_FILE)) target = LOCK_FILE;
    else {
      throw new OutdatedError(
        "E_OUTDATED_INPUT",
        `nothing to check: no shellfree.yaml or ${LOCK_FILE} here`,
        {
          hint: "give a spec, a lockfile or an image (oci:DIR, oci-archive:FILE, docker-archive:FILE, registry:HOST/REPO:TAG)",
        },
      );
    }
  }
  let text: string;
  try {
    text = await readFile(target, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OutdatedError(
      "E_OUTDATED_INPUT",
      `cannot read ${target}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a directory" : (code ?? String(e))}`,
      {
        hint: "give a spec, a lockfile or an image reference (oci:DIR, oci-archive:FILE, docker-archive:FILE, registry:HOST/REPO:TAG)",
      },
    );
  }
  if (looksLikeLock(text)) {
    if (opts.lockfile) throw usage("--lockfile is for a spec; the target is a lockfile already");
    return fromLock(parseLock(text, target), target, opts, undefined);
  }
  const spec = loadSpec(target);
  return fromSpec(spec, target, opts.lockfile ?? join(dirname(target), LOCK_FILE), opts);
}

function looksLikeLock(text: string): boolean {
  if (!/^\s*\{/.test(text)) return false;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && "lockfileVersion" in v;
  } catch {
    return true; // a broken lockfile: parseLock says what is wrong with it
  }
}

async function fromSpec(
  spec: Spec,
  specName: string,
  lockPath: string,
  opts: InputOptions,
): Promise<Installed> {
  let text: string;
  try {
    text = await readFile(lockPath, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new OutdatedError(
        "E_OUTDATED_INPUT",
        `${lockPath} does not exist: outdated compares what a lock or an image holds with the archive, and ${specName} has no lock`,
        {
          hint: "run `shellfree lock` (and build with --locked), or give the image that was built",
        },
      );
    }
    throw new OutdatedError("E_OUTDATED_INPUT", `cannot read ${lockPath}: ${(e as Error).message}`);
  }
  const lock = parseLock(text, lockPath);
  return fromLock(lock, lockPath, opts, { spec, name: specName });
}

/** The component of an archive-relative filename ("pool/contrib/f/foo/..." → "contrib"). */
function componentOf(filename: string): string | undefined {
  return /^pool\/([^/]+)\//.exec(filename)?.[1];
}

function fromLock(
  lock: Lockfile,
  file: string,
  opts: InputOptions,
  spec: { spec: Spec; name: string } | undefined,
): Installed {
  const warnings: string[] = [];
  const have = Object.keys(lock.architectures).sort();
  const archs = opts.arch?.length ? uniq(opts.arch) : have;
  for (const a of archs) {
    if (!have.includes(a)) {
      throw new OutdatedError(
        "E_OUTDATED_INPUT",
        `${file} has no architecture ${a} (it has: ${have.join(", ")})`,
      );
    }
  }
  if (spec && lock.inputs !== resolutionInputsHash(spec.spec)) {
    warnings.push(
      `${file} was not written for ${spec.name} as it is now (its packages, suite, sources or architectures changed): run \`shellfree lock\``,
    );
  }
  const targets: Target[] = archs.map((a) => ({
    architecture: a,
    suite: lock.suite,
    packages: lock.architectures[a].packages.map((p) => ({
      name: p.name,
      version: p.version,
      architecture: p.architecture,
    })),
  }));
  const all = Object.values(lock.architectures).flatMap((a) => a.packages);
  const lockComponents = uniq(["main", ...all.map((p) => componentOf(p.filename) ?? "main").sort()]);
  const lockSuites = uniq(all.map((p) => p.suite)).filter(
    (s) => typeof s === "string" && s !== lock.suite && s !== `${lock.suite}-security`,
  );
  const pins: Record<string, string> = {};
  if (spec) {
    for (const inc of spec.spec.packages.include) {
      const eq = inc.indexOf("=");
      if (eq > 0) pins[inc.slice(0, eq)] = inc.slice(eq + 1);
    }
    Object.assign(pins, spec.spec.packages.pins);
  }
  return {
    kind: "lockfile",
    ref: file,
    spec: spec?.name,
    targets,
    components: opts.components?.length
      ? opts.components
      : spec
        ? spec.spec.sources.components
        : lockComponents,
    extraSuites: uniq([
      ...(spec?.spec.sources.extraSuites ?? []),
      ...lockSuites,
      ...(opts.extraSuites ?? []),
    ]),
    specSecurity: spec?.spec.sources.security,
    pins,
    warnings,
  };
}

async function readImage(ref: string, opts: InputOptions): Promise<Installed> {
  const opened = await openImage(ref, {
    platform: opts.platform,
    creds: opts.creds,
    insecure: opts.insecure,
    tlsVerify: opts.tlsVerify,
  });
  const extra: OpenedImage[] = [];
  try {
    let images: OpenedImage[] = [opened];
    if (!opts.platform) {
      const list = await listManifests(opened.localRef);
      if (list.length > 1) {
        images = [];
        for (const m of list) {
          const im = await openImage(opened.localRef, { platform: platformString(m.platform) });
          extra.push(im);
          images.push(im);
        }
      }
    }
    const targets: Target[] = [];
    for (const im of images) {
      const platform = platformString(im.platform);
      const architecture = debianArch(im.platform.architecture, im.platform.variant);
      if (opts.arch?.length && !opts.arch.includes(architecture)) continue;
      const what = images.length > 1 ? `${ref} (${platform})` : ref;
      const db = await readImageDb(im, what);
      const suite = opts.suite ?? db.osRelease.get("VERSION_CODENAME");
      if (!suite) {
        throw new OutdatedError("E_DPKG_DB", `${what}: its os-release names no VERSION_CODENAME`, {
          hint: "pass --suite (e.g. --suite trixie)",
        });
      }
      targets.push({ architecture, platform, manifest: im.manifestDigest, suite, packages: db.packages });
    }
    if (targets.length === 0) {
      throw new OutdatedError(
        "E_OUTDATED_INPUT",
        `${ref} has no image for ${opts.arch?.join(", ")} (it has: ${images.map((i) => platformString(i.platform)).join(", ")})`,
      );
    }
    return {
      kind: "image",
      ref,
      targets,
      components: opts.components?.length ? opts.components : ["main"],
      extraSuites: uniq(opts.extraSuites ?? []),
      pins: {},
      warnings: [],
    };
  } finally {
    for (const im of extra) await im.close().catch(() => {});
    await opened.close();
  }
}
