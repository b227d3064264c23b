/**
 * Test helpers for shellfree-init: bundle it once (the real esbuild bundle the builder ships),
 * run it as a real process with a config, read its log lines as they come, talk HTTP to its
 * health server on 127.0.0.1, and always clean up.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleInit } from "../../../src/build/init-bundle.ts";

export const NODE = process.execPath;

let bundleDir: string | undefined;

/** Path of the bundled init.js (written once per test process). */
export async function initJs(): Promise<string> {
  if (!bundleDir) {
    bundleDir = mkdtempSync(join(tmpdir(), "sf-init-bundle-"));
    chmodSync(bundleDir, 0o755); // readable by the non-root UIDs some tests run init as
    writeFileSync(join(bundleDir, "init.js"), await bundleInit());
    process.once("exit", () => rmSync(bundleDir!, { recursive: true, force: true }));
  }
  return join(bundleDir, "init.js");
}

export function tempDir(prefix = "sf-init-"): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(path, 0o755);
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export class InitProc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stdout = "";
  readonly exited: Promise<Exit>;
  private waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  private buf = "";
  constructor(child: ChildProcess) {
    this.child = child;
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (d: string) => {
      this.buf += d;
      let i = this.buf.indexOf("\n");
      while (i >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => {
          if (!w.re.test(line)) return true;
          w.resolve(line);
          return false;
        });
        i = this.buf.indexOf("\n");
      }
    });
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (d: string) => {
      this.stdout += d;
    });
    // "exit", not "close": a main process left behind may hold the pipes open
    // then wait for the end of stderr, at most 500 ms (so all log lines are in)
    const stderrEnded = new Promise<void>((r) => child.stderr!.once("end", () => r()));
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        const at = performance.now();
        void Promise.race([stderrEnded, new Promise((r) => setTimeout(r, 500))]).then(() =>
          resolve({ code, signal, at }),
        );
      });
    });
  }
  get pid(): number {
    return this.child.pid!;
  }
  /** Resolve with the first log line matching `re` (past or future); reject after timeoutMs. */
  waitLine(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const hit = this.lines.find((l) => re.test(l));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no log line ${re} within ${timeoutMs} ms; got:\n${this.lines.join("\n")}`)),
        timeoutMs,
      );
      this.waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
      void this.exited.then(() =>
        setTimeout(() => {
          clearTimeout(t);
          reject(new Error(`init exited without log line ${re}; got:\n${this.lines.join("\n")}`));
        }, 50),
      );
    });
  }
  /** The port the health server reported. */
  async port(): Promise<number> {
    const l = await this.waitLine(/Health server listening on http:\/\/[^:]+:(\d+)/);
    return Number(/:(\d+) \(/.exec(l)![1]);
  }
  kill(sig: NodeJS.Signals = "SIGTERM"): void {
    try {
      this.child.kill(sig);
    } catch {}
  }
  async exit(timeoutMs = 15_000): Promise<Exit> {
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.exited,
      new Promise<never>((_, rej) => {
        t = setTimeout(
          () => rej(new Error(`init did not exit within ${timeoutMs} ms; log:\n${this.lines.join("\n")}`)),
          timeoutMs,
        );
      }),
    ]);
    clearTimeout(t);
    return r;
  }
  /** Kill init and anything left in its main processes' groups; let go of the pipes. */
  async cleanup(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.kill("SIGKILL");
      await this.exited;
    }
    for (const l of this.lines) {
      const m = /Main process started: PID (\d+)/.exec(l);
      if (m)
        try {
          process.kill(-Number(m[1]), "SIGKILL");
        } catch {}
    }
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
  }
}

const running = new Set<InitProc>();

/** Start the bundled init with `config` (written to a file) or with raw args. */
export async function startInit(opts: {
  config?: unknown;
  args?: string[];
  env?: Record<string, string>;
  dir: string;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** drop HOME from the environment */
  noHome?: boolean;
}): Promise<InitProc> {
  const js = await initJs();
  const args = [js];
  if (opts.config !== undefined) {
    const p = join(opts.dir, "init.json");
    writeFileSync(p, typeof opts.config === "string" ? opts.config : JSON.stringify(opts.config));
    args.push("--config", p);
  }
  args.push(...(opts.args ?? []));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith("SHELLFREE_") && !k.startsWith("NODE_")) env[k] = v;
  if (opts.noHome) delete env.HOME;
  Object.assign(env, opts.env);
  const child = spawn(NODE, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env,
    cwd: opts.cwd ?? opts.dir,
    uid: opts.uid,
    gid: opts.gid,
  });
  const p = new InitProc(child);
  running.add(p);
  return p;
}

export async function cleanupAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.cleanup()));
}

export interface HttpAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export function http(port: number, path: string, method = "GET", timeoutMs = 3000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method, agent: false, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout ${method} ${path}`)));
    req.on("error", reject);
    req.end();
  });
}

/** Poll until fn() resolves truthy, bounded. */
export async function until<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  stepMs = 25,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${last}` : ""}`);
}

/** A node -e main process. */
export function nodeMain(script: string): string[] {
  return [NODE, "-e", script];
}

/** Log lines → the text after "[LEVEL] ". */
export function messages(lines: string[]): string[] {
  return lines.map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[[A-Z]+\] /, ""));
}

/** A port that was free a moment ago (bind 0, read it, close). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** PIDs of processes whose command line contains `needle` (read from /proc). */
export async function pidsWithArg(needle: string): Promise<number[]> {
  const { readdirSync, readFileSync } = await import("node:fs");
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state !== "Z" && cmd.includes(needle)) out.push(Number(d));
    } catch {}
  }
  return out;
}
