"""Behaviour of the Python API, checked against independent computations (pyca, hashlib, hmac)."""

import base64
import hashlib
import hmac
import json
import os
import pickle
import re
import stat
import struct

import pytest
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

import keycustody as kc
from conftest import KIND_CLASS, code_of

ROOT_A = bytes(range(32))
NOW = 1_700_000_000


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def hkdf(root, label, owner, length=32):
    return HKDF(hashes.SHA256(), length, salt=b"keycustody/v1", info=label + b"\x00" + owner.encode()).derive(root)


@pytest.fixture
def kr():
    return kc.Keyring.from_secret(ROOT_A)


# ---- envelopes -------------------------------------------------------------------------
def test_seal_open_round_trip_all_input_types(kr):
    for plaintext in (b"sk-or-v1-abc", bytearray(b"sk-or-v1-abc"), "sk-or-v1-abc"):
        for ctx in (b"openrouter_key", bytearray(b"openrouter_key"), "openrouter_key"):
            env = kr.seal("tenant-1", plaintext, ctx)
            assert env.startswith("kc1.")
            assert kr.open("tenant-1", env, b"openrouter_key") == b"sk-or-v1-abc"
            assert kr.open_text("tenant-1", env, context="openrouter_key") == "sk-or-v1-abc"


def test_envelope_layout_matches_spec(kr):
    env = kr.seal("t", b"hello", b"ctx")
    raw = base64.urlsafe_b64decode(env[4:] + "=" * (-len(env[4:]) % 4))
    assert raw[0] == 1 and struct.unpack(">I", raw[1:5])[0] == 1
    assert len(raw) == 1 + 4 + 12 + 5 + 16
    # Decrypt with pyca alone: key = HKDF(root, envelope label, owner), AAD per DESIGN §3.
    aad = raw[:5] + struct.pack(">I", 1) + b"t" + b"ctx"
    assert AESGCM(hkdf(ROOT_A, b"keycustody/v1/envelope", "t")).decrypt(raw[5:17], raw[17:], aad) == b"hello"


def test_nonces_differ(kr):
    assert kr.seal("t", b"x") != kr.seal("t", b"x")


def test_wrong_owner_context_key_tamper_are_one_error(kr):
    env = kr.seal("tenant-1", b"secret", b"ctx")
    other = kc.Keyring.from_secret(bytes(range(1, 33)))
    tampered = env[:-2] + ("A" if env[-2] != "A" else "B") + env[-1]
    for call in (
        lambda: kr.open("tenant-2", env, b"ctx"),
        lambda: kr.open("tenant-1", env, b"ctX"),
        lambda: kr.open("tenant-1", env),
        lambda: other.open("tenant-1", env, b"ctx"),
        lambda: kr.open("tenant-1", tampered, b"ctx"),
    ):
        with pytest.raises(kc.DecryptError) as ei:
            call()
        assert ei.value.kind == "DecryptFailed" and ei.value.code == "KC_DECRYPT_FAILED"
        assert "secret" not in str(ei.value)


def test_binary_forms(kr):
    b = kr.seal_binary("t", b"abc", b"c")
    assert isinstance(b, bytes) and b[0] == 1
    assert kr.open_binary("t", b, b"c") == b"abc"
    assert kr.open_binary("t", bytearray(b), b"c") == b"abc"
    assert kc.inspect_binary(b).plaintext_len == 3
    text = "kc1." + b64url(b)
    assert kr.open("t", text, b"c") == b"abc"
    assert kc.inspect(text) == kc.inspect_binary(b)


def test_inspect(kr):
    info = kc.inspect(kr.seal("t", b"12345"))
    assert (info.version, info.kid, info.plaintext_len) == (1, 1, 5)
    assert repr(info) == "EnvelopeInfo(version=1, kid=1, plaintext_len=5)"
    with pytest.raises(kc.MalformedError) as ei:
        kc.inspect("kc2.AAAA")
    assert ei.value.malformed_kind == "EnvelopePrefix"
    assert isinstance(ei.value, ValueError)


def test_open_text_non_utf8(kr):
    env = kr.seal("t", b"\xff\xfe")
    assert kr.open("t", env) == b"\xff\xfe"
    with pytest.raises(kc.MalformedError) as ei:
        kr.open_text("t", env)
    assert ei.value.malformed_kind == "Utf8"


def test_too_large(kr):
    big = bytes(kc.MAX_PLAINTEXT + 1)
    with pytest.raises(kc.TooLargeError) as ei:
        kr.seal("t", big)
    assert ei.value.limit == kc.MAX_PLAINTEXT and ei.value.kind == "TooLarge"
    assert isinstance(ei.value, kc.InvalidArgumentError) and isinstance(ei.value, ValueError)


