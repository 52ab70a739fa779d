"""A keyring wrapped under an AWS KMS key with the application's own boto3 (DESIGN section 7,
two-step wrap): keycustody hands out the DEK and the encryption context, the application calls
KMS, keycustody takes the result back. keycustody itself never calls KMS.

    python examples/kms_wrap.py <key id or ARN>   (credentials, region and AWS_ENDPOINT_URL_KMS
                                                   from the standard AWS configuration chain)
"""

from __future__ import annotations

import sys
from typing import Any

import keycustody


def wrap_with_aws_kms(kms: Any, keyring: keycustody.Keyring, key_id: str, owner: str) -> str:
    """Wraps keyring under the KMS key for owner ("" = the platform keyring); returns the text to store."""
    pending = keycustody.PendingWrap(keyring, "aws-kms", key_id, owner)
    out = kms.encrypt(KeyId=key_id, Plaintext=pending.dek, EncryptionContext=pending.encryption_context)
    return pending.finish(out["CiphertextBlob"]).to_text()


def open_with_aws_kms(kms: Any, text: str, owner: str) -> keycustody.Keyring:
    """Opens a wrapped keyring stored for owner: one KMS Decrypt, bound to the same context."""
    wrapped = keycustody.WrappedKeyring.parse(text)
    # A row holding another owner's keyring is refused before KMS is asked.
    wrapped.expect_owner(owner)
    out = kms.decrypt(
        KeyId=wrapped.kek_key,
        CiphertextBlob=wrapped.wrapped_dek,
        EncryptionContext=wrapped.encryption_context,
    )
    return wrapped.open_with_dek(out["Plaintext"])


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python examples/kms_wrap.py <kms key id or ARN>", file=sys.stderr)
        return 2
    import boto3

    kms = boto3.client("kms")
    key_id = sys.argv[1]
    text = wrap_with_aws_kms(kms, keycustody.Keyring.generate(), key_id, "")
    back = open_with_aws_kms(kms, text, "")
    print(f"wrapped and reopened a keyring under {key_id}: primary kid {back.primary_kid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
