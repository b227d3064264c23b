/**
 * The Squid image run the way an operator runs it, under runc or podman, in the test's network
 * namespace: the image's own entrypoint, env and user (unless a test gives others), a read-only
 * root, a tmpfs on each directory its `dev.shellfree.writable` label names and on /tmp, no
 * capabilities, no new privileges; read-only mounts for what a test provides (a config, ACL
 * files, the TLS pair) and names for /etc/hosts. One foreground process per container (`runc
 * run`, `podman run` attached), whose exit status is the container's and whose stdout/stderr are
 * the container's; `exec`, signals and the host PID of its PID 1 for the rest.
 *
 * runc gets a per-container overlay over the unpacked image (so the runtime can create mount
 * points), as container engines do.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writablePaths } from "../../../../src/formats/index.ts";
import { createPodman, type Podman } from "../../../helpers/podman.ts";
import { type RunResult, runCommand } from "../../../helpers/run.ts";
import type { SquidImage } from "./image.ts";
import type { Netns } from "./netns.ts";

export interface RunSpec {
  /** "UID:GID" (default: the image's User) */
  user?: string;
  /** added to (or replacing) the image's env */
  env?: Record<string, string>;
  /** read-only bind mounts: host path → path in the container */
  mounts?: Array<{ source: string; destination: string }>;
  /** /etc/hosts entries: name → address */
  hosts?: Record<string, string>;
}

export interface Running {
  readonly name: string;
  /** the container's stdout and stderr so far */
  stdout(): string;
  stderr(): string;
  /** stdout + stderr lines as they came */
  lines(): string[];
  /** settles when the container ended: its exit code (128+n when killed by signal n) */
  readonly exited: Promise<{ code: number; at: number }>;
  /** wait for a line of stdout or stderr matching `re` (rejects when the container ends first) */
  waitLine(re: RegExp, timeoutMs?: number): Promise<string>;
  exec(argv: string[], timeoutMs?: number): Promise<RunResult>;
  /** send a signal to the container's PID 1 through the runtime */
  signal(sig: "TERM" | "KILL" | "INT"): Promise<void>;
  /** PID 1 of the container, as the host sees it */
  hostPid(): Promise<number>;
  /** kill and remove, whatever state it is in */
  remove(): Promise<void>;
}

export interface SquidRuntime {
  readonly name: "runc" | "podman";
  start(spec?: RunSpec): Promise<Running>;
  cleanup(): Promise<void>;
}

/** The container's own output, line by line, and its end. */
class Output {
  out = "";
  err = "";
  all: string[] = [];
  private partial = { out: "", err: "" };
  attach(child: ChildProcess): void {
    const take = (which: "out" | "err") => (d: string) => {
      this[which] += d;
      const text = this.partial[which] + d;
      const parts = text.split("\n");
      this.partial[which] = parts.pop() ?? "";
      this.all.push(...parts);
    };
    child.stdout?.setEncoding("utf8").on("data", take("out"));
    child.stderr?.setEncoding("utf8").on("data", take("err"));
  }
  flush(): void {
    for (const w of ["out", "err"] as const) {
      if (this.partial[w]) this.all.push(this.partial[w]);
      this.partial[w] = "";
    }
  }
}

function exitedOf(child: ChildProcess, out: Output): Promise<{ code: number; at: number }> {
  return new Promise((resolve) => {
    child.once("close", (code, signal) => {
      out.flush();
      resolve({ code: code ?? 128 + (signal === "SIGKILL" ? 9 : 15), at: performance.now() });
    });
  });
}

