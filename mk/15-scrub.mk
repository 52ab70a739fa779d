# scrub() on plain log text beside the two crafted inputs of issue 12, 1 MiB and 16 MiB;
# writes bench-out/scrub.md.
.PHONY: bench-scrub
BENCH_TARGETS += bench-scrub
bench-scrub: toolchain
	mkdir -p bench-out
	cargo run --locked -q --release -p keycustody --example scrub_bench -- bench-out/scrub.md
	cat bench-out/scrub.md
