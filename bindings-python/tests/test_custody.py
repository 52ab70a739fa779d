"""Custody (issue 14 item 6, DESIGN section 7): tenant keyrings sealed under a keyring,
wrapped keyrings (two-step wrap with an application KEK, passphrase wrap with the GIL
released), the tenant keyring cache; no passphrase or DEK in any output."""

import base64
import json
import os
import re
import struct
import threading
import time
import traceback

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import keycustody as kc
from conftest import assert_kc_error
from gil_probe import ran_during

FAST = {"m_kib": 8, "t": 1, "p": 1}


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def spec_header(kek_type: str, key: str, owner: str) -> bytes:
    """The section 7 header, computed here from the spec (not by the library)."""
    out = b"keycustody/v1/wrapped-keyring\x00"
    for part in (kek_type, key, owner):
        raw = part.encode()
        out += struct.pack(">I", len(raw)) + raw
    return out


APP_KEK = AESGCM(os.urandom(32))


def app_wrap(dek: bytes, aad: bytes) -> bytes:
    """An application KEK (what a GCP KMS / Vault Transit call would do): AES-GCM, header as AAD."""
    iv = os.urandom(12)
    return iv + APP_KEK.encrypt(iv, dek, aad)


def app_unwrap(blob: bytes, aad: bytes) -> bytes:
    return APP_KEK.decrypt(blob[:12], blob[12:], aad)


def test_tenant_keyring_sealed_under_the_platform_keyring():
    platform, tenant = kc.Keyring.generate(), kc.Keyring.generate()
    tenant.rotate()
    env = platform.seal_keyring("acme", tenant)
    assert env.startswith("kc1.")
    back = platform.open_keyring("acme", env)
    assert isinstance(back, kc.Keyring)
    assert back.export() == tenant.export()
    data = tenant.seal("acme", b"card 4242", b"pan")
    assert back.open("acme", data, b"pan") == b"card 4242"
    assert platform.open_text("acme", env, b"keycustody/v1/keyring") == tenant.export()
    for call in (
        lambda: platform.open_keyring("evil", env),
        lambda: kc.Keyring.generate().open_keyring("acme", env),
        lambda: platform.open_keyring("acme", platform.seal("acme", b"x")),
    ):
        with pytest.raises(kc.DecryptError) as ei:
            call()
        assert_kc_error(ei, "DecryptFailed")
    with pytest.raises(kc.MalformedError):
        platform.open_keyring("acme", platform.seal("acme", b"junk", b"keycustody/v1/keyring"))
    with pytest.raises(kc.InvalidOwnerError):
        platform.seal_keyring("", tenant)


