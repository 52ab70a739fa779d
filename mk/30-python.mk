# Python binding (bindings-python/): package `keycustody`, pyo3 abi3-py39 + maturin.
# An extension module cannot link as a plain `cargo test` binary: it is tested from pytest.
RUST_TEST_EXCLUDE += --exclude keycustody-python
TEST_TARGETS += test-python
BENCH_TARGETS += bench-python

PY_VENV := $(CURDIR)/.venv
PY_ENV := VIRTUAL_ENV=$(PY_VENV) PATH=$(PY_VENV)/bin:$$PATH

.PHONY: python-develop test-python bench-python
# Builds the extension (abi3; cargo profile BINDINGS_PROFILE: release, or bindings-test in
# `make test`) into the project venv, editable. With the host triple spelled out, as `napi build`
# spells it for the addon (mk/20-node.mk): cargo then puts both in target/<triple>/<profile>,
# where the extension reuses every dependency the addon built (the two resolve them alike:
# scripts/check-shared-units.py); without it, a second full build.
# (`=`: read when the recipe runs, after `toolchain` installed rustc.)
HOST_TRIPLE = $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
python-develop: toolchain
	bash scripts/venv.sh -r bindings-python/requirements-dev.txt
	cargo fetch --locked
	cd bindings-python && $(PY_ENV) maturin develop --profile $(BINDINGS_PROFILE) --locked --quiet --target $(HOST_TRIPLE)

# stubtest: the .pyi stubs against the compiled module (names, signatures, defaults, types);
# allowlist entries only for what stubtest cannot express, each with its reason. The README
# quickstarts are type-checked with mypy --strict by tests/test_readme.py.
# pytest exits 5 when it collected no tests: that is a failure here, like any other non-zero code.
# tests/test_kms_example.py runs examples/kms_wrap.py (boto3) against a local moto KMS server.
test-python: python-develop
	bash scripts/venv.sh -r bindings-python/examples/requirements.txt
	test -x $(PY_VENV)/bin/moto_server || { echo "FATAL: moto_server missing from .venv" >&2; exit 1; }
	cd bindings-python && $(PY_ENV) python -m mypy.stubtest keycustody --allowlist stubtest-allowlist.txt
	cd bindings-python && $(PY_ENV) KEYCUSTODY_MOTO_SERVER=$(PY_VENV)/bin/moto_server python -m pytest -q -p no:cacheprovider tests; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "FATAL: pytest collected no Python tests" >&2; fi; exit $$rc

bench-python: python-develop
	mkdir -p bench-out
	$(PY_ENV) python bindings-python/bench/bench.py bench-out/python.md
