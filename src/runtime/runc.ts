/**
 * runc driver: no daemon. The image is unpacked once into a temp dir; every container gets a
 * bundle whose rootfs is an overlay mount (lower: the unpacked image, upper: per container or per
 * session), and a config.json generated from the image config (user, env, cwd, args =
 * entrypoint+cmd, read-only root, tmpfs mounts, host or fresh network namespace). `runc run`
 * stays in the foreground as our child, so its exit status is the container's.
 */

import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { lstat, mkdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OciImageConfig, parseGroup, parsePasswd } from "../formats/index.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { ChildContainer, LiveContainers } from "./container.ts";
import {
  type Container,
  type Driver,
  type ExecResult,
  runToExit,
  type Session,
  type StartOptions,
} from "./driver.ts";
import { RuntimeError } from "./errors.ts";
import { run, within } from "./proc.ts";
import { type UnpackLayer, unpackImage } from "./unpack.ts";

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Docker's default capability set (what a container process gets when root inside). */
const CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

export interface UserIds {
  uid: number;
  gid: number;
  home?: string;
}

/** Resolve "uid[:gid]" / "name[:group]" against passwd/group texts (like a runtime does). */
export function resolveUserSpec(spec: string | undefined, passwd: string, group: string): UserIds {
  const s = (spec ?? "").trim();
  const users = parsePasswd(passwd);
  if (s === "") return { uid: 0, gid: 0, home: users.find((u) => u.uid === 0)?.home ?? "/root" };
  const [u, g] = s.split(":", 2);
  let ids: UserIds;
  if (/^\d+$/.test(u)) {
    const e = users.find((x) => x.uid === Number(u));
    ids = { uid: Number(u), gid: e?.gid ?? 0, home: e?.home };
  } else {
    const e = users.find((x) => x.name === u);
    if (!e) throw new RuntimeError("E_USER", `user "${u}" is not in the image's /etc/passwd`);
    ids = { uid: e.uid, gid: e.gid, home: e.home };
  }
  if (g !== undefined && g !== "") {
    if (/^\d+$/.test(g)) ids.gid = Number(g);
    else {
      const e = parseGroup(group).find((x) => x.name === g);
      if (!e) throw new RuntimeError("E_USER", `group "${g}" is not in the image's /etc/group`);
      ids.gid = e.gid;
    }
  }
  return ids;
}

/** The environment a container gets: image env, PATH and HOME defaults, then overrides. */
export function containerEnv(
  image: OciImageConfig,
  user: UserIds,
  extra: Record<string, string> = {},
): string[] {
  const env = new Map<string, string>();
  for (const e of image.config?.Env ?? []) {
    const i = e.indexOf("=");
    if (i > 0) env.set(e.slice(0, i), e.slice(i + 1));
  }
  if (!env.has("PATH")) env.set("PATH", DEFAULT_PATH);
  if (!env.has("HOME")) env.set("HOME", user.home || "/");
  for (const [k, v] of Object.entries(extra)) env.set(k, v);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** argv of the main process: opts.argv, else entrypoint + cmd. */
export function mainArgv(image: OciImageConfig, opts: StartOptions): string[] {
  const argv = opts.argv ?? [...(image.config?.Entrypoint ?? []), ...(image.config?.Cmd ?? [])];
  if (argv.length === 0)
    throw new RuntimeError(
      "E_NO_COMMAND",
      "the image has neither Entrypoint nor Cmd, and no command was given",
    );
  return argv;
}

/** The OCI runtime-spec config.json for one container. */
export function runtimeSpec(
  image: OciImageConfig,
  opts: StartOptions,
  user: UserIds,
  hostname = "shellfree",
  /** owner of each tmpfs path's directory in the image (runc gives the tmpfs that directory's mode) */
  tmpfsOwners: Map<string, { uid: number; gid: number }> = new Map(),
): Record<string, unknown> {
  const tmpfs = new Set(opts.tmpfs ?? []);
  const mounts: Array<Record<string, unknown>> = [
    { destination: "/proc", type: "proc", source: "proc" },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
  ];
  for (const t of [...tmpfs].sort()) {
    // runc sets a tmpfs to the mode of the directory it covers (after mounting): the directory's
    // owner too, so that a 0770 uid 1000 gid 0 directory stays writable for its owner and group
    const owner = tmpfsOwners.get(t);
    mounts.push({
      destination: t,
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "nodev", "mode=1777", ...(owner ? [`uid=${owner.uid}`, `gid=${owner.gid}`] : [])],
    });
  }
  const namespaces: Array<{ type: string }> = [
    { type: "pid" },
    { type: "ipc" },
    { type: "uts" },
    { type: "mount" },
  ];
  if (opts.network === "none") namespaces.push({ type: "network" });
  const caps = user.uid === 0 ? CAPS : [];
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: user.uid, gid: user.gid, additionalGids: [user.gid] },
      args: mainArgv(image, opts),
      env: containerEnv(image, user, opts.env),
      cwd: opts.workdir || image.config?.WorkingDir || "/",
      capabilities: { bounding: CAPS, effective: caps, permitted: caps },
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: opts.readOnly === true },
    hostname,
    mounts,
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces,
      maskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/sys/firmware",
        "/proc/scsi",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

