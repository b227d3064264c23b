#!/usr/bin/env bash
# shellfree-init overhead, printed as comparable figures:
#   1. time-to-ready of the same main process (a Node HTTP server) started as
#        tini-static -- node app.js                         (baseline: no entrypoint logic)
#        tini-static -- node init.js (config: main = node app.js)
#      measured the same way (launch → first HTTP 200 from the app's port), alternating,
#      RUNS times each; prints medians and the ratio (target ≤ 1.10, the seeds' bar).
#      Also the time until init's own /ready answers 200. Then the same for a container under
#      runc (runc run → the app answers), which is how images start in production.
#   2. init's own RSS while supervising (from /proc, VmRSS and VmHWM).
#   3. health endpoint throughput: wrk on 127.0.0.1 for DURATION seconds (bounded).
# Usage: bench/init.sh [RUNS=40] [DURATION=5]   (env APP_DELAYS="0 500": app startup work in ms)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-40}"
DURATION="${2:-5}"
NODE="$PWD/node_modules/node/bin/node"
TINI=/usr/bin/tini-static
for t in "$TINI" wrk; do command -v "$t" >/dev/null || { echo "bench/init.sh: needs $t" >&2; exit 1; }; done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sf-init-bench.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

"$NODE" scripts/bundle-init.ts "$WORK/init.js" >/dev/null

cat >"$WORK/app.js" <<'JS'
const http = require("node:http");
const delay = Number(process.env.APP_DELAY_MS || 0);
const start = () => http.createServer((q, r) => r.end("ok")).listen(Number(process.env.APP_PORT), "127.0.0.1");
if (delay > 0) { const end = Date.now() + delay; while (Date.now() < end); }
start();
process.on("SIGTERM", () => process.exit(0));
JS

# APP_DELAYS: startup work the app does before it listens (0 = a hello-world; Squid, a Python
# framework or a JVM need hundreds of ms or more). init's overhead is fixed (one Node start-up,
# ~45-60 ms on an idle machine), so the ratio depends on how long the app itself takes.
for APP_DELAY_MS in ${APP_DELAYS:-0 500}; do
export APP_DELAY_MS
"$NODE" --input-type=module - "$WORK" "$RUNS" "$NODE" "$TINI" <<'JS'
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";

const [work, runsArg, node, tini] = process.argv.slice(2);
const runs = Number(runsArg);
const freePort = () => new Promise((res) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
// one HTTP GET over a raw socket: resolves true on a 200 status line
const get200 = (port, path) => new Promise((res) => {
  const s = connect(port, "127.0.0.1");
  let d = "";
  s.on("connect", () => s.write(`GET ${path} HTTP/1.0\r\n\r\n`));
  s.on("data", (c) => { d += c; if (d.includes("\r\n")) { s.destroy(); res(/^HTTP\/1\.[01] 200/.test(d)); } });
  s.on("error", () => res(false));
  s.on("close", () => res(false));
});
async function once(withInit) {
  const appPort = await freePort();
  const healthPort = await freePort();
  const env = { ...process.env, APP_PORT: String(appPort) };
  let args;
  if (withInit) {
    const cfg = join(work, "init.json");
    writeFileSync(cfg, JSON.stringify({ main: [node, join(work, "app.js")], health: { port: healthPort, host: "127.0.0.1", ready: { tcp: `127.0.0.1:${appPort}` } } }));
    args = ["-s", "--", node, join(work, "init.js"), "--config", cfg];
  } else args = ["-s", "--", node, join(work, "app.js")];
  const t0 = performance.now();
  const child = spawn(tini, args, { stdio: "ignore", env });
  let appReady = 0, initReady = 0;
  const deadline = t0 + 10_000;
  while (performance.now() < deadline && !appReady) { if (await get200(appPort, "/")) appReady = performance.now() - t0; }
  if (withInit) while (performance.now() < deadline && !initReady) { if (await get200(healthPort, "/ready")) initReady = performance.now() - t0; }
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  if (!appReady || (withInit && !initReady)) throw new Error("not ready within 10 s");
  return { appReady, initReady };
}
const base = [], init = [], initReady = [];
for (let i = 0; i < 3; i++) { await once(false); await once(true); } // warm-up
for (let i = 0; i < runs; i++) {
  // alternate the order so drift hits both equally
  if (i % 2) { base.push((await once(false)).appReady); const r = await once(true); init.push(r.appReady); initReady.push(r.initReady); }
  else { const r = await once(true); init.push(r.appReady); initReady.push(r.initReady); base.push((await once(false)).appReady); }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const p90 = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length * 0.9)];
const f = (x) => x.toFixed(1).padStart(7);
console.log(`time-to-ready (launch → app answers 200), ${runs} runs each, app startup work ${process.env.APP_DELAY_MS || 0} ms`);
console.log(`  tini-static + app              median ${f(med(base))} ms   p90 ${f(p90(base))} ms`);
console.log(`  tini-static + init + app       median ${f(med(init))} ms   p90 ${f(p90(init))} ms`);
console.log(`  init /ready answers 200        median ${f(med(initReady))} ms`);
const ratio = med(init) / med(base);
console.log(`  ratio (init / baseline)        ${ratio.toFixed(3)}   overhead ${(med(init) - med(base)).toFixed(1)} ms   target <= 1.10: ${ratio <= 1.1 ? "met" : "NOT met"}`);
JS
done
unset APP_DELAY_MS
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (figures above are only comparable on an idle machine)"

