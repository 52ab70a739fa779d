//! Decrypt-only readers for two legacy formats, for migration to `kc1`.
//!
//! - **PBKDF2 + AES-GCM**: `base64(salt || iv || ciphertext || tag16)`, the key being
//!   `PBKDF2-HMAC-SHA256(password, salt, iterations, 32)` (defaults: 100,000 iterations,
//!   16-byte salt, 12-byte IV), no AAD. This is what many apps wrote with
//!   pyca/cryptography or WebCrypto before adopting an envelope format.
//! - **OpenSSL `enc -aes-256-cbc -pbkdf2 -iter N`**: `"Salted__" || salt8 || CBC ciphertext`,
//!   key and IV being the 48 bytes `PBKDF2-HMAC-SHA256(password, salt, N)`, PKCS#7 padding.
//!
//! Lengths and parameters are checked before any key derivation runs, and a wrong
//! password, a flipped bit and bad padding are one error, [`Error::DecryptFailed`].
//! (CBC has no integrity: a wrong password is detected only by the padding check,
//! so about 1 in 256 wrong passwords yields garbage rather than an error — which is
//! why these formats are read only to be migrated.)

use crate::aead::{self, Backend, NONCE_LEN, TAG_LEN};
use crate::error::{Error, MalformedKind, Result};
use crate::secret::SecretBytes;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

/// The default PBKDF2 iteration count of both legacy formats.
pub const DEFAULT_ITERATIONS: u32 = 100_000;
/// The most PBKDF2 iterations accepted (a bound on work an input can ask for).
pub const MAX_ITERATIONS: u32 = 10_000_000;
/// The largest legacy ciphertext accepted: 64 MiB.
pub const MAX_LEGACY_LEN: usize = 64 * 1024 * 1024;
/// The magic that starts an OpenSSL `enc` file with a salt.
pub const OPENSSL_MAGIC: &[u8; 8] = b"Salted__";

const OPENSSL_SALT_LEN: usize = 8;
const AES_BLOCK: usize = 16;

/// Parameters of the PBKDF2 + AES-GCM legacy format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pbkdf2GcmParams {
    /// PBKDF2-HMAC-SHA256 iterations (1 to [`MAX_ITERATIONS`]); default 100,000.
    pub iterations: u32,
    /// Salt length in bytes at the start of the blob (1 to 64); default 16.
    pub salt_len: usize,
    /// IV (nonce) length after the salt; only 12 is supported (the GCM standard size).
    pub iv_len: usize,
}

impl Default for Pbkdf2GcmParams {
    fn default() -> Self {
        Pbkdf2GcmParams {
            iterations: DEFAULT_ITERATIONS,
            salt_len: 16,
            iv_len: NONCE_LEN,
        }
    }
}

/// `PBKDF2-HMAC-SHA256(password, salt, iterations)` (RFC 8018 §5.2), from the `pbkdf2`
/// crate, written straight into a buffer wiped on drop. The crate is also the faster on
/// native targets (SHA-256 instructions through `sha2`: 11 ms for 100,000 iterations beside
/// 17 ms for `ring::pbkdf2`, measured on the development machine), so one code path serves
/// both native and wasm32. `iterations` is checked by the caller ([`check_iterations`]).
fn pbkdf2_sha256<const N: usize>(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    out: &mut Zeroizing<[u8; N]>,
) {
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out[..]);
}

fn check_iterations(iterations: u32) -> Result<()> {
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(Error::InvalidArgument("iterations must be 1 to 10,000,000"));
    }
    Ok(())
}

