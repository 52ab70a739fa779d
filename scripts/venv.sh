#!/usr/bin/env bash
# Idempotent: the project's Python virtualenv at .venv with the given requirement files.
# Usage: scripts/venv.sh -r path/requirements.txt [-r ...]   (prints nothing when up to date)
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>/tmp/keycustody-venv.lock; flock 9
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=.venv/.stamp-$(cat "${@:2:$#}" 2>/dev/null | sha256sum | cut -c1-16)
[ -f "$stamp" ] && exit 0
.venv/bin/python -m pip install -q --disable-pip-version-check "$@" \
  || { echo "FATAL: pip could not install $*" >&2; exit 1; }
touch "$stamp"
