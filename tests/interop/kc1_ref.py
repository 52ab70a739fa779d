"""Independent reference implementation of kc1 (docs/kc1.md, DESIGN §2-§3) on pyca/cryptography.

Written from the specification only, to check the Rust core from the outside.
"""
import base64
import json
import os
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALT = b"keycustody/v1"
LABEL_ENVELOPE = b"keycustody/v1/envelope"
PREFIX = "kc1."


class Kc1Error(Exception):
    """kind is the core's error kind name: Malformed, UnknownKey, KeyRetired, InvalidOwner, DecryptFailed."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


def b64url_decode(text, padding_ok):
    if not padding_ok and "=" in text:
        raise ValueError("padding")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != text.rstrip("="):
        raise ValueError("not canonical base64url")  # stray characters or non-zero trailing bits
    return raw


def parse_keyring(text):
    """{kid: secret bytes or None (retired)}, primary kid."""
    j = json.loads(text)
    keys = {k["kid"]: (b64url_decode(k["secret"], True) if k["state"] != "retired" else None) for k in j["keys"]}
    return keys, j["primary"]


def derive(root, label, owner, length):
    """RFC 5869 HKDF-SHA256: Extract(salt="keycustody/v1", IKM=root), Expand(info=label || 0x00 || owner)."""
    return HKDF(hashes.SHA256(), length, salt=SALT, info=label + b"\x00" + owner).derive(root)


def aad(kid, owner, context):
    return b"\x01" + struct.pack(">I", kid) + struct.pack(">I", len(owner)) + owner + context


def check_owner(owner):
    owner = owner.encode("utf-8")
    if not 1 <= len(owner) <= 1024:
        raise Kc1Error("InvalidOwner")
    return owner


def seal(root, kid, owner, plaintext, context=b"", nonce=None):
    owner = check_owner(owner)
    nonce = os.urandom(12) if nonce is None else nonce
    ct = AESGCM(derive(root, LABEL_ENVELOPE, owner, 32)).encrypt(nonce, plaintext, aad(kid, owner, context))
    return PREFIX + base64.urlsafe_b64encode(b"\x01" + struct.pack(">I", kid) + nonce + ct).decode().rstrip("=")


def decode(envelope):
    """(kid, nonce, ciphertext||tag) from the text form; Kc1Error("Malformed") otherwise."""
    if not envelope.startswith(PREFIX):
        raise Kc1Error("Malformed")
    try:
        b = b64url_decode(envelope[len(PREFIX):], False)
    except ValueError:
        raise Kc1Error("Malformed") from None
    if len(b) < 1 + 4 + 12 + 16 or b[0] != 1 or struct.unpack(">I", b[1:5])[0] == 0:
        raise Kc1Error("Malformed")
    return struct.unpack(">I", b[1:5])[0], b[5:17], b[17:]


def open_(keys, owner, envelope, context=b""):
    kid, nonce, ct = decode(envelope)
    owner = check_owner(owner)
    if kid not in keys:
        raise Kc1Error("UnknownKey")
    if keys[kid] is None:
        raise Kc1Error("KeyRetired")
    try:
        return AESGCM(derive(keys[kid], LABEL_ENVELOPE, owner, 32)).decrypt(nonce, ct, aad(kid, owner, context))
    except Exception:
        raise Kc1Error("DecryptFailed") from None
