#!/usr/bin/env bash
# shellfree-init overhead, printed as comparable figures:
#   1. time-to-ready of the same main process (a Node HTTP server) started as
#        tini-static -- node app.js                         (baseline: no entrypoint logic)
#        tini-static -- node init.js (config: main = node app.js)
#      measured the same way (launch → first HTTP 200 from the app's port), alternating,
#      RUNS times each; prints medians and the ratio (target ≤ 1.10, the seeds' bar).
#      Also the time until init's own /ready answers 200.
#   2. init's own RSS while supervising (from /proc, VmRSS and VmHWM).
#   3. health endpoint throughput: wrk on 127.0.0.1 for DURATION seconds (bounded).
# Usage: bench/init.sh [RUNS=40] [DURATION=5]   (env APP_DELAY_MS adds startup work to the app)
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
