#!/usr/bin/env bash
# Runs each make target in turn and prints how long each took (a summary at the end, also
# when a target fails), so slow parts of `make test` are visible.
set -uo pipefail
declare -a names=() secs=()
summary() {
  echo "---- time per part ----"
  local i total=0
  for i in "${!names[@]}"; do
    printf '%6ss  %s\n' "${secs[$i]}" "${names[$i]}"
    total=$((total + secs[i]))
  done
  printf '%6ss  total\n' "$total"
}
for t in "$@"; do
  start=$(date +%s)
  make --no-print-directory "$t"
  rc=$?
  names+=("$t"); secs+=($(( $(date +%s) - start )))
  echo "[time] $t: ${secs[-1]}s"
  if [ "$rc" -ne 0 ]; then
    summary
    echo "make test: FAILED in $t" >&2
    exit "$rc"
  fi
done
summary
