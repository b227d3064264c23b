#!/usr/bin/env bash
# bench/verify.sh — how long `shellfree verify` takes on a ~150 MB image, beside decompressing
# its layers alone, in one run (target: verify ≤ 1.0 s end to end).
#
# The image: the shell-free Node.js test image (Node binary + its shared libraries + tini, the
# same one the runtime e2e tests run) plus filler to reach ~150 MB: 5 renamed copies of libc
# (ELF files to parse) and 2,500 small text files. One gzip layer, so verify pays for
# decompression like it would on a real image. Built once into $BENCH_DIR (default
# /tmp/shellfree-bench-verify).
#
# Runs, alternating, RUNS times each (median wall time, and CPU time user+sys):
#   - `gzip -dc` of the image's layers to /dev/null (the baseline: the decompression alone)
#   - `shellfree verify --json` of the image (the whole CLI, process start included)
#   - `shellfree --version` (start-up alone, to tell verify's own work from it)
#   - `shellfree verify` of the static preset image (built once with `shellfree build --preset
#     static`; skipped when that build cannot run, e.g. without a Debian mirror)
#   - with BEFORE=<another checkout>: that checkout's `shellfree verify` of the same image
# Prints the figures, the ratio of verify to the gunzip baseline and to the 1.0 s target.
# Exits 1 when verify's median is 3 s or more (a regression guard, not the target).
# `shellfree` is this checkout's bin/shellfree: the CLI bundle when `npm run build` made it from
# the sources as they are (else the sources, which start slower): build it first.
# Usage: bench/verify.sh [RUNS=7]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-7}"
NODE=node_modules/.bin/node
DIR=${BENCH_DIR:-/tmp/shellfree-bench-verify}
REF="oci:$DIR/image/image:latest"
TARGET=1.0
mkdir -p "$DIR"

if [ ! -f "$DIR/image/image/index.json" ]; then
  # (unquoted heredoc: the import names this checkout's helper, wherever the checkout is)
  cat > "$DIR/make.ts" <<TS
import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { makeNodeImage } from "$(pwd)/test/e2e/runtime/node-image.ts";
TS
  cat >> "$DIR/make.ts" <<'TS'
const dir = process.argv[2];
const files = [];
const libc = realpathSync("/lib/x86_64-linux-gnu/libc.so.6");
for (let i = 0; i < 5; i++) files.push({ path: `/usr/lib/bench/libc-copy-${i}.so`, hostPath: libc, mode: 0o644 });
let seed = Buffer.from("shellfree verify bench");
for (let i = 0; i < 2500; i++) {
  const lines = [];
  for (let j = 0; j < 64; j++) {
    seed = createHash("sha256").update(seed).digest();
    lines.push(`${i}.${j} ${seed.toString("base64")}`);
  }
  files.push({ path: `/usr/share/bench/${i % 50}/file-${i}.txt`, data: `${lines.join("\n")}\n` });
}
await makeNodeImage(dir, { port: 8080, files, compression: "gzip" });
TS
  echo "building the benchmark image in $DIR/image ..." >&2
  "$NODE" "$DIR/make.ts" "$DIR/image"
fi

# the static preset image (needs a Debian mirror: --mirror, $SHELLFREE_MIRROR or apt sources)
STATIC_REF="oci:$DIR/static:latest"
if [ ! -f "$DIR/static/index.json" ]; then
  echo "building the static preset image in $DIR/static ..." >&2
  if ! SHELLFREE_QUIET=1 "$NODE" bin/shellfree build --preset static --arch amd64 --no-sbom \
    --output "oci:$DIR/static" >"$DIR/static-build.log" 2>&1; then
    echo "(static preset image not built, see $DIR/static-build.log: its figures are skipped)" >&2
    rm -rf "$DIR/static"
    STATIC_REF=""
  fi
fi

# the layer blobs of the image, from its manifest
mapfile -t LAYERS < <("$NODE" -e '
  const fs = require("node:fs");
  const dir = process.argv[1];
  const blob = (d) => `${dir}/blobs/${d.replace(":", "/")}`;
  const index = JSON.parse(fs.readFileSync(`${dir}/index.json`, "utf8"));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), "utf8"));
  for (const l of manifest.layers) console.log(blob(l.digest));
