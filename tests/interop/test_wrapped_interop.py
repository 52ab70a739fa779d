"""Wrapped-keyring interop (issue 14): the independent Python reference (wrapped_ref.py, from
DESIGN §7 / docs/kc1.md) against the Rust core, both ways, and every case of
tests/vectors/wrapped_keyring_v1.json through the reference.

Rust side: the `interop` example of the keycustody crate (core/examples/interop.rs; the
`interop_bin` fixture is in conftest.py). Run: make test-core-interop
"""
import json
import os
import pathlib
import subprocess

import pytest

import kc1_ref
import wrapped_ref as ref

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
CASES = json.loads((VECTORS / "wrapped_keyring_v1.json").read_text(encoding="utf-8"))["cases"]
KEYRING_CONTEXT = b"keycustody/v1/keyring"
FAST = (256, 1, 1)


def keyring_text(*secrets):
    """A keyring's text form as the core exports it: the last key active, the others decrypt-only."""
    keys = [
        {"kid": i + 1, "state": "active" if i == len(secrets) - 1 else "decrypt-only", "secret": ref.b64u(s)}
        for i, s in enumerate(secrets)
    ]
    return json.dumps({"version": 1, "primary": len(secrets), "keys": keys}, separators=(",", ":"))


PLATFORM = keyring_text(bytes(range(32)), bytes(range(0x40, 0x60)))
TENANT = keyring_text(bytes(range(0x10, 0x30)))


@pytest.fixture(scope="session")
def tool(interop_bin):
    return interop_bin


@pytest.fixture()
def files(tmp_path):
    out = {}
    for name, text in (("platform", PLATFORM), ("tenant", TENANT)):
        p = tmp_path / f"{name}.json"
        p.write_text(text)
        p.chmod(0o600)
        out[name] = str(p)
    return out


def rust(exe, *args, stdin=b""):
    return subprocess.run([str(exe), *args], input=stdin, capture_output=True)


def rust_ok(exe, *args, stdin=b""):
    r = rust(exe, *args, stdin=stdin)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode()


def rust_open(exe, text, **secret):
    return rust(exe, "open-wrapped", stdin=json.dumps({"text": text, **secret}).encode())


