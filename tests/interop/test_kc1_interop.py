"""kc1 interop: the independent Python reference (kc1_ref.py) against the Rust core.

Rust side: the `interop` example of the keycustody crate (core/examples/interop.rs; the
`interop_bin` fixture is in conftest.py). Run: make test-core-interop
"""
import json
import pathlib
import subprocess

import pytest

import kc1_ref as ref

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
ROOT_A = bytes(range(32))
ROOT_B = bytes(range(0x40, 0x60))


def b64(b):
    import base64

    return base64.urlsafe_b64encode(b).decode().rstrip("=")


ROTATED = json.dumps(
    {
        "version": 1,
        "primary": 2,
        "keys": [
            {"kid": 1, "state": "decrypt-only", "secret": b64(ROOT_A)},
            {"kid": 2, "state": "active", "secret": b64(ROOT_B)},
        ],
    }
)


@pytest.fixture()
def keyring_file(tmp_path):
    p = tmp_path / "keyring.json"
    p.write_text(ROTATED)
    p.chmod(0o600)
    return p


def other(owner):
    """A different owner of a valid length."""
    return owner[:-1] + ("y" if owner[-1] != "y" else "z")


def rust(exe, *args, stdin=b""):
    return subprocess.run([str(exe), *args], input=stdin, capture_output=True)


CASES = [
    ("tenant-0001", "", b"sk-or-v1-0123456789abcdef"),
    ("tenant-0001", "openrouter_key", b"sk-ant-api03-xyz"),
    ("Ünïcødé-租户-🔑", "anthropic_key", "ключ 🔑".encode()),
    ("o" * 1024, "c" * 300, bytes(range(256)) * 5),
    ("t", "", b""),
]


CASE_IDS = ["plain", "context", "unicode", "owner1024", "empty"]


@pytest.mark.parametrize("owner,context,plaintext", CASES, ids=CASE_IDS)
def test_rust_seals_reference_opens(interop_bin, keyring_file, owner, context, plaintext):
    r = rust(interop_bin, "seal", str(keyring_file), owner, context, stdin=plaintext)
    assert r.returncode == 0, r.stderr
    env = r.stdout.decode()
    keys, primary = ref.parse_keyring(ROTATED)
    assert ref.decode(env)[0] == primary == 2
    assert ref.open_(keys, owner, env, context.encode()) == plaintext
    # Negative cross checks: the reference refuses a wrong owner and a wrong context.
    with pytest.raises(ref.Kc1Error) as e:
        ref.open_(keys, other(owner), env, context.encode())
    assert e.value.kind == "DecryptFailed"
    with pytest.raises(ref.Kc1Error) as e:
        ref.open_(keys, owner, env, context.encode() + b"x")
    assert e.value.kind == "DecryptFailed"


