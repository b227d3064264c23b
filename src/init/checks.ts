/**
 * Checks shared by `wait-for` tasks and the readiness endpoint: TCP connect, HTTP GET, a command.
 * Each returns {ok, detail} and never throws; each is bounded by its timeout.
 */
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { parseHostPort, type ReadyCheck } from "./config.ts";

export interface CheckResult {
  ok: boolean;
  detail: string;
}

export function tcpCheck(target: string, timeoutMs: number): Promise<CheckResult> {
  const hp = parseHostPort(target);
  if (!hp) return Promise.resolve({ ok: false, detail: `bad address ${target}` });
  return new Promise((resolve) => {
    const sock = connect({ host: hp.host, port: hp.port });
    let done = false;
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, detail: `tcp ${target}: no connection within ${timeoutMs} ms` }),
      timeoutMs,
    );
    sock.once("connect", () => finish({ ok: true, detail: `tcp ${target}: connected` }));
    sock.once("error", (e: NodeJS.ErrnoException) =>
      finish({ ok: false, detail: `tcp ${target}: ${e.code ?? e.message}` }),
    );
  });
}

export async function httpCheck(url: string, timeoutMs: number): Promise<CheckResult> {
  const mod = url.startsWith("https:") ? await import("node:https") : await import("node:http");
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, detail: `http ${url}: no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    const req = mod.get(url, { headers: { "user-agent": "shellfree-init" }, agent: false }, (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      finish({ ok: code >= 200 && code < 400, detail: `http ${url}: ${code}` });
    });
    req.once("error", (e: NodeJS.ErrnoException) =>
      finish({ ok: false, detail: `http ${url}: ${e.code ?? e.message}` }),
    );
  });
}

export function execCheck(argv: string[], timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    let done = false;
    const child = spawn(argv[0], argv.slice(1), { stdio: "ignore", detached: true });
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {}
      finish({ ok: false, detail: `exec ${argv[0]}: no result within ${timeoutMs} ms` });
    }, timeoutMs);
    child.once("error", (e: NodeJS.ErrnoException) =>
      finish({ ok: false, detail: `exec ${argv[0]}: ${e.code ?? e.message}` }),
    );
    child.once("exit", (code, sig) =>
      finish({
        ok: code === 0,
        detail: `exec ${argv[0]}: ${sig ? `killed by ${sig}` : `exit code ${code}`}`,
      }),
    );
  });
}

export function runCheck(check: ReadyCheck, timeoutMs: number): Promise<CheckResult> {
  if ("tcp" in check) return tcpCheck(check.tcp, timeoutMs);
  if ("http" in check) return httpCheck(check.http, timeoutMs);
  return execCheck(check.exec, timeoutMs);
}
