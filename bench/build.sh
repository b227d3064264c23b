#!/usr/bin/env bash
# Cold and warm `shellfree build` of the squid-openssl image (bench/squid/shellfree.yaml, amd64)
# beside `mmdebstrap --variant=extract` of the same packages, with peak RSS. Prints the ratios.
#
# Targets: cold ≤ 0.5 × mmdebstrap, warm (cached .debs and layers) ≤ 2 s, peak RSS ≤ 200 MB.
# The mirror comes from $SHELLFREE_MIRROR or the host's apt sources (never typed in here).
# Usage: bench/build.sh [RUNS]   (RUNS of each measurement, default 1; the best run counts)
# Cold shellfree and mmdebstrap runs alternate (the mirror's and the machine's speed move both).
# BEFORE=DIR also builds cold with the shellfree checkout in DIR (e.g. an older commit's
# worktree, its `npm ci` done), alternating with the others, and prints this one against it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE="$ROOT/node_modules/.bin/node"
CLI=("$NODE" "$ROOT/bin/shellfree")
SPEC="$ROOT/bench/squid/shellfree.yaml"
RUNS="${1:-1}"
BEFORE="${BEFORE:-}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/shellfree-bench-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

mirror="${SHELLFREE_MIRROR:-}"
if [[ -z "$mirror" ]]; then
  mirror="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
fi
if [[ -z "$mirror" ]]; then
  mirror="$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
fi
[[ -n "$mirror" ]] || { echo "bench/build.sh: no Debian mirror configured (set SHELLFREE_MIRROR)" >&2; exit 1; }

# seconds and peak RSS (kB) of a command, via /usr/bin/time -v
measure() { # measure OUT_PREFIX cmd...
  local prefix="$1"; shift
  local t0 t1
  # (dirty pages a previous run left, mmdebstrap's 200+ MB rootfs above all, are written back
  # first: their writeback would otherwise slow down whichever run comes next)
  sync
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$WORK/$prefix.time" "$@" >"$WORK/$prefix.out" 2>"$WORK/$prefix.err" || {
    echo "bench/build.sh: failed: $*" >&2; tail -n 20 "$WORK/$prefix.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc -l) $(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$prefix.time")"
}

best() { sort -n | head -n1; }

echo "shellfree build benchmark: squid-openssl (amd64), mirror from configuration, ${RUNS} run(s) each"

cold_build() { # cold_build PREFIX NODE CLI_ROOT
  rm -rf "$WORK/cold-cache-$1" "$WORK/cold-out-$1"
  measure "$1" "$2" "$3/bin/shellfree" build -f "$SPEC" --arch amd64 --mirror "$mirror" \
    --cache-dir "$WORK/cold-cache-$1" --output "oci:$WORK/cold-out-$1" --json --no-sbom
}

# 1. cold (empty cache: indices, .debs, layers all fetched/made), alternating with mmdebstrap
#    --variant=extract of the same packages (its own fresh apt cache each run)
cold_lines=(); mm_lines=(); before_lines=()
# (Node's compile cache filled first, as after any first run: start-up is not what is measured)
"${CLI[@]}" build --help >/dev/null
[[ -z "$BEFORE" ]] || "$BEFORE/node_modules/.bin/node" "$BEFORE/bin/shellfree" build --help >/dev/null
pkgs=""
for i in $(seq 1 "$RUNS"); do
  cold_lines+=("$(cold_build "cold$i" "$NODE" "$ROOT")")
  if [[ -z "$pkgs" ]]; then
    # the resolved package list, for mmdebstrap
    pkgs="$("$NODE" -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      console.log(r.architectures[0].packages.map((p) => p.name).join(","));' "$WORK/cold1.out")"
  fi
  rm -rf "$WORK/mm-root"
  mm_lines+=("$(measure "mm$i" mmdebstrap --quiet --variant=extract --architectures=amd64 \
    --include="$pkgs" trixie "$WORK/mm-root" "$mirror")")
  if [[ -n "$BEFORE" ]]; then
    before_lines+=("$(cold_build "before$i" "$BEFORE/node_modules/.bin/node" "$BEFORE")")
  fi
