"""aws-kms wrapped keyrings (DESIGN §7) against boto3 + pyca/cryptography, on one local moto
KMS server: boto3 unwraps a DEK that `keycustody keys wrap` wrapped and decrypts the keyring
with AESGCM and the §7 header (written here from the spec), and boto3 wraps a DEK that
`keycustody keys unwrap` unwraps. Run: make test-kms (KEYCUSTODY_BIN = the CLI binary).
"""
import base64
import json
import os
import pathlib
import socket
import struct
import subprocess
import sys
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BIN = os.environ.get("KEYCUSTODY_BIN")
MOTO = pathlib.Path(sys.executable).parent / "moto_server"
CONTEXT_KEY, CONTEXT_VALUE = "keycustody", "wrapped-keyring/v1"


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def unb64u(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def header(kek_type: str, key: str, owner: str) -> bytes:
    """§7: "keycustody/v1/wrapped-keyring" || 0x00 || u32be-length-prefixed type, key, owner."""
    out = b"keycustody/v1/wrapped-keyring\x00"
    for part in (kek_type, key, owner):
        p = part.encode()
        out += struct.pack(">I", len(p)) + p
    return out


def context(owner: str) -> dict:
    return {CONTEXT_KEY: CONTEXT_VALUE, "owner": owner}


@pytest.fixture(scope="module")
def kms():
    if not BIN:
        pytest.fail("KEYCUSTODY_BIN is not set (make test-kms sets it)")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen(
        [str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    client = boto3.client(
        "kms",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    try:
        yield client, url
    finally:
        proc.kill()
        proc.wait()


def cli(args, url, **kw):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KEYCUSTODY_", "AWS_"))
    }
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL_KMS=url,
    )
    return subprocess.run([BIN, *args], env=env, capture_output=True, **kw)


def new_keyring(tmp_path, url) -> pathlib.Path:
    p = tmp_path / "keyring.json"
    r = cli(["keys", "generate", "--keyring", str(p)], url)
    assert r.returncode == 0, r.stderr
    return p


def test_boto3_unwraps_what_keycustody_wrapped(kms, tmp_path):
    client, url = kms
    key = client.create_key()["KeyMetadata"]["KeyId"]
    kp = new_keyring(tmp_path, url)
    r = cli(["keys", "wrap", "--kek", f"aws-kms:{key}", "--owner", "tenant-x", "--keyring", str(kp)], url)
    assert r.returncode == 0, r.stderr
    w = json.loads(r.stdout)
    assert list(w) == ["version", "kek", "owner", "wrapped_dek", "nonce", "ciphertext"]
    assert w["version"] == 1 and w["kek"] == {"type": "aws-kms", "key": key}
    assert w["owner"] == "tenant-x"

    blob = unb64u(w["wrapped_dek"])
    dek = client.decrypt(KeyId=key, CiphertextBlob=blob, EncryptionContext=context("tenant-x"))["Plaintext"]
    assert len(dek) == 32
    text = AESGCM(dek).decrypt(unb64u(w["nonce"]), unb64u(w["ciphertext"]), header("aws-kms", key, "tenant-x"))
    assert json.loads(text) == json.loads(kp.read_text())

    # The context binds the owner: KMS refuses another one, and no context at all.
    for ctx in (context("tenant-y"), {CONTEXT_KEY: CONTEXT_VALUE}, None):
        with pytest.raises(ClientError) as e:
            kw = {"EncryptionContext": ctx} if ctx is not None else {}
            client.decrypt(KeyId=key, CiphertextBlob=blob, **kw)
        assert e.value.response["Error"]["Code"] == "InvalidCiphertextException"
    # The header binds the owner too: the right DEK with another owner's header fails.
    with pytest.raises(Exception):
        AESGCM(dek).decrypt(unb64u(w["nonce"]), unb64u(w["ciphertext"]), header("aws-kms", key, "tenant-y"))


def test_keycustody_unwraps_what_boto3_wrapped(kms, tmp_path):
    client, url = kms
    key = client.create_key()["KeyMetadata"]["KeyId"]
    kp = new_keyring(tmp_path, url)
    keyring_text = kp.read_text().strip().encode()
    dek = os.urandom(32)
    nonce = os.urandom(12)
    owner = "tenant-z"
    blob = client.encrypt(KeyId=key, Plaintext=dek, EncryptionContext=context(owner))["CiphertextBlob"]
    ct = AESGCM(dek).encrypt(nonce, keyring_text, header("aws-kms", key, owner))
    wrapped = {
        "version": 1,
        "kek": {"type": "aws-kms", "key": key},
        "owner": owner,
        "wrapped_dek": b64u(blob),
        "nonce": b64u(nonce),
        "ciphertext": b64u(ct),
    }
    wp = tmp_path / "wrapped.json"
    wp.write_text(json.dumps(wrapped, separators=(",", ":")))
    wp.chmod(0o600)
    r = cli(["keys", "unwrap", "--keyring", str(wp), "--to-stdout"], url)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads(keyring_text)

    # Data sealed under the plain keyring opens through the boto3-wrapped one.
    sealed = cli(["seal", "--keyring", str(kp), "--owner", "u1"], url, input=b"payload")
    assert sealed.returncode == 0, sealed.stderr
    opened = cli(["open", "--keyring", str(wp), "--owner", "u1"], url, input=sealed.stdout)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == b"payload"

    # Wrapped for another owner by boto3 but labelled as ours: refused (exit 2, DecryptFailed).
    blob_other = client.encrypt(KeyId=key, Plaintext=dek, EncryptionContext=context("other"))["CiphertextBlob"]
    wp.write_text(json.dumps({**wrapped, "wrapped_dek": b64u(blob_other)}, separators=(",", ":")))
    r = cli(["keys", "unwrap", "--keyring", str(wp), "--to-stdout"], url)
    assert r.returncode == 2, r.stderr
    assert b"decryption failed" in r.stderr
    assert r.stdout == b""
