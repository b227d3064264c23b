#!/usr/bin/env bash
# The main job, end to end on a fresh machine: install the host tools and dependencies (npm ci,
# the native shellfree-init), build examples/squid-proxy — Squid from Debian trixie's packages
# under shellfree-init, with no shell and no interpreter — for amd64 and arm64, prove it is
# shell-free (shellfree verify), run it under runc (read-only root, UID 1000, no capabilities)
# in a network namespace of its own, send one request through the proxy to an origin on
# 127.0.0.1, stop it with SIGTERM, and clean up. Needs root (apt, runc, ip netns); no stdin.
# The Debian mirror comes from $SHELLFREE_MIRROR or this host's apt sources.
set -euo pipefail
cd "$(dirname "$0")/.."
# bold headers on a terminal only (and never with NO_COLOR)
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  say() { printf '\n== %s\n' "$*"; }
fi

say "set up (apt tools, npm ci, the native shellfree-init, the CLI bundle)"
bash scripts/setup-host.sh
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
npm run --silent build
NODE="$PWD/node_modules/node/bin/node"

OUT=${OUT:-out/squid-proxy}
work=$(mktemp -d "${TMPDIR:-/tmp}/shellfree-demo.XXXXXX")
ns="shellfree-demo-$$"
id="shellfree-demo-$$"
origin_pid=""
runc_pid=""
cleanup() {
  runc kill "$id" KILL >/dev/null 2>&1 || true
  if [ -n "$runc_pid" ]; then wait "$runc_pid" 2>/dev/null || true; fi
  runc delete -f "$id" >/dev/null 2>&1 || true
  if [ -n "$origin_pid" ]; then kill "$origin_pid" 2>/dev/null || true; fi
  ip netns del "$ns" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
in_ns() { nsenter --net="/var/run/netns/$ns" "$@"; }

say "build examples/squid-proxy (amd64 + arm64, one OCI index)"
bin/shellfree build -f examples/squid-proxy/shellfree.yaml --output "oci:$OUT:latest"

say "verify: no shell, no interpreter, no package manager, non-root, every library present"
bin/shellfree verify "oci:$OUT:latest"

say "run it under runc: read-only root, tmpfs on its writable paths, UID 1000 GID 0, no capabilities"
# this machine's image out of the index, unpacked into a runc bundle
skopeo copy -q "oci:$OUT:latest" "oci:$work/image:latest"
umoci unpack --image "$work/image:latest" "$work/bundle" >/dev/null
# a network namespace with only loopback: the proxy, the origin and the client meet there
ip netns add "$ns"
ip -n "$ns" link set lo up
"$NODE" -e '
  const fs = require("node:fs");
  const [file, netns] = process.argv.slice(1);
  const c = JSON.parse(fs.readFileSync(file, "utf8"));
  c.process.terminal = false;
  c.process.noNewPrivileges = true;
  c.process.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
  c.root.readonly = true;
  c.hostname = "squid-proxy";
  c.linux.namespaces = c.linux.namespaces.map((n) => (n.type === "network" ? { type: "network", path: netns } : n));
  // the directories the image says it writes (its dev.shellfree.writable label, which umoci
  // copies into the annotations), and /tmp
  const writable = (c.annotations?.["dev.shellfree.writable"] ?? "").split(",").filter(Boolean);
  if (writable.length === 0) throw new Error("the image names no writable paths");
  for (const d of writable)
    c.mounts.push({ destination: d, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=0770", "uid=1000", "gid=0", "size=256m"] });
  c.mounts.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777", "size=64m"] });
  fs.writeFileSync(file, JSON.stringify(c, null, 1));
' "$work/bundle/config.json" "/var/run/netns/$ns"

# the origin: a small HTTP server on 127.0.0.1:8000 inside the namespace
cat >"$work/origin.js" <<'JS'
require("node:http")
  .createServer((q, r) => r.end(`hello from the origin at 127.0.0.1:8000, you asked for ${q.url}\n`))
  .listen(8000, "127.0.0.1", () => console.log("origin ready"));
JS
in_ns "$NODE" "$work/origin.js" >"$work/origin.log" 2>&1 &
origin_pid=$!

runc run --bundle "$work/bundle" "$id" >"$work/squid.log" 2>&1 </dev/null &
runc_pid=$!
ready=""
for _ in $(seq 1 300); do
  if in_ns curl -fsS -o /dev/null --max-time 1 http://127.0.0.1:8080/ready 2>/dev/null; then ready=1; break; fi
  kill -0 "$runc_pid" 2>/dev/null || break
  sleep 0.1
done
grep -E '\] (shellfree-init|Task |Main process|Ready)' "$work/squid.log" | sed 's/^/  /' || true
if [ -z "$ready" ]; then
  echo "squid-proxy did not become ready:" >&2
  tail -30 "$work/squid.log" >&2
  exit 1
fi

say "one request through the proxy: curl --proxy http://127.0.0.1:3128 http://127.0.0.1:8000/demo"
in_ns curl -sS --max-time 10 --proxy http://127.0.0.1:3128 -D "$work/headers" http://127.0.0.1:8000/demo
grep -iE '^(HTTP/|via:)' "$work/headers" | tr -d '\r' | sed 's/^/  /'
echo "Squid's access log (the container's stdout):"
grep -E 'GET http://127\.0\.0\.1:8000/demo' "$work/squid.log" | sed 's/^/  /'
echo "GET /ready on the init's health port -> $(in_ns curl -sS --max-time 5 http://127.0.0.1:8080/ready)"
echo "exec /bin/sh inside the container:"
runc exec "$id" /bin/sh -c true 2>&1 | tail -1 | sed 's/^/  /' || true

say "graceful stop: SIGTERM -> Squid shuts down -> exit 0"
t0=$(date +%s%N)
runc kill "$id" TERM
rc=0
wait "$runc_pid" || rc=$?
runc_pid=""
t1=$(date +%s%N)
grep -E 'Received signal|stopped|Shutdown complete|Exiting normally' "$work/squid.log" | sed 's/^/  /' || true
echo "exit code: $rc after $(((t1 - t0) / 1000000)) ms"
[ "$rc" = 0 ]
