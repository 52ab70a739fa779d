//! AES-256-GCM backends: `aws-lc-rs` (AWS-LC, whose x86_64 GCM is OpenSSL's AVX-512 VAES
//! code) on native targets, RustCrypto `aes-gcm` on wasm32. Both are always compiled on
//! native so that differential tests, Wycheproof and a fuzz target can compare them.
//!
//! AWS-LC replaced `ring` 0.17.14 (AVX2 VAES) here: on this project's CPU it seals 1 MiB in
//! 97 µs where ring took 119 µs and OpenSSL (pyca) 100 µs, and it seals and opens out of
//! place, so an envelope is written straight from the caller's plaintext into its output
//! without a copy first (docs: BENCHMARKS.md, the Python and Node binding sections).
//!
//! This module owns GCM's own length limits (`MAX_MESSAGE`, `MAX_AAD`) and checks
//! them before either backend runs; the limits of the formats built on it (the
//! envelope's 64 MiB) are their callers' to check first.

use crate::error::{Error, Result};
use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit};

/// Length of the GCM tag.
pub const TAG_LEN: usize = 16;
/// Length of the GCM nonce.
pub const NONCE_LEN: usize = 12;

/// The longest message GCM allows (NIST SP 800-38D §5.2.1.1): 2^32 − 2 blocks, so that
/// the 32-bit block counter never wraps.
pub(crate) const MAX_MESSAGE: u64 = ((1 << 32) - 2) * 16;
/// The longest additional data GCM allows: under 2^64 bits.
pub(crate) const MAX_AAD: u64 = (1 << 61) - 1;

// Both backends refuse beyond the same limits: `aes-gcm` checks its own, AWS-LC its own
// message limit (2^36 - 32 bytes); ours are checked first.
const _: () = assert!(MAX_MESSAGE == aes_gcm::P_MAX && MAX_AAD == aes_gcm::A_MAX);

// Fails to compile if `aes-gcm` ever stops wiping its expanded keys (AES round keys, GHASH
// key) on drop: its `zeroize` feature, which turns on `aes`'s and `ghash`'s. The per-owner
// cache (keycache.rs) holds these for as long as a key lives, and evicts by dropping.
const _: fn() = || {
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<Aes256Gcm>();
};

/// Which AES-GCM implementation to use (a test hook, reached through `keycustody::internal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::exhaustive_enums)] // internal: tests match on it; not part of the API
pub enum Backend {
    /// `aws-lc-rs` (AWS-LC; native builds with the default `aws-lc` feature).
    #[cfg(all(not(target_arch = "wasm32"), feature = "aws-lc"))]
    AwsLc,
    /// RustCrypto `aes-gcm` (software AES and GHASH; the wasm32 build's).
    RustCrypto,
}

impl Backend {
    /// The backend this build uses by default.
    #[cfg(all(not(target_arch = "wasm32"), feature = "aws-lc"))]
    pub const DEFAULT: Backend = Backend::AwsLc;
    /// The backend this build uses by default: RustCrypto on wasm32 and in a native build
    /// without the `aws-lc` feature.
    #[cfg(any(target_arch = "wasm32", not(feature = "aws-lc")))]
    pub const DEFAULT: Backend = Backend::RustCrypto;
}

/// Whether a message of `len` bytes with `aad_len` bytes of additional data is within
/// GCM's limits.
fn within_limits(aad_len: usize, len: usize) -> bool {
    // usize is at most 64 bits on every target Rust supports; a longer one is refused.
    matches!(
        (u64::try_from(aad_len), u64::try_from(len)),
        (Ok(a), Ok(m)) if a <= MAX_AAD && m <= MAX_MESSAGE
    )
}

/// The error for a seal beyond GCM's limits. The limit named is the message's (an AAD of
/// 2^61 bytes cannot be allocated), saturated where `usize` is narrower (wasm32, whose
/// whole memory is below it).
fn too_large() -> Error {
    Error::TooLarge {
        limit: usize::try_from(MAX_MESSAGE).unwrap_or(usize::MAX),
    }
}

/// Expands an AES-256-GCM key for [`Cipher::Soft`]: the AES key schedule and the GHASH
/// key, wiped when the value is dropped.
pub(crate) fn expand(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(key.into())
}