/** lstat of `path` inside `root`, following symlinks as the container would see them (absolute ones from `root`). */
async function statInRoot(root: string, path: string): Promise<Stats | undefined> {
  let parts = path.split("/").filter(Boolean);
  for (let hops = 0; hops < 40; hops++) {
    let i = 0;
    let st: Stats | undefined;
    for (; i < parts.length; i++) {
      const here = join(root, ...parts.slice(0, i + 1));
      st = await lstat(here).catch(() => undefined);
      if (!st) return undefined;
      if (st.isSymbolicLink()) {
        const target = await readlink(here);
        const base = target.startsWith("/") ? [] : parts.slice(0, i);
        const next: string[] = [];
        for (const c of [...base, ...target.split("/"), ...parts.slice(i + 1)]) {
          if (c === "" || c === ".") continue;
          if (c === "..") next.pop();
          else next.push(c);
        }
        parts = next;
        break;
      }
    }
    if (i === parts.length) return st ?? (await lstat(root).catch(() => undefined));
  }
  return undefined;
}

function newId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

interface RuncSession extends Session {
  upper: string;
  work: string;
}

export class RuncDriver implements Driver {
  readonly name = "runc" as const;
  private readonly image: OciImageConfig;
  private readonly layers: UnpackLayer[];
  private dir?: string;
  private lower?: string;
  private stateRoot?: string;
  private readonly containers = new LiveContainers<RuncContainer>();
  private readonly sessions = new Set<RuncSession>();
  private readonly runc: string;

  constructor(image: OciImageConfig, layers: UnpackLayer[], opts: { runc?: string; workDir?: string } = {}) {
    this.image = image;
    this.layers = layers;
    this.runc = opts.runc ?? "runc";
    if (opts.workDir) this.dir = opts.workDir;
  }

  /** the unpacked image (file tests read it) */
  rootfs(): string {
    if (!this.lower) throw new RuntimeError("E_DRIVER", "runc driver: prepare() first");
    return this.lower;
  }

  async prepare(): Promise<void> {
    if (this.lower) return;
    this.dir ??= join(tmpdir(), newId("shellfree-runc"));
    await mkdir(this.dir, { recursive: true, mode: 0o711 });
    this.stateRoot = join(this.dir, "state");
    await mkdir(this.stateRoot, { recursive: true });
    const lower = join(this.dir, "image");
    await unpackImage(lower, this.layers);
    this.lower = lower;
  }

  private async userOf(spec: string | undefined): Promise<UserIds> {
    const root = this.rootfs();
    const passwd = await readFile(join(root, "etc/passwd"), "utf8").catch(() => "");
    const group = await readFile(join(root, "etc/group"), "utf8").catch(() => "");
    return resolveUserSpec(spec ?? this.image.config?.User, passwd, group);
  }

  async newSession(): Promise<Session> {
    await this.prepare();
    const id = newId("sess");
    const s: RuncSession = {
      id,
      upper: join(this.dir as string, id, "upper"),
      work: join(this.dir as string, id, "work"),
    };
    await mkdir(s.upper, { recursive: true });
    await mkdir(s.work, { recursive: true });
    this.sessions.add(s);
    return s;
  }

  async endSession(s: Session): Promise<void> {
    this.sessions.delete(s as RuncSession);
    await rm(join(this.dir as string, s.id), { recursive: true, force: true });
  }

