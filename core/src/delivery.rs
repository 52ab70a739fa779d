//! Browser-direct delivery: HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256 and AES-256-GCM, `info = "keycustody/v1/deliver"`, `AAD = owner`.
//!
//! The tenant VM generates a keypair and publishes `kcpk1.<base64url(32 bytes)>`; the
//! browser seals a secret (an LLM key) to it with [`seal_for_delivery`] and the
//! control plane relays `kcd1.<base64url(enc || ciphertext)>`, which only the VM can
//! open with [`open_delivery`]. The owner (tenant id) is bound to the blob as the AAD,
//! so a blob cannot be replayed into another tenant; it is not authenticated (anyone
//! who has the public key can seal for any owner). The HPKE itself is the `hpke` crate.
//!
//! Trust: the control plane relays the blob it cannot read, but it usually also serves
//! the VM's public key, and a compromised control plane can serve its own key instead.
//! The defence is the key's fingerprint ([`delivery_key_fingerprint`], `kcfp1.…`):
//! the VM shows it, the user carries it to the browser out of band, and the browser
//! seals with [`seal_for_delivery_pinned`], which refuses any other key.
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
use hpke::rand_core::{TryCryptoRng, TryRng};
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use sha2::{Digest, Sha256};
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
/// Prefix of a public key fingerprint's text form.
pub const FINGERPRINT_PREFIX: &str = "kcfp1.";
/// The domain-separation label hashed before the public key in a fingerprint
/// (`SHA-256(label || 0x00 || public key)`).
pub const FINGERPRINT_LABEL: &[u8] = b"keycustody/v1/delivery-key-fingerprint";
/// Bytes of the SHA-256 digest a fingerprint keeps (160 bits).
pub const FINGERPRINT_BYTES: usize = 20;
/// Length of a fingerprint's text form: the prefix, then 8 groups of 4 base32
/// characters separated by `-` (`kcfp1.ABCD-EFGH-…`).
pub const FINGERPRINT_TEXT_LEN: usize = 6 + 8 * 4 + 7;
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

impl TryRng for OnceRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> core::result::Result<(), Self::Error> {
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
        Ok(())
    }
}

impl TryCryptoRng for OnceRng {}

// The state HPKE holds while sealing or opening is wiped when it is dropped: the X25519
// private keys (x25519-dalek `StaticSecret`, zeroize-on-drop in hpke 0.15) and, in the
// AEAD context, the base nonce, exporter secret and the AES-256-GCM cipher (its round
// keys and GHASH key): the last only with aes-gcm's `zeroize` feature, which this
// crate turns on and checks here. The SHA-256 states of hpke's HKDF (sha2 0.11) are
// wiped with sha2's `zeroize` feature, also turned on and checked here.
const _: () = {
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    #[allow(dead_code)]
    fn check() {
        wiped_on_drop::<<AesGcm256 as hpke::aead::Aead>::AeadImpl>();
        wiped_on_drop::<sha2::block_api::Sha256VarCore>();
    }
};

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

/// `prefix || base64url(bytes)` written into a buffer of exactly the right size: no
/// reallocation, and no unwiped intermediate copy (used for private keys too).
fn key_text(prefix: &str, bytes: &[u8; 32]) -> Result<Zeroizing<String>> {
    let mut body = Zeroizing::new([0u8; 43]);
    let n = URL_SAFE_NO_PAD
        .encode_slice(bytes, &mut body[..])
        .map_err(|_| Error::InvalidArgument("key encoding"))?;
    let text = core::str::from_utf8(
        body.get(..n)
            .ok_or(Error::InvalidArgument("key encoding"))?,
    )
    .map_err(|_| Error::InvalidArgument("key encoding"))?;
    let mut out = Zeroizing::new(String::with_capacity(prefix.len() + n));
    out.push_str(prefix);
    out.push_str(text);
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
#[cfg_attr(not(feature = "internal"), allow(dead_code))]
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
    public_key_text(&pk)
}

fn public_key_text(pk: &<Kem as hpke::Kem>::PublicKey) -> Result<String> {
    let mut bytes = [0u8; 32];
    pk.write_exact(&mut bytes);
    Ok(core::mem::take(&mut *key_text(PUBLIC_KEY_PREFIX, &bytes)?))
}