/// Decrypts a legacy `base64(salt || iv || ciphertext || tag)` blob (standard base64,
/// padding optional, surrounding whitespace ignored).
///
/// # Errors
/// [`Error::InvalidArgument`] for parameters out of range;
/// [`Error::Malformed`] ([`MalformedKind::Base64`] or [`MalformedKind::Legacy`] when shorter
/// than salt, IV and tag, or longer than [`MAX_LEGACY_LEN`]);
/// [`Error::DecryptFailed`] for a wrong password or tampered data.
pub fn decrypt_legacy_pbkdf2_gcm(
    blob_b64: &str,
    password: &[u8],
    params: Pbkdf2GcmParams,
) -> Result<SecretBytes> {
    check_iterations(params.iterations)?;
    if params.salt_len == 0 || params.salt_len > 64 {
        return Err(Error::InvalidArgument("salt_len must be 1 to 64"));
    }
    if params.iv_len != NONCE_LEN {
        return Err(Error::InvalidArgument("iv_len must be 12"));
    }
    let text = blob_b64.trim();
    // base64 grows by 4/3: bound the text before decoding allocates anything.
    let max_text = (MAX_LEGACY_LEN + params.salt_len + NONCE_LEN + TAG_LEN) / 3 * 4 + 4;
    if text.len() > max_text {
        return Err(Error::Malformed(MalformedKind::Legacy));
    }
    let trimmed = text.trim_end_matches('=');
    let bin = Zeroizing::new(
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(trimmed)
            .or_else(|_| STANDARD.decode(text))
            .map_err(|_| Error::Malformed(MalformedKind::Base64))?,
    );
    let min = params.salt_len + NONCE_LEN + TAG_LEN;
    if bin.len() < min || bin.len() - min > MAX_LEGACY_LEN {
        return Err(Error::Malformed(MalformedKind::Legacy));
    }
    let (salt, rest) = bin.split_at(params.salt_len);
    let (iv, rest) = rest.split_at(NONCE_LEN);
    let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(iv);
    let mut t = [0u8; TAG_LEN];
    t.copy_from_slice(tag);
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2_sha256(password, salt, params.iterations, &mut key);
    let mut buf = Zeroizing::new(ct.to_vec());
    aead::open_in_place(Backend::DEFAULT, &key, &nonce, b"", &mut buf, &t)?;
    Ok(SecretBytes::new(core::mem::take(&mut *buf)))
}

