/**
 * http: GET/HEAD a path on the container (host network namespace) and expect a status. With
 * `proxy`, the port is a forward proxy: the check serves a one-line origin on 127.0.0.1, asks the
 * proxy for `path` on it (an absolute-form request) and expects the status and the origin's body.
 */

import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Check, httpGet, httpPort, logsTail, result, waitReady, withContainer } from "./common.ts";

/** A tiny origin on 127.0.0.1 answering every request with `body`. */
async function startOrigin(body: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.setHeader("Content-Type", "text/plain");
    res.setHeader("Cache-Control", "no-store");
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

export const http: Check = async (ctx) => {
  const t0 = performance.now();
  const port = httpPort(ctx);
  const o = ctx.options.http ?? {};
  const path = o.path ?? "/";
  const method = o.method ?? "GET";
  const want = o.status ?? 200;
  if (!port)
    return result(
      "http",
      t0,
      false,
      "no port to probe: the image exposes no TCP port and no http.port was given",
    );
  const token = `shellfree http check ${randomBytes(6).toString("hex")}\n`;
  const origin = o.proxy ? await startOrigin(token) : undefined;
  try {
    return await withContainer(ctx, { network: "host" }, async (c, start) => {
      const ready = await waitReady(c, ctx, start);
      if (!ready.ok) return result("http", t0, false, `not ready: ${ready.reason}${logsTail(c)}`);
      const target = origin ? `http://127.0.0.1:${origin.port}${path}` : path;
      const what = origin
        ? `${method} ${target} through the proxy on 127.0.0.1:${port}`
        : `${method} http://127.0.0.1:${port}${path}`;
      const r = await httpGet(port, target, method, o.host, 5000);
      if ("error" in r) return result("http", t0, false, `${what}: ${r.error}${logsTail(c)}`);
      const problems: string[] = [];
      if (r.status !== want) {
        problems.push(
          `${what}\n  - expected status ${want}\n  + actual   ${r.status}${r.body ? ` (${JSON.stringify(r.body.slice(0, 200))})` : ""}`,
        );
      } else if (origin && method === "GET" && want === 200 && r.body !== token) {
        problems.push(
          `${what}: status ${r.status}, but not the origin's body\n  - expected ${JSON.stringify(token)}\n  + actual   ${JSON.stringify(r.body.slice(0, 200))}`,
        );
      }
      return result(
        "http",
        t0,
        problems.length === 0,
        problems.length ? `${problems.join("\n")}${logsTail(c)}` : `${what} → ${r.status}`,
      );
    });
  } finally {
    origin?.server.close();
    origin?.server.closeAllConnections();
  }
};
