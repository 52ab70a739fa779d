"""keycustody.sqlalchemy against SQLite and PostgreSQL: the envelope is bound to the row's owner
and to table.column, refusals are typed, legacy plaintext is reported by id, and the CLI's
rewrap job over the ORM's table leaves every row readable through the ORM."""

import json
from typing import Optional

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import keycustody
from keycustody.sqlalchemy import (
    EncryptedText,
    OwnerMissingError,
    PlaintextValueError,
    RowDecryptError,
    UnsealedWriteError,
)
from orm_common import KEYS, pg_url


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "sa_accounts"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    tenant_id: Mapped[Optional[str]] = mapped_column(sa.String(64), nullable=True)
    api_key: Mapped[Optional[str]] = mapped_column(EncryptedText(owner="tenant_id", keyring=KEYS))
    webhook_secret: Mapped[Optional[str]] = mapped_column(
        EncryptedText(owner="tenant_id", keyring=KEYS), nullable=True
    )


class Base2(DeclarativeBase):
    pass


class MigratingAccount(Base2):
    """The same table, with a field configured to seal legacy plaintext on read."""

    __tablename__ = "sa_accounts"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    tenant_id: Mapped[Optional[str]] = mapped_column(sa.String(64), nullable=True)
    api_key: Mapped[Optional[str]] = mapped_column(
        EncryptedText(owner="tenant_id", keyring=KEYS, migrate_plaintext=True)
    )
    webhook_secret: Mapped[Optional[str]] = mapped_column(
        EncryptedText(owner="tenant_id", keyring=KEYS), nullable=True
    )


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, sqlite_path):
    """(engine, the CLI's URL for the same database)."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{sqlite_path}")
        cli_url = f"sqlite:{sqlite_path}"
    else:
        url = pg_url()
        engine = sa.create_engine("postgresql+psycopg://" + url.split("://", 1)[1])
        cli_url = url
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine, cli_url
    Base.metadata.drop_all(engine)
    engine.dispose()


def raw_rows(engine):
    with engine.connect() as c:
        return {
            r.id: r
            for r in c.execute(sa.text("SELECT id, tenant_id, api_key, webhook_secret FROM sa_accounts"))
        }


def raw_exec(engine, sql, **params):
    with engine.begin() as c:
        c.execute(sa.text(sql), params)


def add(engine, *accounts):
    with Session(engine) as s:
        s.add_all(accounts)
        s.commit()


def test_round_trip_binds_owner_and_column(keys, db):
    engine, _ = db
    add(
        engine,
        Account(id=1, tenant_id="acme", api_key="sk-acme-1", webhook_secret="whsec-acme"),
        Account(id=2, tenant_id="globex", api_key="sk-globex-2"),
    )
    raw = raw_rows(engine)
    assert raw[1].api_key.startswith("kc1.") and "sk-acme" not in raw[1].api_key
    # Sealed for (owner = the row's tenant_id, context = "sa_accounts.api_key").
    assert keys.kr.open_text("acme", raw[1].api_key, b"sa_accounts.api_key") == "sk-acme-1"
    assert keys.kr.open_text("acme", raw[1].webhook_secret, b"sa_accounts.webhook_secret") == "whsec-acme"
    assert raw[2].webhook_secret is None
    with Session(engine) as s:
        a1, a2 = s.get(Account, 1), s.get(Account, 2)
        assert (a1.api_key, a1.webhook_secret) == ("sk-acme-1", "whsec-acme")
        assert (a2.api_key, a2.webhook_secret) == ("sk-globex-2", None)
        assert not s.dirty  # opening on load leaves nothing to flush
        # An update re-seals; the object keeps the plaintext across commit + refresh.
        a1.api_key = "sk-acme-rotated"
        s.commit()
        assert a1.api_key == "sk-acme-rotated"
    assert keys.kr.open_text("acme", raw_rows(engine)[1].api_key, b"sa_accounts.api_key") == "sk-acme-rotated"


def test_owner_change_reseals_for_the_new_owner(keys, db):
    engine, _ = db
    add(engine, Account(id=1, tenant_id="acme", api_key="sk-1"))
    with Session(engine) as s:
        a = s.get(Account, 1)
        a.tenant_id = "initech"  # only the owner changes: the value must follow it
        s.commit()
    raw = raw_rows(engine)[1]
    assert keys.kr.open_text("initech", raw.api_key, b"sa_accounts.api_key") == "sk-1"
    with Session(engine) as s:
        assert s.get(Account, 1).api_key == "sk-1"


def test_value_copied_to_another_tenant_or_column_fails_to_open(keys, db):
    engine, _ = db
    add(
        engine,
        Account(id=1, tenant_id="acme", api_key="sk-acme", webhook_secret="wh-acme"),
        Account(id=2, tenant_id="globex", api_key="sk-globex"),
    )
    # Copied into another tenant's row, by SQL (as an attacker with write access would).
    raw_exec(engine, "UPDATE sa_accounts SET api_key = (SELECT api_key FROM sa_accounts WHERE id = 1) WHERE id = 2")
    with Session(engine) as s:
        with pytest.raises(RowDecryptError) as e:
            s.get(Account, 2)
    assert isinstance(e.value, keycustody.DecryptError) and e.value.kind == "DecryptFailed"
    assert e.value.row_id == 2 and "sk-acme" not in str(e.value)
    # Copied into another column of the same row.
    raw_exec(engine, "UPDATE sa_accounts SET api_key = webhook_secret WHERE id = 1")
    with Session(engine) as s:
        with pytest.raises(RowDecryptError) as e:
            s.get(Account, 1)
    assert e.value.row_id == 1 and e.value.field == "sa_accounts.api_key"


@pytest.mark.parametrize("owner", [None, ""])
def test_empty_or_null_owner_is_refused_on_write(keys, db, owner):
    engine, _ = db
    with Session(engine) as s:
        s.add(Account(id=1, tenant_id=owner, api_key="sk-x"))
        with pytest.raises(OwnerMissingError) as e:
            s.flush()
        s.rollback()
    assert isinstance(e.value, keycustody.InvalidOwnerError) and e.value.owner_field == "tenant_id"
    assert "sk-x" not in str(e.value)
    assert raw_rows(engine) == {}
    # Clearing the owner of an existing row is refused the same way; the row is unchanged.
    add(engine, Account(id=2, tenant_id="acme", api_key="sk-2"))
    before = raw_rows(engine)[2]
    with Session(engine) as s:
        a = s.get(Account, 2)
        a.tenant_id = owner
        with pytest.raises(OwnerMissingError):
            s.commit()
    assert raw_rows(engine)[2] == before


def test_core_write_that_bypasses_the_events_is_refused(keys, db):
    engine, _ = db
    with Session(engine) as s:
        with pytest.raises(StatementError) as e:
            s.execute(sa.insert(Account).values(id=9, tenant_id="acme", api_key="sk-plain"))
        s.rollback()
    assert isinstance(e.value.orig, UnsealedWriteError)
    assert raw_rows(engine) == {}


def test_legacy_plaintext_is_reported_by_id_unless_migrating(keys, db):
    engine, _ = db
    add(engine, Account(id=1, tenant_id="acme", api_key="sk-sealed"))
    raw_exec(engine, "INSERT INTO sa_accounts (id, tenant_id, api_key) VALUES (7, 'acme', 'sk-legacy-plain')")
    with Session(engine) as s:
        assert s.get(Account, 1).api_key == "sk-sealed"
        with pytest.raises(PlaintextValueError) as e:
            s.get(Account, 7)
    assert isinstance(e.value, keycustody.MalformedError) and e.value.row_id == 7
    assert "sk-legacy-plain" not in str(e.value)
    # A field configured to migrate returns it and seals it on the next flush.
    with Session(engine) as s:
        m = s.get(MigratingAccount, 7)
        assert m.api_key == "sk-legacy-plain"
        s.commit()
    raw = raw_rows(engine)[7].api_key
    assert raw.startswith("kc1.")
    assert keys.kr.open_text("acme", raw, b"sa_accounts.api_key") == "sk-legacy-plain"
    with Session(engine) as s:
        assert s.get(Account, 7).api_key == "sk-legacy-plain"


def test_wrong_keyring_fails_at_first_use_with_the_typed_error(keys, db):
    engine, _ = db
    add(engine, Account(id=1, tenant_id="acme", api_key="sk-1"))
    keys.kr = keycustody.Keyring.generate()  # another keyring (kid 1, other secret)
    with Session(engine) as s:
        with pytest.raises(RowDecryptError):
            s.get(Account, 1)


def test_rewrap_job_over_the_orm_table_keeps_every_row_readable(keys, db):
    engine, cli_url = db
    n = 60
    add(engine, *[Account(id=i, tenant_id=f"t{i % 7}", api_key=f"sk-{i}",
                          webhook_secret=f"wh-{i}" if i % 2 else None) for i in range(1, n + 1)])
    old = keys.kr.primary_kid
    keys.rotate()
    rep = json.loads(keys.rewrap(cli_url, "sa_accounts", "tenant_id", "api_key", "sa_accounts.api_key"))
    assert rep["rewritten"] == n, rep
    rep = json.loads(keys.rewrap(cli_url, "sa_accounts", "tenant_id", "webhook_secret", "sa_accounts.webhook_secret"))
    assert rep["rewritten"] == n // 2, rep
    new = keys.kr.primary_kid
    assert new != old
    keys.kr.retire(old)  # nothing may still need the old key
    for r in raw_rows(engine).values():
        assert keycustody.inspect(r.api_key).kid == new
        assert r.webhook_secret is None or keycustody.inspect(r.webhook_secret).kid == new
    with Session(engine) as s:
        got = {a.id: (a.api_key, a.webhook_secret) for a in s.scalars(sa.select(Account))}
    assert got == {i: (f"sk-{i}", f"wh-{i}" if i % 2 else None) for i in range(1, n + 1)}
