#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod aead;
pub mod apikey;
mod clock;
mod ct;
pub mod envelope;
mod error;
pub mod kdf;
mod keycache;
mod keyfile;
pub mod keyring;
mod keyring_text;
pub mod legacy;
pub mod random;
mod secret;

pub use apikey::{
    generate_api_key, hash_api_key, parse_api_key, verify_api_key, ApiKey, GeneratedApiKey,
};
pub use ct::constant_time_equal;
pub use envelope::{inspect, inspect_binary, EnvelopeInfo};
pub use error::{Error, MalformedKind, Result};
pub use keyring::{KeyInfo, KeyState, Keyring};
pub use legacy::{decrypt_legacy_pbkdf2_gcm, decrypt_openssl_enc, Pbkdf2GcmParams};
pub use random::{invite_code, random_base62, random_token};
pub use secret::{SecretBytes, SecretString};
mod pseudonym;
pub mod replay;
pub mod scrub;
pub mod validate;
pub mod webhook;

#[cfg(not(target_arch = "wasm32"))]
pub use clock::unix_now;
pub use replay::{ReplayGuard, ReplayStore};
pub use scrub::scrub;
pub use validate::{validate_email, validate_slug};
pub use webhook::{
    generate_standard_webhook_secret, sign_standard_webhook, sign_stripe_payload,
    verify_standard_webhook_at, verify_stripe_signature_at, verify_telegram_secret,
};
#[cfg(not(target_arch = "wasm32"))]
pub use webhook::{verify_standard_webhook, verify_stripe_signature};
pub mod jwt;
pub mod otp;
pub mod totp;

pub use jwt::JwtVerifyOptions;
pub use otp::{CodeCheck, CodeRecord, CodeStatus, IssuedCode};
pub use totp::{generate_totp_secret, totp_at, totp_uri, verify_totp_at};
pub mod delivery;

pub use delivery::{
    delivery_key_fingerprint, generate_delivery_keypair, open_delivery, seal_for_delivery,
    seal_for_delivery_pinned, DeliveryKeypair,
};
