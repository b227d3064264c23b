/**
 * Pre-start tasks, run in order before the main process: validate, ensure-dir, merge-pem, run,
 * wait-for. Each is bounded by a timeout and either succeeds, is skipped (its condition is not
 * met) or throws a TaskError with one clear line (plus, for commands, their captured output).
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  accessSync,
  closeSync,
  existsSync,
  constants as fsc,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { type InitTask, parseDuration } from "./config.ts";

export class TaskError extends Error {
  /** captured output of a failed command, shown after the message */
  readonly output?: string;
  constructor(message: string, output?: string) {
    super(message);
    this.name = "TaskError";
    this.output = output;
  }
}

/** Thrown when a stop signal arrived while a task ran. */
export class TaskStopped extends Error {}

export interface TaskContext {
  uid: number;
  gid: number;
  /** aborted when init is asked to stop */
  stop: AbortSignal;
}

export interface TaskOutcome {
  status: "ok" | "skipped";
  detail: string;
}

export const DEFAULT_TIMEOUTS: Record<InitTask["kind"], string> = {
  validate: "60s",
  "ensure-dir": "10s",
  "merge-pem": "10s",
  run: "5m",
  "wait-for": "30s",
};

export function describeTask(t: InitTask): string {
  switch (t.kind) {
    case "validate":
    case "run":
      return `${t.kind} ${t.argv.join(" ")}`;
    case "ensure-dir":
      return `ensure-dir ${t.path}`;
    case "merge-pem":
      return `merge-pem ${t.cert} + ${t.key} -> ${t.out}`;
    case "wait-for":
      return `wait-for ${t.tcp !== undefined ? `tcp ${t.tcp}` : `http ${t.http}`}`;
  }
}

const MAX_OUTPUT = 64 * 1024;

function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {}
  }
}

