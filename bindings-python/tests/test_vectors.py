"""Runs every case of every tests/vectors/*.json file through the binding.

Dispatch is on (file, op). A file or op this runner does not know is a FAILURE, not a skip:
a new vector file must come with its Python runner.
"""

import json

import pytest

import keycustody as kc
from conftest import KIND_CLASS, VECTORS, assert_kc_error


def h(s):
    return bytes.fromhex(s)


# ---- envelope_v1.json ------------------------------------------------------------------
def env_open(c):
    kr = kc.Keyring.parse(c["keyring"])
    plain = kr.open(c["owner"], c["envelope"], h(c["context_hex"]))
    assert plain == h(c["plaintext_hex"])
    # The same case through the other entry points of the binding.
    assert kr.open(c["owner"], c["envelope"], bytearray(h(c["context_hex"]))) == plain
    try:
        text = plain.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(kc.MalformedError):
            kr.open_text(c["owner"], c["envelope"], h(c["context_hex"]))
    else:
        assert kr.open_text(c["owner"], c["envelope"], h(c["context_hex"])) == text


def env_inspect(c):
    info = kc.inspect(c["envelope"])
    assert (info.version, info.kid, info.plaintext_len) == (1, c["kid"], c["plaintext_len"])


def env_needs_rewrap(c):
    kr = kc.Keyring.parse(c["keyring"])
    assert kr.needs_rewrap(c["envelope"]) is c["result"]


def env_rewrap(c):
    kr = kc.Keyring.parse(c["keyring"])
    ctx = h(c["context_hex"])
    out = kr.rewrap(c["owner"], c["envelope"], ctx)
    assert kr.open(c["owner"], out, ctx) == h(c["plaintext_hex"])
    assert kc.inspect(out).kid == c["primary_kid"] == kr.primary_kid
    assert not kr.needs_rewrap(out)


# ---- keyring_v1.json -------------------------------------------------------------------
def kr_parse(c):
    kr = kc.Keyring.parse(c["text"])
    assert kr.primary_kid == c["primary"]
    assert [(k.kid, k.state) for k in kr.kids()] == [(k["kid"], k["state"]) for k in c["keys"]]
    # export() round-trips through parse() to the same keys and fingerprints.
    again = kc.Keyring.parse(kr.export())
    assert again.kids() == kr.kids()


def kr_derive_key(c):
    kr = kc.Keyring.parse(c["keyring"])
    assert kr.derive_key(c["purpose"], c["owner"], c["length"]) == h(c["key_hex"])


def kr_from_secret(c):
    kr = kc.Keyring.from_secret(h(c["secret_hex"]), c["kid"])
    assert kr.primary_kid == c["kid"]
    assert kr.open(c["owner"], c["envelope"], h(c["context_hex"])) == h(c["plaintext_hex"])


# ---- api_keys_v1.json ------------------------------------------------------------------
def ak_parse(c):
    k = kc.parse_api_key(c["key"])
    assert (k.prefix, k.hint, k.hash, k.key) == (c["prefix"], c["hint"], c["hash"], c["key"])


def ak_hash(c):
    assert kc.hash_api_key(c["key"]) == c["hash"]


def ak_verify(c):
    assert kc.verify_api_key(c["key"], c["stored_hash"]) is c["result"]


DISPATCH = {
    ("envelope_v1.json", "open"): env_open,
    ("envelope_v1.json", "inspect"): env_inspect,
    ("envelope_v1.json", "needs_rewrap"): env_needs_rewrap,
    ("envelope_v1.json", "rewrap"): env_rewrap,
    ("keyring_v1.json", "parse"): kr_parse,
    ("keyring_v1.json", "derive_key"): kr_derive_key,
    ("keyring_v1.json", "from_secret"): kr_from_secret,
    ("api_keys_v1.json", "parse"): ak_parse,
    ("api_keys_v1.json", "hash"): ak_hash,
    ("api_keys_v1.json", "verify"): ak_verify,
}


def load_cases():
    files = sorted(VECTORS.glob("*.json"))
    assert files, f"no vector files in {VECTORS}"
    out = []
    for f in files:
        doc = json.loads(f.read_text(encoding="utf-8"))
        assert doc["version"] == 1, f.name
        assert doc["cases"], f.name
        for c in doc["cases"]:
            out.append(pytest.param(f.name, c, id=f"{f.name}:{c['op']}:{c['name']}"))
    return out


CASES = load_cases()


def test_vector_files_present():
    names = {p.name for p in VECTORS.glob("*.json")}
    assert {"envelope_v1.json", "keyring_v1.json", "api_keys_v1.json"} <= names


@pytest.mark.parametrize("fname,case", CASES)
def test_vector(fname, case):
    fn = DISPATCH.get((fname, case["op"]))
    assert fn is not None, f"no Python runner for op {case['op']!r} of {fname}"
    expect = case["expect"]
    if expect == "ok":
        fn(case)
    else:
        assert expect in KIND_CLASS, f"unknown error kind {expect!r}"
        with pytest.raises(kc.Error) as excinfo:
            fn(case)
        assert_kc_error(excinfo, expect)
