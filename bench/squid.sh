#!/usr/bin/env bash
# The Squid proxy three ways, measured the same way under runc (read-only root, UID 1000 GID 0,
# no capabilities, the example's squid.conf, host loopback; origin and clients on 127.0.0.1):
#   bash-entrypoint  the Dockerfile-style image a user would write (bench/squid-baseline.sh:
#                    mmdebstrap --variant=apt + a bash entrypoint doing the seed's steps)
#   tini-direct      the same image with tini starting Squid directly (no start-up steps)
#   shellfree        examples/squid-proxy/shellfree.yaml: Squid under the native shellfree-init,
#                    which does the same steps as tasks (no shell, no interpreter)
# Figures:
#   - start → first proxied 200 (median/p90 of RUNS, alternating variants) and the container's
#     CPU time until then (from its cgroup: steadier on a busy machine), with the cache
#     already initialised ("warm": a restart) and empty ("cold": the first start, squid -z)
#   - SIGTERM → exit (runc kill TERM → runc run returns) and the exit code
#   - resident memory at ready: PID 1 (bash-entrypoint: Squid itself after exec; tini-direct:
#     tini; shellfree: shellfree-init) and all the container's processes
#   - proxied requests/s: ab -X through the proxy, keep-alive, -c 16, DURATION seconds (bounded),
#     3 rounds alternating, median
#   - image: uncompressed and compressed layer bytes, packages, files, setuid files,
#     interpreters present
# Usage: bench/squid.sh [RUNS=10] [DURATION=5]
#   SQUID_BASELINE_DIR  where bench/squid-baseline.sh keeps its output (built when missing)
#   SHELLFREE_SQUID_IMAGE  an OCI layout of the shellfree image (else the spec is built here)
# Needs root, runc, umoci, ab. Figures are only comparable on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
RUNS="${1:-10}"
DURATION="${2:-5}"
NODE="$REPO/node_modules/node/bin/node"
BASE="${SQUID_BASELINE_DIR:-${TMPDIR:-/tmp}/shellfree-squid-baseline}"
for t in runc umoci ab jq gzip; do command -v "$t" >/dev/null || { echo "bench/squid.sh: needs $t" >&2; exit 1; }; done
[[ "$(id -u)" == 0 ]] || { echo "bench/squid.sh: run as root (runc)" >&2; exit 1; }
[[ -d "$BASE/oci" ]] || bench/squid-baseline.sh "$BASE" >/dev/null

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sf-squid-bench.XXXXXX")"
ORIGIN_PID=""
cleanup() {
  for id in $(runc list -q 2>/dev/null | grep "^sfsq-$$-" || true); do runc delete -f "$id" >/dev/null 2>&1 || true; done
  [[ -n "$ORIGIN_PID" ]] && kill "$ORIGIN_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# ─── origin: a tiny HTTP server on 127.0.0.1, cacheable responses ───────────────────────────
cat >"$WORK/origin.js" <<'JS'
const http = require("node:http");
const s = http.createServer((q, r) => {
  r.setHeader("Cache-Control", "max-age=3600");
  r.end(`origin ${q.url}\n`);
});
s.listen(0, "127.0.0.1", () => console.log(s.address().port));
JS
"$NODE" "$WORK/origin.js" >"$WORK/origin.port" &
ORIGIN_PID=$!
for _ in $(seq 1 100); do [[ -s "$WORK/origin.port" ]] && break; sleep 0.05; done
ORIGIN_PORT="$(cat "$WORK/origin.port")"

# ─── bundles: each image unpacked by umoci, then locked down like the Kubernetes example ────
# make_bundle NAME LAYOUT:TAG — the image's own entrypoint/user/env, read-only root, no caps,
# tmpfs for /var/log/squid, /var/lib/squid, /run/squid, /tmp, the cache a host directory
make_bundle() {
  local name="$1" ref="$2" dir="$WORK/$1"
  mkdir -p "$dir/cache"
  chown 1000:0 "$dir/cache"
  chmod 0770 "$dir/cache"
  umoci unpack --image "$ref" "$dir/bundle" >/dev/null
  "$NODE" -e '
    const fs = require("fs");
    const [file, cache] = process.argv.slice(1);
    const c = JSON.parse(fs.readFileSync(file, "utf8"));
    c.root.readonly = true;
    c.process.terminal = false;
    c.process.noNewPrivileges = true;
    c.process.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
    c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== "network");
    const tmpfs = (d, mode) => ({ destination: d, type: "tmpfs", source: "tmpfs",
      options: ["nosuid", "nodev", `mode=${mode}`, "uid=1000", "gid=0", "size=64m"] });
    c.mounts.push(tmpfs("/var/log/squid", "0770"), tmpfs("/var/lib/squid", "0770"),
      tmpfs("/run/squid", "0770"), tmpfs("/tmp", "1777"),
      { destination: "/var/spool/squid", type: "bind", source: cache, options: ["rbind", "rw"] });
    fs.writeFileSync(file, JSON.stringify(c, null, 1));
  ' "$dir/bundle/config.json" "$dir/cache"
}

