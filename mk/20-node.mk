# Node binding (bindings-node/): npm package `keycustody`, napi-rs v3.
# `napi build --js native.js` generates the addon, its loader native.js and index.d.ts (all
# gitignored); index.js is the hand-written entry point over native.js (fast Keyring paths). The shared JS
# suite (tests/js: vectors, API, errors, garbage, no-secret, platform, interop with Rust) runs
# against it in test-js-napi; test-node runs the package's own tests (async forms, index.d.ts,
# README, manifest).
TEST_TARGETS += test-node test-js-napi
BENCH_TARGETS += bench-node

NODE_DIR := bindings-node
# Where cargo puts the interop example (honours CARGO_TARGET_DIR like cargo itself).
NODE_CARGO_TARGET := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)

.PHONY: node-deps node-build test-node test-js-napi bench-node

# node and npm from Debian if the machine has none (napi6 needs Node >= 10.20; tested on 20).
node-deps:
	@command -v node >/dev/null && command -v npm >/dev/null || bash scripts/ensure-apt.sh nodejs npm
	@node -e 'const [M,m]=process.versions.node.split(".").map(Number); if (M < 18) { console.error("FATAL: Node >= 18 required, found " + process.version); process.exit(1) }'

# `npm ci` only when node_modules is missing or older than the lock file.
$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package-lock.json $(NODE_DIR)/package.json | node-deps
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	touch $@

node-build: toolchain node-deps $(NODE_DIR)/node_modules/.package-lock.json
	cd $(NODE_DIR) && npx napi build --platform --profile $(BINDINGS_PROFILE) --js native.js -- --locked
	@test -s $(NODE_DIR)/index.d.ts -a -s $(NODE_DIR)/native.js || { echo "FATAL: napi build wrote no index.d.ts / native.js" >&2; exit 1; }

# test/kms.test.mjs runs examples/kms-wrap.mjs (@aws-sdk/client-kms, a devDependency) against a
# local moto KMS server (PyPI moto[server] in .venv, as mk/55-kms.mk installs it).
test-node: node-build
	@echo "== keycustody (napi): package tests (bindings-node/test) =="
	bash scripts/venv.sh -r bindings-python/examples/requirements.txt
	test -x .venv/bin/moto_server || { echo "FATAL: moto_server missing from .venv" >&2; exit 1; }
	cd $(NODE_DIR) && KEYCUSTODY_MOTO_SERVER=$(CURDIR)/.venv/bin/moto_server node --test test/

# The Rust interop examples are built by the suite itself (tests/js/node-host.mjs).
test-js-napi: node-build
	@echo "== shared JS suite (tests/js), target napi: keycustody in Node =="
	KC_JS_TARGET=napi node --test tests/js/node.test.mjs

# core_calls times the same core calls in Rust, for the per-call overhead rows.
bench-node: node-build
	mkdir -p bench-out
	cargo build --release --locked -q -p keycustody-node --example core_calls
	cd $(NODE_DIR) && node bench/bench.mjs $(CURDIR)/bench-out/node.md $(NODE_CARGO_TARGET)/release/examples/core_calls
