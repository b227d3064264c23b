#!/usr/bin/env bash
# The vote API (examples/vote-api) as images, measured the same way under runc: read-only root,
# UID 65532 GID 0, no capabilities, a tmpfs for the SQLite directory and /tmp, the host's
# loopback (the app on 127.0.0.1 and a free port):
#   dockerfile        the Dockerfile-style image a user would write (bench/python-baseline.sh:
#                     mmdebstrap --variant=minbase trixie + Debian's python3 and the same
#                     packages; Debian's py3compile wrote the packages' .pyc, the app has none)
#   dockerfile-nopyc  the same with every __pycache__ removed (no compiled bytecode at all)
#   shellfree         examples/vote-api/shellfree.yaml, with the bytecode the build compiles
#   shellfree-nopyc   the same with every __pycache__ removed
# Figures:
#   - start → first 200 on GET /health (the app's port), median/p90 of RUNS (alternating
#     variants), the container's CPU time and memory at that moment (its cgroup)
#   - SIGTERM → exit (runc kill TERM → runc run returns) and the exit code
#   - image: uncompressed and compressed layer bytes, packages, files, .pyc files, setuid files,
#     shells and interpreters present
# Usage: bench/python.sh [RUNS=10]
#   PYTHON_BASELINE_DIR     where bench/python-baseline.sh keeps its output (built when missing)
#   SHELLFREE_VOTE_API_IMAGE  an OCI layout of the shellfree image (else the spec is built here)
# Needs root, runc, umoci, jq. Figures are only comparable on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
RUNS="${1:-10}"
NODE="$REPO/node_modules/node/bin/node"
BASE="${PYTHON_BASELINE_DIR:-${TMPDIR:-/tmp}/shellfree-python-baseline}"
for t in runc umoci jq gzip bc; do command -v "$t" >/dev/null || { echo "bench/python.sh: needs $t" >&2; exit 1; }; done
[[ "$(id -u)" == 0 ]] || { echo "bench/python.sh: run as root (runc)" >&2; exit 1; }
[[ -d "$BASE/oci" ]] || bench/python-baseline.sh "$BASE" >/dev/null

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sf-python-bench.XXXXXX")"
cleanup() {
  for id in $(runc list -q 2>/dev/null | grep "^sfpy-$$-" || true); do runc delete -f "$id" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# ─── bundles: each image unpacked by umoci, then locked down like the Kubernetes example ────
# make_bundle NAME LAYOUT:TAG [nopyc] — the image's own entrypoint, user and env; read-only
# root, no capabilities, tmpfs for /var/lib/vote-api and /tmp, the host's network namespace
make_bundle() {
  local name="$1" ref="$2" nopyc="${3:-}" dir="$WORK/$1"
  mkdir -p "$dir"
  umoci unpack --image "$ref" "$dir/bundle" >/dev/null
  if [[ -n "$nopyc" ]]; then
    find "$dir/bundle/rootfs" -xdev -type d -name __pycache__ -prune -exec rm -rf {} +
  fi
  "$NODE" -e '
    const fs = require("fs");
    const [file] = process.argv.slice(1);
    const c = JSON.parse(fs.readFileSync(file, "utf8"));
    c.root.readonly = true;
    c.process.terminal = false;
    c.process.noNewPrivileges = true;
    c.process.user = { uid: 65532, gid: 0 };
    c.process.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
    c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== "network");
    const tmpfs = (d, mode, uid) => ({ destination: d, type: "tmpfs", source: "tmpfs",
      options: ["nosuid", "nodev", `mode=${mode}`, `uid=${uid}`, "gid=0", "size=64m"] });
    c.mounts.push(tmpfs("/var/lib/vote-api", "0770", 65532), tmpfs("/tmp", "1777", 0));
    fs.writeFileSync(file, JSON.stringify(c, null, 1));
  ' "$dir/bundle/config.json"
}

VARIANTS=()
make_bundle dockerfile "$BASE/oci:dockerfile"
VARIANTS+=(dockerfile)
make_bundle dockerfile-nopyc "$BASE/oci:dockerfile" nopyc
VARIANTS+=(dockerfile-nopyc)

