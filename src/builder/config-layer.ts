/**
 * The generated configuration layer: one function per file (or group of files) the builder
 * writes, in the order they are written — accounts (/etc/passwd, /etc/group, nsswitch.conf,
 * /tmp, homes), os-release, the CA bundle, alternatives, the dpkg database (with its
 * diversions), shellfree-init's configuration, and the spec's `paths:`. Later ones may look at what earlier
 * ones wrote (alternatives only point at paths that exist).
 */
import type { BinaryPackage } from "../debian/index.ts";
import { INIT_CONFIG_PATH } from "../init/index.ts";
import { writeLayer } from "../oci/index.ts";
import type { Spec } from "../spec/index.ts";
import { type AccountsResult, buildAccounts, NSSWITCH } from "./accounts.ts";
import { type AltChoice, type AltInstall, applyAlternatives } from "./alternatives.ts";
import { CA_BUNDLE_PATH, caBundle } from "./cacerts.ts";
import type { ArchContext, BuiltLayer } from "./context.ts";
import { type DebInfo, extractText } from "./debinfo.ts";
import { type DpkgPackage, dpkgDatabase, filterMd5sums } from "./dpkgdb.ts";
import { osRelease } from "./osrelease.ts";
import { GeneratedLayer, type RootfsPlan } from "./rootfs.ts";

type Infos = Map<string, DebInfo>;

/** A dpkg diversion: `from` is the path dpkg knows, `to` where its file really is. */
interface Diversion {
  from: string;
  to: string;
}

export interface ConfigLayer {
  layer: BuiltLayer;
  accounts: AccountsResult;
  /** a CA bundle was written (SSL_CERT_FILE points at it) */
  caBundle: boolean;
  alternatives: AltChoice[];
}

export async function configLayer(
  ctx: ArchContext,
  plan: RootfsPlan,
  infos: Infos,
  opts: { initJson?: string },
): Promise<ConfigLayer> {
  const gen = new GeneratedLayer(plan);
  const accounts = addAccounts(gen, ctx.spec);
  const diversions = addOsRelease(gen, ctx.spec, plan, infos);
  const bundle = addCaBundle(gen, plan, infos);
  const alternatives = addAlternatives(gen, ctx.spec, infos);
  addDpkgDatabase(gen, ctx.packages, plan, infos, diversions);
  addInitConfig(gen, opts.initJson);
  addSpecPaths(gen, ctx.spec);
  const layer = await writeLayer(gen.list(), {
    compression: ctx.compression,
    sourceDateEpoch: ctx.sourceDateEpoch,
    blobDir: ctx.blobDir,
  });
  return {
    layer: {
      name: "config",
      layer,
      cached: false,
      comment: "generated: accounts, os-release, CA bundle, alternatives, dpkg database",
    },
    accounts,
    caBundle: bundle,
    alternatives,
  };
}

/** /etc/passwd, /etc/group, /etc/nsswitch.conf, /tmp (1777) and the users' homes. */
function addAccounts(gen: GeneratedLayer, spec: Spec): AccountsResult {
  const accounts = buildAccounts(spec.accounts);
  gen.file("/etc/passwd", accounts.passwd);
  gen.file("/etc/group", accounts.group);
  gen.file("/etc/nsswitch.conf", NSSWITCH);
  gen.dir("/tmp", 0o1777);
  for (const home of accounts.homes) gen.dir(home.path, home.mode, home.uid, home.gid);
  return accounts;
}

/**
 * /usr/lib/os-release and /etc/os-release saying what the image is, and /etc/debian_version
 * when base-files has none. Debian's own os-release stays in the image as a local dpkg
 * diversion (as an admin would do with dpkg-divert), so `dpkg --verify` still checks
 * base-files' bytes and finds them intact.
 */
function addOsRelease(gen: GeneratedLayer, spec: Spec, plan: RootfsPlan, infos: Infos): Diversion[] {
  const baseFiles = infos.get("base-files");
  const text = osRelease(
    baseFiles
      ? (extractText(baseFiles, "usr/lib/os-release") ?? extractText(baseFiles, "etc/os-release"))
      : undefined,
    baseFiles ? extractText(baseFiles, "etc/debian_version") : undefined,
    spec.suite,
  );
  const diversions: Diversion[] = [];
  const debianOsRelease = plan.tree.get("usr/lib/os-release");
  if (debianOsRelease?.type === "file" && baseFiles?.extracts["usr/lib/os-release"] !== undefined) {
    gen.file(
      "/usr/lib/os-release.debian",
      Buffer.from(baseFiles.extracts["usr/lib/os-release"], "base64"),
      debianOsRelease.mode,
    );
    diversions.push({ from: "/usr/lib/os-release", to: "/usr/lib/os-release.debian" });
  }
  gen.file("/usr/lib/os-release", text);
  if (plan.tree.get("etc/os-release")?.type !== "symlink") gen.file("/etc/os-release", text);
  if (!plan.tree.has("etc/debian_version")) gen.file("/etc/debian_version", `${spec.suite}\n`);
  return diversions;
}

