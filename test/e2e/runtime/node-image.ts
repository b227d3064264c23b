/**
 * A shell-free image with a long-running main process for the runtime tests: the host's Node.js
 * binary (the one npm pinned for this repo) with exactly the shared libraries it needs, the
 * native shellfree-init as PID 1 (dist/init/amd64, `npm run build:init`) supervising a small HTTP
 * server with /health that stops gracefully on SIGTERM, and an exec-form HEALTHCHECK that probes
 * the server with Node itself. No shell, no package manager, UID 65532.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { basename } from "node:path";
import { INIT_BINARY_PATH, initBinaryPath } from "../../../src/init/index.ts";
import { type ImageFile, type MadeImage, makeImage } from "../../helpers/images.ts";

export const NODE_BIN = realpathSync(createRequire(import.meta.url).resolve("node/bin/node"));

export const SERVER = `"use strict";
const http = require("node:http");
const fs = require("node:fs");
const port = Number(process.env.PORT || 8080);
// needs a writable /tmp: proves the tmpfs of the read-only check is there
fs.writeFileSync("/tmp/started", String(Date.now()));
// optional state file elsewhere (tests use it to show read-only/any-uid failing for real)
if (process.env.WRITE_TO) fs.writeFileSync(process.env.WRITE_TO, "state");
let ready = false;
const srv = http.createServer((req, res) => {
  if (req.url === "/health" || req.url === "/ready") {
    res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
    res.end(req.method === "HEAD" ? undefined : "ok\\n");
    return;
  }
  res.writeHead(404);
  res.end();
});
srv.listen(port, "127.0.0.1", () => {
  ready = true;
  console.log("listening on " + port + " as uid " + process.getuid() + " gid " + process.getgid());
});
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    console.log("Received signal " + sig);
    ready = false;
    srv.close(() => {
      console.log("Shutdown complete");
      process.exit(0);
    });
  });
}
`;

export const PROBE = `"use strict";
const http = require("node:http");
const req = http.get({ host: "127.0.0.1", port: Number(process.env.PORT || 8080), path: "/health", timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on("timeout", () => req.destroy(new Error("timeout")));
req.on("error", () => process.exit(1));
`;

/** The real files of the shared libraries `bin` loads (ldd), keyed by soname. */
export function sharedLibs(bin: string): Array<{ soname: string; real: string; path: string }> {
  const out: Array<{ soname: string; real: string; path: string }> = [];
  const text = execFileSync("ldd", [bin], { encoding: "utf8" });
  for (const line of text.split("\n")) {
    const m = /^\s*(\S+)\s+=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+ld-linux\S*)\s/.exec(line);
    if (!m) continue;
    const path = m[2] ?? m[1];
    out.push({ soname: basename(m[1]), real: realpathSync(path), path });
  }
  return out;
}

export interface NodeImageOptions {
  port: number;
  format?: "oci" | "oci-archive" | "docker-archive";
  /** more files (e.g. to make the image bigger for the benchmark) */
  files?: ImageFile[];
  /** extra image env */
  env?: Record<string, string>;
  /** extra image labels */
  labels?: Record<string, string>;
  /** layer compression (default none: fastest for tests) */
  compression?: "gzip" | "zstd" | "none";
}

export async function makeNodeImage(dir: string, o: NodeImageOptions): Promise<MadeImage> {
  const libDir = "/usr/lib/x86_64-linux-gnu";
  const files: ImageFile[] = [
    { path: "/usr/local/bin/node", hostPath: NODE_BIN, mode: 0o755 },
    { path: INIT_BINARY_PATH, hostPath: initBinaryPath("amd64"), mode: 0o755 },
    {
      // the health server on an ephemeral port (several of these run at once on the host's
      // network); the HEALTHCHECK asks the app
      path: "/etc/shellfree/init.json",
      data: JSON.stringify({
        main: ["/usr/local/bin/node", "/app/server.cjs"],
        health: { port: 0, host: "127.0.0.1" },
        shutdown: { grace: "10s" },
      }),
    },
    { path: "/app/server.cjs", data: SERVER },
    { path: "/app/probe.cjs", data: PROBE },
    {
      path: "/etc/passwd",
      data: "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
    },
    { path: "/etc/group", data: "root:x:0:\nnonroot:x:65532:\n" },
    { path: "/usr/lib/os-release", data: readFileSync("/usr/lib/os-release") },
    ...(o.files ?? []),
  ];
  const symlinks = [
    { path: "/lib", target: "usr/lib" },
    { path: "/lib64", target: "usr/lib64" },
    { path: "/etc/os-release", target: "../usr/lib/os-release" },
  ];
  const seen = new Set<string>();
  for (const l of sharedLibs(NODE_BIN)) {
    if (l.soname.startsWith("ld-linux")) {
      files.push({ path: `${libDir}/${l.soname}`, hostPath: l.real, mode: 0o755 });
      symlinks.push({ path: `/usr/lib64/${l.soname}`, target: `../lib/x86_64-linux-gnu/${l.soname}` });
    } else if (!seen.has(l.soname)) {
      files.push({ path: `${libDir}/${l.soname}`, hostPath: l.real, mode: 0o644 });
    }
    seen.add(l.soname);
  }
  return makeImage(dir, {
    files,
    symlinks,
    dirs: [
      { path: "/tmp", mode: 0o1777 },
      { path: "/home/nonroot", mode: 0o700, uid: 65532, gid: 65532 },
    ],
    compression: o.compression ?? "none",
    format: o.format,
    config: {
      entrypoint: [INIT_BINARY_PATH],
      user: "65532:65532",
      env: { PORT: String(o.port), PATH: "/usr/local/bin:/usr/bin", ...o.env },
      exposedPorts: [`${o.port}/tcp`],
      stopSignal: "SIGTERM",
      workingDir: "/app",
      labels: { "org.opencontainers.image.title": "shellfree-node-test", ...o.labels },
      healthcheck: {
        test: ["/usr/local/bin/node", "/app/probe.cjs"],
        interval: "1s",
        timeout: "3s",
        startPeriod: "20s",
        retries: 3,
      },
    },
  });
}
