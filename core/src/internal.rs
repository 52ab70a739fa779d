//! Test and fuzz hooks, behind the non-default `internal` feature. Nothing here is part of
//! the API: names and signatures change without notice. Every function that weakens a
//! guarantee (a caller-chosen nonce or ephemeral key) says so in its name.

use crate::error::Result;
use crate::keyring::Keyring;
use crate::secret::SecretBytes;

pub use crate::aead::{aes256gcm_open, aes256gcm_seal, Backend, NONCE_LEN, TAG_LEN};
pub use crate::delivery::{
    dangerous_hpke_seal_with_ikm, dangerous_seal_for_delivery_with_ikm, hpke_open_raw, parse_blob,
    parse_fingerprint, parse_private_key, parse_public_key, DELIVERY_INFO, FINGERPRINT_PREFIX,
    FINGERPRINT_TEXT_LEN, MAX_PLAINTEXT_LEN,
};
pub use crate::envelope::encode_text;
pub use crate::jwt::{parse_jwt, MAX_TOKEN_LEN as MAX_JWT_LEN};
pub use crate::kdf::{LABEL_AUDIT, LABEL_ENVELOPE, LABEL_JWT, LABEL_OTP, LABEL_PSEUDONYM};
pub use crate::totp::{base32_encode, parse_totp_secret};
pub use crate::webhook::{
    parse_standard_signature_header, parse_standard_webhook_secret, parse_stripe_signature_header,
    parse_timestamp, MAX_HEADER_LEN, MAX_PAYLOAD_LEN,
};

/// Seals with a caller-chosen nonce, for test vectors and differential tests only.
/// Reusing a nonce under one key and owner destroys GCM's security.
///
/// # Errors
/// As [`Keyring::seal`].
pub fn dangerous_seal_with_nonce(
    keyring: &Keyring,
    owner: &str,
    plaintext: &[u8],
    context: &[u8],
    nonce: &[u8; NONCE_LEN],
) -> Result<String> {
    keyring.dangerous_seal_with_nonce(owner, plaintext, context, nonce)
}

/// Like [`dangerous_seal_with_nonce`] with an explicit AES-GCM backend.
///
/// # Errors
/// As [`Keyring::seal`].
pub fn dangerous_seal_with_backend(
    keyring: &Keyring,
    backend: Backend,
    owner: &str,
    plaintext: &[u8],
    context: &[u8],
    nonce: &[u8; NONCE_LEN],
) -> Result<String> {
    keyring.dangerous_seal_with_backend(backend, owner, plaintext, context, nonce)
}

/// Opens with an explicit AES-GCM backend (differential tests).
///
/// # Errors
/// As [`Keyring::open`].
pub fn open_with_backend(
    keyring: &Keyring,
    backend: Backend,
    owner: &str,
    envelope: &str,
    context: &[u8],
) -> Result<SecretBytes> {
    keyring.dangerous_open_with_backend(backend, owner, envelope, context)
}

/// A one-time-code record for a caller-chosen code (test vectors).
///
/// # Errors
/// As [`Keyring::issue_code_at`].
pub fn dangerous_code_record_for(
    keyring: &Keyring,
    subject: &str,
    code: &str,
    now: i64,
) -> Result<String> {
    keyring.dangerous_code_record_for(subject, code, now)
}

/// `HKDF-Expand(PRK_kid, label || 0x00 || owner, length)` under any label (cross-checks of
/// the derivation against independent implementations).
///
/// # Errors
/// As [`Keyring::derive_key`].
pub fn derive_labeled(
    keyring: &Keyring,
    kid: Option<u32>,
    label: &[u8],
    owner: &str,
    length: usize,
) -> Result<(u32, SecretBytes)> {
    keyring.derive_labeled(kid, label, owner, length)
}

/// [`crate::PendingWrap::new`] with a caller-chosen DEK and nonce, for test vectors only.
/// A fixed DEK is no secret at all.
///
/// # Errors
/// As [`crate::PendingWrap::new`].
pub fn dangerous_pending_wrap_with(
    keyring: &Keyring,
    kek_type: &str,
    kek_key: &str,
    owner: &str,
    dek: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
) -> Result<crate::PendingWrap> {
    crate::PendingWrap::with_dek_and_nonce(keyring, kek_type, kek_key, owner, dek, nonce)
}

/// [`crate::wrap_with_passphrase`] with a caller-chosen salt, DEK, keyring nonce and DEK
/// nonce (`iv`), for test vectors only.
///
/// # Errors
/// As [`crate::wrap_with_passphrase`].
#[allow(clippy::too_many_arguments)]
pub fn dangerous_wrap_with_passphrase_fixed(
    keyring: &Keyring,
    passphrase: &[u8],
    owner: &str,
    params: crate::Argon2Params,
    salt: &[u8; 16],
    dek: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    iv: &[u8; NONCE_LEN],
) -> Result<crate::WrappedKeyring> {
    crate::wrapped::wrap_with_passphrase_fixed(
        keyring, passphrase, owner, params, salt, dek, nonce, iv,
    )
}