fn soft_seal(
    k: &Aes256Gcm,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
) -> Result<[u8; TAG_LEN]> {
    if !within_limits(aad.len(), in_out.len()) {
        return Err(too_large());
    }
    let tag = k
        .encrypt_inout_detached(nonce.into(), aad, in_out.into())
        .map_err(|_| too_large())?;
    Ok(tag.into())
}

/// Decrypts `in_out` in place after checking `tag`: on a wrong tag nothing is decrypted
/// (`aes-gcm` compares the tag, in constant time, before applying the keystream).
fn soft_open(
    k: &Aes256Gcm,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<()> {
    if !within_limits(aad.len(), in_out.len()) {
        return Err(Error::DecryptFailed);
    }
    k.decrypt_inout_detached(nonce.into(), aad, in_out.into(), tag.into())
        .map_err(|_| Error::DecryptFailed)
}

/// An AWS-LC AES-256-GCM key. AWS-LC keeps the expanded key in memory it allocated, and
/// `OPENSSL_free` wipes an allocation before freeing it, so the key schedule is wiped when the
/// returned key drops (the raw key bytes are the caller's `Zeroizing`).
#[cfg(all(not(target_arch = "wasm32"), feature = "aws-lc"))]
fn native_key(key: &[u8; 32]) -> Result<aws_lc_rs::aead::LessSafeKey> {
    use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
    Ok(LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::InvalidArgument("key"))?,
    ))
}

/// Encrypts `input` into `out` (the same length) and returns the tag: out of place on the
/// native backend (one pass over the data, no copy), a copy then in place on `aes-gcm`.
/// On failure `out` is wiped.
pub(crate) fn seal_to(
    backend: Backend,
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    input: &[u8],
    out: &mut [u8],
) -> Result<[u8; TAG_LEN]> {
    if out.len() != input.len() {
        return Err(Error::InvalidArgument(
            "output length is not the input length",
        ));
    }
    match backend {
        #[cfg(all(not(target_arch = "wasm32"), feature = "aws-lc"))]
        Backend::AwsLc => {
            use aws_lc_rs::aead::{Aad, Nonce};
            if !within_limits(aad.len(), input.len()) {
                return Err(too_large());
            }
            let mut tag = [0u8; TAG_LEN];
            native_key(key)?
                .seal_out_of_place_scatter(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    input,
                    out,
                    &[],
                    &mut tag,
                )
                .map_err(|_| {
                    zeroize::Zeroize::zeroize(&mut *out);
                    too_large()
                })?;
            Ok(tag)
        }
        Backend::RustCrypto => {
            out.copy_from_slice(input);
            soft_seal(&expand(key), nonce, aad, out).inspect_err(|_| {
                zeroize::Zeroize::zeroize(&mut *out);
            })
        }
    }
}

/// Decrypts `ciphertext` into `out` (the same length) after checking `tag`: out of place on
/// the native backend, a copy then in place on `aes-gcm`. On failure `out` holds no plaintext
/// (it is wiped).
pub(crate) fn open_to(
    backend: Backend,
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8; TAG_LEN],
    out: &mut [u8],
) -> Result<()> {
    if out.len() != ciphertext.len() {
        return Err(Error::InvalidArgument(
            "output length is not the input length",
        ));
    }
    let opened = match backend {
        #[cfg(all(not(target_arch = "wasm32"), feature = "aws-lc"))]
        Backend::AwsLc => {
            use aws_lc_rs::aead::{Aad, Nonce};
            if !within_limits(aad.len(), ciphertext.len()) {
                return Err(Error::DecryptFailed);
            }
            native_key(key)?
                .open_separate_gather(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    ciphertext,
                    tag,
                    out,
                )
                .map_err(|_| Error::DecryptFailed)
        }
        Backend::RustCrypto => {
            out.copy_from_slice(ciphertext);
            soft_open(&expand(key), nonce, aad, out, tag)
        }
    };
    if opened.is_err() {
        zeroize::Zeroize::zeroize(&mut *out);
    }
    opened
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
        #[cfg(all(not(target_arch = "wasm32"), feature = "aws-lc"))]
        Backend::AwsLc => {
            use aws_lc_rs::aead::{Aad, Nonce};
            if !within_limits(aad.len(), in_out.len()) {
                return Err(too_large());
            }
            let tag = native_key(key)?
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    in_out,
                )
                .map_err(|_| too_large())?;
            let mut out = [0u8; TAG_LEN];
            out.copy_from_slice(tag.as_ref());
            Ok(out)
        }
        Backend::RustCrypto => soft_seal(&expand(key), nonce, aad, in_out),
    }
}