def test_two_step_wrap_with_an_application_kek():
    kr = kc.Keyring.generate()
    kr.rotate()
    p = kc.PendingWrap(kr, "vault-transit", "transit/keys/platform", "acme")
    assert (p.kek_type, p.kek_key, p.owner) == ("vault-transit", "transit/keys/platform", "acme")
    dek = p.dek
    assert isinstance(dek, bytes) and len(dek) == 32 and dek != bytes(32)
    assert p.header == spec_header("vault-transit", "transit/keys/platform", "acme")
    assert p.encryption_context == {"keycustody": "wrapped-keyring/v1", "owner": "acme"}
    # A refused wrapped_dek leaves the wrap usable.
    for bad in (b"", bytes(4097)):
        with pytest.raises(kc.InvalidArgumentError):
            p.finish(bad)
    blob = app_wrap(dek, p.header)
    w = p.finish(blob)
    assert isinstance(w, kc.WrappedKeyring)
    # Finished: the DEK is gone, a second finish is refused.
    for after in (lambda: p.dek, lambda: p.header, lambda: p.finish(blob), lambda: p.encryption_context):
        with pytest.raises(kc.InvalidArgumentError):
            after()

    text = w.to_text()
    j = json.loads(text)
    assert list(j) == ["version", "kek", "owner", "wrapped_dek", "nonce", "ciphertext"]
    assert j["kek"] == {"type": "vault-transit", "key": "transit/keys/platform"}
    assert j["wrapped_dek"] == b64u(blob)
    assert kc.is_wrapped_keyring(text) and not kc.is_wrapped_keyring(kr.export())

    parsed = kc.WrappedKeyring.parse(text)
    assert parsed.to_text() == text
    assert (parsed.kek_type, parsed.kek_key, parsed.owner) == ("vault-transit", "transit/keys/platform", "acme")
    assert parsed.wrapped_dek == blob
    assert parsed.header == spec_header("vault-transit", "transit/keys/platform", "acme")
    assert parsed.encryption_context == {"keycustody": "wrapped-keyring/v1", "owner": "acme"}
    parsed.expect_owner("acme")
    for other in ("other", ""):
        with pytest.raises(kc.DecryptError):
            parsed.expect_owner(other)
    assert parsed.open_with_dek(app_unwrap(parsed.wrapped_dek, parsed.header)).export() == kr.export()
    # Independently: ciphertext = AES-256-GCM(DEK, nonce, keyring text, AAD = header).
    plain = AESGCM(dek).decrypt(unb64u(j["nonce"]), unb64u(j["ciphertext"]), spec_header("vault-transit", "transit/keys/platform", "acme"))
    assert plain.decode() == kr.export()

    wrong = bytes([dek[0] ^ 1]) + dek[1:]
    for bad_dek in (wrong, dek[:31], bytearray(wrong)):
        with pytest.raises(kc.DecryptError):
            parsed.open_with_dek(bad_dek)
    # Tenant A's keyring in tenant B's row: the header differs.
    with pytest.raises(kc.DecryptError):
        kc.WrappedKeyring.parse(json.dumps({**j, "owner": "other"})).open_with_dek(dek)
    ct = bytearray(unb64u(j["ciphertext"]))
    ct[3] ^= 1
    with pytest.raises(kc.DecryptError):
        kc.WrappedKeyring.parse(json.dumps({**j, "ciphertext": b64u(bytes(ct))})).open_with_dek(dek)


def test_pending_wrap_refusals_and_the_platform_owner():
    kr = kc.Keyring.generate()
    p = kc.PendingWrap(kr, "aws-kms", "alias/platform", "")
    assert p.encryption_context == {"keycustody": "wrapped-keyring/v1", "owner": ""}
    assert p.finish(b"blob").owner == ""
    with pytest.raises(kc.InvalidArgumentError):
        kc.PendingWrap(kr, "passphrase", "x", "")
    with pytest.raises(kc.MalformedError) as ei:
        kc.PendingWrap(kr, "Bad Type!", "x", "")
    assert ei.value.malformed_kind == "KekType"
    for key in ("", "k" * 2049):
        with pytest.raises(kc.InvalidArgumentError):
            kc.PendingWrap(kr, "aws-kms", key, "")
    with pytest.raises(kc.InvalidOwnerError):
        kc.PendingWrap(kr, "aws-kms", "k", "o" * 1025)
    with pytest.raises(TypeError):
        kc.PendingWrap("not a keyring", "aws-kms", "k", "")  # type: ignore[arg-type]


def test_parse_refuses_unknown_fields_versions_types_and_truncation():
    text = kc.PendingWrap(kc.Keyring.generate(), "gcp-kms", "projects/p/keys/k", "t").finish(b"wrapped").to_text()
    j = json.loads(text)
    cases = [
        ({**j, "extra": 1}, "WrappedKeyring"),
        ({**j, "kek": {**j["kek"], "region": "x"}}, "WrappedKeyring"),
        ({**j, "version": 2}, "WrappedKeyringVersion"),
        ({**j, "kek": {**j["kek"], "type": "GCP KMS"}}, "KekType"),
        ({**j, "nonce": "AAAA"}, "WrappedKeyring"),
        ({**j, "wrapped_dek": "not*b64u"}, "WrappedKeyring"),
        (text[:-5], "WrappedKeyring"),
        ("", "WrappedKeyring"),
    ]
    for v, kind in cases:
        with pytest.raises(kc.MalformedError) as ei:
            kc.WrappedKeyring.parse(v if isinstance(v, str) else json.dumps(v))
        assert ei.value.malformed_kind == kind, v
    with pytest.raises(kc.TooLargeError):
        kc.WrappedKeyring.parse(" " * (2 * 1024 * 1024 + 1))


