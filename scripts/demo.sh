#!/usr/bin/env bash
# The main job, end to end on a fresh machine: install the host tools and dependencies, build
# examples/hello-node from Debian trixie + the official Node.js binary under the native
# shellfree-init (npm ci and npm run build:init first), prove it is shell-free
# (shellfree verify), test it under runc (shellfree test), run it under podman, talk to it, and
# stop it gracefully.
# The Debian mirror comes from $SHELLFREE_MIRROR or this host's apt sources.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "set up (apt tools, npm ci)"
bash scripts/setup-host.sh
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
npm run --silent build:init

OUT=${OUT:-out/hello-node}
work=$(mktemp -d)
P=(podman --root "$work/root" --runroot "$work/runroot" --storage-driver overlay --runtime runc --cgroup-manager cgroupfs)
name="shellfree-demo-$$"
cleanup() {
  "${P[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true
  "${P[@]}" rmi -af >/dev/null 2>&1 || true
  # podman leaves its overlay mounts behind: unmount everything under the private root first
  awk -v w="$work" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say "build examples/hello-node (amd64 + arm64, one OCI index)"
bin/shellfree build -f examples/hello-node/shellfree.yaml --output "oci:$OUT:latest"

say "verify: no shell, no package manager, no setuid, non-root, libraries resolvable"
bin/shellfree verify "oci:$OUT:latest"

say "test: run it for real under runc (shell exec fails, healthcheck, HTTP, graceful stop, main dies, any UID, read-only root)"
bin/shellfree test "oci:$OUT:latest" --checks all --http-port 8080 --http-path /ready

say "run it under podman (no Docker daemon)"
"${P[@]}" pull -q "oci:$OUT:latest" >/dev/null
"${P[@]}" run -d --name "$name" -p 127.0.0.1:18080:8080 -p 127.0.0.1:13000:3000 "$("${P[@]}" images -q | head -1)" >/dev/null
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null http://127.0.0.1:18080/ready 2>/dev/null && break
  sleep 0.2
done
echo "GET  /ready  -> $(curl -sS http://127.0.0.1:18080/ready)"
echo "HEAD /health -> $(curl -sS -o /dev/null -w '%{http_code}' -I http://127.0.0.1:18080/health)"
echo "GET  app     -> $(curl -sS http://127.0.0.1:13000/)"
echo "HEALTHCHECK probe (exec form, no shell, no curl):"
"${P[@]}" exec "$name" /usr/bin/shellfree-init probe /ready
echo "exec /bin/sh inside the container:"
if "${P[@]}" exec "$name" /bin/sh -c true 2>&1 | tail -1; then :; fi

say "graceful stop (SIGTERM -> drain -> main exits -> exit 0)"
"${P[@]}" stop -t 15 "$name" >/dev/null
"${P[@]}" logs "$name" 2>&1 | tail -6
echo "exit code: $("${P[@]}" inspect "$name" --format '{{.State.ExitCode}}')"