/// An envelope key ready for use: an `aes-gcm` cipher already expanded (and cached), or
/// raw key bytes for a backend that prepares its own.
pub(crate) enum Cipher<'a> {
    Soft(&'a Aes256Gcm),
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
            Cipher::Soft(k) => soft_seal(k, nonce, aad, in_out),
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
            Cipher::Soft(k) => soft_open(k, nonce, aad, in_out, tag),
            Cipher::Raw(backend, key) => open_in_place(*backend, key, nonce, aad, in_out, tag),
        }
    }

    /// [`seal_to`] with this key: `input` encrypted into `out` (the same length).
    pub(crate) fn seal_to(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        input: &[u8],
        out: &mut [u8],
    ) -> Result<[u8; TAG_LEN]> {
        match self {
            Cipher::Soft(k) => {
                if out.len() != input.len() {
                    return Err(Error::InvalidArgument(
                        "output length is not the input length",
                    ));
                }
                out.copy_from_slice(input);
                soft_seal(k, nonce, aad, out).inspect_err(|_| {
                    zeroize::Zeroize::zeroize(&mut *out);
                })
            }
            Cipher::Raw(backend, key) => seal_to(*backend, key, nonce, aad, input, out),
        }
    }

    /// [`open_to`] with this key: `ciphertext` decrypted into `out` (the same length).
    pub(crate) fn open_to(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8; TAG_LEN],
        out: &mut [u8],
    ) -> Result<()> {
        match self {
            Cipher::Soft(k) => {
                if out.len() != ciphertext.len() {
                    return Err(Error::InvalidArgument(
                        "output length is not the input length",
                    ));
                }
                out.copy_from_slice(ciphertext);
                soft_open(k, nonce, aad, out, tag).inspect_err(|_| {
                    zeroize::Zeroize::zeroize(&mut *out);
                })
            }
            Cipher::Raw(backend, key) => open_to(*backend, key, nonce, aad, ciphertext, tag, out),
        }
    }
}

/// Decrypts `in_out` in place after checking `tag`.
///
/// On failure `in_out` holds no plaintext (`aes-gcm` decrypts only after the tag
/// verifies; after AWS-LC, which may have written to it, it is wiped).
pub(crate) fn open_in_place(
    backend: Backend,
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<()> {
    match backend {
        #[cfg(all(not(target_arch = "wasm32"), feature = "aws-lc"))]
        Backend::AwsLc => {
            use aws_lc_rs::aead::{Aad, Nonce};
            if !within_limits(aad.len(), in_out.len()) {
                return Err(Error::DecryptFailed);
            }
            native_key(key)?
                .open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    tag,
                    in_out,
                )
                .map(|_| ())
                .map_err(|_| {
                    // AWS-LC leaves the buffer "overwritten in an unspecified way".
                    zeroize::Zeroize::zeroize(&mut *in_out);
                    Error::DecryptFailed
                })
        }
        Backend::RustCrypto => soft_open(&expand(key), nonce, aad, in_out, tag),
    }
}

/// One-shot AES-256-GCM, for tests and Wycheproof: returns `ciphertext || tag`.
///
/// # Errors
/// [`Error::TooLarge`] beyond GCM's limits (2^36 − 32 bytes of message, 2^61 − 1 of AAD).
#[doc(hidden)]
#[cfg_attr(not(feature = "internal"), allow(dead_code))]
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
#[cfg_attr(not(feature = "internal"), allow(dead_code))]
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

#[cfg(test)]
mod tests {
    use super::*;

