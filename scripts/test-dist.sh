#!/usr/bin/env bash
# Verifies the artifacts of scripts/dist.sh, as users get them (make test-dist / test-dist-smoke):
#  1. one version (the workspace's) in every artifact; SHA256SUMS matches the files;
#  2. auditwheel show: the manylinux_2_17 / musllinux_1_2 tag of every wheel; objdump -T: no
#     GLIBC_ symbol version above 2.17 in any gnu artifact (.so in the wheels, .node, CLI binary);
#  3. the Lambda-style install (pip --platform manylinux2014_<arch> --only-binary=:all: --target)
#     accepts the wheels; a wheel whose extension cannot import names the platform tag it needed;
#  4. x86_64: the wheel and the CLI wheel in a fresh venv (the vector suite, the README's Python
#     quickstart with its "create the keyring" command, the package quickstart, the `keycustody`
#     console script), the npm tarballs in a fresh npm project (registry unreachable: the shared
#     JS suite, the README's plain-JS Node blocks, `npx keycustody`); removing the platform
#     package gives the loader's (and npx's) message naming the supported targets;
#  5. aarch64 under qemu-user-static with Debian's arm64 python3 and nodejs
#     (scripts/arm64-root.sh, cached under ~/.cache/keycustody): the vectors and one quickstart per
#     package (the wheel, keycustody-linux-arm64-gnu; full: the CLI of both).
# --smoke (make test-dist-smoke, in make test): the same checks on what `dist.sh --smoke` builds
# (both gnu wheels and npm platform packages, the x86_64 CLI; no sdist, wasm, musl or arm64 CLI).
# Every tool it needs is installed or it fails: nothing is skipped.
# Usage: scripts/test-dist.sh [--smoke] DIST_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
MODE=full
[ "${1:-}" = "--smoke" ] && { MODE=smoke; shift; }
DIST="$(cd "${1:-dist}" && pwd)"
export PATH="$ROOT/.venv/bin:$PATH"
VERSION="$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml","rb"))["workspace"]["package"]["version"])')"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kc-test-dist.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
ARM_ROOT="$(bash scripts/arm64-root.sh --path)"
passed=0
ok() { passed=$((passed + 1)); echo "ok $passed - $* [${SECONDS}s]"; }
die() { echo "FAIL: $*" >&2; exit 1; }
# Every tool this needs, or a loud failure (qemu-aarch64-static: installed by scripts/arm64-root.sh).
for t in objdump auditwheel sha256sum node npm npx; do
  command -v "$t" >/dev/null || die "$t is missing (binutils, .venv's auditwheel from tools/release-requirements.txt, nodejs/npm)"
done
# The base interpreter, not .venv (whose editable keycustody must not be what is tested).
HOST_PY="$(python3 -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')"
PYTEST_VERSION=9.2.0  # pure Python; the same pin for the fresh venv and the arm64 site

ARCHS=(x86_64 aarch64)
# The archs whose CLI is built (wheel keycustody_cli, binary in the npm platform package).
CLI_ARCHS=(x86_64); [ "$MODE" = full ] && CLI_ARCHS=(x86_64 aarch64)
has_cli() { [[ " ${CLI_ARCHS[*]} " == *" $1 "* ]]; }
npm_arch() { [ "$1" = x86_64 ] && echo x64 || echo arm64; }
echo "== test-dist ($MODE): $DIST, version $VERSION"

# ---- 1. versions and checksums ---------------------------------------------------------------
( cd "$DIST" && sha256sum --quiet -c SHA256SUMS ) || die "SHA256SUMS does not match $DIST"
listed="$(cut -d' ' -f3 "$DIST/SHA256SUMS" | sort)"
present="$(cd "$DIST" && find python npm -type f | sort)"
[ "$listed" = "$present" ] || die "SHA256SUMS does not list exactly the files of $DIST"
ok "SHA256SUMS lists and matches all $(wc -l <<<"$present") artifacts"
want_npm=(keycustody); [ "$MODE" = full ] && want_npm+=(keycustody-wasm)
want_py() { echo keycustody; has_cli "$1" && echo keycustody_cli; true; }
for a in "${ARCHS[@]}"; do
  for n in $(want_py "$a"); do ls "$DIST"/python/"$n-$VERSION"-*manylinux_2_17_"$a"*.whl >/dev/null || die "no $n $a manylinux_2_17 wheel"; done
  want_npm+=("keycustody-linux-$(npm_arch "$a")-gnu")