# ─── the shellfree image ─────────────────────────────────────────────────────────────────────
# Built from examples/vote-api/shellfree.yaml (or taken from $SHELLFREE_VOTE_API_IMAGE) and
# measured exactly like the baselines, with its compiled bytecode and without; a failed build
# is printed in its row instead of figures.
SF_LAYOUT="${SHELLFREE_VOTE_API_IMAGE:-}"
SF_NOTE=""
if [[ -z "$SF_LAYOUT" ]]; then
  if "$NODE" bin/shellfree build -f examples/vote-api/shellfree.yaml --arch amd64 \
    --output "oci:$WORK/sf-image" --no-sbom >"$WORK/sf-build.out" 2>"$WORK/sf-build.err"; then
    SF_LAYOUT="$WORK/sf-image"
  else
    SF_NOTE="not built: $(grep -m1 "^shellfree:" "$WORK/sf-build.err" || tail -n1 "$WORK/sf-build.err")"
  fi
fi
if [[ -n "$SF_LAYOUT" ]]; then
  sf_tag="$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"] // "latest"' "$SF_LAYOUT/index.json")"
  make_bundle shellfree "$SF_LAYOUT:$sf_tag"
  make_bundle shellfree-nopyc "$SF_LAYOUT:$sf_tag" nopyc
  VARIANTS+=(shellfree shellfree-nopyc)
fi
# ─────────────────────────────────────────────────────────────────────────────────────────────

"$NODE" --input-type=module - "$WORK" "$RUNS" "$$" "${VARIANTS[@]}" <<'JS'
import { spawn, spawnSync } from "node:child_process";
import { openSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";

const [work, runsArg, ppid, ...variants] = process.argv.slice(2);
const runs = Number(runsArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let seq = 0;

const freePort = () => new Promise((res, rej) => {
  const s = createServer();
  s.on("error", rej);
  s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); });
});

// one GET over a raw socket: true on a 200 status line
const get200 = (port, path) => new Promise((res) => {
  const s = connect(port, "127.0.0.1");
  let d = "";
  const done = (v) => { s.destroy(); res(v); };
  s.setTimeout(2000, () => done(false));
  s.on("connect", () => s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
  s.on("data", (c) => { d += c; if (d.includes("\r\n")) done(/^HTTP\/1\.1 200/.test(d)); });
  s.on("error", () => done(false));
  s.on("close", () => done(false));
});

// the app (and the init's health port, for the shellfree image) on free ports of the loopback
async function setPorts(v) {
  const file = `${work}/${v}/bundle/config.json`;
  const c = JSON.parse(readFileSync(file, "utf8"));
  const port = await freePort();
  const health = await freePort();
  const keep = c.process.env.filter((e) => !/^(PORT|HOST|SHELLFREE_HEALTH_PORT)=/.test(e));
  c.process.env = [...keep, `PORT=${port}`, "HOST=127.0.0.1", `SHELLFREE_HEALTH_PORT=${health}`];
  writeFileSync(file, JSON.stringify(c, null, 1));
  return port;
}

async function once(v) {
  const port = await setPorts(v);
  const id = `sfpy-${ppid}-${v}-${seq++}`;
  const out = openSync(`${work}/${v}/${id}.out`, "w");
  const t0 = performance.now();
  const child = spawn("runc", ["run", "--bundle", `${work}/${v}/bundle`, id], { stdio: ["ignore", out, out] });
  const exited = new Promise((r) => child.once("exit", (code, sig) => r({ code, sig, at: performance.now() })));
  let gone = null;
  exited.then((e) => (gone = e));
  let ready = 0;
  while (!ready && !gone && performance.now() - t0 < 60_000) {
    if (await get200(port, "/health")) ready = performance.now() - t0;
    else await sleep(2);
  }
  let cpu;
  let mem;
  if (ready) {
    const ev = spawnSync("runc", ["events", "--stats", id], { encoding: "utf8" });
    if (ev.status === 0) {
      const data = JSON.parse(ev.stdout).data;
      if (typeof data?.cpu?.usage?.total === "number") cpu = data.cpu.usage.total / 1e6;
      if (typeof data?.memory?.usage?.usage === "number") mem = data.memory.usage.usage / 1048576;
    }
  }
  const t1 = performance.now();
  if (!gone) spawnSync("runc", ["kill", id, "TERM"]);
  const killer = setTimeout(() => spawnSync("runc", ["kill", id, "KILL"]), 40_000);
  const e = await exited;
  clearTimeout(killer);
  spawnSync("runc", ["delete", "-f", id]);
  if (!ready) throw new Error(`${v}: no 200 on /health within 60 s (exit ${e.code ?? e.sig}); see ${work}/${v}/${id}.out`);
  return { ready, cpu, mem, stop: e.at - t1, code: e.code };
}

const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const p90 = (a) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * 0.9))];
const f = (x) => (x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(1)).padStart(8);

