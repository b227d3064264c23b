#!/usr/bin/env bash
# The baseline a user would write without shellfree: a Dockerfile-style Squid image made from
# Debian packages with `mmdebstrap --variant=apt` (trixie, squid-openssl, ca-certificates,
# tzdata, tini), the example's squid.conf, a bash entrypoint doing the seed's steps (writable
# dirs, ssl-bump CA merge, `squid -k parse`, `squid -z` on an empty cache, `exec squid -N`),
# USER 1000 with GID 0. The same root also serves the "tini starts Squid directly" baseline.
#
# Output in OUT (default ${TMPDIR:-/tmp}/shellfree-squid-baseline):
#   rootfs/           the root file system (what runc runs; bench/squid.sh makes the bundles)
#   oci/              an OCI layout (umoci), tags bash-entrypoint and tini-direct
#   entrypoint.sh     the bash entrypoint (also at /usr/local/bin/entrypoint.sh in the image)
# The mirror comes from $SHELLFREE_MIRROR or the host's apt sources; the keyring is the host's
# Debian archive keyring. Needs root (mmdebstrap runs the packages' maintainer scripts).
# Usage: bench/squid-baseline.sh [OUT]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-${TMPDIR:-/tmp}/shellfree-squid-baseline}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
for t in mmdebstrap umoci; do command -v "$t" >/dev/null || { echo "squid-baseline: needs $t" >&2; exit 1; }; done
[[ "$(id -u)" == 0 ]] || { echo "squid-baseline: run as root (mmdebstrap runs maintainer scripts)" >&2; exit 1; }

mirror="${SHELLFREE_MIRROR:-}"
if [[ -z "$mirror" ]]; then
  mirror="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
fi
if [[ -z "$mirror" ]]; then
  mirror="$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
fi
[[ -n "$mirror" ]] || { echo "squid-baseline: no Debian mirror configured (set SHELLFREE_MIRROR)" >&2; exit 1; }

mkdir -p "$OUT"
# The entrypoint the seed's project had (entrypoint.sh): log, check, validate, init, exec.
cat >"$OUT/entrypoint.sh" <<'BASH'
#!/bin/bash
set -euo pipefail
SQUID_CONFIG="${SQUID_CONFIG:-/etc/squid/squid.conf}"
log() { printf '%s [%s] %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$1" "$2" >&2; }
log INFO "entrypoint starting (UID: $(id -u), GID: $(id -g))"
for d in /var/spool/squid /var/log/squid /run/squid; do
  mkdir -p "$d" 2>/dev/null || true
  if [[ ! -w "$d" ]]; then log ERROR "$d is not writable by UID $(id -u)"; exit 1; fi
done
if grep -Eq '^\s*https?_port\s.*\sssl-bump(\s|$)' "$SQUID_CONFIG"; then
  log INFO "SSL bump enabled: merging /etc/squid/tls/tls.crt and tls.key"
  for f in /etc/squid/tls/tls.crt /etc/squid/tls/tls.key; do
    if [[ ! -r "$f" ]]; then log ERROR "SSL bump needs $f"; exit 1; fi
  done
  mkdir -p /var/lib/squid
  (umask 077; cat /etc/squid/tls/tls.crt /etc/squid/tls/tls.key >/var/lib/squid/squid-ca.pem)
  if [[ ! -d /var/lib/squid/ssl_db ]]; then
    /usr/lib/squid/security_file_certgen -c -s /var/lib/squid/ssl_db -M 4MB
  fi
fi
log INFO "validating $SQUID_CONFIG"
if ! out="$(/usr/sbin/squid -k parse -f "$SQUID_CONFIG" 2>&1)"; then
  printf '%s\n' "$out" | grep -E 'FATAL|ERROR' >&2 || true
  log ERROR "configuration invalid"
  exit 1
fi
if [[ ! -d /var/spool/squid/00 ]]; then
  log INFO "initializing cache"
  /usr/sbin/squid -z -N -f "$SQUID_CONFIG"
fi
log INFO "starting squid"
exec /usr/sbin/squid -N -f "$SQUID_CONFIG"
BASH

rm -rf "$OUT/rootfs.tmp"
echo "squid-baseline: mmdebstrap --variant=apt trixie (squid-openssl, ca-certificates, tzdata, tini)" >&2
t0=$(date +%s.%N)
mmdebstrap --quiet --variant=apt --architectures=amd64 --keyring="$KEYRING" \
  --include=squid-openssl,ca-certificates,tzdata,tini \
  --customize-hook="copy-in $ROOT/examples/squid-proxy/squid.conf /etc/squid" \
  --customize-hook="copy-in $OUT/entrypoint.sh /usr/local/bin" \
  --customize-hook='chmod 0755 "$1/usr/local/bin/entrypoint.sh"' \
  --customize-hook='for d in /var/spool/squid /var/log/squid /var/lib/squid /run/squid; do mkdir -p "$1$d"; chown 1000:0 "$1$d"; chmod 0770 "$1$d"; done' \
  --customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"' \
  trixie "$OUT/rootfs.tmp" "$mirror"
echo "squid-baseline: rootfs in $(printf '%.0f' "$(echo "$(date +%s.%N) - $t0" | bc -l)") s" >&2
rm -rf "$OUT/rootfs"
mv "$OUT/rootfs.tmp" "$OUT/rootfs"

# OCI image (one layer, what a Dockerfile's single RUN would give), two tags for the two entrypoints
rm -rf "$OUT/oci" "$OUT/umoci-bundle"
umoci init --layout "$OUT/oci"
umoci new --image "$OUT/oci:base"
umoci unpack --rootless --image "$OUT/oci:base" "$OUT/umoci-bundle" >/dev/null
rmdir "$OUT/umoci-bundle/rootfs"
cp -a "$OUT/rootfs" "$OUT/umoci-bundle/rootfs"
umoci repack --image "$OUT/oci:bash-entrypoint" "$OUT/umoci-bundle"
rm -rf "$OUT/umoci-bundle"
umoci config --image "$OUT/oci:bash-entrypoint" --config.user 1000:0 \
  --config.entrypoint /usr/local/bin/entrypoint.sh --config.exposedports 3128/tcp \
  --config.env SQUID_CONFIG=/etc/squid/squid.conf --config.stopsignal SIGTERM
umoci config --image "$OUT/oci:bash-entrypoint" --tag tini-direct --config.entrypoint /usr/bin/tini \
  --config.entrypoint -- --config.entrypoint /usr/sbin/squid --config.entrypoint -N \
  --config.entrypoint -f --config.entrypoint /etc/squid/squid.conf
umoci rm --image "$OUT/oci:base"
umoci gc --layout "$OUT/oci"
echo "$OUT"
