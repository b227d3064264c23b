#!/usr/bin/env bash
# The delivery pipeline of examples/pipeline/ (the reusable GitHub workflow shellfree-image.yml),
# run on this machine against a docker-registry started here on 127.0.0.1:
#
#   outdated (report only) → lock → build --locked (amd64 + arm64) → verify (SARIF) →
#   test (runc; this machine's architecture only) → push → generate-key-pair → sign →
#   verify-signature → the digest and the image reference a deploy stage would use
#
#   scripts/pipeline.sh [EXAMPLE_DIR]        default: examples/hello-node
#
# EXAMPLE_DIR holds shellfree.yaml (and shellfree.lock once committed). Nothing in it is changed:
# the lock, the image, the SBOMs, the reports, the keys and the registry's storage go to a work
# directory. Progress and stage headers go to stderr; the results to stdout, ending with
#   DIGEST=sha256:…
#   IMAGE=127.0.0.1:PORT/NAME@sha256:…
#
# Environment (all optional):
#   PIPELINE_WORK          work directory to use and keep (default: a temp dir, removed at exit)
#   PIPELINE_IMAGE         repository name in the registry (default: the example dir's name)
#   PIPELINE_ARCHES        architectures to build (default: amd64,arm64)
#   PIPELINE_TEST_ARGS     arguments for `shellfree test` (default: $DEFAULT_TEST_ARGS below)
#   PIPELINE_TIMEOUT       seconds allowed for each stage (default: 1200)
#   PIPELINE_CACHE_DIR     shellfree's cache for outdated/lock/build (default: its own default)
#   COSIGN_PASSWORD        password for the temporary signing key (default: a random one)
#   SHELLFREE              the shellfree command (default: bin/shellfree of this checkout)
#   SHELLFREE_MIRROR, …    the Debian mirror as shellfree reads it (--help of each command)
# Needs: root (runc), runc, docker-registry, curl, openssl; the Debian mirror and the npm registry
# the checkout's configuration names (the node preset fetches the Node.js runtime).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEFAULT_TEST_ARGS="--checks shell-exec-fails,healthcheck,graceful-stop,main-dies,any-uid"
T0=$SECONDS
STAGE=0
STAGES=11

die() {
  printf 'pipeline: %s\n' "$*" >&2
  exit 1
}
# bold headers only on a terminal, never with NO_COLOR
B='' R=''
if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then B=$'\033[1m' R=$'\033[0m'; fi
stage() {
  STAGE=$((STAGE + 1))
  printf '\n%s== [%d/%d] %s%s  (%ds)\n' "$B" "$STAGE" "$STAGES" "$*" "$R" "$((SECONDS - T0))" >&2
}
note() { printf '   %s\n' "$*" >&2; }
# result lines: stdout
result() { printf '%s\n' "$*"; }

# --- arguments and environment -----------------------------------------------------------
[ $# -le 1 ] || die "usage: scripts/pipeline.sh [EXAMPLE_DIR]"
arg=${1:-examples/hello-node}
if [ -d "$arg" ]; then EXAMPLE=$(cd "$arg" && pwd)
elif [ -d "$ROOT/$arg" ]; then EXAMPLE=$(cd "$ROOT/$arg" && pwd)
else die "$arg: no such example directory"; fi
SPEC=$EXAMPLE/shellfree.yaml
[ -f "$SPEC" ] || die "$SPEC: no shellfree.yaml in the example directory"
NAME=${PIPELINE_IMAGE:-$(basename "$EXAMPLE")}
[[ $NAME =~ ^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$ ]] ||
  die "image name \"$NAME\" is not a valid repository name (lower-case letters, digits, . _ - /): set PIPELINE_IMAGE"
ARCHES=${PIPELINE_ARCHES:-amd64,arm64}
[[ $ARCHES =~ ^[a-z0-9]+(,[a-z0-9]+)*$ ]] || die "PIPELINE_ARCHES: a comma-separated list, e.g. amd64,arm64"
TIMEOUT=${PIPELINE_TIMEOUT:-1200}
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "PIPELINE_TIMEOUT: a number of seconds"
read -r -a TEST_ARGS <<<"${PIPELINE_TEST_ARGS:-$DEFAULT_TEST_ARGS}"
read -r -a SF <<<"${SHELLFREE:-$ROOT/bin/shellfree}"
CACHE=()
if [ -n "${PIPELINE_CACHE_DIR:-}" ]; then CACHE=(--cache-dir "$PIPELINE_CACHE_DIR"); fi
NODE=$ROOT/node_modules/node/bin/node
[ -x "$NODE" ] || NODE=node
for tool in docker-registry curl openssl timeout "$NODE"; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup-host.sh installs the host tools)"
done
case "$(uname -m)" in
  x86_64) NATIVE=amd64 ;;
  aarch64) NATIVE=arm64 ;;
  *) NATIVE=$(uname -m) ;;
