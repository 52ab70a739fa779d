"""One error shape (issue 13 item 4): every exception carries ``code`` and ``kind`` and all the
detail attributes, from core's accessors, ``None`` when the kind has none — the same details
as the Node and wasm bindings (``malformedKind`` there is ``malformed_kind`` here, ...)."""

import os
import pathlib

import pytest

import keycustody as kc

NOW = 1_700_000_000
DETAILS = ("kid", "limit", "claim", "argument", "malformed_kind", "env_var", "io_kind", "audit_position")


def details(e, **expected):
    assert isinstance(e.code, str) and e.code.startswith("KC_")
    assert isinstance(e.kind, str)
    for d in DETAILS:
        assert getattr(e, d) == expected.get(d), d


def test_unknown_key_and_primary_key_kid():
    kr = kc.Keyring.generate()
    other = kc.Keyring.from_secret(bytes(32), kid=9).seal("t", b"x")
    with pytest.raises(kc.UnknownKeyError) as ei:
        kr.open("t", other)
    details(ei.value, kid=9)
    with pytest.raises(kc.PrimaryKeyError) as ei:
        kr.retire(1)
    details(ei.value, kid=1)


def test_too_large_limit():
    with pytest.raises(kc.TooLargeError) as ei:
        kc.sign_stripe_payload(bytes(16 * 1024 * 1024 + 1), "whsec_x", 1)
    details(ei.value, limit=16 * 1024 * 1024)


def test_claim_mismatch_claim():
    kr = kc.Keyring.generate()
    token = kr.sign_jwt("acme", {"sub": "u", "aud": "dash"}, 600, now=NOW)
    with pytest.raises(kc.ClaimMismatchError) as ei:
        kr.verify_jwt("acme", token, audience="api", now=NOW)
    details(ei.value, claim="aud")
    assert str(ei.value) == "claim mismatch: aud"


def test_invalid_argument_argument():
    with pytest.raises(kc.InvalidArgumentError) as ei:
        kc.ReplayGuard(0)
    details(ei.value, argument="capacity must be 1 to 10000000 entries")


@pytest.mark.parametrize(
    "fn,kind",
    [
        (lambda: kc.inspect("not an envelope"), "EnvelopePrefix"),
        (lambda: kc.parse_api_key("kc_" + "x" * 36), "ApiKeyChecksum"),
        (lambda: kc.verify_standard_webhook(b"{}", {}, "whsec_AAAA", now=NOW), "WebhookHeaderMissing"),
    ],
)
def test_malformed_kind(fn, kind):
    with pytest.raises(kc.MalformedError) as ei:
        fn()
    details(ei.value, malformed_kind=kind)


def test_missing_env_var_names_the_variable(monkeypatch):
    monkeypatch.delenv("KC_ERRORS_TEST_SURELY_UNSET", raising=False)
    with pytest.raises(kc.MissingEnvVarError) as ei:
        kc.Keyring.from_env("KC_ERRORS_TEST_SURELY_UNSET")
    details(ei.value, env_var="KC_ERRORS_TEST_SURELY_UNSET")
    assert str(ei.value) == "environment variable KC_ERRORS_TEST_SURELY_UNSET is not set"
    monkeypatch.delenv("KEYCUSTODY_KEYRING", raising=False)
    with pytest.raises(kc.MissingEnvVarError) as ei:
        kc.Keyring.from_env()
    details(ei.value, env_var="KEYCUSTODY_KEYRING")
    assert str(ei.value) == "environment variable KEYCUSTODY_KEYRING is not set"


def test_io_kind(tmp_path: pathlib.Path):
    with pytest.raises(kc.IoError) as ei:
        kc.Keyring.from_file(os.fspath(tmp_path / "missing.json"))
    details(ei.value, io_kind="NotFound")


def test_no_detail_and_no_secret():
    kr = kc.Keyring.generate()
    env = kr.seal("t1", b"sk-live-MARKER")
    with pytest.raises(kc.DecryptError) as ei:
        kr.open("t2", env)
    details(ei.value)
    shown = f"{ei.value!s} {ei.value!r} {vars(ei.value)}"
    assert "MARKER" not in shown and env[4:20] not in shown


def test_audit_broken_position():
    chain = kc.AuditChain(kc.Keyring.generate(), "tenant:acme")
    first = chain.next(None, {"op": "secret.read"}, NOW)
    second = chain.next(first, {"op": "secret.read"}, NOW)
    with pytest.raises(kc.AuditBrokenError) as ei:
        chain.verify_run([second])  # entry 1 missing: the chain breaks at seq 1
    details(ei.value, audit_position=1)
