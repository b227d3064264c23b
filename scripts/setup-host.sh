#!/usr/bin/env bash
# Installs the host tools shellfree's tests and examples use (as root, from the host's
# configured Debian mirror) and configures podman for this kind of machine. Idempotent.
set -euo pipefail
PKGS=(runc podman skopeo umoci docker-registry tini mmdebstrap hyperfine wrk apache2-utils
      gpgv debian-archive-keyring dpkg-dev binutils xz-utils zstd curl ca-certificates
      gcc libc6-dev openssl tar gzip file mini-httpd qemu-user-static postgresql shellcheck iproute2
      jq)
. /etc/os-release 2>/dev/null || true
CODENAME="${VERSION_CODENAME:-}"

# Debian's Go for the native shellfree-init (npm run build:init): golang-1.24-go on trixie (and
# later), golang-1.23-go from bookworm-backports on bookworm. The backports source is derived
# from the host's own apt sources: the URI that serves the host's main suite.
backports_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$CODENAME" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; types = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          if (tolower(line) ~ /^uris:/)    { sub(/^[^:]*:[ \t]*/, "", line); uris = line }
          if (tolower(line) ~ /^suites:/)  { sub(/^[^:]*:[ \t]*/, "", line); suites = " " line " " }
          if (tolower(line) ~ /^types:/)   { sub(/^[^:]*:[ \t]*/, "", line); types = " " line " " }
          if (tolower(line) ~ /^enabled:/) { sub(/^[^:]*:[ \t]*/, "", line); enabled = tolower(line) }
        }
        if (enabled != "no" && types ~ / deb / && suites ~ (" " want " ")) { split(uris, u, /[ \t]+/); print u[1]; exit }
      }' "$f"
  done
  if [ -f /etc/apt/sources.list ]; then
    awk -v want="$CODENAME" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == want) { print $i; exit } }' /etc/apt/sources.list
  fi
}

has_backports() {
  grep -qsE "(^|[[:space:]])${CODENAME}-backports([[:space:]]|$)" /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null
}

GO_PKG=""
NEED_UPDATE=0
case "$CODENAME" in
  bookworm)
    GO_PKG=golang-1.23-go
    if ! has_backports; then
      if [ "$(id -u)" != 0 ]; then echo "setup-host: need root to add ${CODENAME}-backports" >&2; exit 1; fi
      uri="$(backports_uri | head -n1)"
      if [ -z "$uri" ]; then echo "setup-host: no apt source serves ${CODENAME}; cannot add ${CODENAME}-backports for Go" >&2; exit 1; fi
      printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$uri" "$CODENAME" >/etc/apt/sources.list.d/shellfree-backports.sources
      NEED_UPDATE=1
    fi
    ;;
  "") ;;
  *) GO_PKG=golang-1.24-go ;;
esac
if [ -n "$GO_PKG" ]; then PKGS+=("$GO_PKG"); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup-host: need root to install: ${missing[*]}" >&2; exit 1; fi
  NEED_UPDATE=1
fi
if [ "$NEED_UPDATE" = 1 ]; then
  apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
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
  (systemctl disable --now mini-httpd >/dev/null 2>&1 || true) # bench/init.sh starts its own
fi
echo "setup-host: ok"
