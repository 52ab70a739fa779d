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
set -euo pipefail
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