' "$DIR/image/image")

SIZE=$(SHELLFREE_QUIET=1 "$NODE" bin/shellfree verify "$REF" --json | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`${(r.stats.totalBytes/1048576).toFixed(1)} MiB in ${r.stats.files} files, ${r.stats.layers} layer(s); passed=${r.passed}`)})')
COMP=$(cat "${LAYERS[@]}" | wc -c)
echo "image: $SIZE; layers $((COMP / 1048576)) MiB gzip"

declare -A CMDS
CMDS[gunzip]="gzip -dc ${LAYERS[*]} > /dev/null"
CMDS[verify]="SHELLFREE_QUIET=1 $NODE bin/shellfree verify $REF --json > /dev/null"
CMDS[version]="$NODE bin/shellfree --version > /dev/null"
ORDER=(gunzip verify version)
if [ -n "$STATIC_REF" ]; then
  CMDS[static]="SHELLFREE_QUIET=1 $NODE bin/shellfree verify $STATIC_REF --json > /dev/null"
  ORDER+=(static)
fi
if [ -n "${BEFORE:-}" ]; then
  CMDS[before]="cd $BEFORE && SHELLFREE_QUIET=1 node_modules/.bin/node bin/shellfree verify $REF --json > /dev/null"
  ORDER+=(before)
fi

OUT="$DIR/times.txt"
: > "$OUT"
for c in "${ORDER[@]}"; do bash -c "${CMDS[$c]}"; done # warm-up (page cache, compile cache)
for ((r = 0; r < RUNS; r++)); do
  for c in "${ORDER[@]}"; do
    t0=$(date +%s%N)
    /usr/bin/time -f "%U %S" -o "$DIR/cpu.txt" bash -c "${CMDS[$c]}"
    t1=$(date +%s%N)
    echo "$c $(((t1 - t0) / 1000000)) $(cat "$DIR/cpu.txt")" >> "$OUT"
  done
done

"$NODE" -e '
  const [file, target, runs] = process.argv.slice(1);
  const rows = require("node:fs").readFileSync(file, "utf8").trim().split("\n").map((l) => l.split(" "));
  const med = (a) => { a = [...a].sort((x, y) => x - y); const m = a.length >> 1; return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2; };
  const fig = {};
  for (const name of new Set(rows.map((r) => r[0]))) {
    const rs = rows.filter((r) => r[0] === name);
    fig[name] = { wall: med(rs.map((r) => Number(r[1]) / 1000)), cpu: med(rs.map((r) => Number(r[2]) + Number(r[3]))) };
  }
  const s = (x) => `${x.toFixed(3)} s`;
  const line = (label, f, extra = "") => console.log(`  ${label.padEnd(44)} ${s(f.wall)}  (CPU ${s(f.cpu)})${extra}`);
  console.log(`median of ${runs} alternating runs, wall (CPU user+sys):`);
  line("gzip -dc of the layers (baseline)", fig.gunzip);
  line("shellfree verify, ~150 MB image", fig.verify,
    `  = ${(fig.verify.wall / fig.gunzip.wall).toFixed(2)}× the gunzip; ${(fig.verify.wall / Number(target)).toFixed(2)}× the ${target} s target`);
  line("shellfree --version (start-up alone)", fig.version);
  console.log(`  ${"verify beyond start-up".padEnd(44)} ${s(fig.verify.wall - fig.version.wall)}  (${((fig.verify.wall - fig.version.wall) / fig.gunzip.wall).toFixed(2)}× the gunzip)`);
  if (fig.static) {
    line("shellfree verify, static preset image", fig.static);
    console.log(`  ${"static verify beyond start-up".padEnd(44)} ${s(fig.static.wall - fig.version.wall)}`);
  }
  if (fig.before) line("BEFORE checkout: shellfree verify, ~150 MB", fig.before, `  → this checkout ${(fig.verify.wall / fig.before.wall).toFixed(2)}× of it`);
  console.log(`shellfree verify (~150 MB image): median ${s(fig.verify.wall)}, target ≤ ${target} s: ${fig.verify.wall <= Number(target) ? "met" : "not met"}`);
  process.exitCode = fig.verify.wall < 3 ? 0 : 1;
' "$OUT" "$TARGET" "$RUNS"
