/**
 * `init.js probe [/ready] [--port N] [--host H] [--timeout MS]`: a HEALTHCHECK in exec form (no
 * shell, no curl). One HEAD request over a raw socket to the local health server; exit 0 on a
 * 2xx answer, 1 otherwise. Kept light: loads only node:net and node:fs, so it runs in well
 * under 100 ms.
 */
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { DEFAULT_HEALTH_PORT, INIT_CONFIG_PATH } from "./config.ts";

export interface ProbeOptions {
  path: string;
  host: string;
  port: number;
  timeoutMs: number;
}

export class ProbeUsageError extends Error {}

function configHealth(env: Record<string, string | undefined>): { port?: number; host?: string } {
  try {
    const cfg = JSON.parse(readFileSync(env.SHELLFREE_INIT_CONFIG || INIT_CONFIG_PATH, "utf8"));
    const h = cfg?.health;
    return {
      port: typeof h?.port === "number" ? h.port : undefined,
      host: typeof h?.host === "string" ? h.host : undefined,
    };
  } catch {
    return {};
  }
}

export function parseProbeArgs(argv: string[], env: Record<string, string | undefined>): ProbeOptions {
  let path = "/ready";
  let port: number | undefined;
  let host: string | undefined;
  let timeoutMs = 2000;
  const num = (name: string, v: string | undefined, max: number): number => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) > max)
      throw new ProbeUsageError(
        `${name} needs an integer up to ${max}, got ${v === undefined ? "nothing" : `"${v}"`}`,
      );
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const [a, inline] =
      argv[i].startsWith("--") && argv[i].includes("=") ? argv[i].split(/=(.*)/s) : [argv[i]];
    const next = () => inline ?? argv[++i];
    if (a === "--port" || a === "-p") port = num("--port", next(), 65535);
    else if (a === "--host") host = next();
    else if (a === "--timeout") timeoutMs = num("--timeout", next(), 600_000);
    else if (a.startsWith("/")) path = a;
    else if (["live", "ready", "health"].includes(a)) path = `/${a}`;
    else throw new ProbeUsageError(`unknown probe argument ${a}`);
  }
  if (port === undefined && env.SHELLFREE_HEALTH_PORT)
    port = num("SHELLFREE_HEALTH_PORT", env.SHELLFREE_HEALTH_PORT, 65535);
  const fromCfg = port === undefined || host === undefined ? configHealth(env) : {};
  port ??= fromCfg.port ?? DEFAULT_HEALTH_PORT;
  host ??= env.SHELLFREE_HEALTH_HOST || fromCfg.host || "127.0.0.1";
  if (host === "0.0.0.0") host = "127.0.0.1";
  if (host === "::") host = "::1";
  if (port === 0) throw new ProbeUsageError("health port is 0 (ephemeral): give --port");
  return { path, host, port, timeoutMs };
}

/** HEAD the endpoint; resolves to the HTTP status (0 when there was no answer) and a detail. */
export function probe(o: ProbeOptions): Promise<{ status: number; detail: string }> {
  return new Promise((resolve) => {
    let done = false;
    let data = "";
    const sock = connect({ host: o.host, port: o.port });
    const finish = (status: number, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ status, detail });
    };
    const timer = setTimeout(() => finish(0, `no answer within ${o.timeoutMs} ms`), o.timeoutMs);
    sock.setEncoding("latin1");
    sock.once("connect", () => {
      const hostHdr = o.host.includes(":") ? `[${o.host}]` : o.host;
      sock.write(`HEAD ${o.path} HTTP/1.1\r\nHost: ${hostHdr}:${o.port}\r\nConnection: close\r\n\r\n`);
    });
    sock.on("data", (chunk: string) => {
      data += chunk;
      const eol = data.indexOf("\r\n");
      if (eol < 0) {
        if (data.length > 4096) finish(0, "malformed answer");
        return;
      }
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.slice(0, eol));
      finish(m ? Number(m[1]) : 0, m ? data.slice(0, eol) : "malformed answer");
    });
    sock.once("error", (e: NodeJS.ErrnoException) => finish(0, `${e.code ?? e.message} ${o.host}:${o.port}`));
    sock.once("end", () => finish(0, "connection closed without an answer"));
  });
}

export async function probeMain(argv: string[]): Promise<void> {
  let o: ProbeOptions;
  try {
    o = parseProbeArgs(argv, process.env);
  } catch (e) {
    process.stderr.write(`probe: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const r = await probe(o);
  const ok = r.status >= 200 && r.status < 300;
  process.stdout.write(`${o.path}: ${r.status || "error"} ${ok ? "ok" : `not ok (${r.detail})`}\n`);
  process.exit(ok ? 0 : 1);
}
