//! AES-256-GCM backends: `ring` on native targets (VAES/AVX2 paths), the software
//! AES-GCM of [`crate::softaes`] on wasm32. Both are always compiled on native so that
//! differential tests and a fuzz target can compare them.

use crate::error::{Error, Result};
use crate::softaes::Gcm;

/// Length of the GCM tag.
pub const TAG_LEN: usize = 16;
/// Length of the GCM nonce.
pub const NONCE_LEN: usize = 12;

/// Which AES-GCM implementation to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[doc(hidden)]
pub enum Backend {
    /// `ring` (native only).
    #[cfg(not(target_arch = "wasm32"))]
    Ring,
    /// Software AES-GCM ([`crate::softaes`]: RustCrypto's fixsliced AES, BearSSL's GHASH).
    RustCrypto,
}

impl Backend {
    /// The backend this build uses by default.
    #[cfg(not(target_arch = "wasm32"))]
    pub const DEFAULT: Backend = Backend::Ring;
    /// The backend this build uses by default.
    #[cfg(target_arch = "wasm32")]
    pub const DEFAULT: Backend = Backend::RustCrypto;
}

/// Encrypts `in_out` in place and returns the tag.
pub(crate) fn seal_in_place(
    backend: Backend,
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
) -> Result<[u8; TAG_LEN]> {
    match backend {
        #[cfg(not(target_arch = "wasm32"))]
        Backend::Ring => {
            use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
            let k = LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::InvalidArgument("key"))?,
            );
            let tag = k
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    in_out,
                )
                .map_err(|_| Error::TooLarge {
                    limit: crate::envelope::MAX_PLAINTEXT,
                })?;
            let mut out = [0u8; TAG_LEN];
            out.copy_from_slice(tag.as_ref());
            Ok(out)
        }
        Backend::RustCrypto => Gcm::new(key).seal(nonce, aad, in_out),
    }
}

/// An envelope key ready for use: a software cipher already expanded (and cached), or
/// raw key bytes for a backend that prepares its own.
pub(crate) enum Cipher<'a> {
    Soft(&'a Gcm),
    Raw(Backend, &'a [u8; 32]),
}

impl Cipher<'_> {
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN]> {
        match self {
            Cipher::Soft(k) => k.seal(nonce, aad, in_out),
            Cipher::Raw(backend, key) => seal_in_place(*backend, key, nonce, aad, in_out),
        }
    }

    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<()> {
        match self {
            Cipher::Soft(k) => k.open(nonce, aad, in_out, tag),
            Cipher::Raw(backend, key) => open_in_place(*backend, key, nonce, aad, in_out, tag),
        }
    }
}

/// Decrypts `in_out` in place after checking `tag`.
///
/// On failure `in_out` holds no plaintext (both backends decrypt only after the
/// tag verifies, or wipe the buffer).
pub(crate) fn open_in_place(
    backend: Backend,
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<()> {
    match backend {
        #[cfg(not(target_arch = "wasm32"))]
        Backend::Ring => {
            use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM};
            let k = LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::InvalidArgument("key"))?,
            );
            let t = Tag::from(*tag);
            k.open_in_place_separate_tag(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                t,
                in_out,
                0..,
            )
            .map(|_| ())
            .map_err(|_| Error::DecryptFailed)
        }
        Backend::RustCrypto => Gcm::new(key).open(nonce, aad, in_out, tag),
    }
}

/// One-shot AES-256-GCM, for tests and Wycheproof: returns `ciphertext || tag`.
///
/// # Errors
/// [`Error::TooLarge`] beyond GCM's limit.
#[doc(hidden)]
pub fn aes256gcm_seal(
    backend: Backend,
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut buf = plaintext.to_vec();
    let tag = seal_in_place(backend, key, nonce, aad, &mut buf)?;
    buf.extend_from_slice(&tag);
    Ok(buf)
}

/// One-shot AES-256-GCM open of `ciphertext || tag`, for tests and Wycheproof.
///
/// # Errors
/// [`Error::DecryptFailed`] when the tag does not verify or the input is shorter than a tag.
#[doc(hidden)]
pub fn aes256gcm_open(
    backend: Backend,
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Vec<u8>> {
    let split = ciphertext_and_tag
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(Error::DecryptFailed)?;
    let (ct, tag) = ciphertext_and_tag.split_at(split);
    let mut t = [0u8; TAG_LEN];
    t.copy_from_slice(tag);
    let mut buf = ct.to_vec();
    open_in_place(backend, key, nonce, aad, &mut buf, &t)?;
    Ok(buf)
}
