#!/usr/bin/env bash
# Installs the host tools shellfree's tests and examples use (as root, from the host's
# configured Debian mirror) and configures podman for this kind of machine. Idempotent.
set -euo pipefail
PKGS=(runc podman skopeo umoci docker-registry tini mmdebstrap hyperfine wrk apache2-utils
      gpgv debian-archive-keyring dpkg-dev binutils xz-utils zstd curl ca-certificates
      gcc libc6-dev openssl tar gzip)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup-host: need root to install: ${missing[*]}" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# podman 4.3 on this kind of machine: runc runtime, cgroupfs, no default ulimits.
if [ "$(id -u)" = 0 ]; then
  mkdir -p /etc/containers
  conf=/etc/containers/containers.conf
  if ! grep -q '^default_ulimits *= *\[\]' "$conf" 2>/dev/null; then
    if grep -q '^\[containers\]' "$conf" 2>/dev/null; then
      sed -i '/^\[containers\]/a default_ulimits = []' "$conf"
    else
      printf '[containers]\ndefault_ulimits = []\n' >>"$conf"
    fi
  fi
  # the registry package's own service is not wanted: tests start their own on 127.0.0.1
  (systemctl disable --now docker-registry >/dev/null 2>&1 || true)
fi
echo "setup-host: ok"
