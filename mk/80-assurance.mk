# Assurance (ASSURANCE.md): licenses/sources, fuzzing, constant time, Miri.
#   make test-assurance   cargo deny + every fuzz target briefly (FUZZ_BRIEF_SECONDS each, built
#                         with FUZZ_BRIEF_CODEGEN_UNITS) + the Rust no-secret marker tests
#   make fuzz             every fuzz target for FUZZ_SECONDS (default 60) each
#   make ct               dudect-style constant-time harness (CT_SECONDS per function, default 20);
#                         exit 1 leak or blind harness, 3 A/A control failed (machine too noisy: rerun)
#   make test-ct          the harness's own statistics tests (cropping, tests, vote; no timing asserted)
#   make miri             the core's pure-Rust tests under Miri (nightly)
TEST_TARGETS += test-assurance test-ct
FUZZ_SECONDS ?= 60
FUZZ_BRIEF_SECONDS ?= 6
# The brief run's build: 16 codegen units per crate (cargo-fuzz's default for -O is 1: the build
# is faster, the instrumented code somewhat slower); `make fuzz` keeps cargo-fuzz's default.
FUZZ_BRIEF_CODEGEN_UNITS ?= 16
CT_SECONDS ?= 20
CARGO_DENY_VERSION ?= 0.20.2

.PHONY: test-assurance deny fuzz fuzz-brief ct test-ct miri ensure-nightly

ensure-nightly:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal

deny: toolchain
	@if ! cargo deny --version 2>/dev/null | grep -q " $(CARGO_DENY_VERSION)$$"; then \
	  cargo install cargo-deny --locked --version $(CARGO_DENY_VERSION); fi
	cargo deny --locked check --hide-inclusion-graph bans licenses sources

# In `make test` the targets were built in the background (test-background); run alone, or when
# that build failed, run.sh builds them here.
fuzz-brief: ensure-nightly
	bash scripts/bg.sh wait fuzz-build || true
	FUZZ_SEED=1 FUZZ_CODEGEN_UNITS=$(FUZZ_BRIEF_CODEGEN_UNITS) bash fuzz/run.sh $(FUZZ_BRIEF_SECONDS)

fuzz: ensure-nightly
	bash fuzz/run.sh $(FUZZ_SECONDS)
	@echo "fuzz: report in fuzz/target/fuzz-report.md (copy the figures to ASSURANCE.md)"

test-assurance: deny fuzz-brief
	cargo test --locked $(CARGO_WS) --test no_secret_output --test miri_pure
	@if ls cli/tests/no_secret_*.rs >/dev/null 2>&1; then \
	  cargo test --locked $(CARGO_WS) $(patsubst cli/tests/%.rs,--test %,$(wildcard cli/tests/no_secret_*.rs)); fi

# ct/ and fuzz/ sit outside the workspace with their own Cargo.lock, which follows core's
# dependencies: they build without --locked so a core dependency change cannot rot them.
# From ct/, so that ct/.cargo/config.toml (software AES and GHASH backends) applies.
ct:
	cd ct && cargo build --release
	ct/target/release/keycustody-ct $(CT_SECONDS) | tee ct/target/ct-report.md

test-ct: toolchain
	cd ct && cargo test --release

miri: ensure-nightly
	@rustup +nightly component list --installed | grep -q '^miri' || rustup +nightly component add miri rust-src
	cargo +nightly miri test --locked -p keycustody --test miri_pure