# 1a: CPU cost (user+sys, less sensitive to a busy machine than wall time): a whole init
# life cycle with a main process that exits at once, against a bare Node start.
if command -v hyperfine >/dev/null; then
  printf '{"main":["/bin/true"],"health":{"port":0,"host":"127.0.0.1"}}' >"$WORK/true.json"
  hyperfine -N -w 3 -r "$RUNS" --export-json "$WORK/cpu.json" \
    "$NODE -e 0" "$NODE $WORK/init.js --config $WORK/true.json" >/dev/null 2>&1 || true
  "$NODE" -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
    const f = (x) => (x * 1000).toFixed(1).padStart(6);
    console.log("CPU per run (mean user+sys), wall (median):");
    for (const [name, x] of [["node -e 0", r[0]], ["init, main=/bin/true", r[1]]])
      console.log(`  ${name.padEnd(28)} cpu ${f(x.user + x.system)} ms   wall ${f(x.median)} ms`);
    console.log(`  init adds                    cpu ${f(r[1].user + r[1].system - r[0].user - r[0].system)} ms   wall ${f(r[1].median - r[0].median)} ms`);
  ' "$WORK/cpu.json"
fi

# 1b: the same comparison for a container (runc run → app answers), the way images start
if command -v runc >/dev/null && [ "$(id -u)" = 0 ]; then
  CRUNS=$(( RUNS / 2 > 10 ? RUNS / 2 : 10 ))
  "$NODE" --input-type=module - "$PWD" "$CRUNS" <<'JS'
import { rmSync } from "node:fs";
import { connect, createServer } from "node:net";
const [root, runsArg] = process.argv.slice(2);
const { Container, makeBundle } = await import(`${root}/test/e2e/init/container.ts`);
const runs = Number(runsArg);
const freePort = () => new Promise((res) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
const get200 = (port) => new Promise((res) => {
  const s = connect(port, "127.0.0.1");
  let d = "";
  s.on("connect", () => s.write("GET / HTTP/1.0\r\n\r\n"));
  s.on("data", (c) => { d += c; if (d.includes("\r\n")) { s.destroy(); res(/^HTTP\/1\.[01] 200/.test(d)); } });
  s.on("error", () => res(false));
  s.on("close", () => res(false));
});
const appPort = await freePort();
const healthPort = await freePort();
const app = `require("node:http").createServer((q, r) => r.end("ok")).listen(${appPort}, "127.0.0.1"); process.on("SIGTERM", () => process.exit(0));`;
const bundle = await makeBundle({
  files: { "app/server.js": app },
  initConfig: { main: ["/usr/local/bin/node", "/app/server.js"], health: { port: healthPort, host: "127.0.0.1", ready: { tcp: `127.0.0.1:${appPort}` } } },
});
async function once(withInit) {
  const t0 = performance.now();
  const c = new Container(bundle, withInit ? { uid: 65532, gid: 65532 } : { uid: 65532, gid: 65532, argv: ["/usr/bin/tini-static", "--", "/usr/local/bin/node", "/app/server.js"] });
  let ready = 0;
  try {
    while (!ready && performance.now() - t0 < 15_000) if (await get200(appPort)) ready = performance.now() - t0;
  } finally {
    await c.cleanup(true);
  }
  if (!ready) throw new Error(`container not ready in 15 s:\n${c.lines.join("\n")}`);
  return ready;
}
try {
  const base = [], init = [];
  for (let i = 0; i < 2; i++) { await once(false); await once(true); }
  for (let i = 0; i < runs; i++) {
    if (i % 2) { base.push(await once(false)); init.push(await once(true)); } else { init.push(await once(true)); base.push(await once(false)); }
  }
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const f = (x) => x.toFixed(1).padStart(7);
  console.log(`container time-to-ready under runc (runc run → app answers 200), ${runs} runs each`);
  console.log(`  tini-static + app              median ${f(med(base))} ms`);
  console.log(`  tini-static + init + app       median ${f(med(init))} ms`);
  const ratio = med(init) / med(base);
  console.log(`  ratio (init / baseline)        ${ratio.toFixed(3)}   overhead ${(med(init) - med(base)).toFixed(1)} ms   target <= 1.10: ${ratio <= 1.1 ? "met" : "NOT met"}`);
} finally {
  rmSync(bundle, { recursive: true, force: true });
}
JS
fi

# 2 + 3: one supervised app, measure init's RSS and the health server's throughput
HPORT=$("$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
APORT=$("$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
printf '{"main":["%s","%s"],"health":{"port":%s,"host":"127.0.0.1","ready":{"tcp":"127.0.0.1:%s"}}}' \
  "$NODE" "$WORK/app.js" "$HPORT" "$APORT" >"$WORK/init.json"
APP_PORT=$APORT "$NODE" "$WORK/init.js" --config "$WORK/init.json" 2>"$WORK/init.log" &
INIT=$!
PIDS+=("$INIT")
for _ in $(seq 1 100); do "$NODE" "$WORK/init.js" probe /ready --port "$HPORT" >/dev/null 2>&1 && break; sleep 0.05; done
grep -E '^(VmRSS|VmHWM)' "/proc/$INIT/status" | sed 's/^/init /'
for path in /live /ready; do
  echo "wrk -t1 -c16 -d${DURATION}s http://127.0.0.1:$HPORT$path"
  timeout $((DURATION + 10)) wrk -t1 -c16 -d"${DURATION}s" "http://127.0.0.1:$HPORT$path" | grep -E 'Requests/sec|Latency|Non-2xx' | sed 's/^/  /'
done
grep -E '^(VmRSS|VmHWM)' "/proc/$INIT/status" | sed 's/^/init after wrk: /'
# probe latency (the HEALTHCHECK path)
if command -v hyperfine >/dev/null; then
  hyperfine -N -w 3 -r 30 "$NODE $WORK/init.js probe /ready --port $HPORT" 2>/dev/null | grep -E 'Time \(mean' | sed 's/^ */probe: /'
fi
kill -TERM "$INIT"; wait "$INIT" || true
