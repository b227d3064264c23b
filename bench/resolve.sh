#!/usr/bin/env bash
# `shellfree resolve` beside apt, same request, same mirror, same machine, in one script:
#   cold: shellfree resolve with an empty cache     vs  apt-get update + apt-get install --simulate
#         (fresh lists dir)
#   warm: shellfree resolve with a warm cache        vs  apt-get install --simulate (warm lists)
# apt runs with a private configuration (no host apt.conf.d/preferences), an empty dpkg status
# and Recommends off, as shellfree resolves. Prints medians of RUNS and the ratios against the
# targets: warm < 0.5 s and <= 2x apt; cold <= 1.5x apt's update + simulate.
# Usage: bench/resolve.sh [RUNS=7] [PACKAGE=squid-openssl] [SUITE=trixie] [ARCH=amd64]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-7}"
PKG="${2:-squid-openssl}"
SUITE="${3:-trixie}"
ARCH="${4:-amd64}"
# run the CLI with the pinned Node 24 directly (as npm scripts and node_modules/.bin do), not
# through the launcher's re-exec from an older system node
SF=("$PWD/node_modules/node/bin/node" "$PWD/bin/shellfree")
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
command -v apt-get >/dev/null || { echo "bench/resolve.sh: needs apt-get" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sf-resolve-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# the mirror shellfree would use ($SHELLFREE_MIRROR or the host's apt sources), never a constant
MIRROR="$("$PWD/node_modules/node/bin/node" -e '
  import("./src/debian/sources.ts").then((m) => console.log(m.configuredSources({ suite: process.argv[1] })[0].uri))' "$SUITE")"

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

apt_dir() {
  local d="$1"
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts" "$d/prefs"
  : >"$d/status"
  echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main" >"$d/sources.list"
  cat >"$d/apt.conf" <<CONF
Dir::Etc::Parts "$d/parts"; Dir::Etc::Main "/dev/null"; Dir::Etc::SourceList "$d/sources.list";
Dir::Etc::SourceParts "$d/parts"; Dir::Etc::Preferences "/dev/null"; Dir::Etc::PreferencesParts "$d/prefs";
Dir::State::status "$d/status"; Dir::State::Lists "$d/lists"; Dir::State::extended_states "$d/ext";
Dir::Cache "$d/cache"; APT::Architecture "$ARCH"; APT::Architectures { "$ARCH"; };
Acquire::Languages "none"; APT::Install-Recommends "false"; Debug::NoLocking "true";
APT::Sandbox::User "root";
CONF
}
apt_sim() { APT_CONFIG="$1/apt.conf" apt-get -s -q install "$PKG" | grep -c '^Inst '; }

sf_cold=() apt_cold=() sf_warm=() apt_warm=()
for i in $(seq "$RUNS"); do
  c="$WORK/cache-$i"
  t0=$(now); n_sf=$("${SF[@]}" -q resolve --suite "$SUITE" --arch "$ARCH" --cache-dir "$c" "$PKG" | wc -l); t1=$(now)
  sf_cold+=("$(ms "$t0" "$t1")")
  d="$WORK/apt-$i"; apt_dir "$d"
  t0=$(now); APT_CONFIG="$d/apt.conf" apt-get -q update >/dev/null; n_apt=$(apt_sim "$d"); t1=$(now)
  apt_cold+=("$(ms "$t0" "$t1")")
  [ "$n_sf" = "$n_apt" ] || { echo "bench/resolve.sh: shellfree has $n_sf packages, apt $n_apt" >&2; exit 1; }
done
for i in $(seq "$RUNS"); do
  t0=$(now); "${SF[@]}" -q resolve --suite "$SUITE" --arch "$ARCH" --cache-dir "$WORK/cache-1" "$PKG" >/dev/null; t1=$(now)
  sf_warm+=("$(ms "$t0" "$t1")")
  t0=$(now); apt_sim "$WORK/apt-1" >/dev/null; t1=$(now)
  apt_warm+=("$(ms "$t0" "$t1")")
done
rm -rf "$WORK"/cache-* "$WORK"/apt-*

SC=$(printf '%s\n' "${sf_cold[@]}" | median); AC=$(printf '%s\n' "${apt_cold[@]}" | median)
SW=$(printf '%s\n' "${sf_warm[@]}" | median); AW=$(printf '%s\n' "${apt_warm[@]}" | median)
echo "resolve $PKG ($SUITE/$ARCH, $n_sf packages), median of $RUNS runs on $(nproc) cores:"
printf '  cold  shellfree resolve        %6d ms\n' "$SC"
printf '  cold  apt update + simulate    %6d ms   ratio %s (target <= 1.5)\n' "$AC" "$(awk "BEGIN{printf \"%.2f\", $SC/$AC}")"
printf '  warm  shellfree resolve        %6d ms   (target < 500 ms)\n' "$SW"
printf '  warm  apt-get install -s       %6d ms   ratio %s (target <= 2.0)\n' "$AW" "$(awk "BEGIN{printf \"%.2f\", $SW/$AW}")"
