#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// Public structs and enums that may grow are `#[non_exhaustive]`; these lints make every
// exception a visible `allow` with its reason.
#![warn(clippy::exhaustive_structs, clippy::exhaustive_enums)]

// Every module is private: this file is the table of contents of the API. Each public item
// has exactly one path, `keycustody::<item>`, listed below by topic; `core/public-api.txt` is
// the committed snapshot of the whole surface, checked by `make test`.
mod aead;
mod apikey;
mod audit;
mod clock;
mod ct;
mod custody;
mod delivery;
mod derive;
mod envelope;
mod error;
mod jwt;
mod kdf;
mod keycache;
mod keyfile;
mod keyring;
mod keyring_text;
mod legacy;
mod otp;
mod pseudonym;
mod random;
mod replay;
mod scrub;
mod secret;
mod totp;
mod validate;
mod webhook;
mod wrapped;

/// Test and fuzz hooks: fixed nonces, backend choice, raw HPKE, the format parsers on their
/// own. Not part of the API, not covered by semver, compiled only with the non-default
/// `internal` feature (used by xtask, fuzz, ct and the tests).
#[cfg(feature = "internal")]
#[doc(hidden)]
pub mod internal;

// ---------------------------------------------------------------------------------------
// Envelopes and keyrings
// ---------------------------------------------------------------------------------------
pub use envelope::{
    envelope_binary, envelope_text, inspect, inspect_binary, EnvelopeInfo, MAX_PLAINTEXT,
    TEXT_PREFIX,
};
pub use kdf::{DEFAULT_DERIVED_KEY_LEN, MAX_DERIVED_LEN, MAX_OWNER_LEN};
pub use keyfile::KEYRING_ENV_VAR;
pub use keyring::{
    KeyInfo, KeyState, Keyring, DEFAULT_KID, MAX_KEYRING_TEXT, MAX_KEYS, MAX_ROOT_LEN, MIN_ROOT_LEN,
};
pub use secret::{SecretBytes, SecretString};

// ---------------------------------------------------------------------------------------
// Custody (DESIGN §7): tenant keyrings, wrapped keyrings, the tenant keyring cache
// ---------------------------------------------------------------------------------------
pub use custody::{
    TenantKeyringCache, DEFAULT_TENANT_CACHE_CAPACITY, DEFAULT_TENANT_CACHE_TTL, KEYRING_CONTEXT,
    MAX_TENANT_CACHE_CAPACITY,
};
pub use wrapped::{
    is_wrapped_keyring, wrap_with_passphrase, Argon2Params, PendingWrap, WrappedKeyring,
    ARGON2_MAX_M_KIB, ARGON2_MAX_P, ARGON2_MAX_T, ARGON2_SALT_LEN, AWS_KMS_CONTEXT_KEY,
    AWS_KMS_CONTEXT_OWNER_KEY, AWS_KMS_CONTEXT_VALUE, DEK_LEN, KEK_AWS_KMS, KEK_PASSPHRASE,
    KEK_PKCS11, MAX_KEK_KEY_LEN, MAX_KEK_TYPE_LEN, MAX_PASSPHRASE_LEN, MAX_WRAPPED_DEK_LEN,
    MAX_WRAPPED_KEYRING_TEXT, PASSPHRASE_ENV_VAR, PASSPHRASE_FILE_ENV_VAR, WRAPPED_KEYRING_LABEL,
    WRAPPED_KEYRING_VERSION,
};

// ---------------------------------------------------------------------------------------
// Tokens, randomness and API keys
// ---------------------------------------------------------------------------------------
pub use apikey::{
    generate_api_key, hash_api_key, parse_api_key, verify_api_key, ApiKey, GeneratedApiKey,
};
pub use ct::constant_time_equal;
pub use random::{
    fill_random, invite_code, random_base62, random_string, random_token, BASE62, INVITE_ALPHABET,
    MAX_TOKEN_LEN,
};

// ---------------------------------------------------------------------------------------
// Audit chain (DESIGN §5, docs/audit.md): entries, run verification, checkpoints
// ---------------------------------------------------------------------------------------
pub use audit::{
    AuditChain, AuditCheckpoint, AuditEntry, AuditEvent, AuditOutcome, AuditReport, AuditVerifier,
    AUDIT_GENESIS, MAX_AUDIT_CHECKPOINT, MAX_AUDIT_ENTRY, MAX_AUDIT_FIELD, MAX_AUDIT_NAMES,
};

// ---------------------------------------------------------------------------------------
// Webhooks and replay
// ---------------------------------------------------------------------------------------
pub use replay::{
    check_event_id, ReplayGuard, ReplayStore, DEFAULT_REPLAY_CAPACITY, DEFAULT_REPLAY_TTL,
    MAX_EVENT_ID_LEN, MAX_REPLAY_CAPACITY, MAX_REPLAY_TTL,
};
pub use webhook::{
    generate_standard_webhook_secret, sign_standard_webhook, sign_stripe_payload,
    verify_standard_webhook_at, verify_standard_webhook_headers_at, verify_stripe_signature_at,
    verify_telegram_secret, DEFAULT_TOLERANCE, STANDARD_HEADER_NAMES,
};
#[cfg(not(target_arch = "wasm32"))]
pub use webhook::{
    verify_standard_webhook, verify_standard_webhook_headers, verify_stripe_signature,
};

// ---------------------------------------------------------------------------------------
// One-time codes and TOTP
// ---------------------------------------------------------------------------------------
pub use otp::{CodeCheck, CodeRecord, CodeStatus, IssuedCode, CODE_DIGITS, CODE_TTL, MAX_ATTEMPTS};
pub use totp::{
    generate_totp_secret, totp_at, totp_raw_at, totp_step, totp_uri, verify_totp_at, TOTP_DIGITS,
    TOTP_PERIOD,
};

// ---------------------------------------------------------------------------------------
// JWT (per-tenant HS256)
// ---------------------------------------------------------------------------------------
pub use jwt::JwtVerifyOptions;

// ---------------------------------------------------------------------------------------
// Delivery (HPKE to a tenant VM)
// ---------------------------------------------------------------------------------------
pub use delivery::{
    delivery_key_fingerprint, delivery_public_key, derive_delivery_keypair,
    generate_delivery_keypair, open_delivery, seal_for_delivery, seal_for_delivery_pinned,
    DeliveryKeypair,
};

// ---------------------------------------------------------------------------------------
// Legacy import (decrypt-only)
// ---------------------------------------------------------------------------------------
pub use legacy::{
    decrypt_legacy_pbkdf2_gcm, decrypt_openssl_enc, Pbkdf2GcmParams, DEFAULT_ITERATIONS,
    MAX_ITERATIONS, MAX_LEGACY_LEN,
};

// ---------------------------------------------------------------------------------------
// Scrubbing and validation
// ---------------------------------------------------------------------------------------
pub use kdf::check_owner as validate_owner;
pub use scrub::scrub;
pub use validate::{validate_email, validate_slug};

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------
#[cfg(not(target_arch = "wasm32"))]
pub use clock::unix_now;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------
pub use error::{EnvVarName, Error, MalformedKind, Result};