def test_large_payload_round_trip(kr):
    data = os.urandom(3 * 1024 * 1024)
    env = kr.seal("t", data, b"blob")
    assert kr.open("t", env, b"blob") == data
    assert kr.rewrap("t", env, b"blob") == env


@pytest.mark.parametrize("n", [0, 1, 64, 16 * 1024 - 1, 16 * 1024, 1024 * 1024 + 5])
def test_seal_and_open_straight_into_bytes_agree_with_pyca(kr, n):
    """seal_binary/open/open_binary write into the new bytes object (GIL released from 16 KiB):
    the same envelope layout, decryptable by pyca, and the plaintext returned exactly."""
    data = os.urandom(n)
    env = kr.seal_binary("t", data, b"ctx")
    assert type(env) is bytes and len(env) == 17 + n + 16
    key = hkdf(ROOT_A, b"keycustody/v1/envelope", "t")
    aad = env[:5] + struct.pack(">I", 1) + b"t" + b"ctx"
    assert AESGCM(key).decrypt(env[5:17], env[17:], aad) == data
    assert kr.open_binary("t", env, b"ctx") == data
    text = "kc1." + b64url(env)
    out = kr.open("t", text, b"ctx")
    assert type(out) is bytes and out == data
    assert kr.open_binary("t", bytearray(env), b"ctx") == data


@pytest.mark.parametrize("n", [0, 64, 20_000])
def test_open_into_bytes_failures_raise_the_core_error_in_core_order(kr, n):
    env = kr.seal_binary("t", os.urandom(n), b"c")
    text = "kc1." + b64url(env)
    for bad in (env[:-1] + bytes([env[-1] ^ 1]),):
        with pytest.raises(kc.DecryptError):
            kr.open_binary("t", bad, b"c")
        with pytest.raises(kc.DecryptError):
            kr.open("t", "kc1." + b64url(bad), b"c")
    for args in (("u", env, b"c"), ("t", env, b"d")):
        with pytest.raises(kc.DecryptError):
            kr.open_binary(*args)
    # A malformed envelope is reported before the owner, as core's open does.
    with pytest.raises(kc.MalformedError) as ei:
        kr.open_binary("", env[:10], b"c")
    assert ei.value.malformed_kind == "EnvelopeLength"
    with pytest.raises(kc.MalformedError) as ei:
        kr.open("", "kc2." + text[4:], b"c")
    assert ei.value.malformed_kind == "EnvelopePrefix"
    with pytest.raises(kc.InvalidOwnerError):
        kr.open("", text, b"c")
    other = kc.Keyring.from_secret(os.urandom(32))
    other.rotate()
    with pytest.raises(kc.UnknownKeyError) as ei:
        kr.open_binary("t", other.seal_binary("t", b"x"), b"")
    assert ei.value.kid == 2


def test_seal_binary_too_large_is_refused_before_allocating(kr):
    big = bytes(kc.MAX_PLAINTEXT + 1)
    with pytest.raises(kc.TooLargeError) as ei:
        kr.seal_binary("t", big)
    assert ei.value.limit == kc.MAX_PLAINTEXT
    # An invalid owner is still the first error, as in core.
    with pytest.raises(kc.InvalidOwnerError):
        kr.seal_binary("", big)


# ---- keyring lifecycle -----------------------------------------------------------------
def test_rotation_lifecycle():
    kr = kc.Keyring.generate()
    assert kr.primary_kid == 1
    old = kr.seal("t", b"v", b"c")
    kid = kr.add_key()
    assert kid == 2 and kr.primary_kid == 1 and kr.state_of(2) == "decrypt-only"
    assert not kr.needs_rewrap(old)
    kr.promote(2)
    assert kr.primary_kid == 2 and kr.state_of(1) == "decrypt-only"
    assert kr.needs_rewrap(old)
    new = kr.rewrap("t", old, b"c")
    assert kc.inspect(new).kid == 2 and kr.open("t", new, b"c") == b"v"
    assert kr.rewrap("t", new, b"c") == new
    with pytest.raises(kc.PrimaryKeyError) as ei:
        kr.retire(2)
    assert ei.value.kid == 2
    kr.retire(1)
    assert kr.state_of(1) == "retired"
    with pytest.raises(kc.KeyRetiredError) as ei:
        kr.open("t", old, b"c")
    assert ei.value.kid == 1 and ei.value.code == "KC_KEY_RETIRED"
    with pytest.raises(kc.KeyRetiredError):
        kr.promote(1)
    # remove leaves a retired tombstone: the kid is never issued again (finding 4).
    kr.remove(1)
    with pytest.raises(kc.KeyRetiredError) as ei:
        kr.open("t", old, b"c")
    assert ei.value.kid == 1
    assert kr.state_of(1) == "retired"
    with pytest.raises(kc.UnknownKeyError):
        kr.remove(9)
    with pytest.raises(kc.PrimaryKeyError):
        kr.remove(2)
    assert kr.rotate() == 3 and kr.primary_kid == 3
    assert [(k.kid, k.state) for k in kr.kids()] == [(1, "retired"), (2, "decrypt-only"), (3, "active")]


