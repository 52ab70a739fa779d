"""Per-tenant JWT against PyJWT, TOTP against pyotp, one-time-code hashes against
pyca/cryptography, pseudonyms likewise. Run: make test-platform-interop"""
import hashlib
import hmac
import json
import time

import jwt as pyjwt
import pyotp
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from platform_tool import KEYRING, ROOT_SECRET, RustError, rust, vectors


def derive(label: bytes, owner: bytes, root=ROOT_SECRET) -> bytes:
    """DESIGN §2 with pyca: HKDF-Extract(salt "keycustody/v1"), Expand(label 0x00 owner)."""
    prk = hmac.new(b"keycustody/v1", root, hashlib.sha256).digest()
    return HKDFExpand(hashes.SHA256(), 32, label + b"\x00" + owner).derive(prk)


@pytest.fixture
def keyring_file(tmp_path):
    p = tmp_path / "keyring.json"
    p.write_text(KEYRING)
    return p


def test_jwt_secret_matches_independent_derivation(keyring_file):
    assert rust("jwt-secret", keyring_file, "acme").decode() == derive(b"keycustody/v1/jwt", b"acme").hex()


def test_pyjwt_verifies_ours(keyring_file):
    now = int(time.time())
    token = rust("jwt-sign", keyring_file, "acme", 600, now, stdin=b'{"sub":"u1","aud":"api"}').decode()
    secret = derive(b"keycustody/v1/jwt", b"acme")
    assert pyjwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "1"}
    claims = pyjwt.decode(token, secret, algorithms=["HS256"], audience="api")
    assert claims["sub"] == "u1" and claims["exp"] == now + 600 and claims["iat"] == now
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, derive(b"keycustody/v1/jwt", b"globex"), algorithms=["HS256"], audience="api")


def test_we_verify_pyjwt(keyring_file):
    now = int(time.time())
    secret = derive(b"keycustody/v1/jwt", b"acme")
    tok = pyjwt.encode({"sub": "u2", "exp": now + 60, "iat": now, "aud": "api", "iss": "kc"},
                       secret, algorithm="HS256", headers={"kid": "1"})
    out = json.loads(rust("jwt-verify", keyring_file, "acme", now, "api", "kc", stdin=tok.encode()))
    assert out["sub"] == "u2"
    cases = {
        "HS512": pyjwt.encode({"exp": now + 60}, secret * 2, algorithm="HS512", headers={"kid": "1"}),
        "none": pyjwt.encode({"exp": now + 60}, None, algorithm="none", headers={"kid": "1"}),
        "other_tenant": pyjwt.encode({"exp": now + 60}, derive(b"keycustody/v1/jwt", b"globex"),
                                     algorithm="HS256", headers={"kid": "1"}),
    }
    for name, t in cases.items():
        with pytest.raises(RustError) as e:
            rust("jwt-verify", keyring_file, "acme", now, "-", "-", stdin=t.encode())
        assert e.value.kind == "SignatureInvalid", name
    expired = pyjwt.encode({"exp": now - 1}, secret, algorithm="HS256", headers={"kid": "1"})
    with pytest.raises(RustError) as e:
        rust("jwt-verify", keyring_file, "acme", now, "-", "-", stdin=expired.encode())
    assert e.value.kind == "Expired"
    nokid = pyjwt.encode({"exp": now + 60}, secret, algorithm="HS256")
    with pytest.raises(RustError) as e:
        rust("jwt-verify", keyring_file, "acme", now, "-", "-", stdin=nokid.encode())
    assert e.value.kind == "Malformed"


def test_jwt_vectors_with_pyjwt():
    for c in vectors("jwt"):
        if c["op"] == "jwt_sign" and c["expect"] == "ok":
            secret = bytes.fromhex(c["secret_hex"])
            assert secret == derive(b"keycustody/v1/jwt", c["tenant"].encode())
            claims = pyjwt.decode(c["token"], secret, algorithms=["HS256"], audience="api",
                                  options={"verify_exp": False, "verify_iat": False})
            assert claims["exp"] == c["now"] + c["ttl"]


def _repeats_a_key(text):
    seen = []

    def pairs(items):
        keys = [k for k, _ in items]
        seen.append(len(keys) != len(set(keys)))
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return any(seen)


def test_jwt_duplicate_key_vectors_independently():
    """Finding 8, without our code: the refused tokens carry a correct HS256 MAC (so the
    refusal is not a MAC failure) over JSON that repeats a key, which Python's json,
    like PyJWT and serde_json, would read last-wins."""
    dup = [c for c in vectors("jwt") if "duplicate" in c["name"]]
    assert {c["op"] for c in dup} == {"jwt_sign", "jwt_verify"}
    for c in dup:
        if c["op"] == "jwt_sign":
            assert _repeats_a_key(c["claims"]) and c["expect"] == "InvalidArgument", c["name"]
            continue
        secret = derive(b"keycustody/v1/jwt", c["tenant"].encode())
        h64, p64, s64 = c["token"].split(".")
        tag = hmac.new(secret, f"{h64}.{p64}".encode(), hashlib.sha256).digest()
        assert pyjwt.utils.base64url_encode(tag).decode() == s64, c["name"]
        parts = [pyjwt.utils.base64url_decode(x).decode() for x in (h64, p64)]
        assert any(_repeats_a_key(x) for x in parts), c["name"]
        assert c["expect"] == "Malformed", c["name"]


def test_totp_pyotp_both_directions():
    secret = pyotp.random_base32()
    for t in (59, 1_111_111_109, 1_700_000_000, int(time.time())):
        assert rust("totp-at", secret, t).decode() == pyotp.TOTP(secret).at(t)
        assert rust("totp-verify", secret, pyotp.TOTP(secret).at(t), t).decode() == str(t // 30)
    ours = rust("totp-secret").decode()
    now = int(time.time())
    assert pyotp.TOTP(ours).verify(rust("totp-at", ours, now).decode(), for_time=now)
    with pytest.raises(RustError) as e:
        rust("totp-verify", secret, pyotp.TOTP(secret).at(now - 90), now)
    assert e.value.kind == "SignatureInvalid"


def test_totp_vectors_with_pyotp():
    for c in vectors("totp"):
        if c["op"] == "totp_at":
            assert pyotp.TOTP(c["secret"]).at(c["now"]) == c["code"], c["name"]
        if c["op"] == "totp_uri" and c["expect"] == "ok":
            parsed = pyotp.parse_uri(c["uri"])
            assert parsed.secret == c["secret"] and parsed.issuer == c["issuer"]
            assert parsed.name == c["account"]


def test_code_records_hash_independently():
    pepper = derive(b"keycustody/v1/otp", b"keycustody/otp")
    seen = 0
    for c in vectors("otp"):
        if c["name"] == "valid":
            rec = json.loads(c["record"])
            mac = hmac.new(pepper, c["subject"].encode() + b"\x00" + c["code"].encode(), hashlib.sha256)
            assert rec["hash"] == mac.hexdigest()
            assert rec["expires_at"] - 900 <= c["now"]
            assert c["code"] not in c["record"]
            seen += 1
    assert seen == 1


def test_pseudonyms_independently():
    key = derive(b"keycustody/v1/pseudonym", b"keycustody/pseudonym")
    n = 0
    for c in vectors("validate"):
        if c["op"] == "pseudonymize":
            assert c["output"] == hmac.new(key, c["input"].encode(), hashlib.sha256).hexdigest()
            n += 1
    assert n == 3
