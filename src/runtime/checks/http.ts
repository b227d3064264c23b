/** http: GET/HEAD a path on the container (host network namespace) and expect a status. */
import { type Check, httpGet, httpPort, logsTail, result, waitReady, withContainer } from "./common.ts";

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
  return withContainer(ctx, { network: "host" }, async (c, start) => {
    const ready = await waitReady(c, ctx, start);
    if (!ready.ok) return result("http", t0, false, `not ready: ${ready.reason}${logsTail(c)}`);
    const r = await httpGet(port, path, method, o.host);
    if ("error" in r)
      return result("http", t0, false, `${method} http://127.0.0.1:${port}${path}: ${r.error}${logsTail(c)}`);
    const ok = r.status === want;
    return result(
      "http",
      t0,
      ok,
      ok
        ? `${method} ${path} → ${r.status}`
        : `${method} http://127.0.0.1:${port}${path}\n  - expected status ${want}\n  + actual   ${r.status}${r.body ? ` (${JSON.stringify(r.body.slice(0, 200))})` : ""}`,
    );
  });
};
