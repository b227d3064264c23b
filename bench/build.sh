#!/usr/bin/env bash
# Cold and warm `shellfree build` of the squid-openssl image (bench/squid/shellfree.yaml, amd64)
# beside `mmdebstrap --variant=extract` of the same packages, with peak RSS. Prints the ratios.
#
# Targets: cold ≤ 0.7 × mmdebstrap, warm (cached .debs and layers) ≤ 2 s, peak RSS ≤ 300 MB.
# The mirror comes from $SHELLFREE_MIRROR or the host's apt sources (never typed in here).
# Usage: bench/build.sh [RUNS]   (RUNS of each measurement, default 1; the best run counts)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE="$ROOT/node_modules/.bin/node"
CLI=("$NODE" "$ROOT/bin/shellfree")
SPEC="$ROOT/bench/squid/shellfree.yaml"
RUNS="${1:-1}"
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
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$WORK/$prefix.time" "$@" >"$WORK/$prefix.out" 2>"$WORK/$prefix.err" || {
    echo "bench/build.sh: failed: $*" >&2; tail -n 20 "$WORK/$prefix.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc -l) $(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$prefix.time")"
}

best() { sort -n | head -n1; }

echo "shellfree build benchmark: squid-openssl (amd64), mirror from configuration, ${RUNS} run(s) each"

# 1. cold: empty cache (indices, .debs, layers all fetched/made)
cold_lines=()
for i in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/cold-cache" "$WORK/cold-out"
  cold_lines+=("$(measure "cold$i" "${CLI[@]}" build -f "$SPEC" --arch amd64 --mirror "$mirror" \
    --cache-dir "$WORK/cold-cache" --output "oci:$WORK/cold-out" --json --no-sbom)")
done
cold="$(printf '%s\n' "${cold_lines[@]}" | best)"
cold_s="${cold% *}"; cold_rss="${cold#* }"

# the resolved package list, for mmdebstrap
pkgs="$("$NODE" -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(r.architectures[0].packages.map((p) => p.name).join(","));' "$WORK/cold1.out")"
npkgs="$(tr ',' '\n' <<<"$pkgs" | wc -l)"

# 2. warm: same cache, new output
warm_lines=()
for i in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/warm-out"
  warm_lines+=("$(measure "warm$i" "${CLI[@]}" build -f "$SPEC" --arch amd64 --mirror "$mirror" \
    --cache-dir "$WORK/cold-cache" --output "oci:$WORK/warm-out" --json --no-sbom)")
done
warm="$(printf '%s\n' "${warm_lines[@]}" | best)"
warm_s="${warm% *}"; warm_rss="${warm#* }"

# 3. mmdebstrap --variant=extract of the same packages (its own fresh apt cache each run)
mm_lines=()
for i in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/mm-root"
  mm_lines+=("$(measure "mm$i" mmdebstrap --quiet --variant=extract --architectures=amd64 \
    --include="$pkgs" trixie "$WORK/mm-root" "$mirror")")
done
mm="$(printf '%s\n' "${mm_lines[@]}" | best)"
mm_s="${mm% *}"; mm_rss="${mm#* }"

digest_cold="$("$NODE" -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).digest)' "$WORK/cold1.out")"
digest_warm="$("$NODE" -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).digest)' "$WORK/warm1.out")"

printf '\n%-34s %10s %12s\n' "" "seconds" "peak RSS MB"
printf '%-34s %10.2f %12.0f\n' "shellfree build (cold cache)" "$cold_s" "$(echo "$cold_rss/1024" | bc -l)"
printf '%-34s %10.2f %12.0f\n' "shellfree build (warm cache)" "$warm_s" "$(echo "$warm_rss/1024" | bc -l)"
printf '%-34s %10.2f %12.0f\n' "mmdebstrap --variant=extract" "$mm_s" "$(echo "$mm_rss/1024" | bc -l)"
echo
echo "packages: $npkgs; image digest cold = warm: $([[ "$digest_cold" == "$digest_warm" ]] && echo yes || echo NO)"
ratio="$(echo "$cold_s / $mm_s" | bc -l)"
printf 'ratio cold/mmdebstrap: %.2f (target ≤ 0.70) %s\n' "$ratio" "$(awk -v r="$ratio" 'BEGIN{print (r<=0.7)?"ok":"MISSED"}')"
printf 'warm build: %.2f s (target ≤ 2 s) %s\n' "$warm_s" "$(awk -v w="$warm_s" 'BEGIN{print (w<=2)?"ok":"MISSED"}')"
peak="$(( cold_rss > warm_rss ? cold_rss : warm_rss ))"
printf 'peak RSS: %.0f MB (target ≤ 300 MB) %s\n' "$(echo "$peak/1024" | bc -l)" "$(awk -v p="$peak" 'BEGIN{print (p<=300*1024)?"ok":"MISSED"}')"