VARIANTS=()
make_bundle bash-entrypoint "$BASE/oci:bash-entrypoint"
VARIANTS+=(bash-entrypoint)
make_bundle tini-direct "$BASE/oci:tini-direct"
VARIANTS+=(tini-direct)

# ─── the shellfree image ─────────────────────────────────────────────────────────────────────
# Built from examples/squid-proxy/shellfree.yaml for amd64 (the baseline's architecture), or
# taken from $SHELLFREE_SQUID_IMAGE, and measured exactly like the baselines. A failed build is
# reported in the image table instead of stopping the baselines' figures.
SF_LAYOUT="${SHELLFREE_SQUID_IMAGE:-}"
SF_NOTE=""
if [[ -z "$SF_LAYOUT" ]]; then
  if "$NODE" bin/shellfree build -f examples/squid-proxy/shellfree.yaml --arch amd64 \
    --output "oci:$WORK/sf-image" --no-sbom >"$WORK/sf-build.out" 2>"$WORK/sf-build.err"; then
    SF_LAYOUT="$WORK/sf-image"
  else
    SF_NOTE="not built: $(grep -m1 "^shellfree:" "$WORK/sf-build.err" || tail -n1 "$WORK/sf-build.err")"
  fi
fi
if [[ -n "$SF_LAYOUT" ]]; then
  sf_tag="$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"] // "latest"' "$SF_LAYOUT/index.json")"
  make_bundle shellfree "$SF_LAYOUT:$sf_tag"
  VARIANTS+=(shellfree)
fi
# ─────────────────────────────────────────────────────────────────────────────────────────────

# One cold run of the bash entrypoint initialises a cache (squid -z); every variant's warm
# cache starts as a copy of it.
"$NODE" --input-type=module - "$WORK" "$ORIGIN_PORT" "$RUNS" "$DURATION" "${VARIANTS[@]}" <<'JS'
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";

const [work, originPort, runsArg, durationArg, ...variants] = process.argv.slice(2);
const runs = Number(runsArg);
const duration = Number(durationArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let seq = 0;

// one proxied GET over a raw socket: true on a 200 status line
const proxied200 = (path) => new Promise((res) => {
  const s = connect(3128, "127.0.0.1");
  let d = "";
  const done = (v) => { s.destroy(); res(v); };
  s.setTimeout(2000, () => done(false));
  s.on("connect", () => s.write(`GET http://127.0.0.1:${originPort}${path} HTTP/1.0\r\n\r\n`));
  s.on("data", (c) => { d += c; if (d.includes("\r\n")) done(/^HTTP\/1\.[01] 200/.test(d)); });
  s.on("error", () => done(false));
  s.on("close", () => done(false));
});

// resident memory (VmRSS, MiB) of the container's PID 1 and of all its processes, from /proc
function rssOf(id) {
  const st = spawnSync("runc", ["state", id], { encoding: "utf8" });
  if (st.status !== 0) return undefined;
  const pid1 = JSON.parse(st.stdout).pid;
  const status = (pid) => { try { return readFileSync(`/proc/${pid}/status`, "utf8"); } catch { return ""; } };
  const rss = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(status(pid))?.[1] ?? 0) / 1024;
  const kids = new Map();
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    const pp = Number(/^PPid:\s+(\d+)/m.exec(status(n))?.[1]);
    kids.set(pp, [...(kids.get(pp) ?? []), Number(n)]);
  }
  let total = 0;
  const walk = (p) => { total += rss(p); for (const k of kids.get(p) ?? []) walk(k); };
  walk(pid1);
  return { pid1: rss(pid1), total };
}

function freshCache(v, from) {
  const dir = `${work}/${v}/cache`;
  rmSync(dir, { recursive: true, force: true });
  if (from) cpSync(from, dir, { recursive: true, preserveTimestamps: true });
  else mkdirSync(dir);
  spawnSync("chown", ["-R", "1000:0", dir]);
  chmodSync(dir, 0o770);
}

