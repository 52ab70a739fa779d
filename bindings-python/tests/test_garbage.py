"""Garbage in: every exported callable, every parameter, wrong types and bad values.

Each case checks the exact exception class. Nothing may escape as a Rust panic
(pyo3's PanicException derives from BaseException, not Exception) or as a bare
OverflowError/SystemError.
"""

import inspect

import pytest

import keycustody as kc
from audit_calls import AUDIT_CALLS, AUDIT_WRONG
from custody_calls import CUSTODY_CALLS, CUSTODY_WRONG, NOT_OWNER

ROOT = bytes(range(32))


def _keyring():
    kr = kc.Keyring.from_secret(ROOT)  # kid 1
    kr.add_key()  # kid 2, decrypt-only
    kr.add_key()  # kid 3
    kr.promote(3)
    return kr


KR = _keyring()
ENV = KR.seal("tenant", b"v", b"c")
ENV_BIN = KR.seal_binary("tenant", b"v", b"c")
STRIPE = kc.sign_stripe_payload(b"{}", "whsec_x", 1_700_000_000)
WHSEC = "whsec_" + "A" * 43
STD_SIG = kc.sign_standard_webhook(b"{}", "m1", 1_700_000_000, WHSEC)
STD_HEADERS = {"webhook-id": "m1", "webhook-timestamp": "1700000000", "webhook-signature": STD_SIG}
GUARD = kc.ReplayGuard(100, 60)
API = kc.generate_api_key("obee")
NOW = 1_700_000_000
TOKEN = KR.sign_jwt("tenant", {"sub": "u1"}, 600, now=NOW)
ISSUED = KR.issue_code("user@example.com", now=NOW)
CHECK = KR.verify_code("user@example.com", "000000", ISSUED.record, now=NOW)
TOTP = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
PAIR = kc.generate_delivery_keypair()
BLOB = kc.seal_for_delivery(PAIR.public_key, "tenant", b"v")