def test_add_key_with_secret_and_fingerprints():
    kr = kc.Keyring.from_secret(ROOT_A)
    kid = kr.add_key_with_secret(bytes(range(0x40, 0x60)))
    assert kid == 2
    infos = kr.kids()
    assert [i.kid for i in infos] == [1, 2]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i.fingerprint) for i in infos)
    # The fingerprint is public and stable: HKDF-Expand(PRK, "keycustody/v1/fingerprint" || 0x00, 8).
    assert infos[0].fingerprint == hkdf(ROOT_A, b"keycustody/v1/fingerprint", "", 8).hex()
    again = kc.Keyring.parse(kr.export())
    assert again.kids() == infos
    assert infos[0] != infos[1]
    with pytest.raises(kc.InvalidArgumentError):
        kr.add_key_with_secret(b"short")


def test_export_parse_round_trip_and_format():
    kr = kc.Keyring.from_secret(ROOT_A, kid=7)
    doc = json.loads(kr.export())
    assert doc == {"version": 1, "primary": 7, "keys": [{"kid": 7, "state": "active", "secret": b64url(ROOT_A)}]}
    with pytest.raises(kc.MalformedError) as ei:
        kc.Keyring.parse('{"version":2,"primary":1,"keys":[]}')
    assert ei.value.malformed_kind == "KeyringVersion"
    with pytest.raises(kc.MalformedError):
        kc.Keyring.parse("not json")


def test_from_secret_text_is_utf8_bytes_not_decoded():
    hex_text = "00" * 32
    a = kc.Keyring.from_secret(hex_text)
    b = kc.Keyring.from_secret(hex_text.encode())
    env = a.seal("t", b"x")
    assert b.open("t", env) == b"x"
    with pytest.raises(kc.DecryptError):
        kc.Keyring.from_secret(bytes(32)).open("t", env)
    with pytest.raises(kc.InvalidArgumentError):
        kc.Keyring.from_secret(b"x" * 31)
    with pytest.raises(kc.InvalidArgumentError):
        kc.Keyring.from_secret(ROOT_A, kid=0)


def test_from_env(monkeypatch):
    kr = kc.Keyring.generate()
    monkeypatch.setenv("KEYCUSTODY_KEYRING", kr.export())
    monkeypatch.setenv("OTHER_KR", kr.export())
    env = kr.seal("t", b"x")
    assert kc.Keyring.from_env().open("t", env) == b"x"
    assert kc.Keyring.from_env("OTHER_KR").open("t", env) == b"x"
    monkeypatch.delenv("OTHER_KR")
    with pytest.raises(kc.MissingEnvVarError) as ei:
        kc.Keyring.from_env("OTHER_KR")
    assert isinstance(ei.value, LookupError) and ei.value.code == "KC_MISSING_ENV_VAR"
    monkeypatch.setenv("OTHER_KR", "{}")
    with pytest.raises(kc.MalformedError):
        kc.Keyring.from_env("OTHER_KR")


def test_from_file(tmp_path):
    kr = kc.Keyring.generate()
    p = tmp_path / "keyring.json"
    p.write_text(kr.export())
    os.chmod(p, 0o600)
    env = kr.seal("t", b"x")
    assert kc.Keyring.from_file(p).open("t", env) == b"x"
    assert kc.Keyring.from_file(str(p)).open("t", env) == b"x"
    os.chmod(p, 0o644)
    with pytest.raises(kc.InsecurePermissionsError) as ei:
        kc.Keyring.from_file(p)
    assert isinstance(ei.value, PermissionError) and ei.value.kind == "InsecurePermissions"
    with pytest.raises(kc.IoError) as ei:
        kc.Keyring.from_file(tmp_path / "missing.json")
    assert isinstance(ei.value, OSError) and ei.value.io_kind == "NotFound"