esac

if [ -n "${PIPELINE_WORK:-}" ]; then
  mkdir -p "$PIPELINE_WORK"
  WORK=$(cd "$PIPELINE_WORK" && pwd)
  OWN_WORK=
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/shellfree-pipeline.XXXXXX")
  OWN_WORK=1
fi

REG_PID=
cleanup() {
  local rc=$?
  if [ -n "$REG_PID" ] && kill -0 "$REG_PID" 2>/dev/null; then
    kill -TERM "$REG_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$REG_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$REG_PID" 2>/dev/null || true
    wait "$REG_PID" 2>/dev/null || true
  fi
  if [ -n "$OWN_WORK" ]; then rm -rf "$WORK"; fi
  if [ "$rc" != 0 ]; then
    printf '\npipeline: FAILED in stage %d after %ds (exit %d)\n' "$STAGE" "$((SECONDS - T0))" "$rc" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sf() { timeout --foreground --kill-after=15 "$TIMEOUT" "${SF[@]}" "$@"; }
# JSON.parse stdin and print the value of a JS expression over it (`j`)
json() { "$NODE" -e 'let s="";process.stdin.on("data",(d)=>{s+=d}).on("end",()=>{const j=JSON.parse(s);const v=eval(process.argv[1]);process.stdout.write(typeof v==="string"?v:JSON.stringify(v))})' "$1"; }

LOCK=$WORK/shellfree.lock
OUT=$WORK/out/${NAME//\//_}
KEYS=$WORK/keys
mkdir -p "$WORK/out" "$WORK/reports" "$KEYS"
result "example: ${EXAMPLE#"$ROOT"/}"
result "work: $WORK"

# --- the registry ------------------------------------------------------------------------------
stage "registry: docker-registry on 127.0.0.1"
PORT=$("$NODE" -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
mkdir -p "$WORK/registry/data"
cat >"$WORK/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
  formatter: text
storage:
  filesystem:
    rootdirectory: $WORK/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
  secret: $(openssl rand -hex 16)
EOF
docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/registry.log" 2>&1 &
REG_PID=$!
REGISTRY=127.0.0.1:$PORT
ready=
for _ in $(seq 1 150); do
  kill -0 "$REG_PID" 2>/dev/null || { tail -5 "$WORK/registry/registry.log" >&2; die "docker-registry exited"; }
  if curl -fsS --max-time 1 -o /dev/null "http://$REGISTRY/v2/" 2>/dev/null; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || die "docker-registry did not answer on $REGISTRY within 15 s"
note "docker-registry (PID $REG_PID) on $REGISTRY, storage in $WORK/registry/data"
result "registry: $REGISTRY"

# --- outdated ----------------------------------------------------------------------------------
stage "outdated: the committed lock against the archive and its security suite (report only)"
if [ -f "$EXAMPLE/shellfree.lock" ]; then
  rc=0
  sf outdated -f "$SPEC" --lockfile "$EXAMPLE/shellfree.lock" "${CACHE[@]}" >"$WORK/reports/outdated.txt" || rc=$?
  sed 's/^/   /' "$WORK/reports/outdated.txt" >&2
  case $rc in
    0) verdict="up to date" ;;
    10) verdict="a security update is pending (CI's weekly job rebuilds on this exit code)" ;;
    11) verdict="newer versions, none a security fix (CI's weekly job does not rebuild)" ;;
    *) verdict="could not tell (exit $rc); the pipeline goes on" ;;
  esac
  result "outdated: exit $rc: $verdict"
else
  note "skipped: ${EXAMPLE#"$ROOT"/} has no shellfree.lock yet, so there is nothing to compare"
  result "outdated: skipped (no committed shellfree.lock)"
fi

# --- lock --------------------------------------------------------------------------------------
stage "lock: resolve the spec against the archive as it is now"
[ -f "$EXAMPLE/shellfree.lock" ] && cp "$EXAMPLE/shellfree.lock" "$LOCK"
sf lock -f "$SPEC" --lockfile "$LOCK" --arch "$ARCHES" "${CACHE[@]}"
result "lock: $LOCK"

# --- build -------------------------------------------------------------------------------------
stage "build --locked: $ARCHES into one OCI image index"
sf build -f "$SPEC" --lockfile "$LOCK" --locked --arch "$ARCHES" "${CACHE[@]}" --output "oci:$OUT:latest" --json \
  >"$WORK/reports/build.json"
IFS=, read -r -a ARCH_LIST <<<"$ARCHES"
for a in "${ARCH_LIST[@]}"; do
  for kind in spdx cdx; do
    sbom=$OUT.$a.$kind.json
    [ "${#ARCH_LIST[@]}" = 1 ] && sbom=$OUT.$kind.json
    [ -s "$sbom" ] || die "build wrote no $kind SBOM for $a ($sbom)"
    result "sbom: $sbom"
  done
