//! Browser-direct delivery: HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256 and AES-256-GCM, `info = "keycustody/v1/deliver"`, `AAD = owner`.
//!
//! The tenant VM generates a keypair and publishes `kcpk1.<base64url(32 bytes)>`; the
//! browser seals a secret (an LLM key) to it with [`seal_for_delivery`] and the
//! control plane relays `kcd1.<base64url(enc || ciphertext)>`, which only the VM can
//! open with [`open_delivery`]. The owner (tenant id) is authenticated, so a blob
//! cannot be replayed into another tenant. The HPKE itself is the `hpke` crate.
//!
//! Randomness: the only random input of a seal is the 32-byte ephemeral key
//! material, drawn from the OS up front (so a failing RNG is an error, not a panic)
//! and handed to HPKE's `DeriveKeyPair`, exactly as RFC 9180's vectors do with `ikmE`.

use crate::error::{Error, MalformedKind, Result};
use crate::secret::{SecretBytes, SecretString};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::rand_core::{CryptoRng, RngCore};
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use zeroize::Zeroizing;

/// The HPKE `info` string of keycustody deliveries.
pub const DELIVERY_INFO: &[u8] = b"keycustody/v1/deliver";
/// Prefix of a public key's text form.
pub const PUBLIC_KEY_PREFIX: &str = "kcpk1.";
/// Prefix of a private key's text form.
pub const PRIVATE_KEY_PREFIX: &str = "kcsk1.";
/// Prefix of a sealed blob's text form.
pub const BLOB_PREFIX: &str = "kcd1.";
/// Length of the encapsulated key (an X25519 public key).
pub const ENC_LEN: usize = 32;
/// Length of the AES-GCM tag.
pub const TAG_LEN: usize = 16;
/// The largest plaintext, in bytes (1 MiB: keys and tokens, not files).
pub const MAX_PLAINTEXT_LEN: usize = 1024 * 1024;

type Kem = X25519HkdfSha256;

/// A delivery keypair in text form.
#[non_exhaustive]
pub struct DeliveryKeypair {
    /// `kcsk1.<base64url(32 bytes)>`: keep it on the receiving machine only.
    pub private_key: SecretString,
    /// `kcpk1.<base64url(32 bytes)>`: publish it.
    pub public_key: String,
}

impl core::fmt::Debug for DeliveryKeypair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeliveryKeypair")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// An RNG that hands out pre-drawn bytes once; HPKE's encapsulation draws exactly
/// 32 bytes. Drawing more is recorded and turns the seal into an error.
struct OnceRng {
    bytes: Zeroizing<[u8; 32]>,
    used: usize,
    overdrawn: bool,
}

impl RngCore for OnceRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let end = self.used.saturating_add(dest.len());
        match self.bytes.get(self.used..end) {
            Some(src) => {
                dest.copy_from_slice(src);
                self.used = end;
            }
            None => {
                self.overdrawn = true;
                dest.fill(0);
            }
        }
    }
}

impl CryptoRng for OnceRng {}

fn key_malformed() -> Error {
    Error::Malformed(MalformedKind::DeliveryKey)
}

fn decode_32(text: &str, prefix: &str) -> Result<Zeroizing<[u8; 32]>> {
    let body = text.strip_prefix(prefix).ok_or_else(key_malformed)?;
    if body.len() != 43 {
        return Err(key_malformed());
    }
    let v = Zeroizing::new(URL_SAFE_NO_PAD.decode(body).map_err(|_| key_malformed())?);
    let mut out = Zeroizing::new([0u8; 32]);
    if v.len() != 32 {
        return Err(key_malformed());
    }
    out.copy_from_slice(&v);
    Ok(out)
}

/// Decodes a `kcpk1.` public key to its 32 bytes. Pure function, for fuzzing.
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::DeliveryKey`]).
pub fn parse_public_key(text: &str) -> Result<[u8; 32]> {
    Ok(*decode_32(text, PUBLIC_KEY_PREFIX)?)
}

/// Decodes a `kcsk1.` private key to its 32 bytes. Pure function, for fuzzing.
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::DeliveryKey`]).
pub fn parse_private_key(text: &str) -> Result<SecretBytes> {
    Ok(SecretBytes::new(
        decode_32(text, PRIVATE_KEY_PREFIX)?.to_vec(),
    ))
}