    /// SP 800-38D's limits, at both edges (lengths no test can allocate, so the check is
    /// tested on its own; both crates refuse beyond the same limits, checked at compile time).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn length_limits_at_both_edges() {
        let max = usize::try_from(MAX_MESSAGE).unwrap();
        let max_aad = usize::try_from(MAX_AAD).unwrap();
        assert_eq!(max, (1 << 36) - 32);
        assert!(within_limits(0, 0));
        assert!(within_limits(0, max));
        assert!(!within_limits(0, max + 1));
        assert!(within_limits(max_aad, 0));
        assert!(!within_limits(max_aad + 1, 0));
        assert!(!within_limits(usize::MAX, usize::MAX));
        assert_eq!(
            too_large(),
            Error::TooLarge {
                limit: (1 << 36) - 32
            }
        );
    }

    /// The expanded (cached) cipher and the one-shot path are the same cipher.
    #[test]
    fn expanded_cipher_matches_the_one_shot_backend() {
        let key = [0x42u8; 32];
        let nonce = [0x24u8; 12];
        let k = expand(&key);
        for len in [0, 1, 15, 16, 17, 64, 300] {
            let pt: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
            let mut buf = pt.clone();
            let tag = Cipher::Soft(&k).seal(&nonce, b"ctx", &mut buf).unwrap();
            buf.extend_from_slice(&tag);
            let want = aes256gcm_seal(Backend::RustCrypto, &key, &nonce, b"ctx", &pt).unwrap();
            assert_eq!(buf, want, "len {len}");
            let (ct, t) = want.split_at(len);
            let mut ct = ct.to_vec();
            Cipher::Soft(&k)
                .open(&nonce, b"ctx", &mut ct, &t.try_into().unwrap())
                .unwrap();
            assert_eq!(ct, pt, "len {len}");
        }
    }
}

/// AWS-LC and `aes-gcm` byte for byte, in place and out of place (regression tests of the
/// backend comparison; ring, the native backend before AWS-LC, was compared the same way).
#[cfg(all(test, not(target_arch = "wasm32"), feature = "aws-lc"))]
mod backends {
    use super::*;
    use proptest::prelude::*;

    /// Seals with each path a key can take: AWS-LC and `aes-gcm` one-shot (in place),
    /// `aes-gcm` expanded, and each of them out of place.
    fn seal_all(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> [Vec<u8>; 6] {
        let k = expand(key);
        let mut soft = pt.to_vec();
        let tag = Cipher::Soft(&k).seal(nonce, aad, &mut soft).unwrap();
        soft.extend_from_slice(&tag);
        let to = |c: Cipher<'_>| {
            let mut out = vec![0u8; pt.len()];
            let tag = c.seal_to(nonce, aad, pt, &mut out).unwrap();
            out.extend_from_slice(&tag);
            out
        };
        [
            aes256gcm_seal(Backend::AwsLc, key, nonce, aad, pt).unwrap(),
            aes256gcm_seal(Backend::RustCrypto, key, nonce, aad, pt).unwrap(),
            soft,
            to(Cipher::Raw(Backend::AwsLc, key)),
            to(Cipher::Raw(Backend::RustCrypto, key)),
            to(Cipher::Soft(&k)),
        ]
    }

