"""keycustody.django against SQLite and PostgreSQL (both configured as Django databases in one
process): owner_field binding, typed refusals, legacy plaintext reported by pk, values() never
decrypted, and the CLI's rewrap job over the model's table."""

import json
import tempfile

import django
import pytest
from django.conf import settings

from orm_common import pg_url

_SQLITE = tempfile.NamedTemporaryFile(prefix="kc-django-", suffix=".sqlite3", delete=False).name
_PG = pg_url()


def _pg_settings(url):
    rest = url.split("://", 1)[1]
    userhost, _, name = rest.partition("/")
    user, _, hostport = userhost.rpartition("@")
    host, _, port = hostport.partition(":")
    return {"ENGINE": "django.db.backends.postgresql", "NAME": name or "postgres", "USER": user,
            "HOST": host, "PORT": port}


settings.configure(
    DATABASES={
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _SQLITE},
        "pg": _pg_settings(_PG),
    },
    INSTALLED_APPS=["djapp"],
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    USE_TZ=True,
)
django.setup()

from django.db import connections  # noqa: E402

import keycustody  # noqa: E402
from djapp.models import Account, MigratingAccount, Project, Tenant  # noqa: E402
from keycustody.django import (  # noqa: E402
    OwnerMissingError,
    PlaintextValueError,
    RowDecryptError,
    StoredEnvelope,
    UnsealedWriteError,
)

MODELS = (Tenant, Account, Project)


@pytest.fixture(params=["default", "pg"])
def db(request, keys):
    """(alias, the CLI's URL)."""
    alias = request.param
    conn = connections[alias]
    with conn.schema_editor() as se:
        for m in reversed(MODELS):
            if m._meta.db_table in conn.introspection.table_names():
                se.delete_model(m)
        for m in MODELS:
            se.create_model(m)
    yield alias, (f"sqlite:{_SQLITE}" if alias == "default" else _PG)
    with conn.schema_editor() as se:
        for m in reversed(MODELS):
            se.delete_model(m)


def raw(alias, sql, params=()):
    with connections[alias].cursor() as c:
        c.execute(sql, params)
        return c.fetchall() if c.description else None


def test_round_trip_binds_owner_and_column(keys, db):
    alias, _ = db
    a = Account(tenant_id="acme", api_key="sk-acme", webhook_secret="wh-acme")
    a.save(using=alias)
    assert a.api_key == "sk-acme"  # the instance keeps the plaintext
    (env, wh), = raw(alias, "SELECT api_key, webhook_secret FROM dj_accounts WHERE id = %s", [a.pk])
    assert env.startswith("kc1.") and "sk-acme" not in env
    assert keys.kr.open_text("acme", env, b"dj_accounts.api_key") == "sk-acme"
    assert keys.kr.open_text("acme", wh, b"dj_accounts.webhook_secret") == "wh-acme"
    b = Account.objects.using(alias).get(pk=a.pk)
    assert (b.api_key, b.webhook_secret) == ("sk-acme", "wh-acme")
    # values() gives the stored envelope object, never the plaintext.
    v = Account.objects.using(alias).values("api_key").get(pk=a.pk)["api_key"]
    assert isinstance(v, StoredEnvelope) and v.envelope == env
    # Owner change: the next save seals for the new owner.
    b.tenant_id = "initech"
    b.save(using=alias)
    c = Account.objects.using(alias).get(pk=a.pk)
    assert c.api_key == "sk-acme"
    (env2,), = raw(alias, "SELECT api_key FROM dj_accounts WHERE id = %s", [a.pk])
    assert keys.kr.open_text("initech", env2, b"dj_accounts.api_key") == "sk-acme"


def test_foreign_key_owner(keys, db):
    alias, _ = db
    t = Tenant(slug="acme")
    t.save(using=alias)
    p = Project(tenant=t, token="tok-1")
    p.save(using=alias)
    (env,), = raw(alias, "SELECT token FROM dj_projects WHERE id = %s", [p.pk])
    assert keys.kr.open_text("acme", env, b"dj_projects.token") == "tok-1"
    assert Project.objects.using(alias).get(pk=p.pk).token == "tok-1"
    with pytest.raises(OwnerMissingError):
        Project(tenant=None, token="tok-2").save(using=alias)
    assert raw(alias, "SELECT count(*) FROM dj_projects")[0][0] == 1


