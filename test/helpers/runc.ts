/**
 * Running a built image under runc directly: `umoci unpack` of a one-platform layout into a
 * bundle, its config.json locked down the way the examples deploy it (read-only root, no
 * capabilities, no new privileges, a chosen UID/GID, tmpfs mounts), then `runc run` — once
 * (`runOnce`: its output and exit code) or in the background (`startContainer`: signals, wait).
 * The host's network namespace is kept unless `network: "none"`, so a server in the container
 * answers on the host's 127.0.0.1.
 *
 *   const b = await unpackBundle(`${dir}/img:latest`, join(dir, "bundle"));
 *   const r = await runOnce(b, { args: ["/usr/bin/python3", "-c", "print(1)"] });
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "./run.ts";

export interface BundleOptions {
  /** argv (default: the image's entrypoint + cmd) */
  args?: string[];
  /** default: the image's user */
  user?: { uid: number; gid: number };
  /** added to (or replacing) the image's environment: NAME → value */
  env?: Record<string, string>;
  /** default true */
  readonly?: boolean;
  /** directories mounted as a tmpfs: path → mode ("1777") */
  tmpfs?: Record<string, string>;
  /** default "host" (the host's network namespace) */
  network?: "host" | "none";
  /** working directory (default: the image's) */
  cwd?: string;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Unpack `ref` (LAYOUT:TAG, one platform) into a bundle directory. */
export async function unpackBundle(ref: string, dir: string): Promise<string> {
  const r = await runCommand("umoci", ["unpack", "--image", ref, dir], {
    allowFail: true,
    timeoutMs: 180_000,
  });
  if (r.code !== 0) throw new Error(`umoci unpack ${ref}: ${r.stderr}`);
  return dir;
}

/** Write the bundle's config.json for one run. */
function configure(bundle: string, o: BundleOptions): void {
  const file = join(bundle, "config.json");
  const c = JSON.parse(readFileSync(file, "utf8"));
  c.process.terminal = false;
  if (o.args) c.process.args = o.args;
  if (o.user) c.process.user = { uid: o.user.uid, gid: o.user.gid };
  if (o.cwd) c.process.cwd = o.cwd;
  if (o.env) {
    const keep = (c.process.env as string[]).filter((e) => !(e.split("=")[0] in (o.env ?? {})));
    c.process.env = [...keep, ...Object.entries(o.env).map(([k, v]) => `${k}=${v}`)];
  }
  c.process.noNewPrivileges = true;
  c.process.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
  c.root.readonly = o.readonly !== false;
  if ((o.network ?? "host") === "host") {
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== "network");
  } else if (!c.linux.namespaces.some((n: { type: string }) => n.type === "network")) {
    c.linux.namespaces.push({ type: "network" });
  }
  c.mounts = (c.mounts as Array<{ destination: string }>).filter((m) => !(m.destination in (o.tmpfs ?? {})));
  for (const [dest, mode] of Object.entries(o.tmpfs ?? {})) {
    c.mounts.push({
      destination: dest,
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "nodev", `mode=${mode}`, "size=64m"],
    });
  }
  writeFileSync(file, JSON.stringify(c, null, 1));
}

const id = () => `sf-test-${process.pid}-${randomBytes(4).toString("hex")}`;

/** Run the bundle once to the end. */
export async function runOnce(
  bundle: string,
  o: BundleOptions & { timeoutMs?: number } = {},
): Promise<RunResult> {
  configure(bundle, o);
  const name = id();
  try {
    const r = await runCommand("runc", ["run", "--bundle", bundle, name], {
      allowFail: true,
      timeoutMs: o.timeoutMs ?? 120_000,
    });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  } finally {
    await runCommand("runc", ["delete", "-f", name], { allowFail: true });
  }
}

export interface Running {
  name: string;
  child: ChildProcess;
  /** stdout + stderr so far */
  output(): string;
  /** `runc kill NAME SIGNAL` */
  kill(signal: string): Promise<void>;
  /** resolves when `runc run` returns */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill -9 if needed, wait, delete */
  stop(): Promise<void>;
}

/** Start the bundle in the background. */
export function startContainer(bundle: string, o: BundleOptions = {}): Running {
  configure(bundle, o);
  const name = id();
  const child = spawn("runc", ["run", "--bundle", bundle, name], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on("close", (code, signal) => res({ code, signal }));
    child.on("error", () => res({ code: null, signal: null }));
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    name,
    child,
    output: () => out,
    exited,
    kill: async (signal: string) => {
      await runCommand("runc", ["kill", name, signal], { allowFail: true });
    },
    stop: async () => {
      if (!done) {
        await runCommand("runc", ["kill", name, "KILL"], { allowFail: true });
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      }
      await runCommand("runc", ["delete", "-f", name], { allowFail: true });
      if (!done) child.kill("SIGKILL");
    },
  };
}