def test_derive_key_matches_hkdf(kr):
    got = kr.derive_key("webhook-signing", "tenant-1")
    assert got == hkdf(ROOT_A, b"keycustody/v1/custom/webhook-signing", "tenant-1")
    assert kr.derive_key("webhook-signing", "tenant-1", 64)[:32] == got
    with pytest.raises(kc.InvalidArgumentError):
        kr.derive_key("p", "t", 0)
    with pytest.raises(kc.InvalidArgumentError):
        kr.derive_key("", "t")
    with pytest.raises(kc.InvalidOwnerError):
        kr.derive_key("p", "")


def test_pseudonymize_matches_hmac(kr):
    key = hkdf(ROOT_A, b"keycustody/v1/pseudonym", "keycustody/pseudonym")
    assert kr.pseudonymize("203.0.113.9") == hmac.new(key, b"203.0.113.9", "sha256").hexdigest()
    tkey = hkdf(ROOT_A, b"keycustody/v1/pseudonym", "tenant-1")
    assert kr.pseudonymize_for("tenant-1", "a@b.example") == hmac.new(tkey, b"a@b.example", "sha256").hexdigest()
    with pytest.raises(kc.TooLargeError):
        kr.pseudonymize("x" * (64 * 1024 + 1))
    with pytest.raises(kc.InvalidOwnerError):
        kr.pseudonymize_for("", "x")


# ---- reprs never show secrets ----------------------------------------------------------
def test_reprs_hide_secrets():
    kr = kc.Keyring.from_secret(ROOT_A)
    kr.add_key()
    r = repr(kr)
    assert r == "Keyring(primary_kid=1, keys=[(1, 'active'), (2, 'decrypt-only')])"
    for k in json.loads(kr.export())["keys"]:
        assert k["secret"] not in r and k["secret"] not in str(kr)
    g = kc.generate_api_key("obee")
    assert g.key not in repr(g) and g.key not in str(g) and repr(g) == f"GeneratedApiKey(hint='{g.hint}')"
    p = kc.parse_api_key(g.key)
    assert g.key not in repr(p) and repr(p) == f"ApiKey(hint='{g.hint}')"
    assert "fingerprint" in repr(kr.kids()[0])


def test_objects_are_not_picklable():
    with pytest.raises(TypeError):
        pickle.dumps(kc.Keyring.generate())
    with pytest.raises(TypeError):
        pickle.dumps(kc.generate_api_key("obee"))


# ---- API keys, tokens, comparison ------------------------------------------------------
def test_api_keys():
    g = kc.generate_api_key("obee")
    assert re.fullmatch(r"obee_[0-9A-Za-z]{36}", g.key)
    assert g.hash == hashlib.sha256(g.key.encode()).hexdigest() == kc.hash_api_key(g.key)
    assert g.hint == f"obee_{g.key[5:9]}…{g.key[-4:]}"
    assert kc.verify_api_key(g.key, g.hash) is True
    assert kc.verify_api_key(g.key, "0" * 64) is False
    p = kc.parse_api_key(g.key)
    assert (p.prefix, p.hint, p.hash, p.key) == ("obee", g.hint, g.hash, g.key)
    typo = g.key[:-1] + ("A" if g.key[-1] != "A" else "B")
    with pytest.raises(kc.MalformedError) as ei:
        kc.parse_api_key(typo)
    assert ei.value.malformed_kind == "ApiKeyChecksum"
    with pytest.raises(kc.MalformedError) as ei:
        kc.verify_api_key(g.key, "XYZ")
    assert ei.value.malformed_kind == "ApiKeyHash"
    with pytest.raises(kc.MalformedError) as ei:
        kc.generate_api_key("Bad")
    assert ei.value.malformed_kind == "ApiKeyPrefix"


def test_tokens():
    t = kc.random_token()
    assert re.fullmatch(r"[0-9a-f]{64}", t) and t != kc.random_token()
    assert len(kc.random_token(8)) == 16
    assert re.fullmatch(r"[0-9A-Za-z]{22}", kc.random_base62(22))
    assert re.fullmatch(r"[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}", kc.invite_code(8))
    assert re.fullmatch(r"[0-9A-Za-z]{32}", kc.random_base62())
    assert re.fullmatch(r"[abc]{40}", kc.random_string("abc", 40))
    for bad in ("a", "abca", "ab\u00e9"):
        with pytest.raises(kc.InvalidArgumentError):
            kc.random_string(bad, 8)
    for f in (kc.random_token, kc.random_base62, kc.invite_code, lambda n: kc.random_string("01", n)):
        with pytest.raises(kc.InvalidArgumentError):
            f(0)
        with pytest.raises(kc.InvalidArgumentError):
            f(1025)
        with pytest.raises(kc.InvalidArgumentError):
            f(-1)


