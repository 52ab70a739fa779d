# Release artifacts (issue 17): `make dist` builds every artifact this machine can build into dist/
# (gitignored) with pinned tools it installs itself (tools/release-requirements.txt: ziglang,
# cargo-zigbuild, maturin, auditwheel; @napi-rs/cli from bindings-node's lock; rustup targets):
# abi3 wheels manylinux_2_17 x86_64 + aarch64 (+ musllinux_1_2 when they build), the sdist, the
# keycustody-cli `bin` wheels, the napi-rs npm layout (keycustody + keycustody-linux-*-gnu with the
# .node and the CLI binary), keycustody-wasm, SHA256SUMS and a listing. RELEASING.md has the steps.
#   make test-dist        builds it all and verifies every artifact, arm64 under qemu-user-static
#                         (by hand and by the release workflow: ~25 min here, too long for `make test`)
#   make test-dist-smoke  (in `make test`) the manylinux wheels and npm platform packages for x86_64
#                         and aarch64 and the x86_64 CLI (wheel + npm), into target/dist-smoke, with
#                         the `dist-smoke` cargo profile (release without LTO), and the same checks on
#                         them: aarch64 under qemu-user-static (the arm64 root is cached in ~/.cache)
#   make bench-dist       install sizes (wheel, .node, CLI binary, wasm) from dist/ into bench-out
TEST_TARGETS += test-dist-smoke
BENCH_TARGETS += bench-dist

.PHONY: dist test-dist test-dist-smoke bench-dist dist-arm64-root
DIST_SMOKE_DIR := $(CURDIR)/target/dist-smoke

dist: toolchain node-deps wasm-bindgen-cli
	bash scripts/dist.sh

dist-arm64-root:
	bash scripts/arm64-root.sh

test-dist: dist dist-arm64-root
	bash scripts/test-dist.sh dist

# In `make test` the smoke's artifacts were built in the background (test-background): it waits
# for them; run alone, or when that build failed, it builds them here.
test-dist-smoke: toolchain node-deps
	bash scripts/bg.sh wait dist-smoke || DIST_DIR=$(DIST_SMOKE_DIR) bash scripts/dist.sh --smoke
	bash scripts/test-dist.sh --smoke $(DIST_SMOKE_DIR)

bench-dist: dist
	mkdir -p bench-out
	python3 scripts/bench-dist.py dist bench-out/dist.md