  async start(opts: StartOptions = {}): Promise<Container> {
    await this.prepare();
    const id = newId("sf");
    const bundle = join(this.dir as string, id);
    const user = await this.userOf(opts.user);
    const owners = new Map<string, { uid: number; gid: number }>();
    for (const t of opts.tmpfs ?? []) {
      const st = await statInRoot(this.rootfs(), t);
      if (st?.isDirectory()) owners.set(t, { uid: st.uid, gid: st.gid });
    }
    const spec = runtimeSpec(this.image, opts, user, undefined, owners);
    const sess = opts.session as RuncSession | undefined;
    const upper = sess?.upper ?? join(bundle, "upper");
    const work = sess?.work ?? join(bundle, "work");
    const rootfs = join(bundle, "rootfs");
    await mkdir(upper, { recursive: true });
    await mkdir(work, { recursive: true });
    await mkdir(rootfs, { recursive: true });
    await writeFileAtomic(join(bundle, "config.json"), JSON.stringify(spec, null, 2));
    const m = await run("mount", [
      "-t",
      "overlay",
      "overlay",
      "-o",
      `lowerdir=${this.lower},upperdir=${upper},workdir=${work}`,
      rootfs,
    ]);
    if (m.code !== 0) {
      await rm(bundle, { recursive: true, force: true });
      throw new RuntimeError("E_DRIVER", `runc driver: cannot mount the overlay rootfs: ${m.stderr.trim()}`, {
        hint: "run as root on a kernel with overlayfs",
      });
    }
    return this.containers.launch(new RuncContainer(this.runc, this.stateRoot as string, id, bundle, rootfs));
  }

  async runOnce(opts: StartOptions, timeoutMs: number): Promise<ExecResult> {
    const t0 = performance.now();
    return runToExit(await this.start(opts), timeoutMs, t0);
  }

  async cleanup(): Promise<void> {
    await this.containers.removeAll();
    for (const s of [...this.sessions]) await this.endSession(s).catch(() => {});
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.lower = undefined;
  }
}

class RuncContainer extends ChildContainer {
  private readonly runc: string;
  private readonly state: string;
  private readonly bundle: string;
  private readonly rootfs: string;

  constructor(runc: string, state: string, id: string, bundle: string, rootfs: string) {
    super(id);
    this.runc = runc;
    this.state = state;
    this.bundle = bundle;
    this.rootfs = rootfs;
  }

  launch(): void {
    this.spawnMain(this.runc, ["--root", this.state, "run", "--bundle", this.bundle, this.id], {
      errorPrefix: "runc: ",
      killedCode: (signal) => (signal ? 128 + 9 : 1),
    });
  }

  async exec(
    argv: string[],
    opts: { env?: Record<string, string>; user?: string; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    const args = ["--root", this.state, "exec"];
    if (opts.user) args.push("--user", opts.user);
    for (const [k, v] of Object.entries(opts.env ?? {})) args.push("--env", `${k}=${v}`);
    args.push(this.id, ...argv);
    return run(this.runc, args, { timeoutMs: opts.timeoutMs ?? 30_000 });
  }

  async signal(sig: string): Promise<void> {
    const r = await run(this.runc, ["--root", this.state, "kill", this.id, sig.replace(/^SIG/, "")], {
      timeoutMs: 10_000,
    });
    if (r.code !== 0 && !/not running|does not exist|container not running/.test(r.stderr)) {
      throw new RuntimeError("E_DRIVER", `runc kill ${this.id} ${sig}: ${r.stderr.trim()}`);
    }
  }

  async hostPid(): Promise<number> {
    const r = await run(this.runc, ["--root", this.state, "state", this.id], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new RuntimeError("E_DRIVER", `runc state ${this.id}: ${r.stderr.trim()}`);
    return (JSON.parse(r.stdout) as { pid: number }).pid;
  }

  protected async removeNow(): Promise<void> {
    await run(this.runc, ["--root", this.state, "kill", this.id, "KILL"], { timeoutMs: 10_000 }).catch(
      () => undefined,
    );
    await within(this.exited, 10_000);
    await run(this.runc, ["--root", this.state, "delete", "--force", this.id], { timeoutMs: 10_000 }).catch(
      () => undefined,
    );
    await run("umount", [this.rootfs], { timeoutMs: 10_000 }).catch(() => undefined);
    await rm(this.bundle, { recursive: true, force: true }).catch(() => undefined);
  }
}
