/** What the built-in behaviour checks share: options, readiness, HTTP probing, cleanup. */
const { request } = process.getBuiltinModule("node:http"); // (not the ESM facade: that loads undici)

import type { OciImageConfig } from "../../formats/index.ts";
import type { Container, Driver, StartOptions } from "../driver.ts";
import { within } from "../proc.ts";
import type { TestResult } from "../report.ts";

export interface CheckOptions {
  /** upper bound for any one wait (ms); default 60 000 */
  timeoutMs?: number;
  http?: {
    port?: number;
    path?: string;
    method?: "GET" | "HEAD";
    status?: number;
    host?: string;
    /** the port is an HTTP proxy: ask it for `path` on an origin the check serves on 127.0.0.1 */
    proxy?: boolean;
  };
  "graceful-stop"?: { exitCode?: number; withinMs?: number; logs?: string[]; signal?: string };
  "main-dies"?: { withinMs?: number; process?: string };
  "any-uid"?: { uid?: number };
  "read-only"?: { tmpfs?: string[] };
  "startup-time"?: { maxMs?: number };
  "shell-exec-fails"?: { shells?: string[][] };
}

export interface CheckContext {
  driver: Driver;
  image: OciImageConfig;
  options: CheckOptions;
}

export type Check = (ctx: CheckContext) => Promise<TestResult>;

export const NS_PER_MS = 1e6;

export function healthTest(image: OciImageConfig): string[] | undefined {
  const t = image.config?.Healthcheck?.Test;
  if (!t || t.length < 2 || t[0] !== "CMD") return undefined;
  return t.slice(1);
}

export function httpPort(ctx: CheckContext): number | undefined {
  if (ctx.options.http?.port) return ctx.options.http.port;
  for (const p of Object.keys(ctx.image.config?.ExposedPorts ?? {})) {
    const [n, proto] = p.split("/");
    if ((proto ?? "tcp") === "tcp" && /^\d+$/.test(n)) return Number(n);
  }
  return undefined;
}

/**
 * One request to host:port. `path` may be an absolute URL (`http://origin/x`): then it is sent
 * in absolute form, as a client sends it to a forward proxy.
 */
export function httpGet(
  port: number,
  path: string,
  method: "GET" | "HEAD" = "GET",
  host = "127.0.0.1",
  timeoutMs = 2000,
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const headers = path.startsWith("http://") ? { Host: new URL(path).host } : undefined;
    const req = request({ host, port, path, method, headers, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        if (body.length < 4096) body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", (e) => resolve({ error: e.message }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end();
  });
}

export interface Readiness {
  ok: boolean;
  ms: number;
  how: string;
  reason?: string;
}

/**
 * Wait until the container is ready: its HEALTHCHECK (exec'd inside, no shell) exits 0; or, with
 * no healthcheck, the HTTP port answers; or, with neither, it is still running after 1 s.
 * Fails early when the main process exits.
 */
export async function waitReady(
  c: Container,
  ctx: CheckContext,
  t0 = performance.now(),
  limitMs?: number,
): Promise<Readiness> {
  const hc = ctx.image.config?.Healthcheck;
  const test = healthTest(ctx.image);
  const startPeriod = (hc?.StartPeriod ?? 0) / NS_PER_MS;
  const limit = limitMs ?? (startPeriod > 0 ? startPeriod : (ctx.options.timeoutMs ?? 60_000));
  const poll = Math.min(1000, Math.max(100, (hc?.StartInterval ?? 0) / NS_PER_MS || 250));
  let exited: number | undefined;
  void c.exited.then((code) => {
    exited = code;
  });
  const elapsed = () => Math.round(performance.now() - t0);
  let last = "";
  const port = httpPort(ctx);
  const how = test
    ? `HEALTHCHECK ${JSON.stringify(test)}`
    : port
      ? `HTTP GET 127.0.0.1:${port}${ctx.options.http?.path ?? "/"}`
      : "still running after 1 s";
  if (!test && !port) {
    await within(c.exited, 1000);
    return exited === undefined
      ? { ok: true, ms: elapsed(), how }
      : { ok: false, ms: elapsed(), how, reason: `the main process exited with ${exited}` };
  }
  while (elapsed() < limit) {
    if (exited !== undefined)
      return {
        ok: false,
        ms: elapsed(),
        how,
        reason: `the main process exited with ${exited} before it was healthy`,
      };
    if (test) {
      const r = await c.exec(test, { timeoutMs: Math.max(1000, (hc?.Timeout ?? 10e9) / NS_PER_MS) });
      if (r.code === 0) return { ok: true, ms: elapsed(), how };
      last = `healthcheck exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split("\n").slice(-1)[0]}` : ""}`;
    } else if (port) {
      const r = await httpGet(port, ctx.options.http?.path ?? "/", "GET", ctx.options.http?.host);
      if ("status" in r && r.status > 0 && r.status < 500) return { ok: true, ms: elapsed(), how };
      last = "status" in r ? `HTTP ${r.status}` : r.error;
    }
    await within(c.exited, poll);
  }
  return {
    ok: false,
    ms: elapsed(),
    how,
    reason: `not healthy within ${limit} ms${last ? ` (last: ${last})` : ""}`,
  };
}

export function logsTail(c: Container, n = 15): string {
  const { stdout, stderr } = c.logs();
  const lines = `${stdout}${stderr}`.trimEnd().split("\n");
  const tail = lines
    .slice(-n)
    .map((l) => `  | ${l}`)
    .join("\n");
  return tail.trim() ? `\ncontainer output (last ${Math.min(n, lines.length)} lines):\n${tail}` : "";
}

/** Start a container, run `fn`, always remove it. */
export async function withContainer<T>(
  ctx: CheckContext,
  opts: StartOptions,
  fn: (c: Container, t0: number) => Promise<T>,
): Promise<T> {
  const t0 = performance.now();
  const c = await ctx.driver.start({ network: "host", ...opts });
  try {
    return await fn(c, t0);
  } finally {
    await c.remove();
  }
}

export function result(
  name: string,
  t0: number,
  passed: boolean,
  message: string,
  metrics?: Record<string, number>,
): TestResult {
  return { kind: "check", name, passed, message, durationMs: Math.round(performance.now() - t0), metrics };
}
