/**
 * A minimal shell-free container for shellfree-init e2e tests, assembled by hand (the image
 * builder is tested elsewhere): the native init (dist/init/amd64/shellfree-init, built by
 * `npm run build:init`) as /usr/bin/shellfree-init, tini-static for the tests about running under
 * tini, the official Node binary (bind-mounted read-only, the apps' runtime) with the shared
 * libraries ldd lists for it, an init.json and a small app. Run with `runc run` from a bundle
 * whose config.json we write: read-only root, tmpfs /tmp, pid/ipc/uts/mount namespaces and the
 * host's network namespace (so the host reaches the health port on 127.0.0.1).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
export const NODE_BIN = join(import.meta.dirname, "../../../node_modules/node/bin/node");
export const TINI = "/usr/bin/tini-static";
export const INIT_BIN = join(import.meta.dirname, "../../../dist/init/amd64/shellfree-init");
export const INIT = "/usr/bin/shellfree-init";

export interface RootfsOptions {
  /** /etc/shellfree/init.json (omitted when undefined) */
  initConfig?: unknown;
  /** extra files: path inside the image → content */
  files?: Record<string, string>;
  /** directories to create (root-owned, 0755 unless given) */
  dirs?: Record<string, number>;
}

/** Shared libraries of the Node binary as ldd reports them: [path in image, host file]. */
function nodeLibs(): Array<[string, string]> {
  const out = execFileSync("ldd", [NODE_BIN], { encoding: "utf8" });
  const libs: Array<[string, string]> = [];
  for (const line of out.split("\n")) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push([m[1], m[1]]);
  }
  if (libs.length < 3) throw new Error(`ldd gave too few libraries for ${NODE_BIN}:\n${out}`);
  return libs;
}

export async function makeBundle(opts: RootfsOptions): Promise<string> {
  const bundle = join(tmpdir(), `sf-init-e2e-${randomBytes(4).toString("hex")}`);
  const rootfs = join(bundle, "rootfs");
  const put = (p: string, data: string | Uint8Array, mode = 0o644) => {
    const dest = join(rootfs, p);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, data, { mode });
    chmodSync(dest, mode);
  };
  for (const d of ["proc", "dev", "sys", "tmp", "usr/bin", "usr/local/bin", "etc"])
    mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, "tmp"), 0o1777); // runc gives a tmpfs the mode of the directory it covers
  copyFileSync(TINI, join(rootfs, "usr/bin/tini-static"));
  chmodSync(join(rootfs, "usr/bin/tini-static"), 0o755);
  writeFileSync(join(rootfs, "usr/local/bin/node"), ""); // bind-mount target
  for (const [inImage, host] of nodeLibs()) {
    const dest = join(rootfs, inImage);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(host, dest);
  }
  if (!existsSync(INIT_BIN)) throw new Error(`${INIT_BIN} missing: run npm run build:init`);
  put("usr/bin/shellfree-init", readFileSync(INIT_BIN), 0o755);
  put(
    "etc/passwd",
    "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
  );
  put("etc/group", "root:x:0:\nnonroot:x:65532:\n");
  if (opts.initConfig !== undefined) put("etc/shellfree/init.json", JSON.stringify(opts.initConfig));
  for (const [p, c] of Object.entries(opts.files ?? {})) put(p, c);
  for (const [p, mode] of Object.entries(opts.dirs ?? {})) {
    mkdirSync(join(rootfs, p), { recursive: true });
    chmodSync(join(rootfs, p), mode);
  }
  return bundle;
}

export interface RunOptions {
  uid: number;
  gid: number;
  args?: string[];
  env?: string[];
  /** run the init under tini-static (default: the init is PID 1) */
  tini?: boolean;
  /** the whole command instead of tini + init (e.g. a baseline without init) */
  argv?: string[];
}

