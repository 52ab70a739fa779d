# keycustody — `make demo` and `make test` are what a newcomer runs.
# Each piece of the project adds its own targets in mk/NN-<piece>.mk:
#   TEST_TARGETS  += test-<piece>    (run by `make test`, in file order)
#   BENCH_TARGETS += bench-<piece>   (run by `make bench`; writes bench-out/<piece>.md)
#   RUST_TEST_EXCLUDE += --exclude <crate>   (crates that cannot run as plain cargo tests)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
export CARGO_TERM_COLOR ?= never
export CARGO_NET_RETRY ?= 5

TEST_TARGETS :=
BENCH_TARGETS :=
RUST_TEST_EXCLUDE :=
# The selection every later cargo test/build in `make test` uses: the whole workspace, with test
# targets picked by --test/--example. `-p <crate>` alone resolves other features (resolver 2) and
# rebuilt tokio, serde and the AWS SDK a second and third time (~3 minutes of a run).
CARGO_WS = --workspace $(RUST_TEST_EXCLUDE)
# The cargo profile of the Node addon and the Python extension that the package tests load:
# release, as shipped (and benchmarked); `make test` sets bindings-test (Cargo.toml: no LTO).
BINDINGS_PROFILE ?= release
include $(sort $(wildcard mk/*.mk))

.PHONY: help test demo bench fmt-check clippy test-rust toolchain
help:
	@echo "make demo   - the main job on the embedded default (SQLite): seal, rotate, rewrap, retire"
	@echo "make test   - everything: fmt, clippy, Rust, Node, Python, wasm (Node + Chromium), interop, vectors"
	@echo "make bench  - every benchmark beside its baseline; regenerates BENCHMARKS.md"

toolchain:
	@bash scripts/ensure-rust.sh

# Each part runs in turn with its time printed (scripts/timed.sh), a summary at the end.
test:
	@BINDINGS_PROFILE=bindings-test bash scripts/timed.sh toolchain fmt-check test-background clippy test-rust $(TEST_TARGETS)
	@echo "make test: every language and suite passed"

fmt-check: toolchain
	cargo fmt --all --check

# The heavy builds needed only late in `make test` start here in the background, at nice 19
# (scripts/bg.sh), once the tools they need are installed: the fuzz targets (test-assurance) and
# the dist smoke's cross builds (test-dist-smoke), side by side (two builds leave fewer idle
# moments than one after the other: links, build scripts and single-crate LLVM work run on one
# core). They use the cores the parts in front leave idle (tests in Node, Python, Chromium,
# PostgreSQL: mostly one core or less). The part that needs one waits for it and builds in the
# foreground when it failed; run alone, every part builds as before. Beside them, the Python
# packages the parts install into .venv, in the parts' order and with their requirement files
# (scripts/venv.sh: one at a time, under a lock; each part still calls it, and waits for or redoes
# its own file), so the downloads overlap the builds in front instead of the parts' own time (a
# fresh venv downloads ~200 MB; one such install once took 8 minutes inside test-node).
# Their times are listed under the parts' at the end of the run.
VENV_REQUIREMENTS := tests/interop/requirements-core.txt bindings-python/examples/requirements.txt \
  bindings-python/requirements-dev.txt tests/interop/requirements-store.txt \
  bindings-python/requirements-orm.txt tests/interop/requirements-kms.txt \
  tests/interop/requirements-platform.txt tests/interop/requirements-vm.txt
.PHONY: test-background
test-background: toolchain ensure-nightly node-deps $(NODE_DIR)/node_modules/.package-lock.json
	bash fuzz/run.sh --tools
	bash scripts/venv.sh -r tools/release-requirements.txt
	rustup target add x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu >/dev/null 2>&1 \
	  || { echo "FATAL: rustup target add x86_64/aarch64-unknown-linux-gnu failed" >&2; exit 1; }
	bash scripts/bg.sh start fuzz-build env FUZZ_CODEGEN_UNITS=$(FUZZ_BRIEF_CODEGEN_UNITS) bash fuzz/run.sh --build
	bash scripts/bg.sh start dist-smoke env DIST_DIR=$(DIST_SMOKE_DIR) bash scripts/dist.sh --smoke
	bash scripts/bg.sh start python-packages bash -c 'for r in $(VENV_REQUIREMENTS); do bash scripts/venv.sh -r "$$r" || exit 1; done'

# Clippy's lints run in the compiler of every debug build of the workspace's crates
# (scripts/lint-rustc.sh, cargo's workspace wrapper): test-rust builds every target of the
# workspace, and that build is its lint run (`-D warnings`), instead of a separate check build of
# all the dependencies (measured: ~250 of the ~690 unit-seconds of `cargo clippy --workspace
# --all-targets` were dependencies checked that the tests then compile anyway).
export RUSTC_WORKSPACE_WRAPPER := $(CURDIR)/scripts/lint-rustc.sh
export CLIPPY_ARGS := -D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__

# Linted here with `cargo clippy`: what test-rust does not build. The Python extension (it cannot
# link as a test binary), with core's library as users build it (default features; the workspace
# build turns on core's `internal` feature for tests and xtask), and core's library for wasm32.
clippy: toolchain
	bash scripts/lint-rustc.sh --self-test
	cargo clippy -p keycustody-python --all-targets --locked -- -D warnings
	cargo clippy -p keycustody --lib --locked --target wasm32-unknown-unknown -- -D warnings

# Every target, benches and examples included, as `cargo clippy --all-targets` lints them; then
# the tests run (the same build: nothing is compiled again).
test-rust: toolchain
	cargo test --workspace --all-targets --no-run --locked $(RUST_TEST_EXCLUDE)
	cargo test --workspace --locked $(RUST_TEST_EXCLUDE)

bench: toolchain $(BENCH_TARGETS)
	bash scripts/benchmarks.sh
