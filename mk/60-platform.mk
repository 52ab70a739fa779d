# Platform pieces (issue 5): webhooks, replay guard, one-time codes, TOTP, per-tenant JWT,
# HPKE delivery, scrub, validation. Core Rust tests (core/tests/platform_*.rs) and the
# vector freshness test (xtask/tests/platform_fresh.rs) run in `test-rust`.
TEST_TARGETS += test-platform-interop
BENCH_TARGETS += bench-platform

PLATFORM_BIN := $(CURDIR)/target/debug/examples/platform_interop

.PHONY: test-platform-interop test-platform-python test-platform-node bench-platform
test-platform-interop: test-platform-python test-platform-node

# stripe, standardwebhooks, PyJWT, pyotp, pyhpke, pyca/cryptography, both directions.
test-platform-python: toolchain
	bash scripts/venv.sh -r tests/interop/requirements-platform.txt
	cargo build --locked -q -p keycustody --example platform_interop
	cd tests/interop && CARGO_TARGET_DIR=$(CURDIR)/target $(CURDIR)/.venv/bin/python -m pytest -q -p no:cacheprovider \
	  test_platform_webhooks.py test_platform_auth.py test_platform_delivery.py

# hpke-js (@hpke/core + @hpke/dhkem-x25519) both directions.
test-platform-node: toolchain
	cargo build --locked -q -p keycustody --example platform_interop
	cd tests/interop/node-hpke && npm ci --no-audit --no-fund --loglevel=error
	cd tests/interop/node-hpke && PLATFORM_INTEROP=$(PLATFORM_BIN) node --test

bench-platform: toolchain
	mkdir -p bench-out
	cargo run --locked -q --release -p keycustody --example platform_bench -- bench-out/platform.md
	cat bench-out/platform.md
