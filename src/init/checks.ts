/**
 * Checks shared by `wait-for` tasks and the readiness endpoint: TCP connect, HTTP GET, a command,
 * a listening socket. Each returns {ok, detail} and never throws; each is bounded by its timeout.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { endianness } from "node:os";
import { parseHostPort, type ReadyCheck } from "./config.ts";
import { findListener, type ListeningSocket, parseProcNetTcp, showSocket } from "./listening.ts";

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

/** Is a socket in LISTEN state on target, in /proc/net/tcp or tcp6 (no connection made)? */
export function listeningCheck(target: string, procNet = "/proc/net"): CheckResult {
  const tables: ListeningSocket[][] = [];
  for (const name of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`${procNet}/${name}`, "latin1");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (name === "tcp6" && code === "ENOENT") continue; // IPv6 disabled
      return { ok: false, detail: `listening ${target}: cannot read ${procNet}/${name}: ${code ?? e}` };
    }
    tables.push(parseProcNetTcp(text, endianness() === "BE"));
  }
  const r = findListener(target, tables);
  if (r.ok) return { ok: true, detail: `listening ${target}: ${showSocket(r.socket)} in LISTEN state` };
  return { ok: false, detail: `listening ${target}: ${r.problem ?? "no socket in LISTEN state"}` };
}

export function runCheck(check: ReadyCheck, timeoutMs: number): Promise<CheckResult> {
  if ("tcp" in check) return tcpCheck(check.tcp, timeoutMs);
  if ("http" in check) return httpCheck(check.http, timeoutMs);
  if ("listening" in check) return Promise.resolve(listeningCheck(check.listening));
  return execCheck(check.exec, timeoutMs);
}
