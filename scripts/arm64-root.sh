#!/usr/bin/env bash
# Idempotent: a Debian (the host's release) arm64 root with python3 and nodejs, unpacked (not
# configured) at $1, to run aarch64 artifacts under qemu-user-static as
# `qemu-aarch64-static -L ROOT ROOT/usr/bin/python3 …`. No binfmt_misc and no chroot are needed:
# qemu's -L prefix resolves the arm64 loader and libraries inside ROOT.
# Default root: $KC_ARM64_ROOT, else ~/.cache/keycustody/arm64-root-<codename> (outside the tree,
# so every clone and worktree of this machine shares the one root; a fresh machine builds it,
# about a minute). `arm64-root.sh --path` prints that default and does nothing else.
# The mirror is the one the host's apt uses (its sources), so nothing else is contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
suite="$(. /etc/os-release && echo "$VERSION_CODENAME")"
default="${KC_ARM64_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/keycustody/arm64-root-$suite}"
[ "${1:-}" = --path ] && { echo "$default"; exit 0; }
root="${1:-$default}"
stamp="$root/.keycustody-arm64-root"
bash scripts/ensure-apt.sh debootstrap qemu-user-static
[ -f "$stamp" ] && exit 0
mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"; flock 9  # two runs at once: one builds, the other waits for it
[ -f "$stamp" ] && exit 0
mirror="$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -e security -e nodesource | head -n1)"
[ -n "$mirror" ] || mirror="$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1)"
[ -n "$mirror" ] || { echo "FATAL: no Debian mirror found in the host's apt sources" >&2; exit 1; }
echo "arm64 root: debootstrap --foreign $suite into $root (about 2 minutes, ~250 MB)"
rm -rf "$root"; mkdir -p "$root"
debootstrap --foreign --arch=arm64 --variant=minbase --include=python3,python3-venv,nodejs \
  "$suite" "$root" "$mirror" >"$root.log" 2>&1 \
  || { tail -n 20 "$root.log" >&2; echo "FATAL: debootstrap failed (log: $root.log)" >&2; exit 1; }
# --foreign unpacked only the base set; unpack every downloaded package (no maintainer scripts).
for deb in "$root"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$root"; done
rm -f "$root"/var/cache/apt/archives/*.deb
qemu-aarch64-static -L "$root" "$root/usr/bin/python3" -c 'import platform; assert platform.machine() == "aarch64"' \
  || { echo "FATAL: arm64 python3 does not run under qemu-aarch64-static" >&2; exit 1; }
qemu-aarch64-static -L "$root" "$root/usr/bin/node" -e 'if (process.arch !== "arm64") process.exit(1)' \
  || { echo "FATAL: arm64 node does not run under qemu-aarch64-static" >&2; exit 1; }
touch "$stamp"
echo "arm64 root ready: $root"