def test_passphrase_wrap_and_unwrap_release_the_gil():
    kr = kc.Keyring.generate()
    out = []
    assert ran_during(lambda: out.append(kc.wrap_with_passphrase(kr, "correct horse", "acme", m_kib=16384, t=2, p=1)))
    w = out[0]
    assert (w.kek_type, w.owner) == ("passphrase", "acme")
    assert re.fullmatch(r"argon2id\$v=19\$m=16384,t=2,p=1\$[A-Za-z0-9_-]{22}", w.kek_key)
    assert len(w.wrapped_dek) == 12 + 32 + 16
    back = []
    assert ran_during(lambda: back.append(kc.WrappedKeyring.parse(w.to_text()).open_with_passphrase("correct horse")))
    assert back[0].export() == kr.export()
    # bytes, bytearray and str of the same UTF-8 are one passphrase
    assert w.open_with_passphrase(b"correct horse").export() == kr.export()
    assert w.open_with_passphrase(bytearray(b"correct horse")).export() == kr.export()
    with pytest.raises(kc.DecryptError) as ei:
        w.open_with_passphrase("wrong")
    assert_kc_error(ei, "DecryptFailed")
    assert kc.wrap_with_passphrase(kr, "p", "").kek_key.startswith("argon2id$v=19$m=65536,t=3,p=1$")
    kms = kc.PendingWrap(kr, "aws-kms", "alias/k", "").finish(b"x")
    with pytest.raises(kc.MalformedError) as me:
        kms.open_with_passphrase("p")
    assert me.value.malformed_kind == "KekType"
    for bad in ({"m_kib": 7}, {"t": 0}, {"p": 0}, {"t": 17}, {"m_kib": 1024 * 1024 + 1}, {"m_kib": 2**32}):
        with pytest.raises(kc.InvalidArgumentError):
            kc.wrap_with_passphrase(kr, "p", "acme", **{**FAST, **bad})
    with pytest.raises(kc.InvalidArgumentError):
        kc.wrap_with_passphrase(kr, "", "acme", **FAST)
    with pytest.raises(kc.TooLargeError):
        kc.wrap_with_passphrase(kr, b"x" * (64 * 1024 + 1), "acme", **FAST)


def test_passphrase_wrap_runs_in_parallel_threads():
    kr = kc.Keyring.generate()
    results = []

    def work(i):
        w = kc.wrap_with_passphrase(kr, f"pw{i}", f"t{i}", m_kib=1024, t=1, p=1)
        results.append(w.open_with_passphrase(f"pw{i}").export() == kr.export())

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 4


def test_tenant_keyring_cache():
    d = kc.TenantKeyringCache()
    assert (d.capacity, d.ttl, len(d)) == (10000, 300, 0)
    c = kc.TenantKeyringCache(2, 10)
    a = kc.Keyring.generate()
    env = a.seal("a", b"hello")
    assert isinstance(c.insert("a", a, now=100), kc.Keyring)
    assert len(c) == 1
    assert c.get("a", now=109).open("a", env) == b"hello"
    assert c.get("a", now=110) is None  # expired at the TTL, and removed
    assert len(c) == 0
    c.insert("a", a, 0)
    c.insert("b", kc.Keyring.generate(), 0)
    assert c.get("a", 1) is not None  # b is now the least recently used
    c.insert("c", kc.Keyring.generate(), 2)
    assert len(c) == 2 and c.get("b", 3) is None and c.get("c", 3) is not None
    c.invalidate("c")
    assert c.get("c", 3) is None
    c.clear()
    assert len(c) == 0 and c.get("nobody", 0) is None
    # A snapshot: rotating the caller's keyring afterwards does not change the cached one.
    k = kc.Keyring.generate()
    c.insert("k", k, 0)
    k.rotate()
    assert c.get("k", 0).primary_kid == 1
    # now defaults to the clock (Unix seconds)
    wall = kc.TenantKeyringCache(4, 3600)
    wall.insert("w", a)
    assert wall.get("w") is not None
    assert wall.get("w", now=int(time.time()) + 7200) is None
    for z in (kc.TenantKeyringCache(0, 10), kc.TenantKeyringCache(10, 0)):
        z.insert("a", a, 0)
        assert z.get("a", 0) is None
    assert "TenantKeyringCache(capacity=2" in repr(c)
    for bad in (-1, 2**64):
        with pytest.raises(kc.InvalidArgumentError):
            kc.TenantKeyringCache(bad)
        with pytest.raises(kc.InvalidArgumentError):
            c.get("a", bad)
    with pytest.raises(TypeError):
        c.insert("a", "not a keyring")  # type: ignore[arg-type]


