# Core crate extras (owned by the core issue). The core's Rust tests run in `test-rust`.
.PHONY: demo
demo: toolchain
	cargo run --release --locked -p keycustody-cli -- demo

# Vectors: regenerate with `make vectors`; `cargo test -p xtask` (in test-rust) fails on a stale file.
.PHONY: vectors test-vectors-fresh test-core-interop bench-core
vectors: toolchain
	cargo run --locked -q -p xtask -- vectors

TEST_TARGETS += test-vectors-fresh test-core-interop
test-vectors-fresh: toolchain
	cargo test --locked -q -p xtask
	cargo test --locked -q -p keycustody --test vectors

# kc1 against an independent Python implementation (pyca/cryptography), both directions.
test-core-interop: toolchain
	bash scripts/venv.sh -r tests/interop/requirements-core.txt
	cargo build --locked -q -p keycustody --example interop
	.venv/bin/python -m pytest -q tests/interop/test_kc1_interop.py
