#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 60) and prints a Markdown table of the
# executions. Usage: fuzz/run.sh [SECONDS] [TARGET...]. Fails on the first crash (the input is
# kept in fuzz/artifacts/<target>/; turn it into a regression test, see ASSURANCE.md).
# fuzz/run.sh --tools: only install cargo-fuzz and check nightly; --build: also build the targets
# (what `make test` starts in the background, scripts/bg.sh), without running them.
set -euo pipefail
cd "$(dirname "$0")"
mode=run
case "${1:-}" in --tools) mode=tools; shift ;; --build) mode=build; shift ;; esac
secs=${1:-60}
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
rustup toolchain list | grep -q '^nightly' || { echo "fuzz: the nightly toolchain is required" >&2; exit 1; }
[ "$mode" = tools ] && exit 0
mapfile -t all < <(cargo +nightly fuzz list)
targets=("${@:-${all[@]}}")
[ "${#targets[@]}" -gt 0 ] || { echo "fuzz: no targets" >&2; exit 1; }
python3 seed_corpus.py "${targets[@]}"
# FUZZ_CODEGEN_UNITS (make fuzz-brief sets 16): cargo-fuzz's default is 1 codegen unit per crate
# in -O builds, which serialises LLVM inside each crate (core, the store, the CLI, at the end of
# the build); more units build faster and fuzz somewhat slower. `make fuzz` (the long run) keeps
# the default. The same value goes to `fuzz run` below, else it would rebuild every target.
cgu=(); [ -n "${FUZZ_CODEGEN_UNITS:-}" ] && cgu=(--codegen-units "$FUZZ_CODEGEN_UNITS")
cargo +nightly fuzz build -O ${cgu[@]+"${cgu[@]}"} >/dev/null
[ "$mode" = build ] && exit 0
mkdir -p target/logs
report=target/fuzz-report.md
{
  echo "| target | seconds | executions | exec/s | corpus entries | crashes |"
  echo "|---|---|---|---|---|---|"
} > "$report"
# FUZZ_JOBS targets at a time (default: the number of CPUs, at most 2; each libFuzzer run is
# one process on one core), so the brief run in `make test` uses both cores of a 2-core machine.
jobs=${FUZZ_JOBS:-$(( $(nproc) < 2 ? $(nproc) : 2 ))}
run_one() {
  local t=$1 log=target/logs/$1.log
  # FUZZ_SEED (make fuzz-brief sets 1): the same mutations every run, so `make test` is
  # reproducible; `make fuzz` leaves it unset (a new random seed each run).
  if ! cargo +nightly fuzz run -O ${cgu[@]+"${cgu[@]}"} "$t" -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $t FAILED (input saved under fuzz/artifacts/$t/)" >&2
    return 1
  fi
  local runs eps corpus
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  eps=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  corpus=$(find "corpus/$t" -type f | wc -l)
  echo "| $t | $secs | $runs | $eps | $corpus | 0 |" > "target/logs/$t.row"
  echo "fuzz: $t ok ($runs executions)"
}
# A target's row file is its success; the first failure stops new starts.
rm -f target/logs/*.row target/logs/failed
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  [ ! -e target/logs/failed ] || break
  { run_one "$t" || touch target/logs/failed; } &
done
wait
for t in "${targets[@]}"; do
  [ -e "target/logs/$t.row" ] || { echo "fuzz: $t did not pass (see above)" >&2; exit 1; }
done
for t in "${targets[@]}"; do cat "target/logs/$t.row" >> "$report"; done
cat "$report"
