#!/usr/bin/env bash
# Builds the release artifacts into $DIST_DIR (default dist/, gitignored), from this machine:
#   python/  keycustody-V-cp39-abi3-manylinux_2_17_{x86_64,aarch64}.whl (+ musllinux_1_2 when they
#            build), keycustody-V.tar.gz (sdist), keycustody_cli-V-py3-none-<same tags>.whl (the CLI)
#   npm/     keycustody-V.tgz (loader + `npx keycustody`), keycustody-linux-{x64,arm64}-gnu-V.tgz
#            (the .node and the CLI binary; -musl when they build), keycustody-wasm-V.tgz
#   SHA256SUMS, and a listing (artifact, size, sha256) on stdout.
# Usage: scripts/dist.sh [--smoke]   --smoke: for `make test-dist-smoke` (in `make test`): the gnu
# wheels and npm packages for x86_64 and aarch64 and the x86_64 CLI (wheel, and binary in the
# npm package), built with the `dist-smoke` cargo profile (release without LTO, 16 codegen units:
# the packaging and the glibc floor are what it checks); no sdist, no wasm, no musl, no arm64 CLI.
# Tools: .venv with tools/release-requirements.txt (ziglang, cargo-zigbuild, maturin, auditwheel, all
# pinned), bindings-node's npm ci (@napi-rs/cli pinned by its lock), the rustup targets.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
MODE=full
[ "${1:-}" = "--smoke" ] && MODE=smoke
DIST="${DIST_DIR:-$ROOT/dist}"
mkdir -p "$DIST"; DIST="$(cd "$DIST" && pwd)"
# Its own target dir: the zig-linked builds do not invalidate the everyday ones in target/.
export CARGO_TARGET_DIR="${DIST_CARGO_TARGET_DIR:-$ROOT/target/dist}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export PATH="$ROOT/.venv/bin:$PATH"
STAGE="$CARGO_TARGET_DIR/stage-$MODE"  # per mode: a smoke run beside a full one

VERSION="$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml","rb"))["workspace"]["package"]["version"])')"
GNU=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu)
# musl: DIST_MUSL=1 tries them (six more builds, ~30 min here); by default they are listed as
# not attempted, never silently left out.
MUSL=(); [ "${DIST_MUSL:-0}" = 1 ] && MUSL=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
PROFILE=(--release)
if [ "$MODE" = smoke ]; then MUSL=(); PROFILE=(--profile dist-smoke); fi
# The targets whose CLI is built (in a wheel, and into their npm platform package).
CLI=("${GNU[@]}"); [ "$MODE" = smoke ] && CLI=(x86_64-unknown-linux-gnu)

# napi-rs platform suffix of a Rust target triple.
suffix() {
  case "$1" in
    x86_64-unknown-linux-gnu) echo linux-x64-gnu ;; aarch64-unknown-linux-gnu) echo linux-arm64-gnu ;;
    x86_64-unknown-linux-musl) echo linux-x64-musl ;; aarch64-unknown-linux-musl) echo linux-arm64-musl ;;
    *) echo "FATAL: no npm platform for $1" >&2; return 1 ;;
  esac
}

echo "== make dist ($MODE): keycustody $VERSION into $DIST"
bash scripts/ensure-rust.sh >/dev/null
bash scripts/venv.sh -r tools/release-requirements.txt
rustup target add "${GNU[@]}" ${MUSL[@]+"${MUSL[@]}"} >/dev/null 2>&1 \
  || { echo "FATAL: rustup target add ${GNU[*]} ${MUSL[*]} failed" >&2; exit 1; }
for t in zig maturin cargo-zigbuild auditwheel; do
  command -v "$t" >/dev/null || [ "$t" = zig ] || { echo "FATAL: $t missing from .venv" >&2; exit 1; }
done
python -m ziglang version >/dev/null || { echo "FATAL: ziglang does not run" >&2; exit 1; }
( cd bindings-node && { [ -d node_modules/@napi-rs/cli ] && [ node_modules/.package-lock.json -nt package-lock.json ]; } \
    || npm ci --no-audit --no-fund >/dev/null )
cargo fetch --locked >/dev/null
rm -rf "$DIST/python" "$DIST/npm" "$DIST/SHA256SUMS" "$STAGE"
mkdir -p "$DIST/python" "$DIST/npm" "$STAGE/napi" "$STAGE/cli"

# The smoke builds the wheel's extension and the .node of a target in one target dir: they must
# resolve their shared dependencies alike, or cargo compiles those twice (scripts/check-shared-units.py).
if [ "$MODE" = smoke ]; then
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  python3 scripts/check-shared-units.py dist-smoke "${GNU[@]}"
fi