def test_constant_time_equal():
    assert kc.constant_time_equal(b"abc", b"abc")
    assert kc.constant_time_equal("abc", bytearray(b"abc"))
    assert not kc.constant_time_equal(b"abc", b"abd")
    assert not kc.constant_time_equal(b"abc", b"abcd")
    assert kc.constant_time_equal(b"", b"")


# ---- webhooks --------------------------------------------------------------------------
def test_stripe_against_hmac():
    body, secret = b'{"id":"evt_1"}', "whsec_test"
    header = kc.sign_stripe_payload(body, secret, NOW)
    sig = hmac.new(secret.encode(), f"{NOW}.".encode() + body, "sha256").hexdigest()
    assert header == f"t={NOW},v1={sig}"
    assert kc.verify_stripe_signature(body, header, secret, now=NOW + 299) == NOW
    assert kc.verify_stripe_signature(body.decode(), header, secret, 300, NOW) == NOW
    # Any matching v1 passes (secret rolling).
    rolled = f"t={NOW},v1={'0' * 64},v1={sig}"
    assert kc.verify_stripe_signature(body, rolled, secret, now=NOW) == NOW
    with pytest.raises(kc.TimestampError) as ei:
        kc.verify_stripe_signature(body, header, secret, now=NOW + 301)
    assert isinstance(ei.value, kc.VerificationError)
    with pytest.raises(kc.TimestampError):
        kc.verify_stripe_signature(body, header, secret, tolerance=10, now=NOW - 11)
    with pytest.raises(kc.SignatureError):
        kc.verify_stripe_signature(body + b" ", header, secret, now=NOW)
    with pytest.raises(kc.SignatureError):
        kc.verify_stripe_signature(body, header, "whsec_other", now=NOW)
    with pytest.raises(kc.MalformedError):
        kc.verify_stripe_signature(body, "garbage", secret, now=NOW)
    # now=None uses the wall clock: a 2023 signature is outside any 300 s window today.
    with pytest.raises(kc.TimestampError):
        kc.verify_stripe_signature(body, header, secret)


def test_standard_webhooks_against_hmac():
    key = bytes(range(32))
    secret = "whsec_" + base64.b64encode(key).decode()
    body, msg_id = b'{"type":"x"}', "msg_1"
    sig = kc.sign_standard_webhook(body, msg_id, NOW, secret)
    expect = base64.b64encode(hmac.new(key, f"{msg_id}.{NOW}.".encode() + body, "sha256").digest()).decode()
    assert sig == "v1," + expect
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(NOW), "webhook-signature": sig}
    assert kc.verify_standard_webhook(body, headers, secret, now=NOW) == NOW
    with pytest.raises(kc.SignatureError):
        kc.verify_standard_webhook(body, {**headers, "webhook-id": "msg_2"}, secret, now=NOW)
    with pytest.raises(kc.TimestampError):
        kc.verify_standard_webhook(body, headers, secret, now=NOW + 1000)
    with pytest.raises(kc.MalformedError):
        kc.verify_standard_webhook(body, {**headers, "webhook-timestamp": "12x"}, secret, now=NOW)
    s = kc.generate_standard_webhook_secret()
    assert s.startswith("whsec_") and len(base64.b64decode(s[6:])) == 32


def test_telegram():
    assert kc.verify_telegram_secret("abc_DEF-1", "abc_DEF-1") is None
    with pytest.raises(kc.SignatureError):
        kc.verify_telegram_secret("abc_DEF-2", "abc_DEF-1")
    with pytest.raises(kc.SignatureError):
        kc.verify_telegram_secret("", "abc_DEF-1")
    with pytest.raises(kc.InvalidArgumentError):
        kc.verify_telegram_secret("x", "bad secret!")


def test_replay_guard():
    g = kc.ReplayGuard(capacity=2, ttl_seconds=60)
    assert g.capacity == 2 and len(g) == 0
    g.check_and_record("evt_1", now=NOW)
    with pytest.raises(kc.ReplayError) as ei:
        g.check_and_record("evt_1", now=NOW + 59)
    assert ei.value.kind == "Replayed"
    g.check_and_record("evt_2", now=NOW)
    # Full of unexpired ids: fails closed.
    with pytest.raises(kc.InvalidArgumentError):
        g.check_and_record("evt_3", now=NOW + 1)
    # After the TTL the id is accepted again.
    g.check_and_record("evt_1", now=NOW + 61)
    assert repr(g).startswith("ReplayGuard(capacity=2")
    with pytest.raises(kc.InvalidArgumentError):
        kc.ReplayGuard(0, 60)
    with pytest.raises(kc.InvalidArgumentError):
        g.check_and_record("", now=NOW)