/// The fingerprint of a `kcpk1.` public key: `kcfp1.` followed by the first 160 bits
/// of `SHA-256("keycustody/v1/delivery-key-fingerprint" || 0x00 || key)` in base32
/// (RFC 4648, `A-Z2-7`), as 8 groups of 4 characters joined by `-`, e.g.
/// `kcfp1.ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567` (docs/delivery.md §4).
///
/// The receiving VM shows it; the user compares it, or pins it in the browser with
/// [`seal_for_delivery_pinned`], so that a control plane which serves the public key
/// cannot substitute its own. It is public, not a secret.
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::DeliveryKey`]) for a bad public key text.
pub fn delivery_key_fingerprint(public_key: &str) -> Result<String> {
    let pk = parse_public_key(public_key)?;
    Ok(fingerprint_text(&fingerprint_bytes(&pk)))
}

fn fingerprint_bytes(pk: &[u8; 32]) -> [u8; FINGERPRINT_BYTES] {
    let digest = Sha256::new()
        .chain_update(FINGERPRINT_LABEL)
        .chain_update([0u8])
        .chain_update(pk)
        .finalize();
    let mut out = [0u8; FINGERPRINT_BYTES];
    out.copy_from_slice(&digest[..FINGERPRINT_BYTES]);
    out
}

fn fingerprint_text(fp: &[u8; FINGERPRINT_BYTES]) -> String {
    let b32 = data_encoding::BASE32_NOPAD.encode(fp);
    let mut out = String::with_capacity(FINGERPRINT_TEXT_LEN);
    out.push_str(FINGERPRINT_PREFIX);
    for (i, group) in b32.as_bytes().chunks(4).enumerate() {
        if i > 0 {
            out.push('-');
        }
        // base32 output is ASCII.
        out.extend(group.iter().map(|&b| char::from(b)));
    }
    out
}

/// Decodes a `kcfp1.` fingerprint to its 20 bytes. Strict: only the exact form that
/// [`delivery_key_fingerprint`] writes (upper case, 8 dash-separated groups of 4) is
/// accepted. Pure function, for fuzzing.
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::DeliveryKey`]).
pub fn parse_fingerprint(text: &str) -> Result<[u8; FINGERPRINT_BYTES]> {
    let body = text
        .strip_prefix(FINGERPRINT_PREFIX)
        .ok_or_else(key_malformed)?;
    if text.len() != FINGERPRINT_TEXT_LEN {
        return Err(key_malformed());
    }
    let mut b32 = [0u8; 32];
    let mut groups = 0;
    for (i, group) in body.split('-').enumerate() {
        let dst = b32.get_mut(i * 4..i * 4 + 4).ok_or_else(key_malformed)?;
        if group.len() != 4 {
            return Err(key_malformed());
        }
        dst.copy_from_slice(group.as_bytes());
        groups += 1;
    }
    if groups != 8 {
        return Err(key_malformed());
    }
    let raw = data_encoding::BASE32_NOPAD
        .decode(&b32)
        .map_err(|_| key_malformed())?;
    raw.try_into().map_err(|_| key_malformed())
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
    let sk_bytes = derive_private_key(ikm)?;
    // `sk` is an x25519-dalek `StaticSecret`, wiped on drop.
    let sk =
        <Kem as hpke::Kem>::PrivateKey::from_bytes(&sk_bytes[..]).map_err(|_| key_malformed())?;
    let pk = <Kem as hpke::Kem>::sk_to_pk(&sk);
    let mut sk_text = key_text(PRIVATE_KEY_PREFIX, &sk_bytes)?;
    Ok(DeliveryKeypair {
        private_key: SecretString::new(core::mem::take(&mut *sk_text)),
        public_key: public_key_text(&pk)?,
    })
}