# name -> (callable, [(param, type, valid value)]). Types: str, data (bytes|bytearray|str),
# bin (bytes|bytearray), int, optint (int or None), optstr (str or None), claims (dict or str), path,
# headers (a Mapping[str, str]).
S, D, B, I, O = "str", "data", "bin", "int", "optint"
CALLS = {
    "Keyring.generate": (kc.Keyring.generate, []),
    "Keyring.parse": (kc.Keyring.parse, [("text", S, KR.export())]),
    "Keyring.from_env": (kc.Keyring.from_env, [("var", S, "KC_GARBAGE_UNSET")]),
    "Keyring.from_file": (kc.Keyring.from_file, [("path", "path", "/nonexistent/keyring.json")]),
    "Keyring.from_secret": (kc.Keyring.from_secret, [("secret", D, ROOT), ("kid", I, 1)]),
    "Keyring.export": (KR.export, []),
    "Keyring.add_key": (kc.Keyring.generate().add_key, []),
    "Keyring.add_key_with_secret": (kc.Keyring.generate().add_key_with_secret, [("secret", D, ROOT)]),
    "Keyring.promote": (KR.promote, [("kid", I, 3)]),
    "Keyring.rotate": (kc.Keyring.generate().rotate, []),
    "Keyring.retire": (kc.Keyring.generate().retire, [("kid", I, 1)]),
    "Keyring.remove": (kc.Keyring.generate().remove, [("kid", I, 1)]),
    "Keyring.kids": (KR.kids, []),
    "Keyring.state_of": (KR.state_of, [("kid", I, 1)]),
    "Keyring.seal": (KR.seal, [("owner", S, "tenant"), ("plaintext", D, b"v"), ("context", D, b"c")]),
    "Keyring.seal_binary": (KR.seal_binary, [("owner", S, "tenant"), ("plaintext", D, b"v"), ("context", D, b"c")]),
    "Keyring.open": (KR.open, [("owner", S, "tenant"), ("envelope", S, ENV), ("context", D, b"c")]),
    "Keyring.open_binary": (KR.open_binary, [("owner", S, "tenant"), ("envelope", B, ENV_BIN), ("context", D, b"c")]),
    "Keyring.open_text": (KR.open_text, [("owner", S, "tenant"), ("envelope", S, ENV), ("context", D, b"c")]),
    "Keyring.needs_rewrap": (KR.needs_rewrap, [("envelope", S, ENV)]),
    "Keyring.rewrap": (KR.rewrap, [("owner", S, "tenant"), ("envelope", S, ENV), ("context", D, b"c")]),
    "Keyring.derive_key": (KR.derive_key, [("purpose", S, "p"), ("owner", S, "tenant"), ("length", I, 32)]),
    "Keyring.pseudonymize": (KR.pseudonymize, [("value", S, "1.2.3.4")]),
    "Keyring.pseudonymize_for": (KR.pseudonymize_for, [("tenant", S, "tenant"), ("value", S, "1.2.3.4")]),
    "Keyring.sign_jwt": (
        KR.sign_jwt,
        [("tenant", S, "tenant"), ("claims", "claims", {"sub": "u1"}), ("ttl_seconds", I, 600), ("now", O, NOW)],
    ),
    "Keyring.verify_jwt": (
        KR.verify_jwt,
        [
            ("tenant", S, "tenant"),
            ("token", S, TOKEN),
            ("audience", "optstr", None),
            ("issuer", "optstr", None),
            ("leeway", I, 0),
            ("now", O, NOW),
        ],
    ),
    "Keyring.jwt_secret": (KR.jwt_secret, [("tenant", S, "tenant")]),
    "Keyring.issue_code": (KR.issue_code, [("subject", S, "user@example.com"), ("now", O, NOW)]),
    "Keyring.verify_code": (
        KR.verify_code,
        [("subject", S, "user@example.com"), ("code", S, "123456"), ("record", S, ISSUED.record), ("now", O, NOW)],
    ),
    "CodeCheck.raise_for_status": (CHECK.raise_for_status, []),
    "generate_totp_secret": (kc.generate_totp_secret, []),
    "totp_uri": (kc.totp_uri, [("secret", S, TOTP), ("account", S, "a@example.com"), ("issuer", S, "Acme")]),
    "totp_at": (kc.totp_at, [("secret", S, TOTP), ("now", O, NOW)]),
    "totp_raw_at": (
        kc.totp_raw_at,
        [("key", D, b"12345678901234567890"), ("now", O, NOW), ("period", I, 30), ("digits", I, 6), ("algorithm", S, "SHA1")],
    ),
    "totp_step": (kc.totp_step, [("now", O, NOW)]),
    "verify_totp_at": (
        kc.verify_totp_at,
        [("secret", S, TOTP), ("code", S, "123456"), ("now", O, NOW), ("last_used_step", O, None)],
    ),
    "generate_delivery_keypair": (kc.generate_delivery_keypair, []),
    "derive_delivery_keypair": (kc.derive_delivery_keypair, [("ikm", D, bytes(32))]),
    "delivery_public_key": (kc.delivery_public_key, [("private_key", S, PAIR.private_key)]),
    "delivery_key_fingerprint": (kc.delivery_key_fingerprint, [("public_key", S, PAIR.public_key)]),
    "seal_for_delivery": (
        kc.seal_for_delivery,
        [
            ("public_key", S, PAIR.public_key),
            ("owner", S, "tenant"),
            ("plaintext", D, b"v"),
            ("expected_fingerprint", "optstr", kc.delivery_key_fingerprint(PAIR.public_key)),
        ],
    ),
    "open_delivery": (kc.open_delivery, [("private_key", S, PAIR.private_key), ("owner", S, "tenant"), ("blob", S, BLOB)]),
    "inspect": (kc.inspect, [("envelope", S, ENV)]),
    "inspect_binary": (kc.inspect_binary, [("envelope", B, ENV_BIN)]),
    "constant_time_equal": (kc.constant_time_equal, [("a", D, b"x"), ("b", D, b"x")]),
    "random_token": (kc.random_token, [("nbytes", I, 32)]),
    "random_base62": (kc.random_base62, [("length", I, 10)]),
    "random_string": (kc.random_string, [("alphabet", S, "abcdef"), ("length", I, 8)]),
    "invite_code": (kc.invite_code, [("length", I, 8)]),
    "generate_api_key": (kc.generate_api_key, [("prefix", S, "obee")]),
    "parse_api_key": (kc.parse_api_key, [("key", S, API.key)]),
    "hash_api_key": (kc.hash_api_key, [("key", S, API.key)]),
    "verify_api_key": (kc.verify_api_key, [("key", S, API.key), ("stored_hash", S, API.hash)]),
    "verify_stripe_signature": (
        kc.verify_stripe_signature,
        [("payload", D, b"{}"), ("header", S, STRIPE), ("secret", S, "whsec_x"), ("tolerance", I, 300), ("now", O, 1_700_000_000)],
    ),
    "sign_stripe_payload": (kc.sign_stripe_payload, [("payload", D, b"{}"), ("secret", S, "whsec_x"), ("timestamp", I, 1)]),
    "verify_standard_webhook": (
        kc.verify_standard_webhook,
        [
            ("payload", D, b"{}"),
            ("headers", "headers", STD_HEADERS),
            ("secret", S, WHSEC),
            ("tolerance", I, 300),
            ("now", O, 1_700_000_000),
        ],
    ),
    "sign_standard_webhook": (
        kc.sign_standard_webhook,
        [("payload", D, b"{}"), ("msg_id", S, "m1"), ("timestamp", I, 1), ("secret", S, WHSEC)],
    ),
    "generate_standard_webhook_secret": (kc.generate_standard_webhook_secret, []),
    "verify_telegram_secret": (kc.verify_telegram_secret, [("header", S, "abc"), ("expected", S, "abc")]),
    "ReplayGuard": (kc.ReplayGuard, [("capacity", I, 10), ("ttl_seconds", I, 60)]),
    "ReplayGuard.check_and_record": (GUARD.check_and_record, [("event_id", S, "evt"), ("now", O, 1_700_000_000)]),
    "scrub": (kc.scrub, [("text", S, "hello")]),
    "validate_slug": (kc.validate_slug, [("s", S, "acme")]),
    "validate_email": (kc.validate_email, [("s", S, "a@example.com")]),
    "decrypt_legacy_pbkdf2_gcm": (
        kc.decrypt_legacy_pbkdf2_gcm,
        [("blob", S, "AAAA"), ("password", D, b"pw"), ("iterations", I, 1), ("salt_len", I, 16)],
    ),
    "decrypt_openssl_enc": (kc.decrypt_openssl_enc, [("data", B, b"Salted__" + bytes(24)), ("password", D, b"pw"), ("iterations", I, 1)]),
}

