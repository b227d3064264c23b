/**
 * podman driver: a private storage root per run (--root/--runroot/--tmpdir in a temp dir),
 * overlay storage, the runc runtime, cgroupfs, file events — nothing shared with the host's
 * podman state. The image is pulled from its oci:/oci-archive:/docker-archive: reference.
 * `podman run` stays attached in the foreground as our child (its exit status is the
 * container's); exec/kill/inspect are separate podman calls. Cleanup removes every container
 * and image, unmounts what is left and deletes the directory.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import type { OciImageConfig } from "../formats/index.ts";
import { LOCAL_READ_REF, parseImageRef } from "../oci/index.ts";
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
import { processesMentioning, run, sleep, within } from "./proc.ts";
import { mainArgv } from "./runc.ts";

/** Wait up to 30 s for the processes naming `dir` to end, then SIGKILL what is left. */
async function settleProcesses(dir: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let pids = await processesMentioning(dir);
  while (pids.length && Date.now() < deadline) {
    await sleep(100);
    pids = await processesMentioning(dir);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {} // ended meanwhile
  }
  for (let i = 0; i < 50 && (await processesMentioning(dir)).length; i++) await sleep(100);
}

async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const mp = (line.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(Number.parseInt(o, 8)),
    );
    if (mp === dir || mp.startsWith(`${dir}/`)) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

interface PodmanSession extends Session {
  image: string;
  images: string[];
}

/** podman ref for our image references (the same transports, same syntax). */
export function podmanRef(ref: string): string {
  try {
    parseImageRef(ref, LOCAL_READ_REF);
    return ref;
  } catch {
    throw new RuntimeError("E_DRIVER", `podman driver: cannot load "${ref}"`, {
      hint: "use oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE",
    });
  }
}

/** The longest --runroot podman accepts. */
const PODMAN_MAX_RUNROOT = 50;

export class PodmanDriver implements Driver {
  readonly name: "podman" | "docker" = "podman";
  protected readonly ref: string;
  protected readonly image: OciImageConfig;
  protected dir?: string;
  protected imageId?: string;
  protected global: string[] = [];
  readonly bin: string = "podman";
  private readonly containers = new LiveContainers<PodmanContainer>();

  constructor(ref: string, image: OciImageConfig) {
    this.ref = ref;
    this.image = image;
  }

  cmd(args: string[], timeoutMs = 120_000): Promise<ExecResult> {
    return run(this.bin, [...this.global, ...args], { timeoutMs });
  }

  async prepare(): Promise<void> {
    if (this.imageId) return;
    // lowercase name: podman derives an image name from an oci: path and rejects upper case
    // podman refuses a --runroot over 50 characters: a long TMPDIR falls back to /tmp
    const name = `shellfree-podman-${randomBytes(6).toString("hex")}`;
    const base = join(tmpdir(), name, "runroot").length <= PODMAN_MAX_RUNROOT ? tmpdir() : "/tmp";
    this.dir = join(base, name);
    await mkdir(this.dir, { mode: 0o700 });
    this.global = [
      "--root",
      join(this.dir, "root"),
      "--runroot",
      join(this.dir, "runroot"),
      "--tmpdir",
      join(this.dir, "tmp"),
      "--storage-driver",
      "overlay",
      "--runtime",
      "runc",
      "--cgroup-manager",
      "cgroupfs",
      "--events-backend",
      "file",
    ];
    const r = await this.cmd(["pull", "-q", await this.localRef()]);
    if (r.code !== 0)
      throw new RuntimeError(
        "E_DRIVER",
        `podman pull ${this.ref}: ${r.stderr.trim().split("\n").slice(-1)[0]}`,
      );
    this.imageId = r.stdout.trim().split("\n").slice(-1)[0];
  }

  /** oci:/oci-archive: paths go through a lowercase symlink in our dir (see prepare) */
  private async localRef(): Promise<string> {
    const ref = podmanRef(this.ref);
    const p = parseImageRef(ref, LOCAL_READ_REF);
    if (p.transport !== "oci" && p.transport !== "oci-archive") return ref;
    const link = join(this.dir as string, p.transport === "oci" ? "layout" : "image.tar");
    await symlink(resolvePath(p.path), link);
    return `${p.transport}:${link}${p.digest ? `@${p.digest}` : p.tag ? `:${p.tag}` : ""}`;
  }

