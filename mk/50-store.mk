# store: the SQLite/PostgreSQL job engine, the keycustody CLI's keys/seal/rewrap/migrate/scan
# commands and the legacy importers. Their SQLite tests run in `test-rust`; this target adds
# the PostgreSQL runs (a throwaway cluster from Debian's postgresql, required: the tests FAIL
# without it) and the legacy vectors regenerated with pyca/cryptography and the real openssl.
.PHONY: test-store bench-store bench-audit
TEST_TARGETS += test-store
BENCH_TARGETS += bench-store bench-audit

test-store: toolchain
	bash scripts/ensure-apt.sh postgresql openssl python3-venv
	bash scripts/venv.sh -r tests/interop/requirements-store.txt
	.venv/bin/python tests/interop/legacy_vectors.py --check
	dir=$$(mktemp -d /tmp/keycustody-pg.XXXXXX); \
	trap 'bash store/scripts/pg-cluster.sh stop '"$$dir" EXIT; \
	url=$$(bash store/scripts/pg-cluster.sh start "$$dir" fast); \
	DATABASE_URL="$$url" KEYCUSTODY_REQUIRE_PG=1 \
	  cargo test --locked $(CARGO_WS) --test rewrap_kill --test rewrap_concurrent --test tenants_cli -- postgres; \
	DATABASE_URL="$$url" KEYCUSTODY_REQUIRE_PG=1 \
	  cargo test --locked $(CARGO_WS) --test platform_replay --test tenant_store --test audit_store -- postgres

bench-store: toolchain
	bash scripts/ensure-apt.sh postgresql
	mkdir -p bench-out
	dir=$$(mktemp -d /tmp/keycustody-pg.XXXXXX); \
	trap 'bash store/scripts/pg-cluster.sh stop '"$$dir" EXIT; \
	url=$$(bash store/scripts/pg-cluster.sh start "$$dir"); \
	cargo run --release --locked -p keycustody-store --example store_bench -- "$$url" bench-out/store.md && \
	cargo run --release --locked -p keycustody-store --example tenant_bench -- "$$url" bench-out/tenants.md

# The audit chain (docs/audit.md): appends/s to SQLite and PostgreSQL (1 and 4 appenders) beside
# a plain INSERT of the same row, core next/verify per entry beside one HMAC; bench-out/audit.md.
bench-audit: toolchain
	bash scripts/ensure-apt.sh postgresql
	mkdir -p bench-out
	dir=$$(mktemp -d /tmp/keycustody-pg.XXXXXX); \
	trap 'bash store/scripts/pg-cluster.sh stop '"$$dir" EXIT; \
	url=$$(bash store/scripts/pg-cluster.sh start "$$dir"); \
	cargo run --release --locked -p keycustody-store --example audit_bench -- "$$url" bench-out/audit.md