done
rm -rf "$WORK/mm-root"
cold="$(printf '%s\n' "${cold_lines[@]}" | best)"
cold_s="${cold% *}"; cold_rss="${cold#* }"
mm="$(printf '%s\n' "${mm_lines[@]}" | best)"
mm_s="${mm% *}"; mm_rss="${mm#* }"
# (peak RSS: the highest of the runs, not the fastest run's)
max_rss() { awk '{print $2}' | sort -n | tail -n1; }
cold_rss="$(printf '%s\n' "${cold_lines[@]}" | max_rss)"
npkgs="$(tr ',' '\n' <<<"$pkgs" | wc -l)"

# 2. warm: same cache, new output
warm_lines=()
for i in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/warm-out"
  warm_lines+=("$(measure "warm$i" "${CLI[@]}" build -f "$SPEC" --arch amd64 --mirror "$mirror" \
    --cache-dir "$WORK/cold-cache-cold1" --output "oci:$WORK/warm-out" --json --no-sbom)")
done
warm="$(printf '%s\n' "${warm_lines[@]}" | best)"
warm_s="${warm% *}"
warm_rss="$(printf '%s\n' "${warm_lines[@]}" | max_rss)"

digest_cold="$("$NODE" -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).digest)' "$WORK/cold1.out")"
digest_warm="$("$NODE" -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).digest)' "$WORK/warm1.out")"

printf '\n%-34s %10s %12s\n' "" "seconds" "peak RSS MB"
printf '%-34s %10.2f %12.0f\n' "shellfree build (cold cache)" "$cold_s" "$(echo "$cold_rss/1024" | bc -l)"
printf '%-34s %10.2f %12.0f\n' "shellfree build (warm cache)" "$warm_s" "$(echo "$warm_rss/1024" | bc -l)"
printf '%-34s %10.2f %12.0f\n' "mmdebstrap --variant=extract" "$mm_s" "$(echo "$mm_rss/1024" | bc -l)"
if [[ -n "$BEFORE" ]]; then
  before="$(printf '%s\n' "${before_lines[@]}" | best)"
  before_s="${before% *}"
  before_rss="$(printf '%s\n' "${before_lines[@]}" | max_rss)"
  printf '%-34s %10.2f %12.0f\n' "BEFORE: build (cold cache)" "$before_s" "$(echo "$before_rss/1024" | bc -l)"
fi
echo
echo "every run (seconds peak-kB): cold: ${cold_lines[*]} | mmdebstrap: ${mm_lines[*]}${BEFORE:+ | before: ${before_lines[*]}}"
echo "packages: $npkgs; image digest cold = warm: $([[ "$digest_cold" == "$digest_warm" ]] && echo yes || echo NO)"
ratio="$(echo "$cold_s / $mm_s" | bc -l)"
printf 'ratio cold/mmdebstrap: %.2f (target ≤ 0.50) %s\n' "$ratio" "$(awk -v r="$ratio" 'BEGIN{print (r<=0.5)?"ok":"MISSED"}')"
if [[ -n "$BEFORE" ]]; then
  printf 'BEFORE: ratio cold/mmdebstrap %.2f; cold time this/before %.2f; peak RSS this/before %.2f\n' \
    "$(echo "$before_s / $mm_s" | bc -l)" "$(echo "$cold_s / $before_s" | bc -l)" "$(echo "$cold_rss / $before_rss" | bc -l)"
fi
printf 'warm build: %.2f s (target ≤ 2 s) %s\n' "$warm_s" "$(awk -v w="$warm_s" 'BEGIN{print (w<=2)?"ok":"MISSED"}')"
peak="$(( cold_rss > warm_rss ? cold_rss : warm_rss ))"
printf 'peak RSS: %.0f MB (target ≤ 200 MB) %s\n' "$(echo "$peak/1024" | bc -l)" "$(awk -v p="$peak" 'BEGIN{print (p<=200*1024)?"ok":"MISSED"}')"
