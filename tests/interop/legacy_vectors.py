#!/usr/bin/env python3
"""Generates tests/vectors/legacy_v1.json with independent implementations:
pyca/cryptography (PBKDF2-HMAC-SHA256 + AESGCM, base64(salt||iv||ct||tag)) and the
machine's real `openssl enc -aes-256-cbc -pbkdf2 -iter N`. Salts and IVs are fixed so
the output is deterministic.

    python tests/interop/legacy_vectors.py          # rewrite the file
    python tests/interop/legacy_vectors.py --check  # fail if the committed file differs
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

OUT = os.path.join(os.path.dirname(__file__), "..", "vectors", "legacy_v1.json")
PASSWORD = b"legacy-password"


def pbkdf2(pw, salt, iters, n):
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=n, salt=salt, iterations=iters).derive(pw)


def gcm_blob(pw, salt, iv, iters, pt):
    ct = AESGCM(pbkdf2(pw, salt, iters, 32)).encrypt(iv, pt, None)
    return base64.b64encode(salt + iv + ct).decode()


def openssl_enc(pw, salt, iters, pt):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in")
        with open(src, "wb") as f:
            f.write(pt)
        env = dict(os.environ, KC_PW=pw.decode())
        out = subprocess.run(
            ["openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-iter", str(iters), "-md", "sha256",
             "-S", salt.hex(), "-pass", "env:KC_PW", "-in", src],
            check=True, capture_output=True, env=env).stdout
        # OpenSSL 3 omits the `Salted__` header when the salt is given with -S;
        # the file format (and what openssl -d reads) has it.
        if not out.startswith(b"Salted__"):
            out = b"Salted__" + salt + out
        return out


def openssl_dec_ok(pw, iters, data):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in")
        with open(src, "wb") as f:
            f.write(data)
        env = dict(os.environ, KC_PW=pw.decode())
        r = subprocess.run(
            ["openssl", "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-iter", str(iters), "-md", "sha256",
             "-pass", "env:KC_PW", "-in", src], capture_output=True, env=env)
        return r.returncode == 0


def cases():
    out = []

    def gcm(name, pt, iters=100_000, pw=PASSWORD, salt=None, iv=None, mutate=None, expect="ok"):
        salt = salt or bytes(range(16))
        iv = iv or bytes(range(100, 112))
        blob = gcm_blob(pw if expect == "ok" or mutate else pw, salt, iv, iters, pt)
        if mutate:
            blob = mutate(blob)
        c = {"name": name, "op": "pbkdf2_gcm", "blob": blob, "password_hex": PASSWORD.hex(),
             "iterations": iters, "expect": expect}
        if expect == "ok":
            c["plaintext_hex"] = pt.hex()
        out.append(c)

    gcm("gcm_openrouter_key", b"sk-or-v1-0123456789abcdef0123456789abcdef")
    gcm("gcm_telegram_token", b"123456789:AAF-telegram-bot-token-value", salt=b"\x42" * 16)
    gcm("gcm_unicode", "clé secrète ✓".encode())
    gcm("gcm_empty", b"")
    gcm("gcm_1000_iterations", b"low-iteration legacy value", iters=1000)

    def flip_last(b):
        raw = bytearray(base64.b64decode(b))
        raw[-1] ^= 1
        return base64.b64encode(bytes(raw)).decode()

    def flip_ct(b):
        raw = bytearray(base64.b64decode(b))
        raw[28] ^= 0x80
        return base64.b64encode(bytes(raw)).decode()

    gcm("gcm_tag_flip", b"secret", iters=1000, mutate=flip_last, expect="DecryptFailed")
    gcm("gcm_ciphertext_flip", b"secret", iters=1000, mutate=flip_ct, expect="DecryptFailed")
    gcm("gcm_wrong_password", b"secret", iters=1000, pw=b"other",
        mutate=lambda b: gcm_blob(b"other", bytes(range(16)), bytes(range(100, 112)), 1000, b"secret"),
        expect="DecryptFailed")
    gcm("gcm_too_short", b"", iters=1000,
        mutate=lambda b: base64.b64encode(base64.b64decode(b)[:43]).decode(), expect="Malformed")
    gcm("gcm_not_base64", b"", iters=1000, mutate=lambda b: "%%%not-base64%%%", expect="Malformed")

    def ossl(name, pt, iters=100_000, salt=b"\x01\x02\x03\x04\x05\x06\x07\x08", mutate=None,
             expect="ok", pw=PASSWORD):
        data = openssl_enc(pw, salt, iters, pt)
        if expect == "ok":
            assert openssl_dec_ok(PASSWORD, iters, data)
        if mutate:
            data = mutate(data)
        c = {"name": name, "op": "openssl_enc", "data_hex": data.hex(),
             "password_hex": PASSWORD.hex(), "iterations": iters, "expect": expect}
        if expect == "ok":
            c["plaintext_hex"] = pt.hex()
        out.append(c)

    ossl("openssl_api_key", b"sk-ant-api03-legacy-openssl-value")
    ossl("openssl_one_block_exact", b"0123456789abcdef")
    ossl("openssl_empty", b"")
    ossl("openssl_multiline", b"-----BEGIN KEY-----\nabc\n-----END KEY-----\n", iters=10_000)
    # A wrong password: this salt/password pair is checked to break the padding in openssl too.
    # (about 1 in 256 wrong passwords yields valid padding: take the first salt that doesn't)
    data = next(d for d in (openssl_enc(b"wrong-password", bytes([i]) * 8, 1000, b"some secret")
                            for i in range(1, 64)) if not openssl_dec_ok(PASSWORD, 1000, d))
    out.append({"name": "openssl_wrong_password", "op": "openssl_enc", "data_hex": data.hex(),
                "password_hex": PASSWORD.hex(), "iterations": 1000, "expect": "DecryptFailed"})
    ossl("openssl_truncated", b"abcdefghijklmnopq", iters=1000, mutate=lambda d: d[:-1],
         expect="Malformed")
    ossl("openssl_no_salt_header", b"abc", iters=1000, mutate=lambda d: b"Unsalted" + d[8:],
         expect="Malformed")
    ossl("openssl_header_only", b"abc", iters=1000, mutate=lambda d: d[:16], expect="Malformed")
    return out


def main():
    doc = {
        "version": 1,
        "description": "Legacy imports: PBKDF2-HMAC-SHA256 + AES-256-GCM blobs made with "
                       "pyca/cryptography, and files made by `openssl enc -aes-256-cbc -pbkdf2`. "
                       "Generated by tests/interop/legacy_vectors.py.",
        "cases": cases(),
    }
    text = json.dumps(doc, indent=2, ensure_ascii=True) + "\n"
    if "--check" in sys.argv:
        with open(OUT) as f:
            if f.read() != text:
                sys.exit("tests/vectors/legacy_v1.json differs from what the generator writes")
        print(f"legacy_v1.json: {len(doc['cases'])} cases match the generator")
    else:
        with open(OUT, "w") as f:
            f.write(text)
        print(f"wrote {OUT}: {len(doc['cases'])} cases")


if __name__ == "__main__":
    main()