done
[ "$MODE" = full ] && { ls "$DIST/python/keycustody-$VERSION.tar.gz" >/dev/null || die "no sdist"; }
for n in "${want_npm[@]}"; do [ -f "$DIST/npm/$n-$VERSION.tgz" ] || die "no npm tarball $n-$VERSION.tgz"; done
python3 - "$DIST" "$VERSION" <<'PY' || die "an artifact carries another version than the workspace's"
import json, pathlib, re, sys, tarfile, zipfile
dist, version = pathlib.Path(sys.argv[1]), sys.argv[2]
for w in sorted((dist / "python").glob("*.whl")):
    with zipfile.ZipFile(w) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        got = re.search(r"^Version: (.*)$", z.read(meta).decode(), re.M).group(1)
    assert got == version, (w.name, got)
for s in sorted((dist / "python").glob("*.tar.gz")):
    with tarfile.open(s) as t:
        pkg = next(m for m in t.getnames() if m.endswith("/PKG-INFO") and m.count("/") == 1)
        got = re.search(r"^Version: (.*)$", t.extractfile(pkg).read().decode(), re.M).group(1)
    assert got == version, (s.name, got)
for n in sorted((dist / "npm").glob("*.tgz")):
    with tarfile.open(n) as t:
        p = json.load(t.extractfile("package/package.json"))
    assert p["version"] == version, (n.name, p["version"])
    for dep, v in p.get("optionalDependencies", {}).items():
        assert v == version, (n.name, dep, v)
        assert (dist / "npm" / f"{dep}-{version}.tgz").exists(), (n.name, "lists", dep, "which is not built")
PY
ok "every wheel, sdist and npm tarball (and every optionalDependency) is version $VERSION"
if [ "$MODE" = full ]; then
  # The sdist builds from source: it holds the workspace pieces the extension needs, lock included
  # (building it is a full Rust build; the release workflow's source check does that).
  python3 - "$DIST/python/keycustody-$VERSION.tar.gz" <<'PY' || die "the sdist lacks what a source build needs"
import sys, tarfile
names = {n.split("/", 1)[1] for n in tarfile.open(sys.argv[1]).getnames() if "/" in n}
need = {"pyproject.toml", "Cargo.toml", "Cargo.lock", "PKG-INFO"}
assert need <= names, need - names
for piece in ("core/src/lib.rs", "core/Cargo.toml", "bindings-python/Cargo.toml", "bindings-python/src/lib.rs", "python/keycustody/__init__.py"):
    assert any(n.endswith(piece) for n in names), piece
PY
  ok "the sdist holds pyproject.toml, Cargo.lock, the core crate and the binding's sources"
fi