# ---- text ------------------------------------------------------------------------------
def test_scrub_and_validate():
    fake = "sk-ant-api03-" + "A" * 40
    out = kc.scrub(f"calling with key {fake} now")
    assert fake not in out and "[REDACTED:" in out
    assert kc.scrub("nothing secret here") == "nothing secret here"
    assert kc.validate_slug("acme-corp") is None
    assert kc.validate_email("ops@example.com") is None
    for bad in ("A", "-acme", "acme_corp"):
        with pytest.raises(kc.InvalidArgumentError):
            kc.validate_slug(bad)
    for bad in ("no-at", "a@b", "a b@example.com", "a@example.com\n"):
        with pytest.raises(kc.InvalidArgumentError):
            kc.validate_email(bad)


# ---- legacy ----------------------------------------------------------------------------
def test_legacy_pbkdf2_gcm_from_pyca():
    salt, iv, pw = os.urandom(16), os.urandom(12), b"old-platform-password"
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, 1000).derive(pw)
    blob = base64.b64encode(salt + iv + AESGCM(key).encrypt(iv, b"legacy secret", None)).decode()
    assert kc.decrypt_legacy_pbkdf2_gcm(blob, pw, iterations=1000) == b"legacy secret"
    assert kc.decrypt_legacy_pbkdf2_gcm(blob, pw.decode(), 1000, 16) == b"legacy secret"
    with pytest.raises(kc.DecryptError):
        kc.decrypt_legacy_pbkdf2_gcm(blob, b"wrong", iterations=1000)
    with pytest.raises(kc.MalformedError):
        kc.decrypt_legacy_pbkdf2_gcm("!!!", pw, iterations=1000)
    with pytest.raises(kc.InvalidArgumentError):
        kc.decrypt_legacy_pbkdf2_gcm(blob, pw, iterations=0)
    with pytest.raises(kc.InvalidArgumentError):
        kc.decrypt_legacy_pbkdf2_gcm(blob, pw, iterations=2**40)


def test_legacy_openssl_enc_from_pyca():
    # A fixed salt: CBC has no integrity, so about 1 wrong password in 256 unpads cleanly by
    # chance; with this salt the wrong-password check below always meets a padding error.
    salt, pw = b"kc-pyca!", b"pw"
    km = PBKDF2HMAC(hashes.SHA256(), 48, salt, 1000).derive(pw)
    padder = padding.PKCS7(128).padder()
    data = padder.update(b"from openssl") + padder.finalize()
    enc = Cipher(algorithms.AES(km[:32]), modes.CBC(km[32:])).encryptor()
    blob = b"Salted__" + salt + enc.update(data) + enc.finalize()
    assert kc.decrypt_openssl_enc(blob, pw, 1000) == b"from openssl"
    with pytest.raises(kc.DecryptError):
        kc.decrypt_openssl_enc(blob, b"wrong", 1000)
    with pytest.raises(kc.MalformedError):
        kc.decrypt_openssl_enc(b"not salted", pw, 1000)


# ---- the exception hierarchy -----------------------------------------------------------
def test_exception_classes():
    for kind, cls in KIND_CLASS.items():
        assert issubclass(cls, kc.Error) and issubclass(cls, Exception)
        assert cls.kind == kind and cls.code == code_of(kind)
        assert cls.__module__ == "keycustody"
    assert issubclass(kc.MalformedError, ValueError)
    assert issubclass(kc.InvalidOwnerError, kc.InvalidArgumentError)
    assert issubclass(kc.InsecurePermissionsError, PermissionError)
    for cls in (kc.SignatureError, kc.TimestampError, kc.ExpiredError, kc.ReplayError, kc.LockedError):
        assert issubclass(cls, kc.VerificationError)


def test_exception_pickles_with_attributes(kr):
    with pytest.raises(kc.UnknownKeyError) as ei:
        kr.promote(9)
    e = pickle.loads(pickle.dumps(ei.value))
    assert type(e) is kc.UnknownKeyError and (e.kind, e.code, e.kid) == ("UnknownKey", "KC_UNKNOWN_KEY", 9)
    assert str(e) == "unknown key id 9"