const res = Object.fromEntries(variants.map((v) => [v, { ready: [], cpu: [], mem: [], stop: [], codes: new Set() }]));
for (const v of variants) await once(v); // warm-up: page cache
for (let i = 0; i < runs; i++) {
  for (const v of i % 2 ? [...variants].reverse() : variants) {
    const r = await once(v);
    const x = res[v];
    x.ready.push(r.ready); x.stop.push(r.stop); x.codes.add(r.code);
    if (r.cpu !== undefined) x.cpu.push(r.cpu);
    if (r.mem !== undefined) x.mem.push(r.mem);
  }
}
console.log(`vote API under runc, ${runs} runs each (alternating), read-only root, UID 65532, SQLite on tmpfs`);
console.log(`${"".padEnd(18)} ${"200 med".padStart(8)} ${"p90".padStart(8)} ${"cpu med".padStart(8)} ${"MiB mem".padStart(8)} ${"SIGTERM".padStart(8)}  exit`);
for (const v of variants) {
  const x = res[v];
  console.log(`${v.padEnd(18)} ${f(med(x.ready))} ${f(p90(x.ready))} ${f(x.cpu.length ? med(x.cpu) : undefined)} ${f(x.mem.length ? med(x.mem) : undefined)} ${f(med(x.stop))}  ${[...x.codes].join(",")}`);
}
console.log("(milliseconds: 200 = start → first 200 on GET /health; cpu = the container's CPU time until then;");
console.log(" MiB mem = its cgroup's memory then; SIGTERM = runc kill TERM → runc run returns)");
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
  local pkgs=0 files pyc setuid interp="" p
  [[ -f "$rootfs/var/lib/dpkg/status" ]] && pkgs=$(grep -c '^Package:' "$rootfs/var/lib/dpkg/status" || true)
  [[ -d "$rootfs/var/lib/dpkg/status.d" ]] && pkgs=$((pkgs + $(cat "$rootfs"/var/lib/dpkg/status.d/* 2>/dev/null | grep -c '^Package:' || true)))
  files=$(find "$rootfs" -xdev ! -type d | wc -l)
  pyc=$(find "$rootfs" -xdev -type f -name '*.pyc' | wc -l)
  setuid=$(find "$rootfs" -xdev -type f -perm /6000 | wc -l)
  for p in /bin/sh /bin/bash /bin/dash /usr/bin/perl /usr/bin/python3 /usr/bin/apt-get /usr/bin/dpkg; do
    [[ -e "$rootfs$p" || -L "$rootfs$p" ]] && interp+="${p##*/} "
  done
  printf '%-18s %9.1f %9.1f %6d %7d %6d %6d  %s\n' "$name" "$(echo "$uncomp / 1048576" | bc -l)" \
    "$(echo "$comp / 1048576" | bc -l)" "$pkgs" "$files" "$pyc" "$setuid" "${interp:-none}"
}
echo
printf '%-18s %9s %9s %6s %7s %6s %6s  %s\n' "image" "MiB" "MiB gz" "pkgs" "files" "pyc" "setuid" "shells, interpreters, package tools"
image_figures "dockerfile" "$BASE/oci:dockerfile" "$WORK/dockerfile/bundle/rootfs"
if [[ -n "$SF_LAYOUT" ]]; then
  image_figures "shellfree" "$SF_LAYOUT:$sf_tag" "$WORK/shellfree/bundle/rootfs"
else
  printf '%-18s %s\n' "shellfree" "$SF_NOTE"
fi
echo "(dockerfile-nopyc and shellfree-nopyc are the same images with every __pycache__ removed in the bundle)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
