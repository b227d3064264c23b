#!/usr/bin/env bash
# The baseline a user would write without shellfree for the vote API: the Dockerfile-style image
#   FROM debian:trixie (minbase)
#   RUN apt-get install --no-install-recommends python3 python3-fastapi python3-uvicorn \
#         python3-pydantic python3-psycopg python3-psycopg-c && rm -rf /var/lib/apt/lists/*
#   COPY app /app
#   USER 65532:0
#   ENTRYPOINT ["/usr/bin/python3", "-m", "app"]
# made with `mmdebstrap --variant=minbase trixie` (Debian's python3 and the same packages as
# examples/vote-api/shellfree.yaml; maintainer scripts run, so Debian's py3compile writes the
# packages' .pyc as apt-get in a Dockerfile would) and packed by umoci as one layer.
#
# Output in OUT (default ${TMPDIR:-/tmp}/shellfree-python-baseline):
#   rootfs/   the root file system
#   oci/      an OCI layout, tag `dockerfile`
# The mirror comes from $SHELLFREE_MIRROR or the host's apt sources; the keyring is the host's
# Debian archive keyring. Needs root (mmdebstrap runs the packages' maintainer scripts).
# Usage: bench/python-baseline.sh [OUT]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-${TMPDIR:-/tmp}/shellfree-python-baseline}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PACKAGES=python3,python3-fastapi,python3-uvicorn,python3-pydantic,python3-psycopg,python3-psycopg-c
for t in mmdebstrap umoci; do command -v "$t" >/dev/null || { echo "python-baseline: needs $t" >&2; exit 1; }; done
[[ "$(id -u)" == 0 ]] || { echo "python-baseline: run as root (mmdebstrap runs maintainer scripts)" >&2; exit 1; }

mirror="${SHELLFREE_MIRROR:-}"
if [[ -z "$mirror" ]]; then
  mirror="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
fi
if [[ -z "$mirror" ]]; then
  mirror="$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
fi
[[ -n "$mirror" ]] || { echo "python-baseline: no Debian mirror configured (set SHELLFREE_MIRROR)" >&2; exit 1; }

mkdir -p "$OUT"
rm -rf "$OUT/rootfs.tmp"
echo "python-baseline: mmdebstrap --variant=minbase trixie ($PACKAGES)" >&2
t0=$(date +%s.%N)
mmdebstrap --quiet --variant=minbase --architectures=amd64 --keyring="$KEYRING" \
  --aptopt='APT::Install-Recommends "false"' \
  --include="$PACKAGES" \
  --customize-hook="copy-in $ROOT/examples/vote-api/app /" \
  --customize-hook='find "$1/app" -name __pycache__ -prune -exec rm -rf {} +' \
  --customize-hook='chmod -R a+rX "$1/app"' \
  --customize-hook='mkdir -p "$1/var/lib/vote-api"; chown 65532:0 "$1/var/lib/vote-api"; chmod 0770 "$1/var/lib/vote-api"' \
  --customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"' \
  trixie "$OUT/rootfs.tmp" "$mirror"
echo "python-baseline: rootfs in $(printf '%.0f' "$(echo "$(date +%s.%N) - $t0" | bc -l)") s" >&2
rm -rf "$OUT/rootfs"
mv "$OUT/rootfs.tmp" "$OUT/rootfs"

# OCI image: one layer (what the Dockerfile's RUN + COPY squashed give), the app's config
rm -rf "$OUT/oci" "$OUT/umoci-bundle"
umoci init --layout "$OUT/oci"
umoci new --image "$OUT/oci:base"
umoci unpack --rootless --image "$OUT/oci:base" "$OUT/umoci-bundle" >/dev/null
rmdir "$OUT/umoci-bundle/rootfs"
cp -a "$OUT/rootfs" "$OUT/umoci-bundle/rootfs"
umoci repack --image "$OUT/oci:dockerfile" "$OUT/umoci-bundle"
rm -rf "$OUT/umoci-bundle"
umoci config --image "$OUT/oci:dockerfile" --config.user 65532:0 --config.workingdir / \
  --config.entrypoint /usr/bin/python3 --config.entrypoint -m --config.entrypoint app \
  --config.exposedports 8000/tcp --config.env PORT=8000 \
  --config.env VOTE_DB_PATH=/var/lib/vote-api/votes.db --config.env SHUTDOWN_TIMEOUT=15 \
  --config.volume /var/lib/vote-api --config.stopsignal SIGTERM
umoci rm --image "$OUT/oci:base"
umoci gc --layout "$OUT/oci"
echo "$OUT"
