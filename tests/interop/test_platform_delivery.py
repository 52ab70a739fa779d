"""HPKE delivery against pyhpke (an independent RFC 9180 implementation), both
directions, and our vectors opened by pyhpke. Run: make test-platform-interop"""
import base64

import pytest
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

from platform_tool import RustError, b64url_decode, rust, vectors

INFO = b"keycustody/v1/deliver"
SUITE = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def py_open(sk_text, owner, blob):
    sk = SUITE.kem.deserialize_private_key(b64url_decode(sk_text.removeprefix("kcsk1.")))
    raw = b64url_decode(blob.removeprefix("kcd1."))
    ctx = SUITE.create_recipient_context(raw[:32], sk, info=INFO)
    return ctx.open(raw[32:], aad=owner.encode())


def py_seal(pk_text, owner, pt):
    pk = SUITE.kem.deserialize_public_key(b64url_decode(pk_text.removeprefix("kcpk1.")))
    enc, ctx = SUITE.create_sender_context(pk, info=INFO)
    return "kcd1." + b64url(enc + ctx.seal(pt, aad=owner.encode()))


@pytest.fixture
def rust_keypair(tmp_path):
    sk, pk = rust("delivery-keypair").decode().split()
    f = tmp_path / "sk"
    f.write_text(sk)
    return sk, pk, f


def test_rust_seals_pyhpke_opens(rust_keypair):
    sk, pk, _ = rust_keypair
    blob = rust("delivery-seal", pk, "tenant-9", stdin=b"sk-or-v1-secret").decode()
    assert py_open(sk, "tenant-9", blob) == b"sk-or-v1-secret"
    with pytest.raises(Exception):
        py_open(sk, "tenant-8", blob)


def test_pyhpke_seals_rust_opens(rust_keypair):
    _, pk, f = rust_keypair
    blob = py_seal(pk, "tenant-9", b"an LLM key")
    assert rust("delivery-open", f, "tenant-9", stdin=blob.encode()) == b"an LLM key"
    with pytest.raises(RustError) as e:
        rust("delivery-open", f, "tenant-x", stdin=blob.encode())
    assert e.value.kind == "DecryptFailed"


def test_vectors_open_in_pyhpke():
    n = 0
    for c in vectors("delivery"):
        if c["op"] == "delivery_seal_with_ikm":
            # pyca derives the same public key from the private key ...
            from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
            sk = X25519PrivateKey.from_private_bytes(b64url_decode(c["private_key"].removeprefix("kcsk1.")))
            pub = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            assert pub == b64url_decode(c["public_key"].removeprefix("kcpk1."))
            # ... and opens the deterministic blob.
            assert py_open(c["private_key"], c["owner"], c["blob"]) == bytes.fromhex(c["plaintext_hex"])
            # DeriveKeyPair(ikm_e) gives the blob's enc (RFC 9180 7.1.3).
            eph = SUITE.kem.derive_key_pair(bytes.fromhex(c["ikm_e_hex"]))
            assert eph.public_key.to_public_bytes() == b64url_decode(c["blob"].removeprefix("kcd1."))[:32]
            n += 1
        elif c["op"] == "delivery_open" and c["expect"] == "ok":
            assert py_open(c["private_key"], c["owner"], c["blob"]).hex() == c["plaintext_hex"]
            n += 1
    assert n == 2


def py_fingerprint(pk_text):
    """docs/delivery.md §4, from the spec with hashlib and base64 only."""
    import hashlib

    pk = b64url_decode(pk_text.removeprefix("kcpk1."))
    assert len(pk) == 32
    fp = hashlib.sha256(b"keycustody/v1/delivery-key-fingerprint\x00" + pk).digest()[:20]
    s = base64.b32encode(fp).decode()
    assert len(s) == 32 and "=" not in s
    return "kcfp1." + "-".join(s[i : i + 4] for i in range(0, 32, 4))


def test_vector_fingerprints_recomputed_from_the_spec():
    n = 0
    for c in vectors("delivery"):
        if c["op"] == "delivery_key_fingerprint" and c["expect"] == "ok":
            assert py_fingerprint(c["public_key"]) == c["fingerprint"]
            n += 1
        elif c["op"] == "delivery_seal_pinned" and c["expect"] == "ok":
            assert py_fingerprint(c["public_key"]) == c["expected_fingerprint"]
            n += 1
        elif c["op"] == "delivery_seal_pinned" and c["expect"] == "ClaimMismatch":
            assert py_fingerprint(c["public_key"]) != c["expected_fingerprint"]
            n += 1
    assert n == 5
