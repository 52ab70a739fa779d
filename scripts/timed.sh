#!/usr/bin/env bash
# Runs each make target in turn and prints how long each took (a summary at the end, also
# when a target fails), so slow parts of `make test` are visible. Beside the wall time, the CPU
# time of the part (user + system of everything it ran) and how much of the machine's cores it
# kept busy: a part far below 100 % leaves cores idle.
# Background builds (scripts/bg.sh) started by a part live in $KC_BG_DIR, one per run; any
# still running when the run ends (a part failed) are stopped, and their times are listed.
set -uo pipefail
export KC_BG_DIR="${KC_BG_DIR:-$PWD/target/bg/run-$$}"
declare -a names=() secs=() cpus=()
ncpu=$(nproc)
# user + system seconds of this shell's finished children into $cpu_now (bash's `times`, second
# line; run in this shell, not a subshell, whose own children would be none).
tf=$(mktemp); trap 'rm -f "$tf"; bash scripts/bg.sh stop' EXIT
read_cpu() {
  times > "$tf"
  cpu_now=$(tail -n 1 "$tf" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%d", s }')
}
busy() { # cpu wall -> percent of all cores
  [ "$2" -gt 0 ] && echo $(( 100 * $1 / ($2 * ncpu) )) || echo 0
}
summary() {
  echo "---- time per part (wall, CPU, busy = CPU / (wall x $ncpu cores)) ----"
  local i total=0 tcpu=0
  for i in "${!names[@]}"; do
    printf '%6ss  %6ss cpu  %3s%%  %s\n' "${secs[$i]}" "${cpus[$i]}" "$(busy "${cpus[$i]}" "${secs[$i]}")" "${names[$i]}"
    total=$((total + secs[i])); tcpu=$((tcpu + cpus[i]))
  done
  printf '%6ss  %6ss cpu  %3s%%  total\n' "$total" "$tcpu" "$(busy "$tcpu" "$total")"
  bash scripts/bg.sh report
}
for t in "$@"; do
  start=$(date +%s); read_cpu; c0=$cpu_now
  make --no-print-directory "$t"
  rc=$?
  read_cpu
  names+=("$t"); secs+=($(( $(date +%s) - start ))); cpus+=($(( cpu_now - c0 )))
  echo "[time] $t: ${secs[-1]}s (cpu ${cpus[-1]}s)"
  if [ "$rc" -ne 0 ]; then
    summary
    echo "make test: FAILED in $t" >&2
    exit "$rc"
  fi
done
summary
