//! Pseudonyms for personal data: [`Keyring::pseudonymize`] is
//! `HMAC-SHA256(pseudonym key, value)` as hex, so logs and analytics can join on an IP
//! or email without holding it.

use crate::error::{Error, Result};
use crate::kdf::LABEL_PSEUDONYM;
use crate::keyring::Keyring;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The owner under which [`Keyring::pseudonymize`] derives its key.
pub const PSEUDONYM_OWNER: &str = "keycustody/pseudonym";

/// The largest value [`Keyring::pseudonymize`] accepts, in bytes.
pub const MAX_PSEUDONYM_INPUT: usize = 64 * 1024;

impl Keyring {
    /// A stable pseudonym for an IP address, email or other identifier: lowercase hex of
    /// `HMAC-SHA256(K, value)` with `K = derive(keycustody/v1/pseudonym, "keycustody/pseudonym")`
    /// under the primary key. The value is taken byte for byte: normalise it first
    /// (e.g. lowercase an email) if equal values must map to one pseudonym.
    /// Pseudonyms change when the primary key is rotated.
    ///
    /// # Errors
    /// [`Error::TooLarge`] over 64 KiB; key errors as [`Keyring::derive_key`].
    pub fn pseudonymize(&self, value: &str) -> Result<String> {
        self.pseudonymize_for(PSEUDONYM_OWNER, value)
    }

    /// [`Keyring::pseudonymize`] with a per-tenant key (owner = `tenant`), so pseudonyms
    /// cannot be joined across tenants.
    ///
    /// # Errors
    /// [`Error::InvalidOwner`], [`Error::TooLarge`]; key errors.
    pub fn pseudonymize_for(&self, tenant: &str, value: &str) -> Result<String> {
        if value.len() > MAX_PSEUDONYM_INPUT {
            return Err(Error::TooLarge {
                limit: MAX_PSEUDONYM_INPUT,
            });
        }
        let (_, key) = self.derive_labeled(None, LABEL_PSEUDONYM, tenant, 32)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key.expose_secret())
            .map_err(|_| Error::InvalidArgument("key length"))?;
        mac.update(value.as_bytes());
        Ok(base16ct::lower::encode_string(&mac.finalize().into_bytes()))
    }
}