# ---- 2. tags and glibc symbol versions -------------------------------------------------------
mkdir -p "$WORK/x"
max_glibc() { objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1; }
check_glibc() { # file label
  local m; m="$(max_glibc "$1")"
  [ -n "$m" ] || die "objdump -T found no GLIBC_ symbol versions in $2 (not a dynamic glibc binary?)"
  [ "$(printf '%s\n2.17\n' "$m" | sort -V | tail -n1)" = 2.17 ] || die "$2 needs GLIBC_$m (> 2.17)"
  ok "objdump -T: $2 needs at most GLIBC_$m"
}
for w in "$DIST"/python/*.whl; do
  b="$(basename "$w")"
  tag="$(grep -oE '(many|musl)linux_[0-9]+_[0-9]+_(x86_64|aarch64)' <<<"$b" | head -n1)"
  [ -n "$tag" ] || die "$b has no manylinux_X_Y / musllinux_X_Y tag"
  show="$(auditwheel show "$w" 2>&1)" || die "auditwheel show $b failed: $show"
  grep -q "\"$tag\"" <<<"$show" || die "auditwheel show $b does not report $tag: $show"
  ok "auditwheel show: $b is consistent with $tag"
  if [[ "$tag" == manylinux* ]]; then
    d="$WORK/x/$b"; mkdir -p "$d"; python3 -m zipfile -e "$w" "$d"
    while IFS= read -r f; do check_glibc "$f" "$b:${f#"$d"/}"; done < <(find "$d" -type f \( -name '*.so' -o -path '*.data/scripts/*' \))
  fi
done
for t in "$DIST"/npm/keycustody-linux-*-gnu-"$VERSION".tgz; do
  b="$(basename "$t")"; d="$WORK/x/$b"; mkdir -p "$d"; tar -xzf "$t" -C "$d"
  n=0
  for f in "$d"/package/*.node "$d"/package/keycustody; do [ -f "$f" ] || continue; check_glibc "$f" "$b:${f#"$d"/package/}"; n=$((n + 1)); done
  want=1; case "$b" in *-x64-*) has_cli x86_64 && want=2 ;; *-arm64-*) has_cli aarch64 && want=2 ;; esac
  [ "$n" -eq "$want" ] || die "$b holds $n of the .node and the keycustody CLI, not $want"
done

# ---- 3. the Lambda-style install, and a wheel that cannot import -----------------------------
for a in "${ARCHS[@]}"; do
  for n in $(want_py "$a"); do
    tgt="$WORK/lambda-$n-$a"
    python3 -m pip install -q --disable-pip-version-check --no-index --find-links "$DIST/python" \
      --platform "manylinux2014_$a" --implementation cp --python-version 3.11 --only-binary=:all: \
      --target "$tgt" "${n//_/-}==$VERSION" || die "pip --platform manylinux2014_$a --only-binary=:all: refuses $n"
    ok "Lambda-style pip install --platform manylinux2014_$a --only-binary=:all: --target accepts $n"
  done
done
# The x86_64 Lambda install, with its extension replaced by bytes that are no shared object.
broken="$WORK/lambda-keycustody-x86_64"
so="$(echo "$broken"/keycustody/_native*.so)"; cp "$so" "$WORK/native.so.good"
printf 'not an ELF file\n' > "$so"
out="$(cd "$WORK" && PYTHONPATH="$broken" "$HOST_PY" -c 'import keycustody' 2>&1)" && die "a broken extension imported"
grep -q 'needs the platform tag .*cp39-abi3-manylinux_2_17_x86_64' <<<"$out" || die "the import error does not name the tag: $out"
ok "a damaged extension's ImportError names the platform tag it needed (manylinux_2_17_x86_64)"
cp "$WORK/native.so.good" "$so"
out="$(cd "$WORK" && PYTHONPATH="$WORK/lambda-keycustody-aarch64" "$HOST_PY" -c 'import keycustody' 2>&1)" && die "the aarch64 wheel imported on x86_64"
grep -q 'needs the platform tag .*cp39-abi3-manylinux_2_17_aarch64' <<<"$out" || die "the import error does not name the tag: $out"
grep -q 'this interpreter runs on linux x86_64' <<<"$out" || die "the import error does not name this platform: $out"
ok "the aarch64 wheel on x86_64: its ImportError names manylinux_2_17_aarch64 and this platform"

# ---- 4. x86_64: a fresh venv, a fresh npm project --------------------------------------------
PYTESTS=(tests/test_vectors.py "tests/test_readme.py::test_readme_quickstart_runs" "tests/test_readme.py::test_package_readme_quickstart_runs")
"$HOST_PY" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check "pytest==$PYTEST_VERSION" || die "pytest $PYTEST_VERSION does not install"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check --no-index --find-links "$DIST/python" \
  "keycustody==$VERSION" "keycustody-cli==$VERSION" || die "the wheels do not install in a fresh venv"
where="$(cd "$WORK" && "$WORK/venv/bin/python" -c 'import keycustody; print(keycustody.__file__)')"
[[ "$where" == "$WORK/venv/lib/"*"/site-packages/keycustody/__init__.py" ]] || die "keycustody imports from $where, not the fresh venv"
( cd "$WORK" && "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider --rootdir "$ROOT/bindings-python" \
    "${PYTESTS[@]/#/$ROOT/bindings-python/}" ) || die "the vector suite / quickstarts fail on the installed wheel"
ok "fresh venv: the x86_64 wheel runs the vector suite and both README quickstarts (from $where)"
( cd "$WORK" && KC_DIST_DIR="$DIST" KC_DIST_VERSION="$VERSION" "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider \
    --rootdir "$ROOT/tests/release" "$ROOT/tests/release/test_python_installed.py" ) \
  || die "the README's Python quickstart (sh block and python blocks) fails on the installed wheel"
ok "fresh venv: the README's Python quickstart as a script: pip install keycustody, its export KEYCUSTODY_KEYRING command, the blocks"

cli_quickstart() { # runner... (prints nothing secret: the keyring stays in files)
  local d; d="$(mktemp -d "$WORK/cli.XXXX")"
  "$@" --version | grep -qx "keycustody $VERSION" || die "keycustody --version is not $VERSION"
  KEYCUSTODY_KEYRING_FILE="$d/keyring.json" "$@" keys generate >/dev/null
  local sealed; sealed="$(printf 'sk-or-v1-quickstart' | KEYCUSTODY_KEYRING_FILE="$d/keyring.json" "$@" seal --owner acme --context k)"
  [[ "$sealed" == kc1.* ]] || die "keycustody seal did not print a kc1 envelope"
  [ "$(printf '%s' "$sealed" | KEYCUSTODY_KEYRING_FILE="$d/keyring.json" "$@" open --owner acme --context k)" = sk-or-v1-quickstart ] || die "keycustody open did not round-trip"
  printf '%s' "$sealed" | KEYCUSTODY_KEYRING_FILE="$d/keyring.json" "$@" open --owner globex --context k >/dev/null 2>&1 && die "another owner opened the envelope"
  "$@" demo --rows 300 --tenants 7 --dir "$d/demo" > "$d/demo.out" 2>&1 || { cat "$d/demo.out" >&2; die "keycustody demo failed"; }
}
[ -x "$WORK/venv/bin/keycustody" ] || die "pip install keycustody-cli put no keycustody console script in the venv"
cli_quickstart "$WORK/venv/bin/keycustody"
ok "fresh venv: pip's keycustody-cli runs --version, keys generate, seal/open and the demo (seal, rotate, rewrap, retire)"

# A fresh npm project: the tarballs as file: dependencies (the platform ones also as overrides, so
# npm resolves the optionalDependencies to them), the registry pointed at a closed port.
npm_project() { # dir npm-arch [npm flags...]
  local dir="$1" cpu="$2"; shift 2
  mkdir -p "$dir"
  node -e '
    const fs = require("fs"), [dir, dist, version, cpu] = process.argv.slice(1)
    const tgz = (n) => `file:${dist}/npm/${n}-${version}.tgz`
    const names = fs.readdirSync(`${dist}/npm`).map((f) => f.slice(0, -`-${version}.tgz`.length))
    const plat = names.filter((n) => /^keycustody-(linux|darwin|win32)-/.test(n))
    const deps = { keycustody: tgz("keycustody") }
    if (names.includes("keycustody-wasm")) deps["keycustody-wasm"] = tgz("keycustody-wasm")
    const overrides = Object.fromEntries(plat.map((n) => [n, tgz(n)]))
    fs.writeFileSync(`${dir}/package.json`, JSON.stringify({ name: "dist-app", private: true, type: "module", dependencies: deps, overrides }, null, 2))
  ' "$dir" "$DIST" "$VERSION" "$cpu"
  ( cd "$dir" && npm install --no-audit --no-fund --silent --registry=http://127.0.0.1:9/ --fetch-retries=0 --cpu="$cpu" --os=linux --libc=glibc "$@" ) \
    || die "the npm tarballs do not install into a fresh project ($cpu) without the registry"
  [ -d "$dir/node_modules/keycustody-linux-$cpu-gnu" ] || die "npm did not install keycustody-linux-$cpu-gnu ($cpu)"
}
P="$WORK/app"
npm_project "$P" x64
ok "fresh npm project: the tarballs install with the registry unreachable"
( KC_DIST_PROJECT="$P" KC_DIST_TARGET=napi KC_DIST_VERSION="$VERSION" node --test tests/release/node-installed.test.mjs ) \
  || die "the shared JS suite / quickstart fail on the installed keycustody"
ok "fresh npm project: keycustody (linux-x64-gnu) runs the shared JS suite and the README's Node blocks (keyring command, rotation, errors, async, webhook routes)"
if [ "$MODE" = full ]; then
  ( KC_DIST_PROJECT="$P" KC_DIST_TARGET=wasm-node KC_DIST_VERSION="$VERSION" node --test tests/release/node-installed.test.mjs ) \
    || die "the shared JS suite / quickstart fail on the installed keycustody-wasm"
  ok "fresh npm project: keycustody-wasm runs the shared JS suite and its README quickstart"
fi
# npx from the project, offline and with the registry unreachable: the project's own bin.
npx_kc() { ( cd "$P" && npm_config_registry=http://127.0.0.1:9/ exec npx --offline --no-install keycustody "$@" ); }
cli_quickstart npx_kc
out="$(npx_kc rewrap --help 2>&1)" || die "npx keycustody rewrap --help failed: $out"
grep -q 'Usage: keycustody rewrap' <<<"$out" || die "npx keycustody rewrap --help printed no usage: $out"
ok "fresh npm project: npx --offline keycustody runs --version, keys generate, seal/open, the demo and rewrap --help"
# The platform package removed: the loader (and npx keycustody) name the package and the targets.
rm -rf "$P/node_modules/keycustody-linux-x64-gnu"
out="$(cd "$P" && node -e 'require("keycustody")' 2>&1)" && die "keycustody loaded without its platform package"
grep -q 'is the package keycustody-linux-x64-gnu, which is not installed' <<<"$out" || die "the loader's error does not name the package: $out"
grep -q "Install it: npm i keycustody-linux-x64-gnu@$VERSION" <<<"$out" || die "the loader's error does not say what to install: $out"
targets="$(cd "$DIST/npm" && ls keycustody-linux-*-"$VERSION".tgz | sed "s/^keycustody-//; s/-$VERSION.tgz$//" | paste -sd, | sed 's/,/, /g')"
grep -q "Supported targets: $targets\." <<<"$out" || die "the loader's error does not list the supported targets ($targets): $out"
ok "platform package removed: require('keycustody') names keycustody-linux-x64-gnu and the targets ($targets)"
set +e; out="$(npx_kc --version 2>&1)"; rc=$?; set -e
[ "$rc" -eq 127 ] && grep -q 'keycustody-linux-x64-gnu' <<<"$out" && grep -q "Supported targets: $targets\." <<<"$out" \
  || die "npx keycustody without its platform package: rc $rc, $out"
ok "platform package removed: npx keycustody exits 127 naming keycustody-linux-x64-gnu and the targets"

# ---- 5. aarch64 under qemu-user-static --------------------------------------------------------
{
  bash scripts/arm64-root.sh "$ARM_ROOT"
  command -v qemu-aarch64-static >/dev/null || die "qemu-aarch64-static is missing (scripts/arm64-root.sh installs it)"
  arm() { qemu-aarch64-static -L "$ARM_ROOT" "$@"; }
  # Python: the Lambda-style aarch64 install plus pure-Python pytest, on Debian's arm64 python3.
  site="$WORK/lambda-keycustody-aarch64"
  python3 -m pip install -q --disable-pip-version-check --platform manylinux2014_aarch64 --only-binary=:all: \
    --python-version 3.11 --implementation cp --target "$site" "pytest==$PYTEST_VERSION" >/dev/null || die "pytest for aarch64 does not install"
  where="$(cd "$WORK" && PYTHONPATH="$site" arm "$ARM_ROOT/usr/bin/python3" -c 'import keycustody, platform; print(platform.machine(), keycustody.__file__)')"
  [ "$where" = "aarch64 $site/keycustody/__init__.py" ] || die "arm64 python imports keycustody as: $where"
  ( cd "$WORK" && PYTHONPATH="$site" arm "$ARM_ROOT/usr/bin/python3" -m pytest -q -p no:cacheprovider --rootdir "$ROOT/bindings-python" \
      "$ROOT/bindings-python/tests/test_vectors.py" "$ROOT/bindings-python/tests/test_readme.py::test_package_readme_quickstart_runs" ) \
    || die "the aarch64 wheel fails the vectors / quickstart under qemu"
  ok "qemu aarch64: Debian arm64 python3 runs the vector suite and the package quickstart on the aarch64 wheel"
  # `node` for what the tests spawn (the README's keyring command): the arm64 one, under qemu.
  mkdir -p "$WORK/arm-bin"
  printf '#!/bin/sh\nexec qemu-aarch64-static -L %q %q "$@"\n' "$ARM_ROOT" "$ARM_ROOT/usr/bin/node" > "$WORK/arm-bin/node"
  chmod 755 "$WORK/arm-bin/node"
}
if has_cli aarch64; then
  # The CLI: the binary of the aarch64 CLI wheel.
  cli="$(echo "$WORK/lambda-keycustody_cli-aarch64"/bin/keycustody)"
  [ -x "$cli" ] || die "the aarch64 CLI wheel installed no bin/keycustody"
  file -b "$cli" 2>/dev/null | grep -q aarch64 || [ "$(od -An -j18 -N2 -tu2 "$cli" | tr -d ' ')" = 183 ] || die "$cli is not an aarch64 ELF"
  cli_quickstart arm "$cli"
  ok "qemu aarch64: the CLI from the aarch64 wheel runs --version, keys generate, seal/open and the demo"
fi
{
  # Node: the arm64 platform package in its own project, on Debian's arm64 nodejs (the test file
  # run directly: `node --test` would spawn process.execPath, which only qemu can run).
  PA="$WORK/app-arm64"
  npm_project "$PA" arm64
  [ ! -d "$PA/node_modules/keycustody-linux-x64-gnu" ] || die "npm --cpu=arm64 installed the x64 package"
  # Debian 12's nodejs is 18: WebCrypto (used by the suite's host) is a global only with this flag.
  webcrypto=(); [ "$(arm "$ARM_ROOT/usr/bin/node" -p 'process.versions.node.split(".")[0]')" -lt 19 ] && webcrypto=(--experimental-global-webcrypto)
  ( PATH="$WORK/arm-bin:$PATH" KC_DIST_PROJECT="$PA" KC_DIST_TARGET=napi KC_DIST_VERSION="$VERSION" KC_JS_ONLY='^vectors' \
      arm "$ARM_ROOT/usr/bin/node" "${webcrypto[@]}" tests/release/node-installed.test.mjs ) \
    || die "keycustody-linux-arm64-gnu fails the vectors / quickstart under qemu"
  ok "qemu aarch64: Debian arm64 node runs the vector suite and the README's Node blocks on keycustody-linux-arm64-gnu"
}
if has_cli aarch64; then
  cli_quickstart arm "$PA/node_modules/keycustody-linux-arm64-gnu/keycustody"
  ok "qemu aarch64: the CLI from keycustody-linux-arm64-gnu runs --version, keys generate, seal/open and the demo"
fi
echo "test-dist ($MODE): $passed passed, 0 failed"
