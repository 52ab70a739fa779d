# Core crate extras (owned by the core issue). The core's Rust tests run in `test-rust`.
.PHONY: demo
demo: toolchain
	cargo run --release --locked -p keycustody-cli -- demo

# core's public API: `make public-api` rewrites core/public-api.txt from nightly rustdoc JSON;
# `make test` fails when the committed snapshot is stale, so every API change shows in review.
.PHONY: public-api test-public-api
public-api: ensure-nightly
	cargo run -q --release --locked --manifest-path tools/public-api/Cargo.toml

TEST_TARGETS += test-public-api
test-public-api: ensure-nightly
	cargo run -q --release --locked --manifest-path tools/public-api/Cargo.toml -- --check

# Vectors: regenerate with `make vectors`; `cargo test -p xtask` (in test-rust) fails on a stale file.
.PHONY: vectors test-vectors-fresh test-core-interop bench-core
vectors: toolchain
	cargo run --locked -q -p xtask -- vectors

# test-vectors-fresh is not in `make test`: test-rust runs the same tests (xtask's fresh checks,
# core's vector tests) over the whole workspace.
TEST_TARGETS += test-core-interop
test-vectors-fresh: toolchain
	cargo test --locked -q -p xtask
	cargo test --locked -q -p keycustody --test vectors --test wrapped_vectors

# kc1 and wrapped keyrings (DESIGN §7) against independent Python implementations
# (pyca/cryptography, argon2-cffi), both directions, and every wrapped_keyring_v1.json case.
# The audit chain (docs/audit.md): every audit_v1.json case recomputed by audit_ref.py.
test-core-interop: toolchain
	bash scripts/venv.sh -r tests/interop/requirements-core.txt
	cargo build --locked -q $(CARGO_WS) --example interop
	.venv/bin/python -m pytest -q tests/interop/test_kc1_interop.py tests/interop/test_wrapped_interop.py tests/interop/test_audit_interop.py

# Tenant keyrings (DESIGN §7): cached tenant open vs platform open, first open of a tenant;
# writes bench-out/custody.md.
BENCH_TARGETS += bench-custody
.PHONY: bench-custody
bench-custody: toolchain
	cargo bench --locked -p keycustody --bench custody -- --warm-up-time 0.5 --measurement-time 2 --noplot
	mkdir -p bench-out
	python3 core/benches/custody_report.py "$${CARGO_TARGET_DIR:-target}/criterion" > bench-out/custody.md
	cat bench-out/custody.md

# kc1 seal/open beside raw ring (+ hkdf) in the same run; writes bench-out/core.md.
BENCH_TARGETS += bench-core
bench-core: toolchain
	cargo bench --locked -p keycustody --bench envelope -- --warm-up-time 0.5 --measurement-time 2 --noplot
	mkdir -p bench-out
	python3 core/benches/report.py "$${CARGO_TARGET_DIR:-target}/criterion" > bench-out/core.md
	cat bench-out/core.md