# ---- JWT -------------------------------------------------------------------------------
def _b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def test_jwt_round_trip_and_independent_hmac(kr):
    token = kr.sign_jwt("acme", {"sub": "user-1", "aud": "api"}, 600, now=NOW)
    head, body, sig = token.split(".")
    assert json.loads(_b64d(head)) == {"alg": "HS256", "typ": "JWT", "kid": "1"}
    assert json.loads(_b64d(body)) == {"sub": "user-1", "aud": "api", "iat": NOW, "exp": NOW + 600}
    kid, secret = kr.jwt_secret("acme")
    assert kid == 1 and secret == hkdf(ROOT_A, b"keycustody/v1/jwt", "acme")
    assert _b64d(sig) == hmac.new(secret, f"{head}.{body}".encode(), "sha256").digest()
    claims = kr.verify_jwt("acme", token, audience="api", now=NOW + 1)
    assert claims["sub"] == "user-1" and claims["exp"] == NOW + 600
    with pytest.raises(kc.SignatureError):
        kr.verify_jwt("globex", token, audience="api", now=NOW)
    with pytest.raises(kc.ExpiredError):
        kr.verify_jwt("acme", token, audience="api", now=NOW + 600)
    assert kr.verify_jwt("acme", token, audience="api", leeway=10, now=NOW + 605)["sub"] == "user-1"
    with pytest.raises(kc.ClaimMismatchError) as ei:
        kr.verify_jwt("acme", token, audience="other", now=NOW)
    assert ei.value.claim == "aud"
    with pytest.raises(kc.ClaimMismatchError):
        kr.verify_jwt("acme", token, now=NOW)  # a token with aud needs an audience
    with pytest.raises(kc.NotYetValidError):
        kr.verify_jwt("acme", token, audience="api", now=NOW - 100)
    with pytest.raises(kc.MalformedError):
        kr.verify_jwt("acme", "not.a.jwt", now=NOW)
    with pytest.raises(kc.InvalidArgumentError):
        kr.sign_jwt("acme", {"exp": 1}, 600, now=NOW)
    # JSON text claims are kept byte for byte.
    t2 = kr.sign_jwt("acme", '{"b":1,"a":2}', 60, now=NOW)
    assert _b64d(t2.split(".")[1]).startswith(b'{"b":1,"a":2,')
    # Rotation: old tokens verify while their kid is decrypt-only.
    kr.rotate()
    assert kr.verify_jwt("acme", token, audience="api", now=NOW)["sub"] == "user-1"
    kr.retire(1)
    with pytest.raises(kc.KeyRetiredError):
        kr.verify_jwt("acme", token, audience="api", now=NOW)


def test_jwt_wall_clock(kr):
    token = kr.sign_jwt("acme", {"sub": "u"}, 60)
    assert kr.verify_jwt("acme", token)["sub"] == "u"


# ---- one-time codes and TOTP ------------------------------------------------------------
def test_one_time_code_flow(kr):
    issued = kr.issue_code("user@example.com", now=NOW)
    assert re.fullmatch(r"[0-9]{6}", issued.code) and issued.expires_at == NOW + 900
    assert issued.code not in repr(issued) and issued.code not in issued.record
    wrong = "000000" if issued.code != "000000" else "111111"
    check = kr.verify_code("user@example.com", wrong, issued.record, now=NOW + 1)
    assert (check.status, check.ok, check.attempts_left, check.changed) == ("wrong", False, 4, True)
    with pytest.raises(kc.SignatureError):
        check.raise_for_status()
    record = check.record
    check = kr.verify_code("user@example.com", issued.code, record, now=NOW + 2)
    assert check.ok and check.status == "valid" and check.raise_for_status() is None
    used = kr.verify_code("user@example.com", issued.code, check.record, now=NOW + 3)
    assert used.status == "used" and not used.changed
    with pytest.raises(kc.ReplayError):
        used.raise_for_status()
    expired = kr.verify_code("user@example.com", issued.code, issued.record, now=NOW + 900)
    assert expired.status == "expired"
    with pytest.raises(kc.ExpiredError):
        expired.raise_for_status()
    other = kr.verify_code("other@example.com", issued.code, issued.record, now=NOW + 1)
    assert other.status == "wrong"
    r = issued.record
    for _ in range(5):
        c = kr.verify_code("user@example.com", wrong, r, now=NOW + 1)
        r = c.record
    assert c.status == "locked"
    with pytest.raises(kc.LockedError):
        c.raise_for_status()
    with pytest.raises(kc.MalformedError):
        kr.verify_code("user@example.com", "123456", "{}", now=NOW)
    with pytest.raises(kc.InvalidArgumentError):
        kr.issue_code("", now=NOW)