def test_value_copied_to_another_tenant_or_column_fails_to_open(keys, db):
    alias, _ = db
    a = Account(tenant_id="acme", api_key="sk-acme", webhook_secret="wh-acme")
    a.save(using=alias)
    b = Account(tenant_id="globex", api_key="sk-globex")
    b.save(using=alias)
    raw(alias, "UPDATE dj_accounts SET api_key = (SELECT api_key FROM dj_accounts WHERE id = %s) WHERE id = %s",
        [a.pk, b.pk])
    got = Account.objects.using(alias).get(pk=b.pk)  # loading is fine; opening is not
    with pytest.raises(RowDecryptError) as e:
        got.api_key
    assert isinstance(e.value, keycustody.DecryptError) and e.value.row_id == b.pk
    assert "sk-acme" not in str(e.value)
    raw(alias, "UPDATE dj_accounts SET api_key = webhook_secret WHERE id = %s", [a.pk])
    with pytest.raises(RowDecryptError) as e:
        Account.objects.using(alias).get(pk=a.pk).api_key
    assert e.value.row_id == a.pk and e.value.field == "dj_accounts.api_key"


@pytest.mark.parametrize("owner", [None, ""])
def test_empty_or_null_owner_is_refused_on_write(keys, db, owner):
    alias, _ = db
    with pytest.raises(OwnerMissingError) as e:
        Account(tenant_id=owner, api_key="sk-x").save(using=alias)
    assert isinstance(e.value, keycustody.InvalidOwnerError) and "sk-x" not in str(e.value)
    assert raw(alias, "SELECT count(*) FROM dj_accounts")[0][0] == 0
    a = Account(tenant_id="acme", api_key="sk-2")
    a.save(using=alias)
    before = raw(alias, "SELECT tenant_id, api_key FROM dj_accounts")
    a.tenant_id = owner
    with pytest.raises(OwnerMissingError):
        a.save(using=alias)
    assert raw(alias, "SELECT tenant_id, api_key FROM dj_accounts") == before


def test_queryset_update_with_plaintext_is_refused(keys, db):
    alias, _ = db
    a = Account(tenant_id="acme", api_key="sk-1")
    a.save(using=alias)
    before = raw(alias, "SELECT api_key FROM dj_accounts")
    with pytest.raises(UnsealedWriteError):
        Account.objects.using(alias).filter(pk=a.pk).update(api_key="sk-plain")
    assert raw(alias, "SELECT api_key FROM dj_accounts") == before


def test_legacy_plaintext_is_reported_by_pk_unless_migrating(keys, db):
    alias, _ = db
    Account(tenant_id="acme", api_key="sk-sealed").save(using=alias)
    raw(alias, "INSERT INTO dj_accounts (id, tenant_id, api_key) VALUES (70, 'acme', 'sk-legacy-plain')")
    got = Account.objects.using(alias).get(pk=70)
    with pytest.raises(PlaintextValueError) as e:
        got.api_key
    assert isinstance(e.value, keycustody.MalformedError) and e.value.row_id == 70
    assert "sk-legacy-plain" not in str(e.value)
    m = MigratingAccount.objects.using(alias).get(pk=70)
    assert m.api_key == "sk-legacy-plain"
    m.save(using=alias)
    (env,), = raw(alias, "SELECT api_key FROM dj_accounts WHERE id = 70")
    assert keys.kr.open_text("acme", env, b"dj_accounts.api_key") == "sk-legacy-plain"
    assert Account.objects.using(alias).get(pk=70).api_key == "sk-legacy-plain"


def test_rewrap_job_over_the_model_table_keeps_every_row_readable(keys, db):
    alias, cli_url = db
    n = 40
    for i in range(1, n + 1):
        Account(id=i, tenant_id=f"t{i % 5}", api_key=f"sk-{i}").save(using=alias)
    old = keys.kr.primary_kid
    keys.rotate()
    rep = json.loads(keys.rewrap(cli_url, "dj_accounts", "tenant_id", "api_key", "dj_accounts.api_key"))
    assert rep["rewritten"] == n, rep
    keys.kr.retire(old)
    for (env,) in raw(alias, "SELECT api_key FROM dj_accounts"):
        assert keycustody.inspect(env).kid == keys.kr.primary_kid
    got = {a.pk: a.api_key for a in Account.objects.using(alias).all()}
    assert got == {i: f"sk-{i}" for i in range(1, n + 1)}


def test_default_keyring_is_read_at_first_use_with_a_typed_error(monkeypatch):
    """A field without keyring= reads KEYCUSTODY_KEYRING at first use, not at import: a missing
    one is MissingEnvVarError then (and is not cached), a present one is read once."""
    from keycustody._orm import resolve
    from keycustody.django import EncryptedTextField, _default_keyring

    field = EncryptedTextField(owner_field="tenant_id")  # defining the field reads nothing
    _default_keyring.cache_clear()
    monkeypatch.delenv("KEYCUSTODY_KEYRING", raising=False)
    with pytest.raises(keycustody.MissingEnvVarError):
        resolve(field.keyring)
    kr = keycustody.Keyring.generate()
    monkeypatch.setenv("KEYCUSTODY_KEYRING", kr.export())
    try:
        got = resolve(field.keyring)
        assert got.export() == kr.export() and resolve(field.keyring) is got
    finally:
        _default_keyring.cache_clear()
