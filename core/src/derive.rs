//! Derived keys (DESIGN §2): custom purposes, the audit-chain key, and the crate-private
//! `derive_labeled` every labelled key goes through. A caller names a custom purpose or the
//! audit key, never an arbitrary label (so never the envelope, JWT or code-hashing keys).

use crate::error::Result;
use crate::kdf::{LABEL_AUDIT, LABEL_CUSTOM_PREFIX};
use crate::keyring::Keyring;
use crate::secret::SecretBytes;

impl Keyring {
    /// Derives a key for a custom purpose: `HKDF-Expand(PRK_primary, "keycustody/v1/custom/<purpose>" || 0x00 || owner, length)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] for an empty purpose, one over 256 bytes or containing NUL,
    /// or a length outside 1 to 8160; [`crate::Error::InvalidOwner`].
    pub fn derive_key(&self, purpose: &str, owner: &str, length: usize) -> Result<SecretBytes> {
        crate::kdf::check_purpose(purpose)?;
        let mut label = Vec::with_capacity(LABEL_CUSTOM_PREFIX.len() + purpose.len());
        label.extend_from_slice(LABEL_CUSTOM_PREFIX);
        label.extend_from_slice(purpose.as_bytes());
        let (_, key) = self.derive_labeled(None, &label, owner, length)?;
        Ok(key)
    }

    /// Derives `HKDF-Expand(PRK_kid, label || 0x00 || owner, length)` under `kid`
    /// (the primary when `None`), returning the kid used. For the platform modules.
    ///
    /// # Errors
    /// [`crate::Error::UnknownKey`], [`crate::Error::KeyRetired`], [`crate::Error::InvalidOwner`], [`crate::Error::InvalidArgument`].
    pub(crate) fn derive_labeled(
        &self,
        kid: Option<u32>,
        label: &[u8],
        owner: &str,
        length: usize,
    ) -> Result<(u32, SecretBytes)> {
        crate::kdf::check_owner(owner)?;
        if length == 0 || length > crate::kdf::MAX_DERIVED_LEN {
            return Err(crate::Error::InvalidArgument(
                "length must be 1 to 8160 bytes",
            ));
        }
        let snap = self.snapshot();
        let kid = kid.unwrap_or(snap.primary);
        let m = snap.material(kid)?;
        let mut out = vec![0u8; length];
        m.prk().expand(label, owner.as_bytes(), &mut out)?;
        Ok((kid, SecretBytes::new(out)))
    }

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
        crate::kdf::check_purpose(purpose)?;
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