/// Decodes a `kcd1.` blob to `enc || ciphertext` (at least 48 bytes). Pure function,
/// for fuzzing; never allocates more than the text's length.
///
/// # Errors
/// [`Error::TooLarge`]; [`Error::Malformed`] ([`MalformedKind::DeliveryKey`]).
pub fn parse_blob(text: &str) -> Result<Vec<u8>> {
    let body = text.strip_prefix(BLOB_PREFIX).ok_or_else(key_malformed)?;
    let max_text = (MAX_PLAINTEXT_LEN + ENC_LEN + TAG_LEN) * 4 / 3 + 4;
    if body.len() > max_text {
        return Err(Error::TooLarge {
            limit: MAX_PLAINTEXT_LEN,
        });
    }
    let raw = URL_SAFE_NO_PAD.decode(body).map_err(|_| key_malformed())?;
    if raw.len() < ENC_LEN + TAG_LEN {
        return Err(key_malformed());
    }
    Ok(raw)
}

/// The public key text of a private key.
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::DeliveryKey`]).
pub fn delivery_public_key(private_key: &str) -> Result<String> {
    let sk_bytes = decode_32(private_key, PRIVATE_KEY_PREFIX)?;
    let sk =
        <Kem as hpke::Kem>::PrivateKey::from_bytes(&sk_bytes[..]).map_err(|_| key_malformed())?;
    let pk = <Kem as hpke::Kem>::sk_to_pk(&sk);
    Ok(format!(
        "{PUBLIC_KEY_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(pk.to_bytes())
    ))
}

/// A keypair derived from 32 bytes of key material (RFC 9180 `DeriveKeyPair`), e.g.
/// `Keyring::derive_key("deliver", vm_id, 32)` for a VM whose key must be
/// reproducible from its keyring.
///
/// # Errors
/// [`Error::InvalidArgument`] unless `ikm` is at least 32 bytes.
pub fn derive_delivery_keypair(ikm: &[u8]) -> Result<DeliveryKeypair> {
    if ikm.len() < 32 {
        return Err(Error::InvalidArgument(
            "key material must be at least 32 bytes",
        ));
    }
    let (sk, pk) = Kem::derive_keypair(ikm);
    let mut sk_bytes = Zeroizing::new([0u8; 32]);
    sk.write_exact(&mut sk_bytes[..]);
    Ok(DeliveryKeypair {
        private_key: SecretString::new(format!(
            "{PRIVATE_KEY_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(&sk_bytes[..])
        )),
        public_key: format!(
            "{PUBLIC_KEY_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(pk.to_bytes())
        ),
    })
}

/// A fresh random delivery keypair.
///
/// # Errors
/// [`Error::RandomUnavailable`].
pub fn generate_delivery_keypair() -> Result<DeliveryKeypair> {
    let mut ikm = Zeroizing::new([0u8; 32]);
    crate::random::fill_random(&mut ikm[..])?;
    derive_delivery_keypair(&ikm[..])
}

/// HPKE base-mode seal of the suite with a caller-chosen `info`, AAD and ephemeral
/// key material `ikm_e`, returning `enc || ciphertext`. The name says it: a fixed
/// `ikm_e` makes the seal deterministic, which is only for test vectors (RFC 9180's
/// and ours); [`seal_for_delivery`] draws it from the OS.
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::DeliveryKey`]) for a public key HPKE
/// refuses (e.g. a low-order point); [`Error::TooLarge`].
pub fn dangerous_hpke_seal_with_ikm(
    public_key: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    ikm_e: &[u8; 32],
) -> Result<Vec<u8>> {
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(Error::TooLarge {
            limit: MAX_PLAINTEXT_LEN,
        });
    }
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(public_key).map_err(|_| key_malformed())?;
    let mut rng = OnceRng {
        bytes: Zeroizing::new(*ikm_e),
        used: 0,
        overdrawn: false,
    };
    let (enc, ct) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, Kem, _>(
        &OpModeS::Base,
        &pk,
        info,
        plaintext,
        aad,
        &mut rng,
    )
    .map_err(|_| key_malformed())?;
    if rng.overdrawn {
        return Err(Error::RandomUnavailable);
    }
    let mut out = Vec::with_capacity(ENC_LEN + ct.len());
    out.extend_from_slice(&enc.to_bytes());
    out.extend_from_slice(&ct);
    Ok(out)
}

