//! Key derivation (HKDF-SHA256, RFC 5869) and the labels of every derived key.
//!
//! `PRK_kid = HKDF-Extract(salt = "keycustody/v1", IKM = root_kid)` is computed once
//! per key id; each key is `HKDF-Expand(PRK_kid, LABEL || 0x00 || owner, L)`.

use crate::error::{Error, Result};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

// The HMAC and HKDF states this crate holds are wiped when they are dropped (ISSUE 12,
// finding 11). An `Hmac<D>` (hmac 0.13) is two hash states `D::Core`, the chaining values
// after `key ^ ipad` and `key ^ opad` (as good as the key), and a block buffer (`Buffer`,
// the pending message bytes). `Hkdf<Sha256>` and `HkdfExtract<Sha256>` (hkdf 0.13, here and
// in delivery.rs and inside hpke) are one `Hmac<Sha256>` keyed by the PRK or the salt;
// jwt, webhook, otp and pseudonym key an `Hmac<Sha256>` with a derived secret, totp an
// `Hmac<Sha1 | Sha256 | Sha512>` with the TOTP secret, and pbkdf2 0.13 (legacy.rs) an
// `Hmac<Sha256>` with the password. hmac 0.13.0 does not mark `Hmac<D>` itself
// `ZeroizeOnDrop`, so the check is on its parts: the hash states are wiped by sha2's and
// sha1's `zeroize` features, the buffer by digest's (turned on through hmac's `zeroize`),
// and `Hmac`'s drop glue drops both. Without those features this does not compile.
const _: () = {
    use hmac::digest::block_api::{Buffer, CoreProxy};
    use hmac::{EagerHash, Hmac};
    use zeroize::ZeroizeOnDrop;

    fn hmac_wiped_on_drop<D>()
    where
        D: EagerHash,
        <D as EagerHash>::Core: ZeroizeOnDrop,
        Buffer<<Hmac<D> as CoreProxy>::Core>: ZeroizeOnDrop,
    {
    }
    // `Hkdf<H>` and `HkdfExtract<H>` hold exactly an `Hmac<H>`.
    fn hkdf_holds_hmac(
        h: Hkdf<Sha256>,
        e: hkdf::HkdfExtract<Sha256>,
    ) -> (
        hkdf::GenericHkdf<Hmac<Sha256>>,
        hkdf::GenericHkdfExtract<Hmac<Sha256>>,
    ) {
        (h, e)
    }
    #[allow(dead_code)]
    fn check() {
        hmac_wiped_on_drop::<Sha256>();
        hmac_wiped_on_drop::<sha2::Sha512>();
        hmac_wiped_on_drop::<sha1::Sha1>();
        let _ = hkdf_holds_hmac;
    }
};

/// The HKDF-Extract salt.
pub const SALT: &[u8] = b"keycustody/v1";
/// Label of the 32-byte AES-256-GCM key of `kc1` envelopes.
pub const LABEL_ENVELOPE: &[u8] = b"keycustody/v1/envelope";
/// Label of the per-tenant HS256 JWT secret.
pub const LABEL_JWT: &[u8] = b"keycustody/v1/jwt";
/// Label of the one-time-code hashing pepper.
pub const LABEL_OTP: &[u8] = b"keycustody/v1/otp";
/// Label of the HMAC key for pseudonyms (IPs, emails).
pub const LABEL_PSEUDONYM: &[u8] = b"keycustody/v1/pseudonym";
/// Label of the audit-chain MAC key.
pub const LABEL_AUDIT: &[u8] = b"keycustody/v1/audit";
/// Prefix of custom labels: `keycustody/v1/custom/<purpose>`.
pub const LABEL_CUSTOM_PREFIX: &[u8] = b"keycustody/v1/custom/";
/// Label of a root key's public fingerprint (owner is empty for it).
pub const LABEL_FINGERPRINT: &[u8] = b"keycustody/v1/fingerprint";

