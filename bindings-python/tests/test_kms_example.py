"""The AWS KMS example (examples/kms_wrap.py, boto3) against a local moto KMS server
(moto_server on a free 127.0.0.1 port, credentials test/test), started and stopped here.
make test-python installs moto and boto3 into .venv; a missing server is a failure."""

import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import boto3
import botocore.config
import botocore.exceptions
import pytest

import keycustody as kc

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))
import kms_wrap  # noqa: E402

MOTO = os.environ.get("KEYCUSTODY_MOTO_SERVER") or str(pathlib.Path(sys.executable).parent / "moto_server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(url):
    return boto3.client(
        "kms",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5),
    )


@pytest.fixture(scope="module")
def kms():
    assert os.path.exists(MOTO), f"moto_server not found at {MOTO} (make test-python installs it)"
    port = free_port()
    proc = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise AssertionError(f"moto_server exited with {proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("moto_server did not start")
        yield client(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def key_id(kms):
    return kms.create_key(Description="keycustody test")["KeyMetadata"]["Arn"]


@pytest.mark.parametrize("owner", ["", "tenant-42"])
def test_wrap_under_aws_kms_and_reopen(kms, key_id, owner):
    keyring = kc.Keyring.generate()
    keyring.rotate()
    text = kms_wrap.wrap_with_aws_kms(kms, keyring, key_id, owner)
    w = kc.WrappedKeyring.parse(text)
    assert (w.kek_type, w.kek_key, w.owner) == ("aws-kms", key_id, owner)
    assert kms_wrap.open_with_aws_kms(kms, text, owner).export() == keyring.export()


def test_kms_enforces_the_encryption_context(kms, key_id):
    text = kms_wrap.wrap_with_aws_kms(kms, kc.Keyring.generate(), key_id, "tenant-a")
    with pytest.raises(kc.DecryptError):
        kms_wrap.open_with_aws_kms(kms, text, "tenant-b")
    moved = kc.WrappedKeyring.parse(json.dumps({**json.loads(text), "owner": "tenant-b"}))
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        kms.decrypt(KeyId=moved.kek_key, CiphertextBlob=moved.wrapped_dek, EncryptionContext=moved.encryption_context)
    assert ei.value.response["Error"]["Code"] == "InvalidCiphertextException"


def test_an_unreachable_kms_fails_the_open(kms, key_id):
    text = kms_wrap.wrap_with_aws_kms(kms, kc.Keyring.generate(), key_id, "")
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        kms_wrap.open_with_aws_kms(client(f"http://127.0.0.1:{free_port()}"), text, "")
    with pytest.raises(kc.DecryptError):
        kc.WrappedKeyring.parse(text).open_with_dek(bytes(32))
