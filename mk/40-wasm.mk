# wasm binding (bindings-wasm/): the npm package keycustody-wasm, tested in Node and in a
# real headless Chromium; bench-wasm compares it with WebCrypto in both. The shared JS suite
# (tests/js) runs against it in Node (test-js-wasm-node) and in Chromium (test-js-chromium,
# which fails when Chromium cannot start); test-wasm runs the package's own tests;
# test-wasm-matrix loads the packed package in each bundler and runtime (Vite, webpack, esbuild,
# bun build, Node, Bun, Deno, workerd via miniflare; bindings-wasm/test/matrix). wasm-build also
# builds the delivery module (bindings-wasm/delivery) and runs wasm-opt (npm binaryen) on both.
WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)"$$/\1/p' bindings-wasm/Cargo.toml)
TEST_TARGETS += test-wasm test-js-wasm-node test-js-chromium test-wasm-matrix
BENCH_TARGETS += bench-wasm bench-wasm-size

.PHONY: test-wasm test-js-wasm-node test-js-chromium test-wasm-matrix test-js bench-wasm bench-wasm-size wasm-build wasm-bindgen-cli wasm-deps wasm-matrix-deps

# The CLI must match the crate's pinned wasm-bindgen exactly. No --locked: one of the CLI's
# locked dependencies is not on the registry mirror (see TOOLCHAIN.md).
wasm-bindgen-cli: toolchain
	@if [ "$$(wasm-bindgen --version 2>/dev/null | awk '{print $$2}')" != "$(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 3 minutes)"; \
	  cargo install wasm-bindgen-cli --version "$(WASM_BINDGEN_VERSION)"; \
	fi
	@test "$$(wasm-bindgen --version | awk '{print $$2}')" = "$(WASM_BINDGEN_VERSION)" \
	  || { echo "FATAL: wasm-bindgen $(WASM_BINDGEN_VERSION) not on PATH" >&2; exit 1; }

# Node (>= 20), npm, Chromium, and the package's devDependencies (playwright-core, typescript,
# binaryen's wasm-opt for the build).
wasm-deps:
	@command -v node >/dev/null && command -v npm >/dev/null || bash scripts/ensure-apt.sh nodejs npm
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
	  || { echo "FATAL: Node >= 20 is needed for bindings-wasm tests (have $$(node --version))" >&2; exit 1; }
	bash scripts/ensure-apt.sh chromium
	cd bindings-wasm && npm ci --no-audit --no-fund

wasm-build: toolchain wasm-bindgen-cli wasm-deps
	bash bindings-wasm/build.sh

test-wasm: wasm-build wasm-deps
	@echo "== keycustody-wasm: package tests (bindings-wasm/test) =="
	cd bindings-wasm && node --test test/*.test.mjs

test-js-wasm-node: wasm-build wasm-deps
	@echo "== shared JS suite (tests/js), target wasm-node: keycustody-wasm in Node =="
	KC_JS_TARGET=wasm-node node --test tests/js/node.test.mjs

test-js-chromium: wasm-build wasm-deps
	@echo "== shared JS suite (tests/js), target wasm-chromium: keycustody-wasm in headless Chromium =="
	node --test tests/js/chromium.test.mjs

# The bundlers and runtimes of the matrix, pinned in bindings-wasm/test/matrix/package.json (npm
# packages that ship their binaries: esbuild, vite, webpack, bun, deno, miniflare/workerd).
# npm ci runs again only when the lock file changed since the last install (a stamp beside it).
wasm-matrix-deps: wasm-deps
	@cd bindings-wasm/test/matrix && if ! cmp -s package-lock.json node_modules/.kc-installed-lock; then \
	  npm ci --no-audit --no-fund && cp package-lock.json node_modules/.kc-installed-lock; fi
	@cd bindings-wasm/test/matrix && for t in esbuild vite webpack bun deno miniflare workerd; do \
	  test -e node_modules/.bin/$$t || { echo "FATAL: $$t is missing from bindings-wasm/test/matrix/node_modules" >&2; exit 1; }; done

test-wasm-matrix: wasm-build wasm-matrix-deps
	@echo "== keycustody-wasm: loaded in Vite, webpack, esbuild, bun build (Chromium), Node, Bun, Deno, workerd =="
	cd bindings-wasm && node --test test/matrix/*.test.mjs

# The shared suite on all three targets (make test runs each as its own part).
test-js: test-js-napi test-js-wasm-node test-js-chromium

bench-wasm: wasm-build wasm-deps
	mkdir -p bench-out
	cd bindings-wasm && node bench/run.mjs ../bench-out/wasm.md

# The shipped sizes (raw, gzip, brotli) of the full module and of keycustody-wasm/delivery,
# beside the same build without wasm-opt and with its name section (what shipped before), and
# the full module's code by crate: bench-out/wasm-size.md.
bench-wasm-size: wasm-build
	mkdir -p bench-out
	cd bindings-wasm && node bench/size.mjs ../bench-out/wasm-size.md