async function waitLine(
  out: Output,
  exited: Promise<unknown>,
  re: RegExp,
  timeoutMs: number,
  what: string,
): Promise<string> {
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  const end = Date.now() + timeoutMs;
  for (;;) {
    const hit = out.all.find((l) => re.test(l));
    if (hit !== undefined) return hit;
    if (ended)
      throw new Error(`${what} ended before a line matched ${re}:\n${out.all.slice(-30).join("\n")}`);
    if (Date.now() > end)
      throw new Error(`no line matched ${re} within ${timeoutMs} ms:\n${out.all.slice(-30).join("\n")}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The image's entrypoint + cmd, env (with the spec's overrides) and user. */
function processOf(image: SquidImage, spec: RunSpec): { args: string[]; env: string[]; user: string } {
  const c = image.config.config ?? {};
  const env = new Map<string, string>();
  for (const e of c.Env ?? []) env.set(e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1));
  for (const [k, v] of Object.entries(spec.env ?? {})) env.set(k, v);
  return {
    args: [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])],
    env: [...env].map(([k, v]) => `${k}=${v}`),
    user: spec.user ?? c.User ?? "0:0",
  };
}

/** The tmpfs mounts: each writable directory with its owner and mode in the image, and /tmp. */
function tmpfsOf(image: SquidImage): Array<{ path: string; mode: string; uid: number; gid: number }> {
  const out = writablePaths(image.config).map((path) => {
    const st = statSync(join(image.rootfs, path));
    return { path, mode: (st.mode & 0o7777).toString(8).padStart(4, "0"), uid: st.uid, gid: st.gid };
  });
  if (out.length === 0) throw new Error("the image names no writable paths (dev.shellfree.writable)");
  return [...out, { path: "/tmp", mode: "1777", uid: 0, gid: 0 }];
}

// ───────────────────────────────────────────────────────────────────────────── runc

export function runcRuntime(image: SquidImage, ns: Netns, workDir: string): SquidRuntime {
  const live = new Set<Running>();
  return {
    name: "runc",
    async start(spec = {}) {
      const id = `sfsq-${randomBytes(5).toString("hex")}`;
      const dir = join(workDir, id);
      for (const d of ["upper", "work", "rootfs"]) mkdirSync(join(dir, d), { recursive: true });
      await runCommand("mount", [
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${image.rootfs},upperdir=${join(dir, "upper")},workdir=${join(dir, "work")}`,
        join(dir, "rootfs"),
      ]);
      const p = processOf(image, spec);
      const [uid, gid] = p.user.split(":").map(Number);
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
          options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
        },
        {
          destination: "/dev/shm",
          type: "tmpfs",
          source: "shm",
          options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
          destination: "/dev/mqueue",
          type: "mqueue",
          source: "mqueue",
          options: ["nosuid", "noexec", "nodev"],
        },
        { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
        ...tmpfsOf(image).map((t) => ({
          destination: t.path,
          type: "tmpfs",
          source: "tmpfs",
          options: ["nosuid", "nodev", `mode=${t.mode}`, `uid=${t.uid}`, `gid=${t.gid}`, "size=262144k"],
        })),
        ...(spec.mounts ?? []).map((m) => ({
          destination: m.destination,
          type: "bind",
          source: m.source,
          options: ["rbind", "ro"],
        })),
      ];
      if (spec.hosts) {
        const hosts = join(dir, "hosts");
        writeFileSync(
          hosts,
          `127.0.0.1 localhost\n${Object.entries(spec.hosts)
            .map(([n, a]) => `${a} ${n}\n`)
            .join("")}`,
        );
        mounts.push({ destination: "/etc/hosts", type: "bind", source: hosts, options: ["rbind", "ro"] });
      }
      const config = {
        ociVersion: "1.0.2",
        process: {
          terminal: false,
          user: { uid, gid },
          args: p.args,
          env: p.env,
          cwd: image.config.config?.WorkingDir || "/",
          noNewPrivileges: true,
          capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
        },
        root: { path: "rootfs", readonly: true },
        hostname: "squid-proxy",
        mounts,
        linux: {
          namespaces: [
            { type: "pid" },
            { type: "ipc" },
            { type: "uts" },
            { type: "mount" },
            { type: "network", path: ns.path },
          ],
          maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
          readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
      };
      writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
      const child = spawn("runc", ["run", "--bundle", dir, id], { stdio: ["ignore", "pipe", "pipe"] });
      const out = new Output();
      out.attach(child);
      const exited = exitedOf(child, out);
      let removed = false;
      const running: Running = {
        name: id,
        stdout: () => out.out,
        stderr: () => out.err,
        lines: () => out.all,
        exited,
        waitLine: (re, timeoutMs = 30_000) => waitLine(out, exited, re, timeoutMs, id),
        exec: (argv, timeoutMs = 30_000) =>
          runCommand("runc", ["exec", "--user", `${uid}:${gid}`, id, ...argv], {
            allowFail: true,
            timeoutMs,
          }),
        async signal(sig) {
          await runCommand("runc", ["kill", id, sig], { allowFail: true });
        },
        async hostPid() {
          for (let i = 0; i < 200; i++) {
            const r = await runCommand("runc", ["state", id], { allowFail: true });
            if (r.code === 0) return JSON.parse(r.stdout).pid as number;
            await new Promise((res) => setTimeout(res, 25));
          }
          throw new Error(`runc state ${id}: no such container`);
        },
        async remove() {
          if (removed) return;
          removed = true;
          live.delete(running);
          await runCommand("runc", ["kill", id, "KILL"], { allowFail: true });
          await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
          child.kill("SIGKILL");
          await runCommand("runc", ["delete", "-f", id], { allowFail: true });
          await runCommand("umount", ["-l", join(dir, "rootfs")], { allowFail: true });
          rmSync(dir, { recursive: true, force: true });
        },
      };
      live.add(running);
      return running;
    },
    async cleanup() {
      for (const r of [...live]) await r.remove();
    },
  };
}