/// RFC 9180 §7.1.3 `DeriveKeyPair` for DHKEM(X25519, HKDF-SHA256), the private key
/// as the RFC's own vectors write it (`skRm`): `LabeledExpand(LabeledExtract("",
/// "dkp_prk", ikm), "sk", "", 32)`, unclamped. hpke 0.15's `derive_keypair` returns the
/// same scalar but serializes it clamped (RFC 9180 §7.1.2); both forms decode to the
/// same key (clamping is idempotent and applied on every use), and `kcsk1.` keeps the
/// unclamped form so that keys derived before hpke 0.15 keep their text.
///
/// The HKDF is the one hpke uses (hkdf 0.13 over sha2 0.11 with `zeroize`, whose HMAC
/// states are wiped on drop); the PRK and the output are wiped here.
fn derive_private_key(ikm: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    use hkdf::{HkdfExtract, InvalidLength};
    use zeroize::Zeroize as _;
    // suite_id = "KEM" || I2OSP(0x0020, 2)
    const SUITE_ID: &[u8] = b"KEM\x00\x20";
    let mut extract = HkdfExtract::<Sha256>::new(Some(&[]));
    for part in [&b"HPKE-v1"[..], SUITE_ID, b"dkp_prk", ikm] {
        extract.input_ikm(part);
    }
    let (mut prk, hkdf) = extract.finalize();
    prk.as_mut_slice().zeroize();
    let mut sk = Zeroizing::new([0u8; 32]);
    hkdf.expand_multi_info(&[&[0, 32], b"HPKE-v1", SUITE_ID, b"sk", b""], &mut sk[..])
        .map_err(|InvalidLength| Error::InvalidArgument("key material"))?;
    Ok(sk)
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
    // One buffer of the final size, `enc || ct || tag`, sealed in place; it holds the
    // plaintext until the seal succeeds, so it is wiped if the seal fails.
    let n = plaintext.len();
    let mut out = Zeroizing::new(vec![0u8; ENC_LEN + n + TAG_LEN]);
    let (head, rest) = out.split_at_mut(ENC_LEN);
    let (body, tag_out) = rest.split_at_mut(n);
    body.copy_from_slice(plaintext);
    let (enc, tag) = hpke::single_shot_seal_inout_detached_with_rng::<AesGcm256, HkdfSha256, Kem>(
        &OpModeS::Base,
        &pk,
        info,
        body.into(),
        aad,
        &mut rng,
    )
    .map_err(|_| key_malformed())?;
    if rng.overdrawn {
        return Err(Error::RandomUnavailable);
    }
    enc.write_exact(head);
    tag.write_exact(tag_out);
    Ok(core::mem::take(&mut *out))
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
    let (enc_bytes, rest) = sealed.split_at(ENC_LEN);
    let (ct, tag_bytes) = rest.split_at(rest.len() - TAG_LEN);
    let enc =
        <Kem as hpke::Kem>::EncappedKey::from_bytes(enc_bytes).map_err(|_| Error::DecryptFailed)?;
    let tag = hpke::aead::AeadTag::<AesGcm256>::from_bytes(tag_bytes)
        .map_err(|_| Error::DecryptFailed)?;
    // Opened in place in a buffer of the plaintext's exact size, wiped if opening fails.
    let mut pt = Zeroizing::new(ct.to_vec());
    hpke::single_shot_open_inout_detached::<AesGcm256, HkdfSha256, Kem>(
        &OpModeR::Base,
        &sk,
        &enc,
        info,
        pt.as_mut_slice().into(),
        aad,
        &tag,
    )
    .map_err(|_| Error::DecryptFailed)?;
    Ok(SecretBytes::new(core::mem::take(&mut *pt)))
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

/// [`seal_for_delivery`] that first checks the public key against the fingerprint the
/// user pinned (shown by the receiving VM, see [`delivery_key_fingerprint`]): a key
/// served by anyone else is refused before anything is sealed. DESIGN §4's
/// `seal_for_delivery(public_key, owner, plaintext, expected_fingerprint)`.
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::DeliveryKey`]) for a bad fingerprint or
/// public key text; [`Error::ClaimMismatch`]`("delivery key fingerprint")` when the
/// public key's fingerprint is not `expected_fingerprint`; then as
/// [`seal_for_delivery`].
pub fn seal_for_delivery_pinned(
    public_key: &str,
    owner: &str,
    plaintext: &[u8],
    expected_fingerprint: &str,
) -> Result<String> {
    check_pinned(public_key, expected_fingerprint)?;
    seal_for_delivery(public_key, owner, plaintext)
}

/// The check of [`seal_for_delivery_pinned`]: `Ok` when `public_key`'s fingerprint is
/// `expected_fingerprint`. Both are public; the comparison is constant-time anyway.
fn check_pinned(public_key: &str, expected_fingerprint: &str) -> Result<()> {
    let expected = parse_fingerprint(expected_fingerprint)?;
    let actual = fingerprint_bytes(&parse_public_key(public_key)?);
    if crate::constant_time_equal(&actual, &expected) {
        Ok(())
    } else {
        Err(Error::ClaimMismatch("delivery key fingerprint"))
    }
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