def test_cache_shared_by_threads():
    c = kc.TenantKeyringCache(8, 60)
    krs = [kc.Keyring.generate() for _ in range(16)]
    errors = []

    def work(i):
        try:
            for n in range(200):
                t = f"t{(i + n) % 16}"
                got = c.get(t, 0)
                if got is None:
                    c.insert(t, krs[(i + n) % 16], 0)
                elif got.export() != krs[(i + n) % 16].export():
                    errors.append(t)
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(c) <= 8


MARKER = "ZQXMARKERQXZ"


def test_no_passphrase_or_dek_in_any_output():
    passphrase = f"pass-{MARKER}"
    kr = kc.Keyring.generate()
    p = kc.PendingWrap(kr, "aws-kms", f"arn:aws:kms:eu-west-1:111122223333:key/{MARKER}", "acme")
    dek = p.dek
    needles = [MARKER, MARKER.encode().hex(), b64u(MARKER.encode())[:12], dek.hex(), b64u(dek), base64.b64encode(dek).decode()]

    def clean(what, s):
        for n in needles:
            assert n not in s, f"{what} leaks {n!r}: {s!r}"

    clean("repr(pending)", repr(p))
    w = p.finish(b"blob")
    clean("repr(wrapped)", repr(w))
    clean("repr(finished pending)", repr(p))
    cache = kc.TenantKeyringCache(4, 10)
    cache.insert("acme", kr, 0)
    clean("repr(cache)", repr(cache))
    pw = kc.wrap_with_passphrase(kr, passphrase, "acme", **FAST)
    clean("repr(passphrase-wrapped)", repr(pw))
    failing = [
        ("wrong passphrase", lambda: pw.open_with_passphrase(passphrase + "x")),
        ("passphrase in the owner", lambda: kc.wrap_with_passphrase(kr, passphrase, "o" * 1025 + passphrase, **FAST)),
        ("passphrase over the limit", lambda: kc.wrap_with_passphrase(kr, passphrase * 5000, "acme", **FAST)),
        ("passphrase in a wrong slot", lambda: kc.wrap_with_passphrase(kr, passphrase, "acme", m_kib=passphrase)),  # type: ignore[arg-type]
        ("passphrase as wrong type", lambda: pw.open_with_passphrase({"p": passphrase})),  # type: ignore[arg-type]
        ("wrong dek", lambda: w.open_with_dek(dek[1:] + b"\0")),
        ("dek as text", lambda: w.open_with_dek(dek.hex())),  # type: ignore[arg-type]
        ("dek in wrapped text", lambda: kc.WrappedKeyring.parse(json.dumps({"version": 1, "dek": dek.hex()}))),
        ("dek after finish", lambda: p.dek),
        ("finish with the dek as text", lambda: kc.PendingWrap(kr, "aws-kms", "k", "").finish(dek.hex())),  # type: ignore[arg-type]
    ]
    for what, call in failing:
        with pytest.raises((kc.Error, TypeError)) as ei:
            call()
        e = ei.value
        clean(f"{what} str", str(e))
        clean(f"{what} repr", repr(e))
        clean(f"{what} args", repr(e.args))
        clean(f"{what} traceback", "".join(traceback.format_exception(e)))
