# Suites against real databases, one throwaway PostgreSQL cluster for all:
# - the audit chain's append pattern (issue 15 item 2): bindings-python/tests_orm/
#   test_audit_append.py (psycopg) and bindings-node/test-pg (pg), 4 concurrent appenders;
# - ORM fields that keep the owner from the row (issue 16 item 4): keycustody.sqlalchemy and
# keycustody.django (bindings-python/tests_orm, against a SQLite file and PostgreSQL) and the
# companion packages keycustody-drizzle (bindings-node/drizzle: Drizzle + node-postgres, and
# Drizzle + sql.js for SQLite) and
# keycustody-prisma (bindings-node/prisma, a Prisma Client 7 extension with the node-postgres
# driver adapter), each with the CLI's `keycustody rewrap` job over the ORM's table after a
# rotation. The PostgreSQL cluster is a throwaway one started and stopped here (required: the
# suites FAIL without it).
# Prisma: `npm ci --ignore-scripts` (the engines package's postinstall would download binaries);
# Prisma Client 7 runs with no engine binary, and `prisma generate` needs none either, but the
# CLI insists on locating the schema engine first: PRISMA_SCHEMA_ENGINE_BINARY=/bin/true
# satisfies that (generate never runs it; no migration is run here: the tests create the table).
TEST_TARGETS += test-orm

ORM_DRIZZLE := bindings-node/drizzle
ORM_PRISMA := bindings-node/prisma
ORM_CLI := $(NODE_CARGO_TARGET)/debug/keycustody

.PHONY: test-orm
$(ORM_DRIZZLE)/node_modules/.package-lock.json: $(ORM_DRIZZLE)/package-lock.json $(ORM_DRIZZLE)/package.json | node-deps
	cd $(ORM_DRIZZLE) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

$(ORM_PRISMA)/node_modules/.package-lock.json: $(ORM_PRISMA)/package-lock.json $(ORM_PRISMA)/package.json | node-deps
	cd $(ORM_PRISMA) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

test-orm: python-develop node-build $(ORM_DRIZZLE)/node_modules/.package-lock.json $(ORM_PRISMA)/node_modules/.package-lock.json
	# Both import keycustody/orm (the Node package's shared ORM module): link the package here,
	# as an install would put it beside them (its package.json "exports" is what resolves it).
	for d in $(ORM_DRIZZLE) $(ORM_PRISMA); do ln -sfn ../.. $$d/node_modules/keycustody; done
	cd $(ORM_PRISMA) && rm -rf generated && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true node_modules/.bin/prisma generate >/dev/null
	test -f $(ORM_PRISMA)/generated/index.js || { echo "FATAL: prisma generate wrote no client" >&2; exit 1; }
	bash scripts/ensure-apt.sh postgresql
	bash scripts/venv.sh -r bindings-python/requirements-orm.txt
	# The CLI as the workspace's tests build it (target/debug/keycustody, the CARGO_BIN_EXE of the
	# CLI's tests, as test-vm and test-kms use it): test-rust's build, nothing compiled again.
	# (`cargo build -p keycustody-cli` resolves other features and rebuilt core, the store, the
	# CLI and SQLite here.)
	cargo test --locked -q $(CARGO_WS) --no-run --test cli_errors
	test -x $(ORM_CLI) || { echo "FATAL: $(ORM_CLI) was not built" >&2; exit 1; }
	dir=$$(mktemp -d /tmp/keycustody-pg.XXXXXX); \
	trap 'bash $(CURDIR)/store/scripts/pg-cluster.sh stop '"$$dir" EXIT; \
	url=$$(bash store/scripts/pg-cluster.sh start "$$dir" fast); \
	echo "== ORM fields: SQLAlchemy 2 and Django (bindings-python/tests_orm), SQLite + PostgreSQL =="; \
	( cd bindings-python && DATABASE_URL="$$url" KEYCUSTODY_CLI=$(ORM_CLI) $(PY_ENV) \
	    python -m pytest -q -p no:cacheprovider tests_orm ) || { rc=$$?; \
	  [ $$rc -eq 5 ] && echo "FATAL: pytest collected no ORM tests" >&2; exit $$rc; }; \
	echo "== ORM fields: keycustody-drizzle (bindings-node/drizzle), node-postgres and SQLite (sql.js) =="; \
	( cd $(ORM_DRIZZLE) && DATABASE_URL="$$url" KEYCUSTODY_CLI=$(ORM_CLI) node --test test/ ); \
	echo "== ORM fields: keycustody-prisma (bindings-node/prisma), Prisma Client 7 + adapter-pg =="; \
	( cd $(ORM_PRISMA) && DATABASE_URL="$$url" KEYCUSTODY_CLI=$(ORM_CLI) node --test test/ ); \
	echo "== audit chain append pattern in Node (bindings-node/test-pg), node-postgres =="; \
	( cd bindings-node && DATABASE_URL="$$url" node --test test-pg/ )