WRONG = {
    S: [b"x", bytearray(b"x"), 1, 1.5, None, ["x"], object()],
    D: [1, 1.5, None, [1, 2], {"a": 1}, memoryview(b"x"), object()],
    B: ["kc1.x", 1, None, [1], memoryview(b"x"), object()],
    I: ["1", b"1", 1.5, None, [1], object()],
    O: ["1", b"1", 1.5, [1], object()],
    "path": [1, 1.5, None, [1], object()],
    "optstr": [b"x", 1, 1.5, ["x"], object()],
    "claims": [b"{}", 1, None, [("sub", "x")], object()],
    # Not a header mapping (no items()), or one whose items are not (str, str) pairs.
    "headers": [
        "webhook-id: m1",
        b"x",
        1,
        None,
        ["x"],
        [("webhook-id", "m1")],
        object(),
        {"webhook-id": 1, "webhook-timestamp": "1700000000", "webhook-signature": STD_SIG},
        {"webhook-id": b"m1", "webhook-timestamp": "1700000000", "webhook-signature": STD_SIG},
        {1: "x", **STD_HEADERS},
    ],
}
CALLS.update(CUSTODY_CALLS)
WRONG.update(CUSTODY_WRONG)
CALLS.update(AUDIT_CALLS)
WRONG.update(AUDIT_WRONG)
# Out-of-range integers must become InvalidArgumentError (a ValueError), not OverflowError.
BAD_INTS = [-1, -(2**63) - 1, 2**64, 2**200]


