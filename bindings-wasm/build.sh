#!/usr/bin/env bash
# Builds the npm package's generated part into bindings-wasm/pkg/:
# the release wasm32 build of the keycustody-wasm crate, then wasm-bindgen --target web
# (one build for browsers, bundlers, edge runtimes and Node; node.js instantiates it from disk).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
want="$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' "$here/Cargo.toml")"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
if [ "$have" != "$want" ]; then
  echo "FATAL: wasm-bindgen CLI $want is needed (found: ${have:-none}); run: make wasm-bindgen-cli" >&2
  exit 1
fi
cd "$root"
cargo build --release --locked --target wasm32-unknown-unknown -p keycustody-wasm
rm -rf "$here/pkg"
wasm-bindgen --target web --out-dir "$here/pkg" --out-name keycustody_wasm \
  "$target_dir/wasm32-unknown-unknown/release/keycustody_wasm.wasm"
echo "built $(du -h "$here/pkg/keycustody_wasm_bg.wasm" | cut -f1) bindings-wasm/pkg/keycustody_wasm_bg.wasm"