// start the container, wait for the first proxied 200, optionally do more, then SIGTERM it
async function once(v, during) {
  const id = `sfsq-${process.ppid}-${v}-${seq++}`;
  const out = openSync(`${work}/${v}/${id}.out`, "w");
  const t0 = performance.now();
  const child = spawn("runc", ["run", "--bundle", `${work}/${v}/bundle`, id], { stdio: ["ignore", out, out] });
  const exited = new Promise((r) => child.once("exit", (code, sig) => r({ code, sig, at: performance.now() })));
  let gone = null;
  exited.then((e) => (gone = e));
  let ready = 0;
  while (!ready && !gone && performance.now() - t0 < 30_000) {
    if (await proxied200(`/start/${id}`)) ready = performance.now() - t0;
    else await sleep(2);
  }
  // CPU time the container used until then (its cgroup): less sensitive to a busy machine
  let cpu;
  if (ready) {
    const ev = spawnSync("runc", ["events", "--stats", id], { encoding: "utf8" });
    const ns = ev.status === 0 ? JSON.parse(ev.stdout).data?.cpu?.usage?.total : undefined;
    if (typeof ns === "number") cpu = ns / 1e6;
  }
  const mem = ready ? rssOf(id) : undefined;
  const extra = ready && during ? await during() : undefined;
  const t1 = performance.now();
  if (!gone) spawnSync("runc", ["kill", id, "TERM"]);
  const killer = setTimeout(() => spawnSync("runc", ["kill", id, "KILL"]), 40_000);
  const e = await exited;
  clearTimeout(killer);
  spawnSync("runc", ["delete", "-f", id]);
  if (!ready) throw new Error(`${v}: no proxied 200 within 30 s (exit ${e.code ?? e.sig}); see ${work}/${v}/${id}.out`);
  return { ready, cpu, mem, stop: e.at - t1, code: e.code, extra };
}

const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const p90 = (a) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * 0.9))];
const f = (x) => (x === undefined ? "n/a" : x.toFixed(1)).padStart(8);

// the warm cache every variant starts from
freshCache("bash-entrypoint");
await once("bash-entrypoint");
const template = `${work}/cache-template`;
cpSync(`${work}/bash-entrypoint/cache`, template, { recursive: true, preserveTimestamps: true });

const res = Object.fromEntries(variants.map((v) => [v, { warm: [], cpu: [], rss1: [], rss: [], cold: [], stop: [], codes: new Set(), ab: [], rps: undefined }]));
for (const v of variants) freshCache(v, template);
for (const v of variants) await once(v); // warm-up
for (let i = 0; i < runs; i++) {
  const order = i % 2 ? [...variants].reverse() : variants;
  for (const v of order) {
    const r = await once(v);
    res[v].warm.push(r.ready); if (r.cpu !== undefined) res[v].cpu.push(r.cpu); res[v].stop.push(r.stop); res[v].codes.add(r.code);
    if (r.mem) { res[v].rss1.push(r.mem.pid1); res[v].rss.push(r.mem.total); }
  }
}
// cold: an empty cache each time (Squid alone cannot start on one: tini-direct is left out)
for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
  for (const v of variants.filter((x) => x !== "tini-direct")) {
    freshCache(v);
    const r = await once(v);
    res[v].cold.push(r.ready); res[v].stop.push(r.stop); res[v].codes.add(r.code);
  }
}
// throughput: ab through the proxy, keep-alive, bounded by time; 3 rounds, alternating, median
const abRounds = 3;
for (let i = 0; i < abRounds; i++) {
  for (const v of i % 2 ? [...variants].reverse() : variants) {
    freshCache(v, template);
    const r = await once(v, async () => {
      await proxied200("/ab"); // cached before the run
      const ab = spawnSync("ab", ["-q", "-k", "-X", "127.0.0.1:3128", "-c", "16", "-t", String(duration), "-n", "5000000",
        `http://127.0.0.1:${originPort}/ab`], { encoding: "utf8", timeout: (duration + 30) * 1000 });
      const rps = Number(/Requests per second:\s+([\d.]+)/.exec(ab.stdout)?.[1]);
      const failed = Number(/Failed requests:\s+(\d+)/.exec(ab.stdout)?.[1]);
      const non2xx = Number(/Non-2xx responses:\s+(\d+)/.exec(ab.stdout)?.[1] ?? 0);
      return { rps, failed, non2xx };
    });
    res[v].ab.push(r.extra);
    res[v].codes.add(r.code);
  }
}
for (const v of variants) {
  const ab = res[v].ab;
  res[v].rps = { rps: med(ab.map((a) => a.rps)), failed: ab.reduce((n, a) => n + a.failed, 0), non2xx: ab.reduce((n, a) => n + a.non2xx, 0) };
}

