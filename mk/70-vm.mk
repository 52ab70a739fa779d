# vm: vault, audit log and LLM auth proxy (issue 6).
# The Rust unit and CLI tests (cli/tests/vm_*.rs; they need openssl and script(1), both
# present on Debian) run in `test-rust`; test-vm adds the end-to-end run of the official
# anthropic, openai and google-genai Python SDKs through the proxy.
.PHONY: test-vm bench-vm
TEST_TARGETS += test-vm
BENCH_TARGETS += bench-vm

test-vm: toolchain
	bash scripts/ensure-apt.sh openssl bsdutils
	bash scripts/venv.sh -r tests/interop/requirements-vm.txt
	cargo test --locked -q $(CARGO_WS) --no-run --test vm_proxy
	KEYCUSTODY_BIN=$(CURDIR)/target/debug/keycustody .venv/bin/python -m pytest -q tests/interop/test_proxy_sdk.py

bench-vm: toolchain
	mkdir -p bench-out
	cargo build --release --locked -q -p keycustody-cli --bin keycustody --example vm_bench
	target/release/examples/vm_bench target/release/keycustody bench-out/vm.md
