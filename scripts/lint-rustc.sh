#!/usr/bin/env bash
# cargo's RUSTC_WORKSPACE_WRAPPER under `make` (exported by the Makefile): clippy's lints run in
# the compiler of the workspace crates' debug builds, as `cargo clippy` runs them in a check
# build. clippy-driver is rustc with clippy's lint passes; it compiles the same code, so
# `make test-rust` lints every workspace crate and target it builds (CLIPPY_ARGS: -D warnings)
# and the tests' build is the lint run: no second, check-only build of the ~450 dependencies
# (cargo's wrapper applies to workspace members only; dependencies build as before).
# Passed through to rustc unchanged: optimized builds (release, wasm, dist, ct: the debug
# build lints the same code) and other toolchains than the pinned one (nightly: fuzz,
# public-api), whose clippy may have other lints. Cargo keeps the wrapper in the crates'
# metadata, so these builds never share artifacts with a plain `cargo build` outside make.
# `lint-rustc.sh --self-test` (make clippy), in make's environment: a crate with a clippy
# warning must fail its debug build through this wrapper (which also needs CLIPPY_ARGS' -D
# warnings) and pass its release build; else lints would be skipped silently.
set -euo pipefail
if [ "${1:-}" = --self-test ]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  dir="${CARGO_TARGET_DIR:-$root/target}/lint-self-test"
  mkdir -p "$dir/src"
  printf '[package]\nname = "lint-self-test"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n' > "$dir/Cargo.toml"
  printf 'pub fn empty(v: &[u8]) -> bool {\n    v.len() == 0\n}\n' > "$dir/src/lib.rs"
  # The environment `make` gives every cargo command (the Makefile's exports), used as is.
  [ "${RUSTC_WORKSPACE_WRAPPER:-}" -ef "$0" ] \
    || { echo "FATAL: lint-rustc.sh: RUSTC_WORKSPACE_WRAPPER is not this script (run by make)" >&2; exit 1; }
  # Inside the repository (under its target dir), so that rust-toolchain.toml applies.
  cd "$dir"
  if out=$(cargo build -q --offline --target-dir "$dir/target" 2>&1); then
    echo "FATAL: lint-rustc.sh: a debug build with a clippy warning passed: lints are not running" >&2; exit 1
  fi
  grep -q 'len_zero' <<<"$out" || { echo "$out" >&2; echo "FATAL: lint-rustc.sh: the debug build failed, but not on the lint" >&2; exit 1; }
  cargo build -q --offline --release --target-dir "$dir/target" \
    || { echo "FATAL: lint-rustc.sh: an optimized build was linted (or failed)" >&2; exit 1; }
  echo "lint-rustc.sh: debug builds of the workspace are linted (-D warnings), optimized builds are not"
  exit 0
fi
rustc=$1
pinned=$(sed -n 's/^channel = "\(.*\)"$/\1/p' "$(dirname "$0")/../rust-toolchain.toml")
case "$rustc" in
  */toolchains/"$pinned"-*/bin/rustc) ;;
  *) exec "$@" ;;
esac
for a in "${@:2}"; do
  case "$a" in opt-level=* | -Copt-level=*) exec "$@" ;; esac
done
exec "${rustc%rustc}clippy-driver" "$@"
