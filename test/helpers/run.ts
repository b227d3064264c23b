/** Running a command in a test: a timeout, output collected, the child never left behind. */
import { spawn } from "node:child_process";

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** kill after this many ms (default 60 000) */
  timeoutMs?: number;
  /** do not throw on a non-zero exit */
  allowFail?: boolean;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Run a command with a timeout; never leaves the child behind. */
export function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const input = opts.input;
    // stdin is closed unless there is input to send (writing to a child that already exited is EPIPE)
    const child = spawn(cmd, args, {
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const r = { code, signal, stdout, stderr };
      if (!opts.allowFail && code !== 0) {
        const why = signal
          ? `killed by ${signal}${signal === "SIGKILL" ? ` (timeout ${timeoutMs} ms?)` : ""}`
          : `exit ${code}`;
        reject(new Error(`${cmd} ${args.join(" ")}: ${why}\n${stderr.trim()}`));
      } else resolve(r);
    });
    if (input !== undefined && child.stdin) {
      child.stdin.on("error", () => {}); // the child may exit before reading it all
      child.stdin.end(input);
    }
  });
}
