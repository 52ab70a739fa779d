"""keycustody: secrets and key custody for multi-tenant platforms.

kc1 envelopes (AES-256-GCM under per-owner HKDF keys), a rotating keyring, API keys,
tokens, and the platform pieces, all implemented once in the Rust core. See the ``.pyi``
stubs for signatures and the README for a quickstart.
"""

from __future__ import annotations

try:
    from . import _native  # noqa: F401 - the compiled extension; its names are imported below
except ImportError as _exc:  # a wheel for another platform, or a libc older than its tag
    from ._platform import native_import_error

    raise native_import_error(_exc) from _exc

# The error classes: exactly _errors.__all__ (built from the native error list).
from ._errors import *  # noqa: F401,F403
from ._errors import __all__ as _ERROR_NAMES
from ._native import (
    MAX_PLAINTEXT,
    ApiKey,
    AuditChain,
    AuditCheckpoint,
    AuditEntry,
    AuditReport,
    CodeCheck,
    DeliveryKeypair,
    EnvelopeInfo,
    GeneratedApiKey,
    IssuedCode,
    KeyInfo,
    Keyring,
    PendingWrap,
    ReplayGuard,
    TenantKeyringCache,
    WrappedKeyring,
    __version__,
    constant_time_equal,
    decrypt_legacy_pbkdf2_gcm,
    decrypt_openssl_enc,
    delivery_key_fingerprint,
    delivery_public_key,
    derive_delivery_keypair,
    generate_api_key,
    generate_delivery_keypair,
    generate_standard_webhook_secret,
    generate_totp_secret,
    hash_api_key,
    inspect,
    inspect_binary,
    invite_code,
    is_wrapped_keyring,
    open_delivery,
    parse_api_key,
    random_base62,
    random_string,
    random_token,
    scrub,
    seal_for_delivery,
    sign_standard_webhook,
    sign_stripe_payload,
    totp_at,
    totp_raw_at,
    totp_step,
    totp_uri,
    validate_email,
    validate_slug,
    verify_api_key,
    verify_standard_webhook,
    verify_stripe_signature,
    verify_telegram_secret,
    verify_totp_at,
    wrap_with_passphrase,
)

__all__ = [
    "__version__",
    "MAX_PLAINTEXT",
    # keyring and envelopes
    "Keyring",
    "KeyInfo",
    "EnvelopeInfo",
    "inspect",
    "inspect_binary",
    # API keys, tokens, comparison
    "ApiKey",
    "GeneratedApiKey",
    "generate_api_key",
    "parse_api_key",
    "hash_api_key",
    "verify_api_key",
    "random_token",
    "random_base62",
    "random_string",
    "invite_code",
    "constant_time_equal",
    # webhooks
    "verify_stripe_signature",
    "sign_stripe_payload",
    "verify_standard_webhook",
    "sign_standard_webhook",
    "generate_standard_webhook_secret",
    "verify_telegram_secret",
    "ReplayGuard",
    # the audit chain (pure: the application stores the entries)
    "AuditChain",
    "AuditEntry",
    "AuditCheckpoint",
    "AuditReport",
    # one-time codes and TOTP
    "IssuedCode",
    "CodeCheck",
    "generate_totp_secret",
    "totp_uri",
    "totp_at",
    "totp_raw_at",
    "totp_step",
    "verify_totp_at",
    # browser-direct delivery (HPKE)
    "DeliveryKeypair",
    "generate_delivery_keypair",
    "derive_delivery_keypair",
    "delivery_public_key",
    "delivery_key_fingerprint",
    "seal_for_delivery",
    "open_delivery",
    # custody
    "WrappedKeyring",
    "PendingWrap",
    "TenantKeyringCache",
    "wrap_with_passphrase",
    "is_wrapped_keyring",
    # text
    "scrub",
    "validate_slug",
    "validate_email",
    # legacy import
    "decrypt_legacy_pbkdf2_gcm",
    "decrypt_openssl_enc",
    # errors: one class per core error kind, and the two groups (see _errors.py)
    *_ERROR_NAMES,
]