# ---- every vector case through the reference -----------------------------------------------
def run_case(c):
    op = c["op"]
    if op == "parse":
        return ref.parse(c["text"])
    if op == "open_dek":
        return ref.open_dek(ref.parse(c["text"]), bytes.fromhex(c["dek"]))
    if op == "open_passphrase":
        return ref.open_passphrase(ref.parse(c["text"]), c["passphrase"].encode("utf-8"))
    if op == "open_keyring":
        keys, _ = kc1_ref.parse_keyring(c["platform"])
        try:
            plain = kc1_ref.open_(keys, c["tenant"], c["envelope"], KEYRING_CONTEXT)
        except kc1_ref.Kc1Error as e:
            raise ref.WrappedError(e.kind) from None
        return ref.check_keyring_text(plain.decode("utf-8"))
    raise AssertionError(f"unknown op {op}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_reference_passes_every_vector(case):
    if case["expect"] == "ok":
        out = run_case(case)
        assert json.loads(out) == json.loads(case["keyring"])
    else:
        with pytest.raises(ref.WrappedError) as e:
            run_case(case)
        assert e.value.kind == case["expect"]
        if "detail" in case:
            assert e.value.detail == case["detail"]


@pytest.mark.parametrize("case", [c for c in CASES if "inputs" in c], ids=lambda c: c["name"])
def test_reference_writes_the_vector_texts_byte_for_byte(case):
    i = case["inputs"]
    h = bytes.fromhex
    if case["op"] == "open_passphrase":
        p = i["params"]
        text = ref.wrap_passphrase(
            i["keyring"], case["passphrase"].encode(), i["owner"], p["m_kib"], p["t"], p["p"],
            h(i["salt"]), h(i["dek"]), h(i["nonce"]), h(i["iv"]),
        )
        assert ref.header("passphrase", ref.parse(text)["key"], i["owner"]) == h(i["header"])
    else:
        text = ref.wrap_app(i["keyring"], i["kek_type"], i["kek_key"], i["owner"], h(i["dek"]), h(i["nonce"]), h(i["wrapped_dek"]))
        assert ref.header(i["kek_type"], i["kek_key"], i["owner"]) == h(i["header"])
    assert text == case["text"]


def test_vectors_cover_the_required_shapes():
    ops = {c["op"] for c in CASES}
    assert ops == {"parse", "open_dek", "open_passphrase", "open_keyring"}
    names = {c["name"] for c in CASES}
    for n in ["passphrase_default_params", "passphrase_wrong", "app_wrong_owner", "app_tampered_kek_key",
              "unknown_field", "unknown_version", "unknown_kek_field", "tenant_keyring_wrong_tenant"]:
        assert n in names


# ---- Rust writes, the reference opens ------------------------------------------------------
@pytest.mark.parametrize("owner", ["", "tenant-0001", "Ünïcødé-租户"], ids=["platform", "tenant", "unicode"])
def test_rust_passphrase_wrap_reference_opens(tool, files, owner):
    text = rust_ok(tool, "wrap-passphrase", files["platform"], owner, *map(str, FAST), stdin="pass phrase ✓".encode())
    w = ref.parse(text)
    assert (w["type"], w["owner"]) == ("passphrase", owner)
    assert w["key"].startswith("argon2id$v=19$m=256,t=1,p=1$")
    assert json.loads(ref.open_passphrase(w, "pass phrase ✓".encode())) == json.loads(PLATFORM)
    with pytest.raises(ref.WrappedError) as e:
        ref.open_passphrase(w, b"pass phrase")
    assert e.value.kind == "DecryptFailed"


def test_rust_default_params_reference_opens(tool, files):
    text = rust_ok(tool, "wrap-passphrase", files["tenant"], "t", "65536", "3", "1", stdin=b"default")
    assert json.loads(ref.open_passphrase(ref.parse(text), b"default")) == json.loads(TENANT)


@pytest.mark.parametrize("kek_type,key", [("gcp-kms", "projects/p/keys/k"), ("aws-kms", "alias/kc"), ("pkcs11", "pkcs11:token=t;object=o")])
def test_rust_two_step_wrap_reference_opens(tool, files, kek_type, key):
    out = json.loads(rust_ok(tool, "wrap-app", files["platform"], kek_type, key, "tenant-0007"))
    w = ref.parse(out["text"])
    assert (w["type"], w["key"], w["owner"], w["wrapped_dek"]) == (kek_type, key, "tenant-0007", b"app-wrapped")
    # The header the tool handed out is the one of the text (the AAD / context for the KEK).
    assert bytes.fromhex(out["header"]) == ref.header(kek_type, key, "tenant-0007")
    assert json.loads(ref.open_dek(w, bytes.fromhex(out["dek"]))) == json.loads(PLATFORM)
    # Presented as another tenant's: refused.
    w["owner"] = "tenant-0008"
    with pytest.raises(ref.WrappedError) as e:
        ref.open_dek(w, bytes.fromhex(out["dek"]))
    assert e.value.kind == "DecryptFailed"


def test_rust_sealed_tenant_keyring_reference_opens(tool, files):
    env = rust_ok(tool, "seal-keyring", files["platform"], "tenant-0001", files["tenant"])
    keys, _ = kc1_ref.parse_keyring(PLATFORM)
    assert json.loads(kc1_ref.open_(keys, "tenant-0001", env, KEYRING_CONTEXT)) == json.loads(TENANT)
    with pytest.raises(kc1_ref.Kc1Error):
        kc1_ref.open_(keys, "tenant-0002", env, KEYRING_CONTEXT)
    with pytest.raises(kc1_ref.Kc1Error):
        kc1_ref.open_(keys, "tenant-0001", env, b"")


# ---- the reference writes, Rust opens ------------------------------------------------------
@pytest.mark.parametrize("owner", ["", "tenant-0001"])
def test_reference_passphrase_wrap_rust_opens(tool, owner):
    rnd = os.urandom
    text = ref.wrap_passphrase(TENANT, "hunter2 ✓".encode(), owner, *FAST, rnd(16), rnd(32), rnd(12), rnd(12))
    r = rust_open(tool, text, passphrase="hunter2 ✓")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads(TENANT)
    r = rust_open(tool, text, passphrase="hunter3 ✓")
    assert (r.returncode, r.stderr.strip()) == (1, b"DecryptFailed")
    tampered = json.loads(text)
    tampered["owner"] = "someone-else"
    r = rust_open(tool, json.dumps(tampered, separators=(",", ":")), passphrase="hunter2 ✓")
    assert (r.returncode, r.stderr.strip()) == (1, b"DecryptFailed")


def test_reference_default_params_rust_opens(tool):
    rnd = os.urandom
    text = ref.wrap_passphrase(PLATFORM, b"defaults", "", 65536, 3, 1, rnd(16), rnd(32), rnd(12), rnd(12))
    r = rust_open(tool, text, passphrase="defaults")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads(PLATFORM)


@pytest.mark.parametrize("kek_type", ["gcp-kms", "azure-keyvault", "vault-transit"])
def test_reference_app_wrap_rust_opens(tool, kek_type):
    dek, nonce = os.urandom(32), os.urandom(12)
    text = ref.wrap_app(PLATFORM, kek_type, "some/key/ref", "tenant-0042", dek, nonce, b"\x00opaque")
    r = rust_open(tool, text, dek=dek.hex())
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads(PLATFORM)
    wrong = bytes([dek[0] ^ 1]) + dek[1:]
    r = rust_open(tool, text, dek=wrong.hex())
    assert (r.returncode, r.stderr.strip()) == (1, b"DecryptFailed")
    # A field the format does not define: Rust refuses it, as the reference does.
    extra = text.replace('"owner"', '"note":"x","owner"', 1)
    r = rust_open(tool, extra, dek=dek.hex())
    assert (r.returncode, r.stderr.strip()) == (1, b"Malformed")
    with pytest.raises(ref.WrappedError):
        ref.parse(extra)


def test_reference_sealed_tenant_keyring_rust_opens(tool, files):
    env = kc1_ref.seal(bytes(range(0x40, 0x60)), 2, "tenant-0003", TENANT.encode(), KEYRING_CONTEXT)
    out = rust_ok(tool, "open-keyring", files["platform"], "tenant-0003", stdin=env.encode())
    assert json.loads(out) == json.loads(TENANT)
    r = rust(tool, "open-keyring", files["platform"], "tenant-0004", stdin=env.encode())
    assert (r.returncode, r.stderr.strip()) == (1, b"DecryptFailed")
    data = kc1_ref.seal(bytes(range(0x40, 0x60)), 2, "tenant-0003", TENANT.encode(), b"")
    r = rust(tool, "open-keyring", files["platform"], "tenant-0003", stdin=data.encode())
    assert (r.returncode, r.stderr.strip()) == (1, b"DecryptFailed")
