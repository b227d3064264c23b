#!/usr/bin/env bash
# bench/verify.sh — how long `shellfree verify` takes on a ~150 MB image (target: under 3 s).
#
# The image: the shell-free Node.js test image (Node binary + its shared libraries + tini, the
# same one the runtime e2e tests run) plus filler to reach ~150 MB: 5 renamed copies of libc
# (ELF files to parse) and 2,500 small text files. gzip layers, so verify pays for decompression
# like it would on a real image. Built once into $BENCH_DIR (default /tmp/shellfree-bench-verify).
#
# Prints: the image size, hyperfine's timing of the whole CLI (process start included), and the
# time verify itself reports. Exits 1 when the mean is 3 s or more.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE=node_modules/.bin/node
DIR=${BENCH_DIR:-/tmp/shellfree-bench-verify}
REF="oci:$DIR/image/image:latest"
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

SIZE=$(SHELLFREE_QUIET=1 "$NODE" bin/shellfree verify "$REF" --json | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`${(r.stats.totalBytes/1048576).toFixed(1)} MiB in ${r.stats.files} files, ${r.stats.layers} layer(s); verify reports ${r.durationMs} ms; passed=${r.passed}`)})')
echo "image: $SIZE"
COMP=$(du -sb "$DIR/image/image/blobs" | cut -f1)
echo "compressed blobs on disk: $((COMP / 1048576)) MiB"

hyperfine --warmup 1 --runs 5 --export-json "$DIR/hyperfine.json" \
  "SHELLFREE_QUIET=1 $NODE bin/shellfree verify $REF --json > /dev/null" >&2
MEAN=$("$NODE" -e 'const r=require(process.argv[1]).results[0];console.log(r.mean.toFixed(3))' "$DIR/hyperfine.json")
echo "shellfree verify (~150 MB image): mean ${MEAN} s (target < 3 s)"
"$NODE" -e 'process.exit(Number(process.argv[1]) < 3 ? 0 : 1)' "$MEAN"
