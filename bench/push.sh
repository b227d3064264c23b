#!/usr/bin/env bash
# `shellfree push` beside `skopeo copy` of the same OCI layout to the same kind of registry, in
# one script: a ~100 MB image (4 gzip layers of deterministic pseudo-random, i.e. incompressible,
# data, made with shellfree's own OCI helpers) is pushed by each tool into a fresh docker-registry
# on 127.0.0.1 (fresh storage every run, so no blob is ever already there). Prints the medians of
# RUNS and the ratio shellfree/skopeo (target <= 1.0).
# Usage: bench/push.sh [RUNS=5] [MB=100]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
MB="${2:-100}"
ROOT="$PWD"
NODE="$ROOT/node_modules/node/bin/node"
[ -x "$NODE" ] || NODE="$ROOT/node_modules/.bin/node"
for c in docker-registry skopeo curl; do
  command -v "$c" >/dev/null || { echo "bench/push.sh: needs $c (scripts/setup-host.sh installs it)" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sf-push-bench.XXXXXX")"
REG_PID=""
stop_registry() {
  if [ -n "$REG_PID" ]; then
    kill "$REG_PID" 2>/dev/null || true
    wait "$REG_PID" 2>/dev/null || true
    REG_PID=""
  fi
}
trap 'stop_registry; rm -rf "$WORK"' EXIT

# --- the image: deterministic data (AES-256-CTR keystream of a fixed key), 4 layers of 40/30/20/10 % of MB
"$NODE" --input-type=module -e '
  const [root, work, mb] = process.argv.slice(1);
  const { createCipheriv, createHash } = await import("node:crypto");
  const { open } = await import("node:fs/promises");
  const { makeImage } = await import(`${root}/test/helpers/images.ts`);
  const parts = [0.4, 0.3, 0.2, 0.1];
  const layers = [];
  for (let i = 0; i < parts.length; i++) {
    const path = `${work}/data${i}.bin`;
    const fh = await open(path, "w");
    let left = Math.round(Number(mb) * 1024 * 1024 * parts[i]);
    const key = createHash("sha256").update(`shellfree push bench layer ${i}`).digest();
    const aes = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
    const zeros = Buffer.alloc(1 << 20);
    while (left > 0) {
      const b = aes.update(zeros.subarray(0, Math.min(left, zeros.length)));
      await fh.write(b);
      left -= b.length;
    }
    await fh.close();
    layers.push({ files: [{ path: `/data/part${i}.bin`, hostPath: path }] });
  }
  const img = await makeImage(`${work}/img`, { files: [{ path: "/etc/bench", data: "push bench\n" }], layers });
  console.error(`image ${img.result.digest} (${img.path})`);
' "$ROOT" "$WORK" "$MB"
LAYOUT="$WORK/img/image"
BYTES=$(du -sb "$LAYOUT/blobs" | cut -f1)

start_registry() {
  local d="$WORK/reg" port
  rm -rf "$d"
  mkdir -p "$d"
  port=$("$NODE" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  cat >"$d/config.yml" <<CONF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $d/data
http:
  addr: 127.0.0.1:$port
  secret: bench-$$
CONF
  docker-registry serve "$d/config.yml" >"$d/log" 2>&1 &
  REG_PID=$!
  for _ in $(seq 150); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && { HOST="127.0.0.1:$port"; return 0; }
    sleep 0.1
  done
  echo "bench/push.sh: docker-registry did not start: $(cat "$d/log")" >&2
  exit 1
}

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

# /usr/bin/time (when present) records each run's peak memory (KiB) in $WORK/rss.<tool>
timed() {
  local tool="$1"
  shift
  if [ -x /usr/bin/time ]; then /usr/bin/time -a -o "$WORK/rss.$tool" -f "%M" "$@"; else "$@"; fi
}
run_shellfree() {
  XDG_CACHE_HOME="$WORK/cache-$RANDOM" timed shellfree "$NODE" "$ROOT/bin/shellfree" -q push "oci:$LAYOUT:latest" "$HOST/bench/shellfree:latest" >/dev/null
}
run_skopeo() {
  timed skopeo skopeo copy -q --dest-tls-verify=false "oci:$LAYOUT:latest" "docker://$HOST/bench/skopeo:latest" >/dev/null
}

sf=() sk=()
for i in $(seq "$RUNS"); do
  # alternate the order so neither tool always runs on a warmer page cache
  for tool in $([ $((i % 2)) = 1 ] && echo "shellfree skopeo" || echo "skopeo shellfree"); do
    start_registry
    t0=$(now)
    "run_$tool"
    t1=$(now)
    stop_registry
    if [ "$tool" = shellfree ]; then sf+=("$(ms "$t0" "$t1")"); else sk+=("$(ms "$t0" "$t1")"); fi
  done
done

# shellfree's fixed cost: starting the CLI (Node + loading the command modules)
st=()
for _ in 1 2 3; do t0=$(now); "$NODE" "$ROOT/bin/shellfree" --version >/dev/null; t1=$(now); st+=("$(ms "$t0" "$t1")"); done
ST=$(printf '%s\n' "${st[@]}" | median)
rss() { [ -s "$WORK/rss.$1" ] && echo "$(( $(sort -n "$WORK/rss.$1" | tail -1) / 1024 )) MiB" || echo "n/a"; }

SF=$(printf '%s\n' "${sf[@]}" | median)
SK=$(printf '%s\n' "${sk[@]}" | median)
echo "push of a $((BYTES / 1024 / 1024)) MiB image (4 layers) to a fresh docker-registry on 127.0.0.1, median of $RUNS runs on $(nproc) cores:"
printf '  shellfree push     %6d ms   (runs: %s)\n' "$SF" "${sf[*]}"
printf '  skopeo copy        %6d ms   (runs: %s)\n' "$SK" "${sk[*]}"
printf '  peak memory: shellfree %s, skopeo %s; shellfree CLI start-up alone %d ms\n' "$(rss shellfree)" "$(rss skopeo)" "$ST"
printf '  ratio shellfree/skopeo %s (target <= 1.0)\n' "$(awk "BEGIN{printf \"%.2f\", $SF/$SK}")"
