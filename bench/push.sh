#!/usr/bin/env bash
# `shellfree push` and `shellfree pull` beside `skopeo copy` of the same image to/from the same kind
# of registry, in one script. For each size (default 100 MiB and 1 GiB) an image of 4 gzip layers
# of deterministic pseudo-random, i.e. incompressible, data (made with shellfree's own OCI
# helpers) is
# - pushed by each tool from an OCI layout into a fresh docker-registry on 127.0.0.1 (fresh
#   storage every run, so no blob is ever already there): `shellfree push oci:… HOST/…` vs
#   `skopeo copy oci:… docker://HOST/…`;
# - pulled by each tool from that registry into a new OCI layout: `shellfree pull HOST/… -o oci:…`
#   vs `skopeo copy docker://HOST/… oci:…`.
# Prints the medians of RUNS, the ratio shellfree/skopeo and each tool's peak RSS (the largest
# of its runs, /usr/bin/time). Then the re-push (every blob and the manifest already in the
# registry) beside the CLI's start-up (`shellfree --version`, and `shellfree push --help`, which
# loads what push loads and stops), medians of 11 runs.
# Targets (issue "Performance, round 2"): peak RSS <= 64 MiB for 1 GiB, push and pull;
# time <= 0.8x skopeo for 100 MiB and <= 1.0x for 1 GiB; re-push <= start-up + 25 ms.
#
# Usage: bench/push.sh [RUNS=5] [SIZES_MIB="100 1024"]
#   SHELLFREE_ROOT=DIR bench/push.sh …   runs the shellfree of another checkout (e.g. the code
#   before a change) with this script, for before/after figures from the same script.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
SIZES="${2:-100 1024}"
ROOT="$PWD"
SF_ROOT="${SHELLFREE_ROOT:-$ROOT}"
NODE="$ROOT/node_modules/node/bin/node"
[ -x "$NODE" ] || NODE="$ROOT/node_modules/.bin/node"
SF_NODE="$SF_ROOT/node_modules/node/bin/node"
[ -x "$SF_NODE" ] || SF_NODE="$SF_ROOT/node_modules/.bin/node"
for c in docker-registry skopeo curl; do
  command -v "$c" >/dev/null || { echo "bench/push.sh: needs $c (scripts/setup-host.sh installs it)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || echo "bench/push.sh: no /usr/bin/time: peak memory not measured" >&2

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

# --- an image of MB MiB: deterministic data (AES-256-CTR keystream of a fixed key), 4 layers of 40/30/20/10 %
make_image() {
  local out="$1" mb="$2"
  "$NODE" --input-type=module -e '
    const [root, work, mb] = process.argv.slice(1);
    const { createCipheriv, createHash } = await import("node:crypto");
    const { open, rm } = await import("node:fs/promises");
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
    for (let i = 0; i < parts.length; i++) await rm(`${work}/data${i}.bin`);
    console.error(`image ${img.result.digest} (${img.path}, ${mb} MiB of data)`);
  ' "$ROOT" "$out" "$mb"
}

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
ratio() { awk "BEGIN{printf \"%.2f\", $1/$2}"; }

# /usr/bin/time (when present) records each run's peak memory (KiB) in $WORK/rss.<name>
timed() {
  local name="$1"
  shift
  if [ -x /usr/bin/time ]; then /usr/bin/time -a -o "$WORK/rss.$name" -f "%M" "$@"; else "$@"; fi
}
rss() { [ -s "$WORK/rss.$1" ] && echo "$(( $(sort -n "$WORK/rss.$1" | tail -1) / 1024 ))" || echo "n/a"; }
# one cache for every shellfree run (Node's compile cache warm, as for a user; each push goes to
# a fresh registry on a new port, so remembered blob locations never apply)
export XDG_CACHE_HOME="$WORK/cache"
sf() { "$SF_NODE" "$SF_ROOT/bin/shellfree" "$@"; }
sf --version >/dev/null
sf push --help >/dev/null
sf pull --help >/dev/null

# one "push" or "pull" run of a tool; its wall time in ms is appended to a (shellfree) or b (skopeo)
run_once() {
  local op="$1" tool="$2" t0 t1
  case "$op/$tool" in
    push/shellfree) start_registry ;;
    push/skopeo) start_registry ;;
    pull/*) rm -rf "$WORK/pulled" ;;
  esac
  t0=$(now)
  case "$op/$tool" in
    push/shellfree)
      timed "push-$tool" \
        "$SF_NODE" "$SF_ROOT/bin/shellfree" -q push "oci:$LAYOUT:latest" "$HOST/bench/shellfree:latest" >/dev/null ;;
    push/skopeo)
      timed "push-$tool" skopeo copy -q --dest-tls-verify=false "oci:$LAYOUT:latest" "docker://$HOST/bench/skopeo:latest" >/dev/null ;;
    pull/shellfree)
      timed "pull-$tool" \
        "$SF_NODE" "$SF_ROOT/bin/shellfree" -q pull "$PULL_HOST/bench/src:latest" -o "oci:$WORK/pulled:latest" >/dev/null ;;
    pull/skopeo)
      timed "pull-$tool" skopeo copy -q --src-tls-verify=false "docker://$PULL_HOST/bench/src:latest" "oci:$WORK/pulled:latest" >/dev/null ;;
  esac
  t1=$(now)
  [ "$op" = push ] && stop_registry
  if [ "$tool" = shellfree ]; then a+=("$(ms "$t0" "$t1")"); else b+=("$(ms "$t0" "$t1")"); fi
}

echo "shellfree: $SF_ROOT ($(git -C "$SF_ROOT" log -1 --format=%h 2>/dev/null || echo '?')); $(nproc) cores; medians of $RUNS runs; peak RSS = the largest of the runs"
for MB in $SIZES; do
  rm -rf "$WORK/img" "$WORK"/rss.*
  make_image "$WORK" "$MB"
  LAYOUT="$WORK/img/image"
  BYTES=$(du -sb "$LAYOUT/blobs" | cut -f1)
  target=$([ "$MB" -le 100 ] && echo 0.8 || echo 1.0)
  for op in push pull; do
    if [ "$op" = pull ]; then
      # one registry holds the image for every pull run
      start_registry
      PULL_HOST="$HOST"
      skopeo copy -q --dest-tls-verify=false "oci:$LAYOUT:latest" "docker://$HOST/bench/src:latest"
    fi
    a=() b=()
    for i in $(seq "$RUNS"); do
      # alternate the order so neither tool always runs on a warmer page cache
      if [ $((i % 2)) = 1 ]; then
        run_once "$op" shellfree
        run_once "$op" skopeo
      else
        run_once "$op" skopeo
        run_once "$op" shellfree
      fi
    done
    [ "$op" = pull ] && stop_registry
    A=$(printf '%s\n' "${a[@]}" | median)
    B=$(printf '%s\n' "${b[@]}" | median)
    echo "$op, $((BYTES / 1024 / 1024)) MiB image (4 layers), docker-registry on 127.0.0.1:"
    printf '  shellfree %s  %6d ms  peak RSS %4s MiB  (runs: %s)\n' "$op" "$A" "$(rss "$op-shellfree")" "${a[*]}"
    printf '  skopeo copy     %6d ms  peak RSS %4s MiB  (runs: %s)\n' "$B" "$(rss "$op-skopeo")" "${b[*]}"
    printf '  ratio shellfree/skopeo %s (target <= %s); peak RSS target <= 64 MiB\n' "$(ratio "$A" "$B")" "$target"
  done
done

# --- re-push: everything already in the registry; beside the CLI's start-up
start_registry
sf -q push "oci:$LAYOUT:latest" "$HOST/bench/re:latest" >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$LAYOUT:latest" "docker://$HOST/bench/re-skopeo:latest"
re=() st=() sh=() sk=()
for _ in $(seq 11); do
  t0=$(now); sf --version >/dev/null; t1=$(now); st+=("$(ms "$t0" "$t1")")
  t0=$(now); sf push --help >/dev/null; t1=$(now); sh+=("$(ms "$t0" "$t1")")
  t0=$(now); sf -q push "oci:$LAYOUT:latest" "$HOST/bench/re:latest" >/dev/null; t1=$(now)
  re+=("$(ms "$t0" "$t1")")
  t0=$(now); skopeo copy -q --dest-tls-verify=false "oci:$LAYOUT:latest" "docker://$HOST/bench/re-skopeo:latest"; t1=$(now)
  sk+=("$(ms "$t0" "$t1")")
done
stop_registry
RE=$(printf '%s\n' "${re[@]}" | median)
ST=$(printf '%s\n' "${st[@]}" | median)
SH=$(printf '%s\n' "${sh[@]}" | median)
SK=$(printf '%s\n' "${sk[@]}" | median)
echo "re-push of the $((BYTES / 1024 / 1024)) MiB image (all in the registry already), medians of 11 runs:"
printf '  shellfree --version  %5d ms  (CLI start-up)\n' "$ST"
printf '  shellfree push --help %4d ms  (start-up of the push command: its modules loaded)\n' "$SH"
printf '  shellfree push       %5d ms  = push --help + %d ms, --version + %d ms (target: start-up + <= 25 ms)\n' "$RE" "$((RE - SH))" "$((RE - ST))"
printf '  skopeo copy          %5d ms\n' "$SK"