  protected runArgs(name: string, opts: StartOptions, image: string): string[] {
    const a = [
      "run",
      "--name",
      name,
      "--no-healthcheck",
      "--network",
      opts.network === "none" ? "none" : "host",
    ];
    if (opts.readOnly) a.push("--read-only", ...(this.bin === "podman" ? ["--read-only-tmpfs=false"] : []));
    for (const t of opts.tmpfs ?? []) a.push("--tmpfs", `${t}:rw,nosuid,nodev,mode=1777`);
    if (opts.user) a.push("--user", opts.user);
    for (const [k, v] of Object.entries(opts.env ?? {})) a.push("--env", `${k}=${v}`);
    if (opts.workdir) a.push("--workdir", opts.workdir);
    if (opts.argv) a.push("--entrypoint", JSON.stringify(mainArgv(this.image, opts)));
    a.push(image);
    return a;
  }

  async start(opts: StartOptions = {}): Promise<Container> {
    await this.prepare();
    const name = `sf-${randomBytes(6).toString("hex")}`;
    const image = (opts.session as PodmanSession | undefined)?.image ?? (this.imageId as string);
    return this.containers.launch(
      new PodmanContainer(this, name, [...this.global, ...this.runArgs(name, opts, image)]),
    );
  }

  async runOnce(opts: StartOptions, timeoutMs: number): Promise<ExecResult> {
    const t0 = performance.now();
    const c = (await this.start(opts)) as PodmanContainer;
    const s = opts.session as PodmanSession | undefined;
    return runToExit(c, timeoutMs, t0, async () => {
      if (!s) return;
      const r = await this.cmd(["commit", "-q", c.id]);
      if (r.code !== 0) throw new RuntimeError("E_DRIVER", `podman commit: ${r.stderr.trim()}`);
      s.image = r.stdout.trim().split("\n").slice(-1)[0];
      s.images.push(s.image);
    });
  }

  async newSession(): Promise<Session> {
    await this.prepare();
    return {
      id: `sess-${randomBytes(4).toString("hex")}`,
      image: this.imageId as string,
      images: [],
    } as PodmanSession;
  }

  async endSession(s: Session): Promise<void> {
    for (const i of (s as PodmanSession).images.reverse())
      await this.cmd(["rmi", "-f", i]).catch(() => undefined);
  }

  async cleanup(): Promise<void> {
    await this.containers.removeAll();
    if (!this.dir) return;
    await this.cmd(["rm", "--all", "--force", "--time", "0"], 60_000).catch(() => undefined);
    await this.cmd(["rmi", "--all", "--force"], 60_000).catch(() => undefined);
    // conmon runs `podman … container cleanup` (with our --root/--runroot/--tmpdir) on its own
    // after a container ends, and that may happen after `podman rm` returned: under load it ran
    // after our removal and re-created parts of the storage dir. Wait for every process that
    // names our dir to end (bounded; then kill them: they work only on our private storage).
    await settleProcesses(this.dir);
    for (const mp of await mountsUnder(this.dir))
      await run("umount", ["-l", mp], { timeoutMs: 10_000 }).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
    this.dir = undefined;
    this.imageId = undefined;
  }
}

class PodmanContainer extends ChildContainer {
  private readonly driver: PodmanDriver;
  private readonly argv: string[];

  constructor(driver: PodmanDriver, id: string, argv: string[]) {
    super(id);
    this.driver = driver;
    this.argv = argv;
  }

  launch(): void {
    this.spawnMain(this.driver.bin, this.argv, { errorPrefix: "", killedCode: () => 137 });
  }

  exec(
    argv: string[],
    opts: { env?: Record<string, string>; user?: string; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    const a = ["exec"];
    if (opts.user) a.push("--user", opts.user);
    for (const [k, v] of Object.entries(opts.env ?? {})) a.push("--env", `${k}=${v}`);
    return this.driver.cmd([...a, this.id, ...argv], opts.timeoutMs ?? 30_000);
  }

  async signal(sig: string): Promise<void> {
    const r = await this.driver.cmd(["kill", "--signal", sig, this.id], 15_000);
    if (r.code !== 0 && !/not running|no such container|can only kill running/i.test(r.stderr)) {
      throw new RuntimeError("E_DRIVER", `podman kill ${this.id}: ${r.stderr.trim()}`);
    }
  }

  async hostPid(): Promise<number> {
    for (let i = 0; i < 50; i++) {
      const r = await this.driver.cmd(["inspect", "--format", "{{.State.Pid}}", this.id], 15_000);
      const pid = Number(r.stdout.trim());
      if (r.code === 0 && pid > 0) return pid;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new RuntimeError("E_DRIVER", `podman: container ${this.id} has no PID`);
  }

  protected async removeNow(): Promise<void> {
    await this.driver.cmd(["rm", "--force", "--time", "0", this.id], 60_000).catch(() => undefined);
    await within(this.exited, 10_000);
  }
}