/** /etc/ssl/certs/ca-certificates.crt from the certificates the packages install. */
function addCaBundle(gen: GeneratedLayer, plan: RootfsPlan, infos: Infos): boolean {
  const certs = new Map<string, Uint8Array>();
  for (const info of infos.values()) {
    for (const [path, base64] of Object.entries(info.extracts)) {
      if (path.startsWith("usr/share/ca-certificates/") && plan.tree.get(path)?.type === "file") {
        certs.set(path, Buffer.from(base64, "base64"));
      }
    }
  }
  const bundle = caBundle(certs);
  if (bundle) gen.file(`/${CA_BUNDLE_PATH}`, bundle);
  return bundle !== undefined;
}

/** The alternatives the packages' postinst scripts would register: links and dpkg's admin files. */
function addAlternatives(gen: GeneratedLayer, spec: Spec, infos: Infos): AltChoice[] {
  const installs: AltInstall[] = [];
  for (const info of infos.values()) installs.push(...info.alternatives);
  const alternatives = applyAlternatives(installs, spec.alternatives, (path) => gen.exists(path));
  for (const link of alternatives.symlinks) gen.symlink(link.path, link.target);
  for (const admin of alternatives.adminFiles)
    gen.file(`/var/lib/dpkg/alternatives/${admin.name}`, admin.content);
  return alternatives.choices;
}

/** /var/lib/dpkg: status, info/*.list, *.md5sums, *.conffiles, and the diversions. */
function addDpkgDatabase(
  gen: GeneratedLayer,
  packages: BinaryPackage[],
  plan: RootfsPlan,
  infos: Infos,
  diversions: Diversion[],
): void {
  const dpkgPackages: DpkgPackage[] = packages.map((pkg) => {
    const info = infos.get(pkg.name) as DebInfo;
    const installedPaths = plan.packages.get(pkg.name)?.installed ?? [];
    const installed = new Set(installedPaths);
    const md5 = new Map(info.entries.filter((e) => e.type === "file").map((e) => [e.path, e.md5 ?? ""]));
    const conffiles = new Set(info.conffiles);
    const md5sums =
      info.md5sums !== undefined
        ? filterMd5sums(info.md5sums, (path) => installed.has(path))
        : [...installed]
            .filter((path) => md5.has(path) && !conffiles.has(path))
            .map((path) => `${md5.get(path)}  ${path}\n`)
            .join("");
    return {
      name: pkg.name,
      architecture: pkg.architecture,
      multiArch: info.control["Multi-Arch"] ?? pkg.multiArch,
      controlText: info.controlText,
      paths: installedPaths,
      md5sums,
      conffiles: info.conffiles
        .filter((path) => installed.has(path))
        .map((path) => ({ path, md5: md5.get(path) ?? "newconffile" })),
    };
  });
  const db = dpkgDatabase(dpkgPackages);
  for (const dir of db.dirs) gen.dir(`/${dir}`);
  for (const file of db.files) gen.file(`/${file.path}`, file.data);
  gen.file("/var/lib/dpkg/diversions", diversions.map((d) => `${d.from}\n${d.to}\n:\n`).join(""));
}

/** shellfree-init's configuration, when the spec has an `init:` section (init-layer.ts has the binary). */
function addInitConfig(gen: GeneratedLayer, initJson: string | undefined): void {
  if (initJson !== undefined) gen.file(INIT_CONFIG_PATH, initJson);
}

/** The spec's `paths:` (directories, symlinks, small files). */
function addSpecPaths(gen: GeneratedLayer, spec: Spec): void {
  for (const path of spec.paths) {
    if (path.type === "directory") gen.dir(path.path, path.mode, path.uid, path.gid);
    else if (path.type === "symlink") gen.symlink(path.path, path.target, path.uid, path.gid);
    else gen.file(path.path, path.content, path.mode, path.uid, path.gid);
  }
}
