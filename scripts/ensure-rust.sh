#!/usr/bin/env bash
# Idempotent: the pinned toolchain's components and the wasm target.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
cargo fetch --locked >/dev/null 2>&1 || cargo fetch --locked