built=(); missing=()
# $1 = description; rest = command. A gnu build failing is fatal; musl ones are optional (the
# issue: "musllinux if they build"): their failure is listed, loudly, and the build goes on.
try_musl() {
  local what="$1"; shift
  if "$@" >"$STAGE/musl.log" 2>&1; then built+=("$what"); else
    echo "NOTE: $what does not build here (last lines of the log follow); it is not in this release" >&2
    tail -n 5 "$STAGE/musl.log" >&2; missing+=("$what"); return 1
  fi
}

# ---- Python: the abi3 extension wheels, and the CLI as a `bin` wheel -------------------------
wheel() { # target compat manifest [extra maturin args]
  local t="$1" compat="$2" manifest="$3"; shift 3
  maturin build "${PROFILE[@]}" --locked --quiet -m "$manifest" --target "$t" --zig \
    --compatibility "$compat" --out "$DIST/python" "$@"
}
# smoke: a `cargo` shim first on PATH records the environment maturin's zig gives cargo for the
# extension (its compiler, linker, ar and cmake wrappers for the target) into $STAGE/zigenv-<t>,
# for the .node's build below; then it runs the real cargo.
if [ "$MODE" = smoke ]; then
  mkdir -p "$STAGE/shim"
  cat > "$STAGE/shim/cargo" <<'SH'
#!/bin/sh
# dist.sh --smoke: record the build's environment (see dist.sh), then run the real cargo.
case "$1" in rustc|build) [ -n "${KC_ZIGENV_OUT:-}" ] && env -0 > "$KC_ZIGENV_OUT" ;; esac
PATH="${PATH#"$KC_SHIM_DIR":}" exec cargo "$@"
SH
  chmod +x "$STAGE/shim/cargo"
fi
for t in "${GNU[@]}"; do
  echo "[${SECONDS}s] -- wheel keycustody ($t, manylinux2014)"
  if [ "$MODE" = smoke ]; then
    KC_SHIM_DIR="$STAGE/shim" KC_ZIGENV_OUT="$STAGE/zigenv-$t" PATH="$STAGE/shim:$PATH" \
      wheel "$t" manylinux2014 bindings-python/Cargo.toml
    test -s "$STAGE/zigenv-$t" || { echo "FATAL: maturin's build environment for $t was not recorded" >&2; exit 1; }
  else
    wheel "$t" manylinux2014 bindings-python/Cargo.toml
  fi
done
for t in ${MUSL[@]+"${MUSL[@]}"}; do
  echo "[${SECONDS}s] -- wheel keycustody ($t, musllinux_1_2)"
  try_musl "wheel keycustody $t" wheel "$t" musllinux_1_2 bindings-python/Cargo.toml || true
done
if [ "$MODE" = full ]; then
  echo "[${SECONDS}s] -- sdist keycustody"
  maturin sdist -m bindings-python/Cargo.toml --out "$DIST/python"
fi

# ---- Node: the .node per target (glibc 2.17 via zig), the loader, the npm packages ------------
# full: its own target dir, cross-built by napi with cargo-zigbuild and stripped by napi, as the
# release workflow builds it. smoke: in the wheels' target dir, where the .node reuses every
# dependency the wheel's extension built, which takes three things: the same features (checked
# above), no `--strip` (its RUSTFLAGS change every fingerprint; the dist-smoke profile strips
# instead), and the same compiler wrappers: maturin's zig and cargo-zigbuild write the same
# wrappers into directories named after their own executables, and a different linker or CC
# path makes cargo rebuild everything (measured: 52 crates, AWS-LC among them). So napi runs a
# plain `cargo build` with the zig variables maturin gave the wheel's build (recorded above;
# maturin's PyO3 variables left out).
napi_dir="$CARGO_TARGET_DIR/napi"; strip=(--strip); cross=(-x)
[ "$MODE" = smoke ] && { napi_dir="$CARGO_TARGET_DIR"; strip=(); cross=(); }
napi() { # target-with-suffix
  local t="${1%.2.17}"
  (
    if [ "$MODE" = smoke ]; then
      set -- "$t"
      while IFS= read -r -d '' kv; do
        k="${kv%%=*}"
        case "$k" in PYO3_*|PYTHON_SYS_EXECUTABLE|PATH|KC_*) continue ;; esac
        [ -n "${!k+x}" ] || export "$kv"  # only what maturin added
      done < "$STAGE/zigenv-$t"
    fi
    cd bindings-node && CARGO_TARGET_DIR="$napi_dir" npx napi build --platform --js native.js "${PROFILE[@]}" ${strip[@]+"${strip[@]}"} ${cross[@]+"${cross[@]}"} \
      --target "$1" --output-dir "$STAGE/napi" -- --locked
  )
}
for t in "${GNU[@]}"; do
  echo "[${SECONDS}s] -- napi keycustody.$(suffix "$t").node ($t.2.17)"
  napi "$t.2.17" >"$STAGE/napi.log" 2>&1 || { tail -n 30 "$STAGE/napi.log" >&2; echo "FATAL: napi build $t failed" >&2; exit 1; }