    /// Opens with each path; on failure checks that no plaintext was left in the buffer
    /// (`aes-gcm` leaves the ciphertext in place; otherwise it is wiped).
    fn open_all(
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
    ) -> Vec<Result<Vec<u8>>> {
        let k = expand(key);
        let (ct, tag) = sealed.split_at(sealed.len() - TAG_LEN);
        let tag: [u8; TAG_LEN] = tag.try_into().unwrap();
        let run = |backend: Option<Backend>| {
            let mut buf = ct.to_vec();
            let r = match backend {
                Some(b) => open_in_place(b, key, nonce, aad, &mut buf, &tag),
                None => Cipher::Soft(&k).open(nonce, aad, &mut buf, &tag),
            };
            r.map(|()| buf.clone()).inspect_err(|_| {
                assert!(buf == ct || buf.iter().all(|&b| b == 0), "{backend:?}");
            })
        };
        let to = |c: Cipher<'_>| {
            let mut out = vec![0x77u8; ct.len()];
            let r = c.open_to(nonce, aad, ct, &tag, &mut out);
            r.map(|()| out.clone()).inspect_err(|_| {
                assert!(out.iter().all(|&b| b == 0), "out of place");
            })
        };
        vec![
            run(Some(Backend::AwsLc)),
            run(Some(Backend::RustCrypto)),
            run(None),
            to(Cipher::Raw(Backend::AwsLc, key)),
            to(Cipher::Raw(Backend::RustCrypto, key)),
            to(Cipher::Soft(&k)),
        ]
    }

    /// The out-of-place forms refuse an output of another length, writing nothing.
    #[test]
    fn out_of_place_needs_an_output_of_the_input_length() {
        let key = [1u8; 32];
        let k = expand(&key);
        for c in [
            Cipher::Raw(Backend::AwsLc, &key),
            Cipher::Raw(Backend::RustCrypto, &key),
            Cipher::Soft(&k),
        ] {
            let mut out = [0x77u8; 5];
            assert!(matches!(
                c.seal_to(&[0; 12], b"", &[1; 4], &mut out),
                Err(Error::InvalidArgument(_))
            ));
            assert!(matches!(
                c.open_to(&[0; 12], b"", &[1; 6], &[0; 16], &mut out),
                Err(Error::InvalidArgument(_))
            ));
            assert_eq!(out, [0x77; 5]);
        }
    }

    /// NIST GCM test case 16 (AES-256, 60-byte plaintext, 20-byte AAD; McGrew-Viega).
    #[test]
    fn nist_test_case_16() {
        let key: [u8; 32] =
            hex::decode("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
                .unwrap()
                .try_into()
                .unwrap();
        let nonce: [u8; 12] = hex::decode("cafebabefacedbaddecaf888")
            .unwrap()
            .try_into()
            .unwrap();
        let pt = hex::decode(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
             1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        )
        .unwrap();
        let aad = hex::decode("feedfacedeadbeeffeedfacedeadbeefabaddad2").unwrap();
        let want = hex::decode(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
             8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662\
             76fc6ece0f4e1768cddf8853bb2d551b",
        )
        .unwrap();
        for got in seal_all(&key, &nonce, &aad, &pt) {
            assert_eq!(got, want);
        }
        for got in open_all(&key, &nonce, &aad, &want) {
            assert_eq!(got.unwrap(), pt);
        }
    }

    /// Every changed bit of the tag, the ciphertext, the AAD or the nonce is refused by
    /// every path, and leaves no plaintext behind.
    #[test]
    fn tampering_is_refused() {
        let key = [9u8; 32];
        let nonce = [3u8; 12];
        let aad = b"aad-bytes";
        let pt = [0x5au8; 150];
        let [sealed, ..] = seal_all(&key, &nonce, aad, &pt);
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x80;
            for r in open_all(&key, &nonce, aad, &bad) {
                assert_eq!(r, Err(Error::DecryptFailed), "byte {i}");
            }
        }
        for r in open_all(&key, &nonce, b"aad-byteS", &sealed) {
            assert_eq!(r, Err(Error::DecryptFailed));
        }
        let mut other_nonce = nonce;
        other_nonce[11] ^= 1;
        for r in open_all(&key, &other_nonce, aad, &sealed) {
            assert_eq!(r, Err(Error::DecryptFailed));
        }
        assert_eq!(
            aes256gcm_open(Backend::RustCrypto, &key, &nonce, aad, &sealed[..15]),
            Err(Error::DecryptFailed)
        );
    }

    /// Every length from 0 to 300 bytes (partial and whole blocks, the crates' batch edges).
    #[test]
    fn every_length_up_to_300() {
        let key = [0x42u8; 32];
        let nonce = [0x24u8; 12];
        for len in 0..=300 {
            let pt: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
            let [want, rest @ ..] = seal_all(&key, &nonce, b"ctx", &pt);
            for got in rest {
                assert_eq!(got, want, "len {len}");
            }
            for got in open_all(&key, &nonce, b"ctx", &want) {
                assert_eq!(got.unwrap(), pt, "len {len}");
            }
        }
    }

    proptest! {
        /// Byte-equal for random keys, nonces, AAD and messages.
        #[test]
        fn aws_lc_and_aes_gcm_agree(
            key in any::<[u8; 32]>(),
            nonce in any::<[u8; 12]>(),
            aad in prop::collection::vec(any::<u8>(), 0..80),
            pt in prop::collection::vec(any::<u8>(), 0..600),
        ) {
            let [want, rest @ ..] = seal_all(&key, &nonce, &aad, &pt);
            for got in rest {
                prop_assert_eq!(&got, &want);
            }
            for got in open_all(&key, &nonce, &aad, &want) {
                prop_assert_eq!(got.unwrap(), pt.clone());
            }
        }
    }
}