/// The largest owner, in bytes.
pub const MAX_OWNER_LEN: usize = 1024;
/// The largest output of one HKDF-Expand (255 blocks of SHA-256).
pub const MAX_DERIVED_LEN: usize = 255 * 32;
/// The length the bindings' `derive_key` uses when none is given, in bytes (a 256-bit key).
pub const DEFAULT_DERIVED_KEY_LEN: usize = 32;

/// Checks that an owner is 1 to 1024 bytes.
///
/// # Errors
/// [`Error::InvalidOwner`].
pub fn check_owner(owner: &str) -> Result<()> {
    if owner.is_empty() || owner.len() > MAX_OWNER_LEN {
        return Err(Error::InvalidOwner);
    }
    Ok(())
}

/// The largest custom purpose, in bytes.
pub const MAX_PURPOSE_LEN: usize = 256;

/// Checks a custom purpose: 1 to 256 bytes, no NUL. The NUL that ends the label
/// (`keycustody/v1/custom/<purpose> || 0x00 || owner`) must be the first one, or
/// `("p\0a", "b")` and `("p", "a\0b")` would derive the same key.
///
/// # Errors
/// [`Error::InvalidArgument`].
pub fn check_purpose(purpose: &str) -> Result<()> {
    if purpose.is_empty() || purpose.len() > MAX_PURPOSE_LEN {
        return Err(Error::InvalidArgument("purpose must be 1 to 256 bytes"));
    }
    if purpose.as_bytes().contains(&0) {
        return Err(Error::InvalidArgument("purpose contains NUL"));
    }
    Ok(())
}

/// The pseudo-random key of one root key (HKDF-Extract output), wiped on drop.
#[derive(Clone)]
pub(crate) struct Prk(Zeroizing<[u8; 32]>);

impl Prk {
    /// `HKDF-Extract(SALT, root)`. The PRK `hkdf` returns is wiped here once copied; the
    /// HMAC states keyed by the salt and (in [`Prk::expand`]) by the PRK are wiped when
    /// `hkdf` drops them (checked at the top of this file).
    pub(crate) fn extract(root: &[u8]) -> Prk {
        let (mut prk, _) = Hkdf::<Sha256>::extract(Some(SALT), root);
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&prk);
        prk.as_mut_slice().zeroize();
        Prk(out)
    }

    /// `HKDF-Expand(PRK, label || 0x00 || owner, out.len())`.
    pub(crate) fn expand(&self, label: &[u8], owner: &[u8], out: &mut [u8]) -> Result<()> {
        if out.is_empty() || out.len() > MAX_DERIVED_LEN {
            return Err(Error::InvalidArgument("length must be 1 to 8160 bytes"));
        }
        let hk = Hkdf::<Sha256>::from_prk(&self.0[..])
            .map_err(|_| Error::InvalidArgument("PRK length"))?;
        hk.expand_multi_info(&[label, &[0u8], owner], out)
            .map_err(|_| Error::InvalidArgument("length must be 1 to 8160 bytes"))
    }
}

impl core::fmt::Debug for Prk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Prk([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::Keyring;

    #[test]
    fn nul_in_purpose_is_refused() {
        let k = Keyring::from_secret(&[7u8; 32], 1).unwrap();
        // Without the check, ("p\0a", "b") and ("p", "a\0b") give the same HKDF info
        // "keycustody/v1/custom/p\0a\0b", hence the same key.
        assert_eq!(
            k.derive_key("p\0a", "b", 32).map(|_| ()),
            Err(Error::InvalidArgument("purpose contains NUL"))
        );
        for p in ["\0", "p\0", "\0p"] {
            assert_eq!(
                k.derive_key(p, "b", 32).map(|_| ()),
                Err(Error::InvalidArgument("purpose contains NUL")),
                "{p:?}"
            );
        }
        assert_eq!(k.derive_key("p", "a\0b", 32).unwrap().len(), 32);
    }
}