done
for t in ${MUSL[@]+"${MUSL[@]}"}; do
  echo "[${SECONDS}s] -- napi keycustody.$(suffix "$t").node ($t)"
  try_musl "napi $t" napi "$t" || true
done
test -s "$STAGE/napi/native.js" -a -s "$STAGE/napi/index.d.ts" || { echo "FATAL: napi build wrote no native.js / index.d.ts" >&2; exit 1; }
# ---- the CLI: `bin` wheels, and the same binaries for the npm platform packages --------------
# (full: its own target dir per target: its dependencies are mostly its own, and the targets can
# then build side by side, e.g. in the release workflow; smoke: the wheels' dir, whose zig
# settings are the same, so the dependencies it shares with the extension are built once.)
for t in "${CLI[@]}"; do
  echo "[${SECONDS}s] -- wheel keycustody-cli ($t, manylinux2014)"
  d="$CARGO_TARGET_DIR/cli-$t"; [ "$MODE" = smoke ] && d="$CARGO_TARGET_DIR"
  CARGO_TARGET_DIR="$d" wheel "$t" manylinux2014 cli/Cargo.toml --bindings bin
done
for t in ${MUSL[@]+"${MUSL[@]}"}; do
  echo "[${SECONDS}s] -- wheel keycustody-cli ($t, musllinux_1_2)"
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR/cli-$t" try_musl "wheel keycustody-cli $t" wheel "$t" musllinux_1_2 cli/Cargo.toml --bindings bin || true
done
# The CLI binaries for npm are taken out of the CLI wheels (one build per target).
shopt -s nullglob
for w in "$DIST"/python/keycustody_cli-*.whl; do
  case "$w" in
    *manylinux_2_17_x86_64*) s=linux-x64-gnu ;; *manylinux_2_17_aarch64*) s=linux-arm64-gnu ;;
    *musllinux_1_2_x86_64*) s=linux-x64-musl ;; *musllinux_1_2_aarch64*) s=linux-arm64-musl ;;
    *) echo "FATAL: unexpected CLI wheel $w" >&2; exit 1 ;;
  esac
  mkdir -p "$STAGE/cli/$s"
  python3 - "$w" "$STAGE/cli/$s/keycustody" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.endswith(".data/scripts/keycustody")]
    assert len(names) == 1, names
    open(sys.argv[2], "wb").write(z.read(names[0]))
PY
  chmod 755 "$STAGE/cli/$s/keycustody"
done

node scripts/dist-npm.mjs "$VERSION" "$STAGE" "$DIST/npm" "$MODE"

# ---- wasm: the keycustody-wasm tarball (version stamped in a staging copy) --------------------
if [ "$MODE" = full ]; then
  echo "[${SECONDS}s] -- npm keycustody-wasm"
  make --no-print-directory -s wasm-build >"$STAGE/wasm.log" 2>&1 || { tail -n 30 "$STAGE/wasm.log" >&2; echo "FATAL: wasm build failed" >&2; exit 1; }
  mkdir -p "$STAGE/wasm"
  ( cd bindings-wasm && node -e 'for (const f of require("./package.json").files) console.log(f)' ) | while read -r f; do
    mkdir -p "$STAGE/wasm/$(dirname "$f")"; cp -r "bindings-wasm/${f%/}" "$STAGE/wasm/$(dirname "$f")/"
  done
  node -e 'const fs=require("fs"),p=JSON.parse(fs.readFileSync("bindings-wasm/package.json"));p.version=process.argv[1];delete p.devDependencies;delete p.scripts;fs.writeFileSync(process.argv[2]+"/package.json",JSON.stringify(p,null,2)+"\n")' "$VERSION" "$STAGE/wasm"
  ( cd "$STAGE/wasm" && npm pack --silent --pack-destination "$DIST/npm" >/dev/null )
fi

# ---- checksums and the listing ---------------------------------------------------------------
( cd "$DIST" && find python npm -type f | LC_ALL=C sort | xargs sha256sum > SHA256SUMS )
echo
printf '%-62s %10s  %s\n' artifact bytes sha256
while read -r sum file; do printf '%-62s %10s  %s\n' "$file" "$(stat -c %s "$DIST/$file")" "$sum"; done < "$DIST/SHA256SUMS"
echo "($(wc -l < "$DIST/SHA256SUMS") artifacts, version $VERSION; checksums in $DIST/SHA256SUMS)"
if [ ${#missing[@]} -gt 0 ]; then echo "NOT BUILT here (listed above): ${missing[*]}"; fi
if [ "$MODE" = full ] && [ "${DIST_MUSL:-0}" != 1 ]; then
  echo "NOT ATTEMPTED: musllinux_1_2 wheels and linux-*-musl npm packages (DIST_MUSL=1 make dist tries them)"
fi
