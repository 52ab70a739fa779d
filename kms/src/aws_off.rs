//! `aws-kms` in a build without the `aws-kms` feature (no AWS SDK compiled in): every call
//! is [`KmsError::KekUnavailable`] naming the feature, so a wrapped keyring of this type is
//! refused with a typed error, never misread.

use crate::{KekConfig, KmsError};
use zeroize::Zeroizing;

/// The KEK type name.
pub const KEK_TYPE: &str = keycustody::KEK_AWS_KMS;

fn off() -> KmsError {
    KmsError::KekUnavailable {
        kek: KEK_TYPE,
        reason: "this build of keycustody-kms has no AWS KMS client (cargo feature aws-kms)",
    }
}

/// Always [`KmsError::KekUnavailable`] (see the module docs).
///
/// # Errors
/// Always.
pub fn encrypt_dek(
    _cfg: &KekConfig,
    _key: &str,
    _dek: &[u8],
    _owner: &str,
) -> Result<Vec<u8>, KmsError> {
    Err(off())
}

/// Always [`KmsError::KekUnavailable`] (see the module docs).
///
/// # Errors
/// Always.
pub fn decrypt_dek(
    _cfg: &KekConfig,
    _key: &str,
    _wrapped: &[u8],
    _owner: &str,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    Err(off())
}

/// Always [`KmsError::KekUnavailable`] (see the module docs).
///
/// # Errors
/// Always.
pub fn create_key(_cfg: &KekConfig) -> Result<String, KmsError> {
    Err(off())
}