def test_totp_rfc6238():
    key = b"12345678901234567890"
    assert kc.totp_raw_at(key, 59, digits=8) == "94287082"
    assert kc.totp_raw_at(key + key[:12], 59, 30, 8, "SHA256") == "46119246"
    secret = base64.b32encode(key).decode()
    code = kc.totp_at(secret, 1111111109)
    assert code == "081804"
    step = kc.verify_totp_at(secret, code, 1111111109)
    assert step == kc.totp_step(1111111109) == 1111111109 // 30
    with pytest.raises(kc.ReplayError):
        kc.verify_totp_at(secret, code, 1111111109, last_used_step=step)
    with pytest.raises(kc.SignatureError):
        kc.verify_totp_at(secret, "000000" if code != "000000" else "111111", 1111111109)
    with pytest.raises(kc.MalformedError):
        kc.totp_at("not base32!", 0)
    s = kc.generate_totp_secret()
    assert len(base64.b32decode(s + "=" * (-len(s) % 8))) == 20
    # `now` omitted (or None) is the wall clock, as in Node and wasm.
    step = kc.verify_totp_at(s, kc.totp_at(s))
    assert kc.totp_step() in (step, step + 1)
    assert kc.verify_totp_at(s, kc.totp_at(s, None), None) in (step, step + 1)
    assert re.fullmatch(r"[0-9]{6}", kc.totp_raw_at(key))
    uri = kc.totp_uri(s, "a@example.com", "Acme")
    assert uri.startswith("otpauth://totp/Acme:a%40example.com?secret=" + s) or uri.startswith("otpauth://totp/Acme:a@example.com?secret=" + s)


# ---- delivery (HPKE) --------------------------------------------------------------------
def test_delivery_round_trip(kr):
    pair = kc.generate_delivery_keypair()
    assert pair.public_key.startswith("kcpk1.") and pair.private_key.startswith("kcsk1.")
    assert pair.private_key not in repr(pair) and pair.public_key in repr(pair)
    assert kc.delivery_public_key(pair.private_key) == pair.public_key
    blob = kc.seal_for_delivery(pair.public_key, "tenant-42", b"sk-ant-...")
    assert blob.startswith("kcd1.")
    assert kc.open_delivery(pair.private_key, "tenant-42", blob) == b"sk-ant-..."
    with pytest.raises(kc.DecryptError):
        kc.open_delivery(pair.private_key, "tenant-43", blob)
    with pytest.raises(kc.DecryptError):
        kc.open_delivery(kc.generate_delivery_keypair().private_key, "tenant-42", blob)
    with pytest.raises(kc.MalformedError):
        kc.seal_for_delivery("kcpk1.short", "tenant-42", b"x")
    with pytest.raises(kc.TooLargeError):
        kc.seal_for_delivery(pair.public_key, "tenant-42", bytes(1024 * 1024 + 1))
    # A VM's keypair can be derived from its keyring: reproducible, per VM.
    a = kc.derive_delivery_keypair(kr.derive_key("deliver", "vm-1"))
    b = kc.derive_delivery_keypair(kr.derive_key("deliver", "vm-1"))
    assert a.public_key == b.public_key != kc.derive_delivery_keypair(kr.derive_key("deliver", "vm-2")).public_key
    with pytest.raises(kc.InvalidArgumentError):
        kc.derive_delivery_keypair(b"short")


def test_delivery_fingerprint_pins_the_key():
    vm = kc.generate_delivery_keypair()
    fp = kc.delivery_key_fingerprint(vm.public_key)
    assert re.fullmatch(r"kcfp1\.[A-Z2-7]{4}(-[A-Z2-7]{4}){7}", fp)
    assert kc.delivery_key_fingerprint(kc.delivery_public_key(vm.private_key)) == fp
    blob = kc.seal_for_delivery(vm.public_key, "acme", b"sk-ant-x", expected_fingerprint=fp)
    assert kc.open_delivery(vm.private_key, "acme", blob) == b"sk-ant-x"
    assert kc.seal_for_delivery(vm.public_key, "acme", b"x", None).startswith("kcd1.")
    # A key served in place of the VM's (a compromised control plane) is refused.
    other = kc.generate_delivery_keypair()
    with pytest.raises(kc.ClaimMismatchError) as e:
        kc.seal_for_delivery(other.public_key, "acme", b"sk-ant-x", expected_fingerprint=fp)
    assert e.value.kind == "ClaimMismatch"
    # The pin is parsed strictly.
    for bad in [fp.lower(), fp.replace("-", ""), fp[len("kcfp1."):], fp + "-"]:
        with pytest.raises(kc.MalformedError):
            kc.seal_for_delivery(vm.public_key, "acme", b"x", expected_fingerprint=bad)
    with pytest.raises(kc.MalformedError):
        kc.delivery_key_fingerprint(vm.private_key)