def exported_callables():
    """Every public function, constructor, method and static method of the package."""
    out = set()
    for name in kc.__all__:
        obj = getattr(kc, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            continue
        if inspect.isclass(obj):
            if name == "ReplayGuard":
                out.add(name)
            for m in dir(obj):
                if m.startswith("_"):
                    continue
                attr = inspect.getattr_static(obj, m)
                if type(attr).__name__ in ("getset_descriptor", "property"):
                    continue
                out.add(f"{name}.{m}")
        elif callable(obj):
            out.add(name)
    return out


def call(name, override=None):
    fn, params = CALLS[name]
    kwargs = {p: v for p, _, v in params}
    kwargs.update(override or {})
    return fn(**kwargs)


def run_expect(name, override, expected):
    try:
        call(name, override)
    except BaseException as e:  # noqa: B036 - a PanicException must be seen, not propagate
        assert type(e).__name__ != "PanicException", (name, override)
        assert isinstance(e, expected), (name, override, type(e), e)
        return e
    raise AssertionError(f"{name}({override}) did not raise {expected}")


def test_every_export_is_covered():
    assert exported_callables() == set(CALLS), exported_callables() ^ set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_valid_call_does_not_raise_type_errors(name):
    # The baseline: with the valid arguments only core errors (or nothing) come out.
    try:
        call(name)
    except kc.Error:
        pass


@pytest.mark.parametrize("name", sorted(CALLS))
def test_wrong_types_raise_type_error(name):
    for param, typ, _ in CALLS[name][1]:
        for bad in WRONG[typ]:
            e = run_expect(name, {param: bad}, TypeError)
            assert not isinstance(e, kc.Error)


@pytest.mark.parametrize("name", sorted(n for n, (_, ps) in CALLS.items() if any(t in (I, O) for _, t, _ in ps)))
def test_out_of_range_ints_raise_invalid_argument(name):
    for param, typ, _ in CALLS[name][1]:
        if typ in (I, O):
            # -1 is in range for a signed Unix time: core decides about it, not the binding.
            for bad in BAD_INTS if param not in ("now", "timestamp") else BAD_INTS[1:]:
                run_expect(name, {param: bad}, kc.InvalidArgumentError)


@pytest.mark.parametrize("name", sorted(n for n, (_, ps) in CALLS.items() if any(t in (S, D, "optstr") for _, t, _ in ps)))
def test_lone_surrogates_raise_malformed_utf8(name):
    for param, typ, _ in CALLS[name][1]:
        if typ in (S, D, "optstr", "claims"):
            e = run_expect(name, {param: "x\ud800y"}, kc.MalformedError)
            assert e.malformed_kind == "Utf8" and "\ud800" not in str(e)


OWNER_PARAMS = [(n, p) for n, (_, ps) in CALLS.items() for p, _, _ in ps if p in ("owner", "tenant") and (n, p) not in NOT_OWNER]


@pytest.mark.parametrize("name,param", OWNER_PARAMS)
@pytest.mark.parametrize("owner", ["", "o" * 1025, "é" * 513])
def test_bad_owner_raises_invalid_owner(name, param, owner):
    e = run_expect(name, {param: owner}, kc.InvalidOwnerError)
    assert e.kind == "InvalidOwner" and e.code == "KC_INVALID_OWNER"


def test_owner_limit_is_bytes_inclusive():
    assert KR.open("o" * 1024, KR.seal("o" * 1024, b"v")) == b"v"


# ---- retired and unknown keys through every kid- or envelope-taking function -------------
def lifecycle_keyring():
    kr = kc.Keyring.from_secret(ROOT)
    env1 = kr.seal("tenant", b"v", b"c")
    kr.rotate()  # 2
    env2 = kr.seal("tenant", b"v", b"c")
    kr.rotate()  # 3
    kr.retire(1)
    kr.remove(2)  # leaves a retired tombstone (kids are never reused)
    assert kr.state_of(2) == "retired"
    # An envelope under a kid this keyring never held.
    env2 = kc.Keyring.from_secret(ROOT, kid=99).seal("tenant", b"v", b"c")
    return kr, env1, env2


@pytest.mark.parametrize("method", ["open", "open_text", "rewrap"])
def test_envelopes_under_retired_or_unknown_kid(method):
    kr, env1, env2 = lifecycle_keyring()
    with pytest.raises(kc.KeyRetiredError) as ei:
        getattr(kr, method)("tenant", env1, b"c")
    assert ei.value.kid == 1
    with pytest.raises(kc.UnknownKeyError) as ei:
        getattr(kr, method)("tenant", env2, b"c")
    assert ei.value.kid == 99


def test_binary_envelopes_under_retired_or_unknown_kid():
    kr, env1, env2 = lifecycle_keyring()
    for env, cls in ((env1, kc.KeyRetiredError), (env2, kc.UnknownKeyError)):
        b = kc.Keyring.from_secret(ROOT).seal_binary("tenant", b"v")  # shape only
        raw = bytearray(b)
        raw[1:5] = kc.inspect(env).kid.to_bytes(4, "big")
        with pytest.raises(cls):
            kr.open_binary("tenant", bytes(raw))
    # needs_rewrap reads the header only: both are simply "not current".
    assert kr.needs_rewrap(env1) and kr.needs_rewrap(env2)


@pytest.mark.parametrize("method", ["promote", "state_of", "retire", "remove"])
def test_kid_methods_with_retired_unknown_zero_kid(method):
    kr, _, _ = lifecycle_keyring()
    fn = getattr(kr, method)
    for kid in (98, 99, 0, 2**32 - 1):
        with pytest.raises(kc.UnknownKeyError) as ei:
            fn(kid)
        assert ei.value.kid == kid
    if method == "promote":
        with pytest.raises(kc.KeyRetiredError):
            fn(1)
    if method in ("retire", "remove"):
        with pytest.raises(kc.PrimaryKeyError):
            fn(3)


# ---- oversized input ---------------------------------------------------------------------
def test_oversized_inputs():
    with pytest.raises(kc.TooLargeError):
        kc.Keyring.parse(" " * (1024 * 1024 + 1))
    with pytest.raises(kc.TooLargeError):
        KR.seal("tenant", bytes(kc.MAX_PLAINTEXT + 1))
    big = bytes(16 * 1024 * 1024 + 1)
    with pytest.raises(kc.TooLargeError):
        kc.sign_stripe_payload(big, "whsec_x", 1)
    with pytest.raises(kc.TooLargeError):
        kc.verify_stripe_signature(big, STRIPE, "whsec_x", now=1_700_000_000)
    with pytest.raises(kc.TooLargeError):
        kc.verify_stripe_signature(b"{}", "t=1," + "v1=" * 4000, "whsec_x", now=1)
    with pytest.raises(kc.TooLargeError):
        kc.sign_standard_webhook(big, "m1", 1, WHSEC)
    with pytest.raises(kc.TooLargeError):
        KR.pseudonymize("x" * (64 * 1024 + 1))
    with pytest.raises(kc.MalformedError):
        KR.open("tenant", "kc1." + "A" * (90 * 1024 * 1024))
    with pytest.raises(kc.InvalidArgumentError):
        KR.derive_key("p", "tenant", 8161)
    with pytest.raises(kc.InvalidArgumentError):
        kc.random_token(1025)


# ---- malformed text into every parser ------------------------------------------------------
@pytest.mark.parametrize("bad", ["", "kc1.", "kc1.!!!!", "kc2.AQAAAAE", "KC1.AQAAAAE", "kc1.AQ==", "\x00", "kc1." + "A" * 22])
def test_malformed_envelopes(bad):
    for fn in (
        lambda: kc.inspect(bad),
        lambda: KR.open("tenant", bad),
        lambda: KR.open_text("tenant", bad),
        lambda: KR.needs_rewrap(bad),
        lambda: KR.rewrap("tenant", bad),
    ):
        with pytest.raises(kc.MalformedError):
            fn()
    with pytest.raises(kc.MalformedError):
        kc.inspect_binary(bad.encode())


@pytest.mark.parametrize("bad", ["", "{", "[]", "null", '{"version":1}', "\ud800"])
def test_malformed_keyrings(bad):
    with pytest.raises(kc.MalformedError):
        kc.Keyring.parse(bad)


@pytest.mark.parametrize("bad", ["", "obee", "obee_", "_abc", "OBEE_" + "A" * 36, "obee_" + "!" * 36, "obee_" + "A" * 35])
def test_malformed_api_keys(bad):
    for fn in (kc.parse_api_key, kc.hash_api_key):
        with pytest.raises(kc.MalformedError):
            fn(bad)
    # A presented key that does not verify is False, malformed or not (a 401, not a 500).
    assert kc.verify_api_key(bad, "0" * 64) is False


# ---- odd environment variable names and paths ---------------------------------------------
@pytest.mark.parametrize("var", ["", "A\x00B", "A=B", "=", "x" * 100_000])
def test_odd_env_var_names(var):
    with pytest.raises(kc.MissingEnvVarError):
        kc.Keyring.from_env(var)


@pytest.mark.parametrize("path,cls", [("", kc.IoError), ("\x00", kc.IoError), ("/tmp/a\x00b", kc.IoError)])
def test_odd_paths(path, cls):
    with pytest.raises(cls):
        kc.Keyring.from_file(path)


def test_directory_is_not_a_keyring(tmp_path):
    d = tmp_path / "dir"
    d.mkdir(mode=0o700)
    with pytest.raises(kc.Error) as ei:
        kc.Keyring.from_file(d)
    assert isinstance(ei.value, (kc.IoError, kc.MalformedError))


# ---- result classes cannot be forged from Python ------------------------------------------
@pytest.mark.parametrize(
    "cls", ["Keyring", "KeyInfo", "EnvelopeInfo", "ApiKey", "GeneratedApiKey", "IssuedCode", "CodeCheck", "DeliveryKeypair"]
)
def test_result_classes_have_no_constructor(cls):
    with pytest.raises(TypeError):
        getattr(kc, cls)()


def test_frozen_objects_reject_attribute_writes():
    info = KR.kids()[0]
    with pytest.raises(AttributeError):
        info.kid = 5
    with pytest.raises(AttributeError):
        KR.primary_kid = 1
    with pytest.raises(AttributeError):
        API.key = "x"


def test_jwt_and_codes_under_retired_or_unknown_kid():
    kr = kc.Keyring.from_secret(ROOT)
    token = kr.sign_jwt("tenant", {"sub": "u"}, 600, now=NOW)
    issued = kr.issue_code("user@example.com", now=NOW)
    kr.rotate()
    kr.retire(1)
    with pytest.raises(kc.KeyRetiredError):
        kr.verify_jwt("tenant", token, now=NOW)
    with pytest.raises(kc.KeyRetiredError):
        kr.verify_code("user@example.com", issued.code, issued.record, now=NOW)
    kr.remove(1)  # a retired tombstone stays: still KeyRetired
    with pytest.raises(kc.KeyRetiredError):
        kr.verify_jwt("tenant", token, now=NOW)
    with pytest.raises(kc.KeyRetiredError):
        kr.verify_code("user@example.com", issued.code, issued.record, now=NOW)
