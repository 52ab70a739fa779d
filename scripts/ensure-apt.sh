#!/usr/bin/env bash
# Idempotent: installs the named Debian packages that are not installed yet.
# Usage: scripts/ensure-apt.sh PKG...
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
# One lock for concurrent callers (make -j, several suites).
exec 9>/tmp/keycustody-apt.lock; flock 9
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" \
  || { echo "FATAL: could not install ${missing[*]}" >&2; exit 1; }
