/**
 * The health server: /live (init is alive), /ready (main process running and its readiness
 * check passes), /health (both). GET answers with a small JSON body, HEAD with the status code
 * only; 503 when not ready. Other methods get 405, other paths 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface Probe {
  ok: boolean;
  body: Record<string, unknown>;
}

export interface HealthSource {
  live(): Probe;
  ready(): Promise<Probe>;
}

export interface HealthServer {
  server: Server;
  host: string;
  port: number;
  close(): Promise<void>;
}

function send(req: IncomingMessage, res: ServerResponse, code: number, body: Record<string, unknown>): void {
  const text = `${JSON.stringify(body)}\n`;
  res.statusCode = code;
  res.setHeader("content-type", "application/json");
  res.setHeader("cache-control", "no-store");
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}

async function handle(src: HealthSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/live" && path !== "/ready" && path !== "/health") {
    send(req, res, 404, { status: "not-found", endpoints: ["/live", "/ready", "/health"] });
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    send(req, res, 405, { status: "method-not-allowed" });
    return;
  }
  if (path === "/live") {
    const p = src.live();
    send(req, res, p.ok ? 200 : 503, { status: p.ok ? "ok" : "not-ok", ...p.body });
    return;
  }
  const live = src.live();
  const ready = await src.ready();
  if (path === "/ready") {
    send(req, res, ready.ok ? 200 : 503, { status: ready.ok ? "ready" : "not-ready", ...ready.body });
    return;
  }
  const ok = live.ok && ready.ok;
  send(req, res, ok ? 200 : 503, {
    status: ok ? "ok" : "not-ready",
    live: live.ok,
    ready: ready.ok,
    ...live.body,
    ...ready.body,
  });
}

export function startHealthServer(host: string, port: number, src: HealthSource): Promise<HealthServer> {
  const server = createServer((req, res) => {
    handle(src, req, res).catch((e) => {
      if (!res.headersSent) send(req, res, 500, { status: "error", error: String(e) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      const addr = server.address();
      const actual = typeof addr === "object" && addr ? addr.port : port;
      resolve({
        server,
        host,
        port: actual,
        close: () =>
          new Promise((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
