# A real Next.js 16 app (examples/nextjs/: App Router, TypeScript strict) using the repo's two JS
# packages as a user installs them: `npm ci` packs bindings-node and bindings-wasm (file:
# dependencies with install-links, so node_modules holds a copy of each package's "files", as
# from the registry). test-nextjs runs `next build` with Turbopack and with webpack, each without
# KEYCUSTODY_KEYRING, serves it with `next start` on 127.0.0.1 and drives it in headless Chromium
# (examples/nextjs/test). bench-nextjs times seal/open routes against node:crypto by hand.
TEST_TARGETS += test-nextjs
BENCH_TARGETS += bench-nextjs

NEXTJS_DIR := examples/nextjs

.PHONY: nextjs-deps test-nextjs bench-nextjs

# Next.js 16 needs Node >= 20.9. One `npm ci` per run: it also copies the freshly built packages.
nextjs-deps: node-build wasm-build
	@node -e 'const [M,m]=process.versions.node.split(".").map(Number); if (M < 20 || (M === 20 && m < 9)) { console.error("FATAL: Next.js 16 needs Node >= 20.9, found " + process.version); process.exit(1) }'
	bash scripts/ensure-apt.sh chromium
	cd $(NEXTJS_DIR) && npm ci --no-audit --no-fund
	@test -f $(NEXTJS_DIR)/node_modules/keycustody/index.js && test -f $(NEXTJS_DIR)/node_modules/keycustody-wasm/pkg/keycustody_wasm_bg.wasm \
	  || { echo "FATAL: npm ci did not install the built keycustody packages" >&2; exit 1; }

test-nextjs: nextjs-deps
	@echo "== examples/nextjs: next build (Turbopack, webpack) + next start, driven in Chromium =="
	cd $(NEXTJS_DIR) && node --test --test-concurrency=1 test/app.test.mjs

bench-nextjs: nextjs-deps
	mkdir -p bench-out
	cd $(NEXTJS_DIR) && node bench/bench.mjs $(CURDIR)/bench-out/nextjs.md