/// Decrypts an OpenSSL `enc -aes-256-cbc -pbkdf2 -iter N` file (binary, not `-a` base64):
/// `"Salted__" || salt8 || ciphertext`, key||iv = PBKDF2-HMAC-SHA256(password, salt, N, 48).
///
/// # Errors
/// [`Error::InvalidArgument`] for iterations out of range;
/// [`Error::Malformed`] ([`MalformedKind::Legacy`]) without the `Salted__` header, with a
/// ciphertext that is empty or not a whole number of blocks, or larger than [`MAX_LEGACY_LEN`];
/// [`Error::DecryptFailed`] when the PKCS#7 padding is wrong (wrong password or damage).
pub fn decrypt_openssl_enc(data: &[u8], password: &[u8], iterations: u32) -> Result<SecretBytes> {
    use cbc::cipher::{block_padding::Pkcs7, BlockModeDecrypt, KeyIvInit};
    check_iterations(iterations)?;
    let header = OPENSSL_MAGIC.len() + OPENSSL_SALT_LEN;
    if data.len() < header || &data[..OPENSSL_MAGIC.len()] != OPENSSL_MAGIC {
        return Err(Error::Malformed(MalformedKind::Legacy));
    }
    let salt = &data[OPENSSL_MAGIC.len()..header];
    let ct = &data[header..];
    if ct.is_empty() || !ct.len().is_multiple_of(AES_BLOCK) || ct.len() > MAX_LEGACY_LEN + AES_BLOCK
    {
        return Err(Error::Malformed(MalformedKind::Legacy));
    }
    let mut kiv = Zeroizing::new([0u8; 48]);
    pbkdf2_sha256(password, salt, iterations, &mut kiv);
    let (key, iv) = kiv.split_at(32);
    let dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
        .map_err(|_| Error::InvalidArgument("key"))?;
    let mut buf = Zeroizing::new(ct.to_vec());
    let n = dec
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| Error::DecryptFailed)?
        .len();
    buf.truncate(n);
    Ok(SecretBytes::new(core::mem::take(&mut *buf)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbc::cipher::{block_padding::Pkcs7, BlockModeEncrypt, KeyIvInit};
    use std::num::NonZeroU32;

    /// The test files are made with `ring`'s PBKDF2, so every round trip below is also a
    /// comparison of the two implementations.
    fn ring_pbkdf2(password: &[u8], salt: &[u8], iters: u32, out: &mut [u8]) {
        let iters = NonZeroU32::new(iters).unwrap();
        ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, iters, salt, password, out);
    }

    fn gcm_blob(password: &[u8], salt: &[u8], iv: &[u8; 12], iters: u32, pt: &[u8]) -> String {
        let mut key = [0u8; 32];
        ring_pbkdf2(password, salt, iters, &mut key);
        let ct = aead::aes256gcm_seal(Backend::RustCrypto, &key, iv, b"", pt).unwrap();
        let mut bin = salt.to_vec();
        bin.extend_from_slice(iv);
        bin.extend_from_slice(&ct);
        STANDARD.encode(bin)
    }

    fn openssl_file(password: &[u8], salt: &[u8; 8], iters: u32, pt: &[u8]) -> Vec<u8> {
        let mut kiv = [0u8; 48];
        ring_pbkdf2(password, salt, iters, &mut kiv);
        let enc = cbc::Encryptor::<aes::Aes256>::new_from_slices(&kiv[..32], &kiv[32..]).unwrap();
        let ct = enc.encrypt_padded_vec::<Pkcs7>(pt);
        let mut out = OPENSSL_MAGIC.to_vec();
        out.extend_from_slice(salt);
        out.extend_from_slice(&ct);
        out
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// RFC 7914 §11's PBKDF2-HMAC-SHA256 vectors, through the derivation the readers use
    /// (64 bytes: two output blocks).
    #[test]
    fn pbkdf2_rfc7914_vectors() {
        let mut out = Zeroizing::new([0u8; 64]);
        pbkdf2_sha256(b"passwd", b"salt", 1, &mut out);
        assert_eq!(
            hex(&out[..]),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        );
        pbkdf2_sha256(b"Password", b"NaCl", 80000, &mut out);
        assert_eq!(
            hex(&out[..]),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56\
             a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        );
    }

    /// The readers' derivation agrees with `ring`'s: passwords around the 64-byte HMAC block
    /// (hashed beyond it), both output sizes the readers use, small and large counts.
    #[test]
    fn pbkdf2_agrees_with_ring() {
        for (pw_len, salt_len, iters) in [
            (0, 0, 1),
            (1, 8, 2),
            (63, 16, 3),
            (64, 16, 17),
            (65, 32, 5),
            (200, 64, 1000),
            (15, 16, 100_000),
        ] {
            let pw: Vec<u8> = (0..pw_len).map(|i| (i * 7 + 3) as u8).collect();
            let salt: Vec<u8> = (0..salt_len).map(|i| (i * 13 + 1) as u8).collect();
            let mut key = Zeroizing::new([0u8; 32]);
            let mut kiv = Zeroizing::new([0u8; 48]);
            pbkdf2_sha256(&pw, &salt, iters, &mut key);
            pbkdf2_sha256(&pw, &salt, iters, &mut kiv);
            let (mut want32, mut want48) = ([0u8; 32], [0u8; 48]);
            ring_pbkdf2(&pw, &salt, iters, &mut want32);
            ring_pbkdf2(&pw, &salt, iters, &mut want48);
            assert_eq!(*key, want32, "pw {pw_len} salt {salt_len} iters {iters}");
            assert_eq!(*kiv, want48, "pw {pw_len} salt {salt_len} iters {iters}");
        }
    }

    proptest::proptest! {
        #[test]
        fn pbkdf2_agrees_with_ring_on_any_input(
            pw in proptest::collection::vec(proptest::num::u8::ANY, 0..150),
            salt in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            iters in 1u32..20,
        ) {
            let mut ours = Zeroizing::new([0u8; 48]);
            let mut theirs = [0u8; 48];
            pbkdf2_sha256(&pw, &salt, iters, &mut ours);
            ring_pbkdf2(&pw, &salt, iters, &mut theirs);
            proptest::prop_assert_eq!(*ours, theirs);
        }
    }

    fn p(iterations: u32) -> Pbkdf2GcmParams {
        Pbkdf2GcmParams {
            iterations,
            ..Pbkdf2GcmParams::default()
        }
    }

    #[test]
    fn pbkdf2_gcm_roundtrip_and_failures() {
        let blob = gcm_blob(b"pw", &[7u8; 16], &[9u8; 12], 1000, b"sk-secret");
        let out = decrypt_legacy_pbkdf2_gcm(&blob, b"pw", p(1000)).unwrap();
        assert_eq!(out.expose_secret(), b"sk-secret");
        // Whitespace and missing padding are tolerated.
        let padless = format!("  {}\n", blob.trim_end_matches('='));
        assert_eq!(
            decrypt_legacy_pbkdf2_gcm(&padless, b"pw", p(1000))
                .unwrap()
                .expose_secret(),
            b"sk-secret"
        );
        assert_eq!(
            decrypt_legacy_pbkdf2_gcm(&blob, b"wrong", p(1000)),
            Err(Error::DecryptFailed)
        );
        assert_eq!(
            decrypt_legacy_pbkdf2_gcm(&blob, b"pw", p(999)),
            Err(Error::DecryptFailed)
        );
        let mut bin = STANDARD.decode(&blob).unwrap();
        let last = bin.len() - 1;
        bin[last] ^= 1;
        assert_eq!(
            decrypt_legacy_pbkdf2_gcm(&STANDARD.encode(&bin), b"pw", p(1000)),
            Err(Error::DecryptFailed)
        );
    }

    #[test]
    fn pbkdf2_gcm_malformed_and_params() {
        assert_eq!(
            decrypt_legacy_pbkdf2_gcm("not base64!!", b"pw", p(1000)),
            Err(Error::Malformed(MalformedKind::Base64))
        );
        let short = STANDARD.encode([0u8; 16 + 12 + 15]);
        assert_eq!(
            decrypt_legacy_pbkdf2_gcm(&short, b"pw", p(1000)),
            Err(Error::Malformed(MalformedKind::Legacy))
        );
        let empty_pt = gcm_blob(b"pw", &[1u8; 16], &[2u8; 12], 10, b"");
        assert!(decrypt_legacy_pbkdf2_gcm(&empty_pt, b"pw", p(10))
            .unwrap()
            .is_empty());
        assert!(matches!(
            decrypt_legacy_pbkdf2_gcm(&empty_pt, b"pw", p(0)),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            decrypt_legacy_pbkdf2_gcm(&empty_pt, b"pw", p(MAX_ITERATIONS + 1)),
            Err(Error::InvalidArgument(_))
        ));
        let bad_iv = Pbkdf2GcmParams {
            iv_len: 16,
            ..p(10)
        };
        assert!(matches!(
            decrypt_legacy_pbkdf2_gcm(&empty_pt, b"pw", bad_iv),
            Err(Error::InvalidArgument(_))
        ));
        let bad_salt = Pbkdf2GcmParams {
            salt_len: 0,
            ..p(10)
        };
        assert!(matches!(
            decrypt_legacy_pbkdf2_gcm(&empty_pt, b"pw", bad_salt),
            Err(Error::InvalidArgument(_))
        ));
        let huge = "A".repeat(MAX_LEGACY_LEN / 3 * 4 + 1024);
        assert_eq!(
            decrypt_legacy_pbkdf2_gcm(&huge, b"pw", p(10)),
            Err(Error::Malformed(MalformedKind::Legacy))
        );
    }

    #[test]
    fn openssl_roundtrip_and_failures() {
        for pt in [
            &b""[..],
            b"x",
            b"exactly16bytes!!",
            b"a longer secret value spanning blocks",
        ] {
            let f = openssl_file(b"pw", &[3u8; 8], 1000, pt);
            assert_eq!(
                decrypt_openssl_enc(&f, b"pw", 1000)
                    .unwrap()
                    .expose_secret(),
                pt
            );
        }
        let f = openssl_file(b"pw", &[3u8; 8], 1000, b"secret value");
        // A wrong password almost always breaks the padding (this one is checked to).
        assert_eq!(
            decrypt_openssl_enc(&f, b"other", 1000),
            Err(Error::DecryptFailed)
        );
        assert_eq!(
            decrypt_openssl_enc(&f[..f.len() - 1], b"pw", 1000),
            Err(Error::Malformed(MalformedKind::Legacy))
        );
        assert_eq!(
            decrypt_openssl_enc(&f[..16], b"pw", 1000),
            Err(Error::Malformed(MalformedKind::Legacy))
        );
        assert_eq!(
            decrypt_openssl_enc(b"Salted_", b"pw", 1000),
            Err(Error::Malformed(MalformedKind::Legacy))
        );
        let mut not_salted = f.clone();
        not_salted[0] = b'X';
        assert_eq!(
            decrypt_openssl_enc(&not_salted, b"pw", 1000),
            Err(Error::Malformed(MalformedKind::Legacy))
        );
        assert!(matches!(
            decrypt_openssl_enc(&f, b"pw", 0),
            Err(Error::InvalidArgument(_))
        ));
    }
}
