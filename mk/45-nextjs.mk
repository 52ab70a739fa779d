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

# Next.js 16 needs Node >= 20.9. `npm ci` only when node_modules is missing or older than the lock
# (it takes a minute here); then the two repo packages are refreshed from this build as `npm ci`
# installs them (install-links): `npm pack` of each, unpacked over node_modules/<name>.
$(NEXTJS_DIR)/node_modules/.package-lock.json: $(NEXTJS_DIR)/package-lock.json $(NEXTJS_DIR)/package.json | node-deps
	cd $(NEXTJS_DIR) && npm ci --no-audit --no-fund
	touch $@

nextjs-deps: node-build wasm-build $(NEXTJS_DIR)/node_modules/.package-lock.json
	@node -e 'const [M,m]=process.versions.node.split(".").map(Number); if (M < 20 || (M === 20 && m < 9)) { console.error("FATAL: Next.js 16 needs Node >= 20.9, found " + process.version); process.exit(1) }'
	bash scripts/ensure-apt.sh chromium
	@set -e; tmp=$$(mktemp -d); for p in keycustody:bindings-node keycustody-wasm:bindings-wasm; do \
	  name=$${p%%:*}; dir=$${p#*:}; \
	  tgz=$$(cd $$dir && npm pack --silent --pack-destination $$tmp | tail -1); \
	  rm -rf $(NEXTJS_DIR)/node_modules/$$name && mkdir -p $(NEXTJS_DIR)/node_modules/$$name; \
	  tar -xzf $$tmp/$$tgz --strip-components=1 -C $(NEXTJS_DIR)/node_modules/$$name; \
	  echo "examples/nextjs: node_modules/$$name from $$dir ($$tgz)"; \
	done; rm -rf $$tmp
	@test -f $(NEXTJS_DIR)/node_modules/keycustody/index.js && test -f $(NEXTJS_DIR)/node_modules/keycustody-wasm/pkg/keycustody_wasm_bg.wasm \
	  || { echo "FATAL: the built keycustody packages are not in examples/nextjs/node_modules" >&2; exit 1; }

test-nextjs: nextjs-deps
	@echo "== examples/nextjs: next build (Turbopack, webpack) + next start, driven in Chromium =="
	cd $(NEXTJS_DIR) && node --test --test-concurrency=1 test/readme.test.mjs test/app.test.mjs

bench-nextjs: nextjs-deps
	mkdir -p bench-out
	cd $(NEXTJS_DIR) && node bench/bench.mjs $(CURDIR)/bench-out/nextjs.md
