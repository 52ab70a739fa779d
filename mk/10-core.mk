# Core crate extras (owned by the core issue). The core's Rust tests run in `test-rust`.
.PHONY: demo
demo: toolchain
	cargo run --release --locked -p keycustody-cli -- demo