done
sf inspect "oci:$OUT:latest" >&2

# --- verify ------------------------------------------------------------------------------------
stage "verify: shell-free, statically, per platform (SARIF for code scanning)"
for a in "${ARCH_LIST[@]}"; do
  sarif=$WORK/reports/verify-$a.sarif
  rc=0
  sf verify "oci:$OUT:latest" --platform "linux/$a" --format sarif --output "$sarif" || rc=$?
  findings=$(json 'j.runs.reduce((n, r) => n + (r.results ?? []).length, 0)' <"$sarif")
  result "verify linux/$a: exit $rc, $findings SARIF result(s): $sarif"
  [ "$rc" = 0 ] || die "verify failed for linux/$a (exit $rc); see $sarif"
done

# --- test --------------------------------------------------------------------------------------
stage "test: run the image under runc (${TEST_ARGS[*]})"
for a in "${ARCH_LIST[@]}"; do
  if [ "$a" != "$NATIVE" ]; then
    note "linux/$a: skipped — runc runs this machine's ($NATIVE) binaries only and the pipeline uses no QEMU; CI tests it on a runner of that architecture"
    result "test linux/$a: skipped (not this machine's architecture)"
    continue
  fi
  sf test "oci:$OUT:latest" --platform "linux/$a" --driver runc "${TEST_ARGS[@]}" \
    --format junit --output "$WORK/reports/test-$a.junit.xml"
  result "test linux/$a: passed ($WORK/reports/test-$a.junit.xml)"
done

# --- push --------------------------------------------------------------------------------------
stage "push: the index, its images and SBOM attestations to $REGISTRY/$NAME"
SHA_TAG=local
if git -C "$EXAMPLE" rev-parse --short=7 HEAD >/dev/null 2>&1; then
  SHA_TAG=sha-$(git -C "$EXAMPLE" rev-parse --short=7 HEAD)
fi
sf push "oci:$OUT:latest" "$REGISTRY/$NAME:$SHA_TAG" --json >"$WORK/reports/push.json"
DIGEST=$(json 'j.digest' <"$WORK/reports/push.json")
[[ $DIGEST =~ ^sha256:[0-9a-f]{64}$ ]] || die "push printed no digest: $(cat "$WORK/reports/push.json")"
REF=$REGISTRY/$NAME@$DIGEST
result "push: $REGISTRY/$NAME:$SHA_TAG -> $DIGEST"

# --- keys --------------------------------------------------------------------------------------
stage "generate-key-pair: a throw-away cosign key pair"
if [ -z "${COSIGN_PASSWORD:-}" ]; then
  COSIGN_PASSWORD=$(openssl rand -hex 24)
  note "COSIGN_PASSWORD was not set: using a random one for this run"
fi
export COSIGN_PASSWORD
(cd "$KEYS" && sf generate-key-pair --output-key-prefix cosign >&2)
result "keys: $KEYS/cosign.key $KEYS/cosign.pub"

# --- sign --------------------------------------------------------------------------------------
stage "sign: $REF (the .sig tag and the Sigstore bundle referrer)"
sf sign "$REF" --key "$KEYS/cosign.key" >"$WORK/reports/sign.txt"
sed 's/^/   /' "$WORK/reports/sign.txt" >&2
result "sign: $(head -1 "$WORK/reports/sign.txt")"

# --- verify-signature --------------------------------------------------------------------------
stage "verify-signature: with the public key, against the registry"
sf verify-signature "$REF" --key "$KEYS/cosign.pub" >"$WORK/reports/verify-signature.txt"
sed 's/^/   /' "$WORK/reports/verify-signature.txt" >&2
result "verify-signature: exit 0: $(head -1 "$WORK/reports/verify-signature.txt")"
TAGS=$(curl -fsS --max-time 10 "http://$REGISTRY/v2/$NAME/tags/list" | json '(j.tags ?? []).join(" ")')
result "registry tags: $TAGS"
SIG_TAG="sha256-${DIGEST#sha256:}.sig"
case " $TAGS " in *" $SIG_TAG "*) ;; *) die "the registry has no $SIG_TAG tag" ;; esac
case " $TAGS " in *" $SHA_TAG "*) ;; *) die "the registry has no $SHA_TAG tag" ;; esac

# --- deploy ------------------------------------------------------------------------------------
stage "deploy: the image by digest"
note "a deploy stage pins this reference (e.g. the Deployment's image:)"
result "DIGEST=$DIGEST"
result "IMAGE=$REF"
printf '\n%spipeline: ok in %ds%s\n' "$B" "$((SECONDS - T0))" "$R" >&2