/** Run a command (own process group) to completion, bounded by timeoutMs and ctx.stop. */
function runCommand(
  argv: string[],
  timeoutMs: number,
  ctx: TaskContext,
  capture: boolean,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve, reject) => {
    if (ctx.stop.aborted) return reject(new TaskStopped("stopped"));
    const child = spawn(argv[0], argv.slice(1), {
      stdio: capture ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
      detached: true,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const collect = (b: Buffer) => {
      if (size >= MAX_OUTPUT) {
        truncated = true;
        return;
      }
      chunks.push(b);
      size += b.length;
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    let why: "timeout" | "stop" | null = null;
    const onStop = () => {
      why ??= "stop";
      killGroup(child, "SIGTERM");
      setTimeout(() => killGroup(child, "SIGKILL"), 2000).unref();
    };
    ctx.stop.addEventListener("abort", onStop, { once: true });
    const timer = setTimeout(() => {
      why ??= "timeout";
      killGroup(child, "SIGKILL");
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      ctx.stop.removeEventListener("abort", onStop);
    };
    child.once("error", (e: NodeJS.ErrnoException) => {
      cleanup();
      reject(new TaskError(`cannot execute ${argv[0]}: ${e.code ?? e.message}`));
    });
    child.once("close", (code, signal) => {
      cleanup();
      let output = Buffer.concat(chunks).toString("utf8");
      if (truncated) output += "\n[output truncated]";
      if (why === "stop") return reject(new TaskStopped("stopped"));
      if (why === "timeout")
        return reject(new TaskError(`timed out after ${timeoutMs} ms (process group killed)`, output));
      resolve({ code, signal, output });
    });
  });
}

function errno(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const names: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOENT: "no such file or directory",
    ENOTDIR: "not a directory",
    ENOSPC: "no space left on device",
  };
  return err.code ? `${err.code} (${names[err.code] ?? err.message})` : String(err.message ?? e);
}

function ensureDir(t: Extract<InitTask, { kind: "ensure-dir" }>, ctx: TaskContext): TaskOutcome {
  const who = `UID ${ctx.uid} GID ${ctx.gid}`;
  let created = false;
  let st = statSync(t.path, { throwIfNoEntry: false });
  if (!st) {
    if (!t.create) throw new TaskError(`directory ${t.path} does not exist (create: false)`);
    try {
      mkdirSync(t.path, { recursive: true, mode: 0o770 });
      created = true;
    } catch (e) {
      throw new TaskError(`cannot create directory ${t.path} as ${who}: ${errno(e)}`);
    }
    st = statSync(t.path);
  }
  if (!st.isDirectory()) throw new TaskError(`${t.path} exists but is not a directory`);
  if (t.writable) {
    try {
      accessSync(t.path, fsc.W_OK | fsc.X_OK);
    } catch (e) {
      const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
      throw new TaskError(
        `directory ${t.path} is not writable by ${who} (owner ${st.uid}:${st.gid}, mode ${mode}): ${errno(e)}`,
      );
    }
  }
  return { status: "ok", detail: `${created ? "created" : "exists"}${t.writable ? ", writable" : ""}` };
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----/g;

function pemBlocks(text: string): { label: string; pem: string }[] {
  const out: { label: string; pem: string }[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    const body = m[2].replace(/[\r\n]/g, "");
    if (body.length === 0 || Buffer.from(body, "base64").length === 0) continue;
    out.push({ label: m[1], pem: m[0].replace(/\r\n/g, "\n") });
  }
  return out;
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new TaskError(`cannot read ${what} ${path}: ${errno(e)}`);
  }
}

function mergePem(t: Extract<InitTask, { kind: "merge-pem" }>): TaskOutcome {
  const missing = [t.cert, t.key].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    if (t.whenExists) return { status: "skipped", detail: `${missing.join(", ")} missing (when-exists)` };
    throw new TaskError(`input missing: ${missing.join(", ")}`);
  }
  const certText = readPem(t.cert, "certificate");
  const keyText = readPem(t.key, "key");
  const certs = pemBlocks(certText).filter((b) => b.label === "CERTIFICATE");
  if (certs.length === 0) throw new TaskError(`${t.cert}: no valid PEM CERTIFICATE block`);
  const keys = pemBlocks(keyText).filter((b) => /PRIVATE KEY$/.test(b.label));
  if (keys.length !== 1)
    throw new TaskError(
      `${t.key}: ${keys.length === 0 ? "no valid PEM PRIVATE KEY block" : `${keys.length} PRIVATE KEY blocks (expected one)`}`,
    );
  // loaded here, not at start-up: node:crypto is only needed by this task
  const { X509Certificate, createPrivateKey } = process.getBuiltinModule("node:crypto");
  let leaf: InstanceType<typeof X509Certificate>;
  try {
    leaf = new X509Certificate(certs[0].pem);
    for (const c of certs.slice(1)) new X509Certificate(c.pem);
  } catch (e) {
    throw new TaskError(`${t.cert}: not a valid X.509 certificate: ${(e as Error).message}`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keys[0].pem);
  } catch (e) {
    throw new TaskError(`${t.key}: not a valid private key: ${(e as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new TaskError(`${t.key} does not match the certificate in ${t.cert}`);
  const content = `${certs.map((c) => c.pem).join("\n")}\n${keys[0].pem}\n`;
  const dir = dirname(t.out);
  const tmp = join(dir, `.tmp-${basename(t.out)}.${process.pid}`);
  try {
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, t.out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new TaskError(`cannot write ${t.out}: ${errno(e)}`);
  }
  return { status: "ok", detail: `wrote ${t.out} (mode 0600, ${certs.length} certificate(s) + key)` };
}

async function waitFor(
  t: Extract<InitTask, { kind: "wait-for" }>,
  timeoutMs: number,
  ctx: TaskContext,
): Promise<TaskOutcome> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  let attempts = 0;
  const { httpCheck, tcpCheck } = await import("./checks.ts");
  while (true) {
    if (ctx.stop.aborted) throw new TaskStopped("stopped");
    const left = deadline - Date.now();
    if (left <= 0) break;
    const per = Math.max(50, Math.min(1000, left));
    const r = t.tcp !== undefined ? await tcpCheck(t.tcp, per) : await httpCheck(t.http!, per);
    attempts++;
    if (r.ok) return { status: "ok", detail: `${r.detail} after ${attempts} attempt(s)` };
    last = r.detail;
    const pause = Math.min(250, deadline - Date.now());
    if (pause > 0)
      await new Promise<void>((res) => {
        const tm = setTimeout(done, pause);
        function done() {
          clearTimeout(tm);
          ctx.stop.removeEventListener("abort", done);
          res();
        }
        ctx.stop.addEventListener("abort", done, { once: true });
      });
  }
  throw new TaskError(`not reachable within ${timeoutMs} ms (${attempts} attempts; last: ${last})`);
}

/** Run one task. Throws TaskError (failed) or TaskStopped (a stop signal arrived). */
export async function runTask(t: InitTask, ctx: TaskContext): Promise<TaskOutcome> {
  const timeoutMs = parseDuration(t.timeout ?? DEFAULT_TIMEOUTS[t.kind]);
  switch (t.kind) {
    case "validate": {
      const r = await runCommand(t.argv, timeoutMs, ctx, true);
      if (r.code !== 0)
        throw new TaskError(r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`, r.output.trimEnd());
      return { status: "ok", detail: "passed" };
    }
    case "run": {
      if (t.whenMissing !== undefined && existsSync(t.whenMissing))
        return { status: "skipped", detail: `${t.whenMissing} exists` };
      const r = await runCommand(t.argv, timeoutMs, ctx, false);
      if (r.code !== 0) throw new TaskError(r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);
      return { status: "ok", detail: "exit code 0" };
    }
    case "ensure-dir":
      return ensureDir(t, ctx);
    case "merge-pem":
      return mergePem(t);
    case "wait-for":
      return waitFor(t, timeoutMs, ctx);
  }
}
