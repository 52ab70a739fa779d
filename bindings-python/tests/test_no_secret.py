"""No secret in any output (assurance, ASSURANCE.md section 5).

Secrets carrying a marker go through every kind of failure; the marker (raw, hex or base64)
must not appear in any exception's str(), repr(), args, or traceback text, nor in repr() of
the objects that hold secrets.
"""

import base64
import json
import traceback

import pytest

import keycustody as kc

MARKER = "ZQXMARKERQXZ"
ROOT = f"root-{MARKER}-0123456789abcdef-{MARKER}".encode()


def _b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


NEEDLES = [MARKER, MARKER.encode().hex(), _b64url(ROOT), ROOT.hex()]
for _pad in range(3):
    _enc = _b64url(b"." * _pad + MARKER.encode())
    NEEDLES.append(_enc[-(-_pad // 3) * 4 : len(_enc) - 4])


def assert_clean(what: str, s: str) -> None:
    for n in NEEDLES:
        assert n not in s, f"{what} leaks {n!r}: {s!r}"


def fails(what, fn) -> kc.Error:
    with pytest.raises(kc.Error) as info:
        fn()
    e = info.value
    assert_clean(f"{what} str", str(e))
    assert_clean(f"{what} repr", repr(e))
    assert_clean(f"{what} args", repr(e.args))
    assert_clean(f"{what} traceback", "".join(traceback.format_exception(e)))
    assert_clean(f"{what} dict", repr(getattr(e, "__dict__", {})))
    return e


@pytest.fixture
def keyring_text() -> str:
    return json.dumps(
        {"version": 1, "primary": 1, "keys": [{"kid": 1, "state": "active", "secret": _b64url(ROOT)}]}
    )


def test_checker_sees_each_encoding() -> None:
    for leaked in [MARKER, ROOT.hex(), _b64url(ROOT), base64.b64encode(b"xx" + MARKER.encode()).decode()]:
        with pytest.raises(AssertionError):
            assert_clean("probe", leaked)


def test_no_marked_secret_in_any_error_or_repr(keyring_text: str) -> None:
    kr = kc.Keyring.parse(keyring_text)
    assert_clean("repr(keyring)", repr(kr))
    pt = f"sk-ant-{MARKER}-value"
    env = kr.seal("t1", pt, "c")
    assert kr.open_text("t1", env, "c") == pt
    gen = kc.generate_api_key("kc")
    assert gen.key not in repr(gen)

    fails("parse primary", lambda: kc.Keyring.parse(keyring_text.replace('"primary": 1', '"primary": 7')))
    fails("parse secret", lambda: kc.Keyring.parse(keyring_text.replace(_b64url(ROOT), MARKER + "!")))
    fails("parse json", lambda: kc.Keyring.parse(keyring_text + MARKER))
    fails("from_secret short", lambda: kc.Keyring.from_secret(MARKER))
    assert isinstance(fails("open wrong owner", lambda: kr.open("t2", env, "c")), kc.DecryptError)
    assert isinstance(fails("open wrong context", lambda: kr.open("t1", env, "x")), kc.DecryptError)
    fails("open garbage", lambda: kr.open("t1", f"kc1.{MARKER}"))
    fails("inspect garbage", lambda: kc.inspect(f"kc1.{MARKER}"))
    fails("rewrap wrong owner", lambda: kr.rewrap("t2", env, "c"))
    fails("seal no owner", lambda: kr.seal("", pt))
    fails("parse_api_key", lambda: kc.parse_api_key(f"kc_{MARKER}{'x' * 24}"))
    fails("verify_api_key", lambda: kc.verify_api_key(f"kc_{MARKER}", MARKER))
    fails(
        "stripe",
        lambda: kc.verify_stripe_signature(b"{}", "t=1,v1=" + "0" * 64, f"whsec_{MARKER}", 300, 1),
    )
    fails(
        "standard",
        lambda: kc.verify_standard_webhook(
            b"{}",
            {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1," + base64.b64encode(bytes(32)).decode()},
            "whsec_" + base64.b64encode(MARKER.encode()).decode(), 300, 1,
        ),
    )
    fails(
        "standard header values",
        lambda: kc.verify_standard_webhook(
            b"{}", {"webhook-id": "msg_1", "webhook-timestamp": MARKER, "webhook-signature": MARKER}, "whsec_AAAA", 300, 1
        ),
    )
    fails("legacy", lambda: kc.decrypt_legacy_pbkdf2_gcm(base64.b64encode(bytes([1] * 60)).decode(), MARKER, 1))
    fails("jwt", lambda: kr.verify_jwt("t1", f"{MARKER}.{MARKER}.{MARKER}"))
    fails("open_delivery", lambda: kc.open_delivery(f"kcsk1.{MARKER}", "t1", f"kcd1.{MARKER}"))
    fails(
        "openssl",
        lambda: kc.decrypt_openssl_enc(b"Salted__" + bytes([7] * 24), MARKER, 1),
    )