@pytest.mark.parametrize("owner,context,plaintext", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("kid,root", [(1, ROOT_A), (2, ROOT_B)], ids=["kid1", "kid2"])
def test_reference_seals_rust_opens(interop_bin, keyring_file, owner, context, plaintext, kid, root):
    env = ref.seal(root, kid, owner, plaintext, context.encode())
    r = rust(interop_bin, "open", str(keyring_file), owner, context, stdin=env.encode())
    assert r.returncode == 0, r.stderr
    assert r.stdout == plaintext
    r = rust(interop_bin, "inspect", stdin=env.encode())
    assert json.loads(r.stdout) == {"version": 1, "kid": kid, "plaintext_len": len(plaintext)}
    # Negative cross checks: Rust refuses a wrong owner and a wrong context with DecryptFailed.
    r = rust(interop_bin, "open", str(keyring_file), other(owner), context, stdin=env.encode())
    assert (r.returncode, r.stderr.strip()) == (1, b"DecryptFailed")
    r = rust(interop_bin, "open", str(keyring_file), owner, context + "x", stdin=env.encode())
    assert (r.returncode, r.stderr.strip()) == (1, b"DecryptFailed")


def test_rust_refuses_reference_envelope_under_unknown_kid(interop_bin, keyring_file):
    env = ref.seal(ROOT_A, 9, "tenant-0001", b"x")
    r = rust(interop_bin, "open", str(keyring_file), "tenant-0001", "", stdin=env.encode())
    assert (r.returncode, r.stderr.strip()) == (1, b"UnknownKey")


def test_reference_refuses_tampered_rust_envelope(interop_bin, keyring_file):
    env = rust(interop_bin, "seal", str(keyring_file), "tenant-0001", "", stdin=b"secret").stdout.decode()
    keys, _ = ref.parse_keyring(ROTATED)
    raw = bytearray(ref.b64url_decode(env[4:], False))
    raw[-1] ^= 1
    with pytest.raises(ref.Kc1Error) as e:
        ref.open_(keys, "tenant-0001", "kc1." + b64(bytes(raw)))
    assert e.value.kind == "DecryptFailed"


def load(name):
    return json.loads((VECTORS / name).read_text())["cases"]


ENVELOPE_CASES = load("envelope_v1.json")


@pytest.mark.parametrize("case", [c for c in ENVELOPE_CASES if c["op"] == "open"], ids=lambda c: c["name"])
def test_reference_passes_open_vectors(case):
    keys, _ = ref.parse_keyring(case["keyring"])
    ctx = bytes.fromhex(case["context_hex"])
    if case["expect"] == "ok":
        assert ref.open_(keys, case["owner"], case["envelope"], ctx).hex() == case["plaintext_hex"]
        if "nonce_hex" in case:
            kid, _, _ = ref.decode(case["envelope"])
            again = ref.seal(keys[kid], kid, case["owner"], bytes.fromhex(case["plaintext_hex"]), ctx,
                             nonce=bytes.fromhex(case["nonce_hex"]))
            assert again == case["envelope"]
    else:
        with pytest.raises(ref.Kc1Error) as e:
            ref.open_(keys, case["owner"], case["envelope"], ctx)
        assert e.value.kind == case["expect"]


@pytest.mark.parametrize("case", [c for c in ENVELOPE_CASES if c["op"] == "inspect"], ids=lambda c: c["name"])
def test_reference_passes_inspect_vectors(case):
    if case["expect"] == "ok":
        kid, _, ct = ref.decode(case["envelope"])
        assert (kid, len(ct) - 16) == (case["kid"], case["plaintext_len"])
    else:
        with pytest.raises(ref.Kc1Error) as e:
            ref.decode(case["envelope"])
        assert e.value.kind == case["expect"]


@pytest.mark.parametrize(
    "case", [c for c in load("keyring_v1.json") if c["op"] == "derive_key" and c["expect"] == "ok"],
    ids=lambda c: c["name"],
)
def test_reference_derive_key_vectors(case):
    keys, primary = ref.parse_keyring(case["keyring"])
    label = b"keycustody/v1/custom/" + case["purpose"].encode()
    assert ref.derive(keys[primary], label, case["owner"].encode(), case["length"]).hex() == case["key_hex"]


@pytest.mark.parametrize(
    "case", [c for c in load("keyring_v1.json") if c["op"] == "from_secret" and c["expect"] == "ok"],
    ids=lambda c: c["name"],
)
def test_reference_from_secret_vectors(case):
    keys = {case["kid"]: bytes.fromhex(case["secret_hex"])}
    got = ref.open_(keys, case["owner"], case["envelope"], bytes.fromhex(case["context_hex"]))
    assert got.hex() == case["plaintext_hex"]


def test_vector_file_has_the_required_coverage():
    opens = [c for c in ENVELOPE_CASES if c["op"] == "open"]
    assert len(ENVELOPE_CASES) >= 24
    assert sum(c["expect"] != "ok" for c in opens) >= 10


@pytest.mark.parametrize(
    "case", [c for c in load("keyring_v1.json") if c["op"] == "parse" and c["expect"] == "ok"],
    ids=lambda c: c["name"],
)
def test_reference_reads_valid_keyrings(case):
    keys, primary = ref.parse_keyring(case["text"])
    assert primary == case["primary"]
    assert sorted(keys) == [k["kid"] for k in case["keys"]]
    for k in case["keys"]:
        secret = keys[k["kid"]]
        assert (secret is None) == (k["state"] == "retired")
        assert secret is None or len(secret) >= 32