function writeConfig(bundle: string, o: RunOptions): void {
  const init = [INIT, ...(o.args ?? [])];
  const config = {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: o.uid, gid: o.gid },
      args: o.argv ?? (o.tini ? [TINI, "--", ...init] : init),
      env: ["PATH=/usr/local/bin:/usr/bin:/bin", "TZ=UTC", ...(o.env ?? [])],
      cwd: "/",
      noNewPrivileges: true,
      capabilities: { bounding: ["CAP_KILL"], effective: [], permitted: [], inheritable: [], ambient: [] },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 4096, soft: 4096 }],
    },
    root: { path: "rootfs", readonly: true },
    hostname: "sf-init-e2e",
    mounts: [
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
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      {
        destination: "/tmp",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "nodev", "mode=1777", "size=65536k"],
      },
      { destination: "/usr/local/bin/node", type: "bind", source: NODE_BIN, options: ["rbind", "ro"] },
    ],
    linux: {
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
  writeFileSync(join(bundle, "config.json"), JSON.stringify(config, null, 2));
}

export class Container {
  readonly id: string;
  readonly bundle: string;
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stdout = "";
  readonly exited: Promise<{ code: number | null; at: number }>;
  private buf = "";
  constructor(bundle: string, o: RunOptions) {
    this.bundle = bundle;
    this.id = `sf-init-${randomBytes(5).toString("hex")}`;
    writeConfig(bundle, o);
    this.child = spawn("runc", ["run", "--bundle", bundle, this.id], { stdio: ["ignore", "pipe", "pipe"] });
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (d: string) => {
      this.buf += d;
      let i = this.buf.indexOf("\n");
      while (i >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
        i = this.buf.indexOf("\n");
      }
    });
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (d: string) => {
      this.stdout += d;
    });
    const ended = new Promise<void>((r) => this.child.stderr!.once("end", () => r()));
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code) => {
        const at = performance.now();
        void Promise.race([ended, new Promise((r) => setTimeout(r, 500))]).then(() => resolve({ code, at }));
      });
    });
  }

  messages(): string[] {
    return this.lines.map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{3})? \[[A-Z]+\] /, ""));
  }

  async waitLine(re: RegExp, timeoutMs = 15_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let done = false;
    void this.exited.then(() => {
      done = true;
    });
    while (Date.now() < end) {
      const hit = this.lines.find((l) => re.test(l));
      if (hit) return hit;
      if (done) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no log line ${re}; got:\n${this.lines.join("\n")}`);
  }

  /** `runc kill <id> <SIG>`: the signal goes to the container's PID 1. */
  kill(sig: string): void {
    execFileSync("runc", ["kill", this.id, sig.replace(/^SIG/, "")], { stdio: "ignore" });
  }

  /** Host PID of the container's PID 1. */
  initPid(): number {
    const st = JSON.parse(execFileSync("runc", ["state", this.id], { encoding: "utf8" }));
    return st.pid;
  }

  /** Host processes in the container's PID namespace: pid, ppid, state, command line. */
  processes(): Array<{ pid: number; ppid: number; state: string; cmd: string }> {
    const ns = readlinkSync(`/proc/${this.initPid()}/ns/pid`);
    const out: Array<{ pid: number; ppid: number; state: string; cmd: string }> = [];
    for (const d of execFileSync("ls", ["/proc"], { encoding: "utf8" }).split("\n")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        if (readlinkSync(`/proc/${d}/ns/pid`) !== ns) continue;
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").trim();
        out.push({ pid: Number(d), ppid: Number(rest[1]), state: rest[0], cmd });
      } catch {}
    }
    return out;
  }

  async exit(timeoutMs = 20_000): Promise<{ code: number | null; at: number }> {
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.exited,
      new Promise<never>((_, rej) => {
        t = setTimeout(
          () => rej(new Error(`container did not exit in ${timeoutMs} ms:\n${this.lines.join("\n")}`)),
          timeoutMs,
        );
      }),
    ]);
    clearTimeout(t);
    return r;
  }

  /** Kill and delete the container, remove the bundle (unless kept for reuse). Safe to call twice. */
  async cleanup(keepBundle = false): Promise<void> {
    if (this.child.exitCode === null) {
      try {
        execFileSync("runc", ["kill", "--all", this.id, "KILL"], { stdio: "ignore" });
      } catch {}
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    try {
      execFileSync("runc", ["delete", "--force", this.id], { stdio: "ignore" });
    } catch {}
    if (!keepBundle) rmSync(this.bundle, { recursive: true, force: true });
  }
}