console.log(`Squid under runc, ${runs} warm runs each (alternating), cold runs on an empty cache, ab ${duration} s`);
console.log(`${"".padEnd(18)} ${"warm med".padStart(8)} ${"p90".padStart(8)} ${"cpu med".padStart(8)} ${"cold med".padStart(8)} ${"SIGTERM".padStart(8)}  exit  ${"req/s".padStart(8)}  ab failed/non-2xx  ${"RSS PID1".padStart(8)} ${"RSS all".padStart(8)}`);
for (const v of variants) {
  const x = res[v];
  console.log(`${v.padEnd(18)} ${f(med(x.warm))} ${f(p90(x.warm))} ${f(x.cpu.length ? med(x.cpu) : undefined)} ${f(x.cold.length ? med(x.cold) : undefined)} ${f(med(x.stop))}  ${[...x.codes].join(",").padEnd(4)}  ${f(x.rps?.rps)}  ${`${x.rps?.failed}/${x.rps?.non2xx}`.padEnd(17)}  ${f(x.rss1.length ? med(x.rss1) : undefined)} ${f(x.rss.length ? med(x.rss) : undefined)}`);
}
console.log("(milliseconds: warm/cold = start → first proxied 200; cpu = the container's CPU time until then;");
console.log(" SIGTERM = runc kill TERM → runc run returns, median over all runs;");
console.log(" RSS = VmRSS in MiB at ready, of the container's PID 1 and of all its processes, warm runs' median)");
const base = res["tini-direct"] && med(res["tini-direct"].warm);
for (const v of variants.filter((x) => x !== "tini-direct"))
  console.log(`  ${v}: warm start ${(med(res[v].warm) - base).toFixed(1)} ms over tini-direct (ratio ${(med(res[v].warm) / base).toFixed(3)}), CPU ${(med(res[v].cpu) - med(res["tini-direct"].cpu)).toFixed(1)} ms more`);
JS

# ─── image figures ─────────────────────────────────────────────────────────────────────────────
# image_figures NAME LAYOUT:TAG ROOTFS
image_figures() {
  local name="$1" layout="${2%:*}" tag="${2##*:}" rootfs="$3"
  local mdig mfile comp=0 uncomp=0 blob size mt
  mdig="$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$layout/index.json" | head -n1)"
  mfile="$layout/blobs/${mdig/://}"
  if [[ "$(jq -r .mediaType "$mfile")" == *index* ]]; then # several platforms: take amd64
    mdig="$(jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest' "$mfile" | head -n1)"
    mfile="$layout/blobs/${mdig/://}"
  fi
  while read -r blob size mt; do
    comp=$((comp + size))
    case "$mt" in
      *zstd) uncomp=$((uncomp + $(zstd -dc "$layout/blobs/${blob/://}" | wc -c))) ;;
      *gzip) uncomp=$((uncomp + $(gzip -dc "$layout/blobs/${blob/://}" | wc -c))) ;;
      *) uncomp=$((uncomp + size)) ;;
    esac
  done < <(jq -r '.layers[] | "\(.digest) \(.size) \(.mediaType)"' "$mfile")
  local pkgs=0 files setuid interp="" p
  [[ -f "$rootfs/var/lib/dpkg/status" ]] && pkgs=$(grep -c '^Package:' "$rootfs/var/lib/dpkg/status" || true)
  [[ -d "$rootfs/var/lib/dpkg/status.d" ]] && pkgs=$((pkgs + $(cat "$rootfs"/var/lib/dpkg/status.d/* 2>/dev/null | grep -c '^Package:' || true)))
  files=$(find "$rootfs" -xdev ! -type d | wc -l)
  setuid=$(find "$rootfs" -xdev -type f -perm /6000 | wc -l)
  for p in /bin/sh /bin/bash /bin/dash /bin/busybox /usr/bin/perl /usr/bin/python3 /usr/bin/node /usr/local/bin/node; do
    [[ -e "$rootfs$p" || -L "$rootfs$p" ]] && interp+="${p##*/} "
  done
  printf '%-18s %9.1f %9.1f %6d %7d %6d  %s\n' "$name" "$(echo "$uncomp / 1048576" | bc -l)" \
    "$(echo "$comp / 1048576" | bc -l)" "$pkgs" "$files" "$setuid" "${interp:-none}"
}
echo
printf '%-18s %9s %9s %6s %7s %6s  %s\n' "image" "MiB" "MiB gz" "pkgs" "files" "setuid" "interpreters"
image_figures "bash-entrypoint" "$BASE/oci:bash-entrypoint" "$WORK/bash-entrypoint/bundle/rootfs"
image_figures "tini-direct" "$BASE/oci:tini-direct" "$WORK/tini-direct/bundle/rootfs"
if [[ -n "$SF_LAYOUT" ]]; then
  image_figures "shellfree" "$SF_LAYOUT:$sf_tag" "$WORK/shellfree/bundle/rootfs"
else
  printf '%-18s %s\n' "shellfree" "$SF_NOTE"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
