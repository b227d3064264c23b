#!/usr/bin/env bash
# bench/cli.sh — how fast the CLI answers: hyperfine of `shellfree --version`, `--help`,
# `verify` and `inspect` of the static preset image, and a warm `resolve`, beside
# `skopeo --version` and `skopeo inspect` of the same image, in one run.
#
# `shellfree` is CHECKOUT/bin/shellfree started as a user starts it: by its `#!/usr/bin/env node`
# line, with a Node >= 22.18 first on PATH (this checkout's node_modules/.bin: Node 24). A second
# `--version` line starts it with the host's /usr/bin/node instead when that Node is older (the
# launcher then re-runs itself under the pinned Node). The static image is built once into
# $BENCH_DIR (default /tmp/shellfree-bench-cli) by this checkout's CLI; the mirror is the
# host's (or $SHELLFREE_MIRROR). Targets (issue 21): --version and --help ≤ 50 ms, verify of the
# static image ≤ 150 ms.
#
# Usage: bench/cli.sh [CHECKOUT=this checkout] [RUNS=20]
#   e.g. bench/cli.sh /path/to/an/older/checkout   (its figures, measured the same way)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
SF_ROOT="$(cd "${1:-$HERE}" && pwd)"
RUNS="${2:-20}"
export PATH="$HERE/node_modules/.bin:$PATH"
for c in hyperfine skopeo; do
  command -v "$c" >/dev/null || { echo "bench/cli.sh: needs $c (scripts/setup-host.sh installs it)" >&2; exit 1; }
done
SF="$SF_ROOT/bin/shellfree"
DIR="${BENCH_DIR:-/tmp/shellfree-bench-cli}"
IMG="$DIR/static"
mkdir -p "$DIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sf-cli-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

if [ ! -f "$IMG/index.json" ]; then
  echo "building the static preset image into $IMG ..." >&2
  SOURCE_DATE_EPOCH=1700000000 "$HERE/bin/shellfree" -q build --preset static --arch amd64 --no-sbom -o "oci:$IMG:latest" >/dev/null
fi
REF="oci:$IMG:latest"
# a warm cache for resolve (the Release and Packages of trixie/amd64)
"$SF" -q resolve --suite trixie --arch amd64 base-files >/dev/null

echo "shellfree: $SF_ROOT ($(node --version) on PATH; $( [ -f "$SF_ROOT/dist/cli/stamp.json" ] && echo "bundle dist/cli" || echo "sources"))"
cases=(
  "shellfree --version" "$SF --version"
  "shellfree --help" "$SF --help"
  "shellfree verify (static)" "$SF verify $REF"
  "shellfree inspect (static)" "$SF inspect $REF"
  "shellfree resolve (warm)" "$SF resolve --suite trixie --arch amd64 base-files"
  "skopeo --version" "skopeo --version"
  "skopeo inspect (static)" "skopeo inspect $REF"
)
SYSNODE=/usr/bin/node
if [ -x "$SYSNODE" ] && [ "$("$SYSNODE" -p 'process.versions.node.split(".")[0] < 22')" = "true" ]; then
  cases+=("shellfree --version (host $("$SYSNODE" --version), re-exec)" "$SYSNODE $SF --version")
fi
args=()
for ((i = 0; i < ${#cases[@]}; i += 2)); do args+=(-n "${cases[i]}" "${cases[i + 1]}"); done
# verify exits 3 on findings; the static preset has none, but a failure must not stop the run
hyperfine -N -i --warmup 3 --runs "$RUNS" --export-json "$WORK/h.json" "${args[@]}" >/dev/null 2>&1

node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
  const ms = (name) => r.find((x) => x.command === name).median * 1000;
  const target = { "shellfree --version": 50, "shellfree --help": 50, "shellfree verify (static)": 150 };
  const base = { "shellfree inspect (static)": "skopeo inspect (static)", "shellfree --version": "skopeo --version" };
  console.log("command".padEnd(44) + "median ms   mean ± σ ms     vs");
  for (const x of r) {
    const m = x.median * 1000;
    let vs = "";
    if (target[x.command]) vs += `target ≤ ${target[x.command]} ms: ${m <= target[x.command] ? "met" : "NOT met"}`;
    if (base[x.command]) vs += `${vs ? "; " : ""}${(m / ms(base[x.command])).toFixed(1)}× ${base[x.command]}`;
    console.log(`${x.command.padEnd(44)}${m.toFixed(1).padStart(9)}   ${(x.mean * 1000).toFixed(1).padStart(6)} ± ${(x.stddev * 1000).toFixed(1).padEnd(6)}  ${vs}`);
  }
' "$WORK/h.json"
