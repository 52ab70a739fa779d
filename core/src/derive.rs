//! Keys derived for the platform pieces built on core (vault index, audit chain), each under
//! its own label: a caller can name a custom purpose or the audit key, never an arbitrary
//! label (so never the envelope, JWT or code-hashing keys).

use crate::error::Result;
use crate::kdf::{LABEL_AUDIT, LABEL_CUSTOM_PREFIX};
use crate::keyring::Keyring;
use crate::secret::SecretBytes;

impl Keyring {
    /// Like [`Keyring::derive_key`] under a chosen key id (the primary when `None`),
    /// returning the kid used: a verifier re-derives the key a record was made under.
    ///
    /// # Errors
    /// As [`Keyring::derive_key`]; [`crate::Error::UnknownKey`], [`crate::Error::KeyRetired`].
    pub fn derive_key_with_kid(
        &self,
        kid: Option<u32>,
        purpose: &str,
        owner: &str,
        length: usize,
    ) -> Result<(u32, SecretBytes)> {
        if purpose.is_empty() || purpose.len() > 256 {
            return Err(crate::Error::InvalidArgument("purpose must be 1 to 256 bytes"));
        }
        let mut label = Vec::with_capacity(LABEL_CUSTOM_PREFIX.len() + purpose.len());
        label.extend_from_slice(LABEL_CUSTOM_PREFIX);
        label.extend_from_slice(purpose.as_bytes());
        self.derive_labeled(kid, &label, owner, length)
    }

    /// The 32-byte audit-chain MAC key of `owner` (label `keycustody/v1/audit`) under `kid`
    /// (the primary when `None`), with the kid used.
    ///
    /// # Errors
    /// [`crate::Error::UnknownKey`], [`crate::Error::KeyRetired`], [`crate::Error::InvalidOwner`].
    pub fn audit_key(&self, kid: Option<u32>, owner: &str) -> Result<(u32, SecretBytes)> {
        self.derive_labeled(kid, LABEL_AUDIT, owner, 32)
    }
}