/// HPKE base-mode open of `enc || ciphertext` with a caller-chosen `info` and AAD
/// (the counterpart of [`dangerous_hpke_seal_with_ikm`], for RFC 9180's vectors).
///
/// # Errors
/// [`Error::DecryptFailed`] for anything that does not open (wrong key, AAD, info,
/// tampering, a low-order `enc`); [`Error::Malformed`] for a short input.
pub fn hpke_open_raw(
    private_key: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretBytes> {
    if sealed.len() < ENC_LEN + TAG_LEN {
        return Err(key_malformed());
    }
    let sk =
        <Kem as hpke::Kem>::PrivateKey::from_bytes(private_key).map_err(|_| key_malformed())?;
    let (enc_bytes, ct) = sealed.split_at(ENC_LEN);
    let enc =
        <Kem as hpke::Kem>::EncappedKey::from_bytes(enc_bytes).map_err(|_| Error::DecryptFailed)?;
    let pt = hpke::single_shot_open::<AesGcm256, HkdfSha256, Kem>(
        &OpModeR::Base,
        &sk,
        &enc,
        info,
        ct,
        aad,
    )
    .map_err(|_| Error::DecryptFailed)?;
    Ok(SecretBytes::new(pt))
}

/// [`seal_for_delivery`] with fixed ephemeral key material: for test vectors only.
///
/// # Errors
/// As [`seal_for_delivery`].
pub fn dangerous_seal_for_delivery_with_ikm(
    public_key: &str,
    owner: &str,
    plaintext: &[u8],
    ikm_e: &[u8; 32],
) -> Result<String> {
    crate::kdf::check_owner(owner)?;
    let pk = parse_public_key(public_key)?;
    let raw = dangerous_hpke_seal_with_ikm(&pk, DELIVERY_INFO, owner.as_bytes(), plaintext, ikm_e)?;
    Ok(format!("{BLOB_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)))
}

/// Seals `plaintext` to a `kcpk1.` public key for `owner` (the tenant id, which
/// becomes the AAD) and returns the `kcd1.` blob.
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::DeliveryKey`]) for a bad public key
/// (wrong prefix, length, base64, or a low-order point); [`Error::InvalidOwner`];
/// [`Error::TooLarge`] over 1 MiB; [`Error::RandomUnavailable`].
pub fn seal_for_delivery(public_key: &str, owner: &str, plaintext: &[u8]) -> Result<String> {
    let mut ikm = Zeroizing::new([0u8; 32]);
    crate::random::fill_random(&mut ikm[..])?;
    dangerous_seal_for_delivery_with_ikm(public_key, owner, plaintext, &ikm)
}

/// Opens a `kcd1.` blob with a `kcsk1.` private key for `owner`.
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::DeliveryKey`]) for a bad key or blob text;
/// [`Error::InvalidOwner`]; [`Error::TooLarge`]; [`Error::DecryptFailed`] for a wrong
/// key, a wrong owner or any tampering (one error, by design).
pub fn open_delivery(private_key: &str, owner: &str, blob: &str) -> Result<SecretBytes> {
    crate::kdf::check_owner(owner)?;
    let sk = decode_32(private_key, PRIVATE_KEY_PREFIX)?;
    let raw = parse_blob(blob)?;
    hpke_open_raw(&sk, DELIVERY_INFO, owner.as_bytes(), &raw)
}