// ───────────────────────────────────────────────────────────────────────────── podman

/** podman with a private storage root, the image loaded from its docker-archive. */
export async function podmanRuntime(image: SquidImage, ns: Netns): Promise<SquidRuntime> {
  const pm: Podman = await createPodman();
  const live = new Set<Running>();
  try {
    const l = await pm.run(["load", "-i", image.dockerArchive], { timeoutMs: 180_000 });
    if (!/squid-proxy:test/.test(l.stdout)) throw new Error(`podman load: ${l.stdout}${l.stderr}`);
  } catch (e) {
    await pm.cleanup();
    throw e;
  }
  return {
    name: "podman",
    async start(spec = {}) {
      const name = `sfsq-${randomBytes(5).toString("hex")}`;
      const p = processOf(image, spec);
      const args = [
        "run",
        "--name",
        name,
        "--network",
        `ns:${ns.path}`,
        "--read-only",
        "--read-only-tmpfs=false",
        "--cap-drop=all",
        "--security-opt",
        "no-new-privileges",
        "--user",
        p.user,
        // podman 4.3 takes no uid=/gid= here: it copies the directory's owner onto the tmpfs
        ...tmpfsOf(image).flatMap((t) => ["--tmpfs", `${t.path}:rw,nosuid,nodev,mode=${t.mode},size=256m`]),
        ...(spec.mounts ?? []).flatMap((m) => ["--volume", `${m.source}:${m.destination}:ro`]),
        ...Object.entries(spec.hosts ?? {}).flatMap(([n, a]) => ["--add-host", `${n}:${a}`]),
        ...Object.entries(spec.env ?? {}).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
        "squid-proxy:test",
      ];
      const child = spawn("podman", [...pm.globalArgs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      const out = new Output();
      out.attach(child);
      const exited = exitedOf(child, out);
      let removed = false;
      const running: Running = {
        name,
        stdout: () => out.out,
        stderr: () => out.err,
        lines: () => out.all,
        exited,
        waitLine: (re, timeoutMs = 30_000) => waitLine(out, exited, re, timeoutMs, name),
        exec: (argv, timeoutMs = 30_000) => pm.run(["exec", name, ...argv], { allowFail: true, timeoutMs }),
        async signal(sig) {
          await pm.run(["kill", "--signal", sig, name], { allowFail: true });
        },
        async hostPid() {
          for (let i = 0; i < 200; i++) {
            const r = await pm.run(["inspect", "--format", "{{.State.Pid}}", name], { allowFail: true });
            const pid = Number(r.stdout.trim());
            if (r.code === 0 && pid > 0) return pid;
            await new Promise((res) => setTimeout(res, 25));
          }
          throw new Error(`podman inspect ${name}: no running container`);
        },
        async remove() {
          if (removed) return;
          removed = true;
          live.delete(running);
          await pm.run(["rm", "--force", "--time", "0", name], { allowFail: true, timeoutMs: 60_000 });
          await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
          child.kill("SIGKILL");
        },
      };
      live.add(running);
      return running;
    },
    async cleanup() {
      for (const r of [...live]) await r.remove();
      await pm.cleanup();
    },
  };
}
