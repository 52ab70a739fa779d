//! Wrapped keyrings (DESIGN §7): a keyring's text form encrypted under a random data key
//! (DEK) with AES-256-GCM, the DEK itself encrypted by a key-encryption key (KEK): a KMS
//! key, an HSM key, a passphrase (Argon2id, here), or anything the application wraps with
//! its own SDK. Text form (field order as written; readers refuse unknown fields):
//!
//! `{"version":1,"kek":{"type":"<type>","key":"<reference>"},"owner":"<tenant or \"\">","wrapped_dek":"<b64u>","nonce":"<b64u 12 bytes>","ciphertext":"<b64u>"}`
//!
//! The AAD of both encryptions is the header:
//! `"keycustody/v1/wrapped-keyring" || 0x00 || u32be(len type) || type || u32be(len key) || key || u32be(len owner) || owner`.
//! Core does no network I/O: KMS and HSM KEKs live in `keycustody-kms`; this module has
//! the format, the two-step wrap every KEK uses, and the passphrase KEK.

use crate::aead::{open_in_place, seal_in_place, Backend, NONCE_LEN, TAG_LEN};
use crate::error::{Error, MalformedKind, Result};
use crate::kdf::check_owner;
use crate::keyring::Keyring;
use crate::random::fill_random;
use crate::secret::SecretBytes;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use core::fmt;
use zeroize::Zeroizing;

/// The version of the wrapped-keyring text form this library writes and reads.
pub const WRAPPED_KEYRING_VERSION: u32 = 1;
/// The label that starts the header (the AAD) of a wrapped keyring.
pub const WRAPPED_KEYRING_LABEL: &str = "keycustody/v1/wrapped-keyring";
/// The largest wrapped-keyring text read (a 1 MiB keyring, base64url-encoded, fits).
pub const MAX_WRAPPED_KEYRING_TEXT: usize = 2 * 1024 * 1024;
/// The longest KEK type name (`[a-z0-9][a-z0-9-]*`).
pub const MAX_KEK_TYPE_LEN: usize = 64;
/// The longest KEK key reference (ARN, alias, PKCS#11 URI, Argon2id parameter string).
pub const MAX_KEK_KEY_LEN: usize = 2048;
/// The longest `wrapped_dek`, in bytes.
pub const MAX_WRAPPED_DEK_LEN: usize = 4096;
/// The length of a data key (AES-256).
pub const DEK_LEN: usize = 32;

/// KEK type: a passphrase through Argon2id (built in).
pub const KEK_PASSPHRASE: &str = "passphrase";
/// KEK type: an AWS KMS key (through `keycustody-kms`).
pub const KEK_AWS_KMS: &str = "aws-kms";
/// KEK type: a PKCS#11 AES-256 key (through `keycustody-kms`).
pub const KEK_PKCS11: &str = "pkcs11";

/// The fixed entry of the AWS KMS encryption context of a wrapped DEK:
/// `{"keycustody": "wrapped-keyring/v1", "owner": <owner>}`.
pub const AWS_KMS_CONTEXT_KEY: &str = "keycustody";
/// The value of [`AWS_KMS_CONTEXT_KEY`] in the AWS KMS encryption context.
pub const AWS_KMS_CONTEXT_VALUE: &str = "wrapped-keyring/v1";
/// The key of the owner entry in the AWS KMS encryption context.
pub const AWS_KMS_CONTEXT_OWNER_KEY: &str = "owner";

/// The AWS KMS `EncryptionContext` of the wrapped DEK of a keyring owned by `owner`, as
/// (key, value) pairs: `[("keycustody", "wrapped-keyring/v1"), ("owner", owner)]`. KMS binds the
/// wrapped DEK to it, so a DEK unwrapped for another owner is refused by KMS itself.
#[must_use]
pub fn aws_kms_encryption_context(owner: &str) -> [(&'static str, &str); 2] {
    [
        (AWS_KMS_CONTEXT_KEY, AWS_KMS_CONTEXT_VALUE),
        (AWS_KMS_CONTEXT_OWNER_KEY, owner),
    ]
}

/// The file a passphrase for a `passphrase`-wrapped keyring is read from by
/// [`Keyring::from_env`] / [`Keyring::from_file`] (one trailing newline is dropped).
pub const PASSPHRASE_FILE_ENV_VAR: &str = "KEYCUSTODY_PASSPHRASE_FILE";
/// The environment variable a passphrase is read from when [`PASSPHRASE_FILE_ENV_VAR`] is
/// not set. Never a command-line argument.
pub const PASSPHRASE_ENV_VAR: &str = "KEYCUSTODY_PASSPHRASE";
/// The longest passphrase, in bytes.
pub const MAX_PASSPHRASE_LEN: usize = 64 * 1024;

/// The length of an Argon2id salt in the key string.
pub const ARGON2_SALT_LEN: usize = 16;
/// The largest Argon2id memory cost accepted (KiB; 1 GiB), from a writer or from a text.
pub const ARGON2_MAX_M_KIB: u32 = 1024 * 1024;
/// The largest Argon2id time cost accepted.
pub const ARGON2_MAX_T: u32 = 16;
/// The largest Argon2id parallelism accepted.
pub const ARGON2_MAX_P: u32 = 16;

const WRAPPED_PASSPHRASE_DEK_LEN: usize = NONCE_LEN + DEK_LEN + TAG_LEN;

/// Argon2id parameters of a `passphrase` KEK (version 19 = 0x13 always).
/// Default: m = 65536 KiB, t = 3, p = 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::exhaustive_structs)] // the three RFC 9106 parameters; the format fixes them
pub struct Argon2Params {
    /// Memory cost in KiB (8·p to [`ARGON2_MAX_M_KIB`]).
    pub m_kib: u32,
    /// Time cost, passes (1 to [`ARGON2_MAX_T`]).
    pub t: u32,
    /// Parallelism, lanes (1 to [`ARGON2_MAX_P`]).
    pub p: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Argon2Params {
            m_kib: 65536,
            t: 3,
            p: 1,
        }
    }
}

impl Argon2Params {
    /// Refuses parameters outside the bounds (the same for writers and for untrusted text).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the parameter.
    pub fn check(&self) -> Result<()> {
        if !(1..=ARGON2_MAX_P).contains(&self.p) {
            return Err(Error::InvalidArgument("argon2 p must be 1 to 16"));
        }
        if self.m_kib < 8 * self.p || self.m_kib > ARGON2_MAX_M_KIB {
            return Err(Error::InvalidArgument(
                "argon2 m must be 8*p to 1048576 KiB",
            ));
        }
        if !(1..=ARGON2_MAX_T).contains(&self.t) {
            return Err(Error::InvalidArgument("argon2 t must be 1 to 16"));
        }
        Ok(())
    }

    /// The key string of a `passphrase` KEK: `argon2id$v=19$m=<KiB>,t=<n>,p=<n>$<b64u salt>`.
    fn key_string(&self, salt: &[u8; ARGON2_SALT_LEN]) -> String {
        format!(
            "argon2id$v=19$m={},t={},p={}${}",
            self.m_kib,
            self.t,
            self.p,
            URL_SAFE_NO_PAD.encode(salt)
        )
    }

    /// Parses a key string: exactly the canonical form [`Argon2Params::key_string`] writes
    /// (no leading zeros, no sign, no padding), then the bounds.
    fn parse_key_string(key: &str) -> Result<(Argon2Params, [u8; ARGON2_SALT_LEN])> {
        let bad = Error::Malformed(MalformedKind::WrappedKeyring);
        let rest = key.strip_prefix("argon2id$v=19$m=").ok_or(bad)?;
        let (m, rest) = rest.split_once(",t=").ok_or(bad)?;
        let (t, rest) = rest.split_once(",p=").ok_or(bad)?;
        let (p, salt) = rest.split_once('$').ok_or(bad)?;
        let num = |s: &str| -> Result<u32> {
            if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad);
            }
            s.parse::<u32>().map_err(|_| bad)
        };
        let params = Argon2Params {
            m_kib: num(m)?,
            t: num(t)?,
            p: num(p)?,
        };
        let salt_bytes = decode_b64u(salt)?;
        let salt: [u8; ARGON2_SALT_LEN] = salt_bytes.as_slice().try_into().map_err(|_| bad)?;
        // Canonical only: one text per parameter set ("m=065536" or "+3" are refused).
        if params.key_string(&salt) != key {
            return Err(bad);
        }
        params.check()?;
        Ok((params, salt))
    }
}

/// `Argon2id(passphrase, salt, 32)` (version 0x13) into a zeroizing buffer.
fn derive_kek(
    passphrase: &[u8],
    salt: &[u8; ARGON2_SALT_LEN],
    params: Argon2Params,
) -> Result<Zeroizing<[u8; 32]>> {
    params.check()?;
    if passphrase.len() > MAX_PASSPHRASE_LEN {
        return Err(Error::TooLarge {
            limit: MAX_PASSPHRASE_LEN,
        });
    }
    let p = argon2::Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|_| Error::InvalidArgument("argon2 parameters"))?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut kek = Zeroizing::new([0u8; 32]);
    a.hash_password_into(passphrase, salt, &mut kek[..])
        .map_err(|_| Error::InvalidArgument("argon2 parameters"))?;
    Ok(kek)
}

fn decode_b64u(s: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| Error::Malformed(MalformedKind::WrappedKeyring))
}

/// Whether `kek_type` is a valid type name: `[a-z0-9][a-z0-9-]*`, at most 64 bytes.
fn valid_kek_type(kek_type: &str) -> bool {
    let b = kek_type.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_KEK_TYPE_LEN
        && b[0] != b'-'
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// The owner of a wrapped keyring: `""` (the platform keyring) or a valid owner.
fn check_wrapped_owner(owner: &str) -> Result<()> {
    if owner.is_empty() {
        Ok(())
    } else {
        check_owner(owner)
    }
}

/// The header (AAD) of §7.
fn header(kek_type: &str, kek_key: &str, owner: &str) -> Vec<u8> {
    let mut h = Vec::with_capacity(
        WRAPPED_KEYRING_LABEL.len() + 1 + 12 + kek_type.len() + kek_key.len() + owner.len(),
    );
    h.extend_from_slice(WRAPPED_KEYRING_LABEL.as_bytes());
    h.push(0);
    for part in [kek_type, kek_key, owner] {
        // Every part is bounded far below 4 GiB (type 64, key 2048, owner 1024 bytes).
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        h.extend_from_slice(&len.to_be_bytes());
        h.extend_from_slice(part.as_bytes());
    }
    h
}

/// A keyring wrapped under a key-encryption key (§7 text form). Parsing checks the shape
/// only; opening needs the DEK (from the KEK) or, for type `passphrase`, the passphrase.
///
/// `Debug` shows the KEK type, the owner and lengths: never the key reference (a PKCS#11
/// URI may carry a PIN), the wrapped DEK or the ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKeyring {
    kek_type: String,
    kek_key: String,
    owner: String,
    wrapped_dek: Vec<u8>,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

impl fmt::Debug for WrappedKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKeyring")
            .field("kek_type", &self.kek_type)
            .field("kek_key_len", &self.kek_key.len())
            .field("owner", &self.owner)
            .field("wrapped_dek_len", &self.wrapped_dek.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct VersionProbe {
    version: u64,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WrappedJson {
    version: u64,
    kek: KekJson,
    owner: String,
    wrapped_dek: String,
    nonce: String,
    ciphertext: String,
}

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct KekJson {
    #[serde(rename = "type")]
    kek_type: String,
    key: String,
}

#[derive(serde::Serialize)]
struct WrappedOut<'a> {
    version: u32,
    kek: KekOut<'a>,
    owner: &'a str,
    wrapped_dek: String,
    nonce: String,
    ciphertext: String,
}

#[derive(serde::Serialize)]
struct KekOut<'a> {
    #[serde(rename = "type")]
    kek_type: &'a str,
    key: &'a str,
}

/// Whether `text` looks like a wrapped keyring rather than a keyring: a JSON object with a
/// `"kek"` member (a keyring's text form never has one). A sniff, not a parse.
#[must_use]
pub fn is_wrapped_keyring(text: &str) -> bool {
    text.trim_start().starts_with('{') && text.contains("\"kek\"")
}

impl WrappedKeyring {
    /// Parses the text form. Refuses unknown fields (in the object and in `"kek"`),
    /// versions other than 1, invalid KEK type names, bad base64url, a nonce that is not 12
    /// bytes, a ciphertext shorter than a tag; for type `passphrase`, a key string that is
    /// not canonical or has parameters out of bounds.
    ///
    /// # Errors
    /// [`Error::TooLarge`] over [`MAX_WRAPPED_KEYRING_TEXT`]; [`Error::Malformed`] with
    /// [`MalformedKind::WrappedKeyring`], [`MalformedKind::WrappedKeyringVersion`] or
    /// [`MalformedKind::KekType`]; [`Error::InvalidOwner`] for an owner over 1024 bytes;
    /// [`Error::InvalidArgument`] for Argon2id parameters out of bounds.
    pub fn parse(text: &str) -> Result<WrappedKeyring> {
        if text.len() > MAX_WRAPPED_KEYRING_TEXT {
            return Err(Error::TooLarge {
                limit: MAX_WRAPPED_KEYRING_TEXT,
            });
        }
        let bad = Error::Malformed(MalformedKind::WrappedKeyring);
        // The version first, so a future version with other fields says "version".
        // serde_json's messages can quote the input, so only the kind is kept.
        let probe: VersionProbe = serde_json::from_str(text).map_err(|_| bad)?;
        if probe.version != u64::from(WRAPPED_KEYRING_VERSION) {
            return Err(Error::Malformed(MalformedKind::WrappedKeyringVersion));
        }
        let j: WrappedJson = serde_json::from_str(text).map_err(|_| bad)?;
        debug_assert_eq!(j.version, 1);
        if !valid_kek_type(&j.kek.kek_type) {
            return Err(Error::Malformed(MalformedKind::KekType));
        }
        if j.kek.key.is_empty() || j.kek.key.len() > MAX_KEK_KEY_LEN {
            return Err(bad);
        }
        check_wrapped_owner(&j.owner)?;
        let wrapped_dek = decode_b64u(&j.wrapped_dek)?;
        if wrapped_dek.is_empty() || wrapped_dek.len() > MAX_WRAPPED_DEK_LEN {
            return Err(bad);
        }
        let nonce: [u8; NONCE_LEN] = decode_b64u(&j.nonce)?
            .as_slice()
            .try_into()
            .map_err(|_| bad)?;
        let ciphertext = decode_b64u(&j.ciphertext)?;
        if ciphertext.len() < TAG_LEN {
            return Err(bad);
        }
        if j.kek.kek_type == KEK_PASSPHRASE {
            Argon2Params::parse_key_string(&j.kek.key)?;
        }
        Ok(WrappedKeyring {
            kek_type: j.kek.kek_type,
            kek_key: j.kek.key,
            owner: j.owner,
            wrapped_dek,
            nonce,
            ciphertext,
        })
    }

    /// The text form, fields in the order of §7, base64url without padding, no whitespace.
    #[must_use]
    pub fn to_text(&self) -> String {
        let out = WrappedOut {
            version: WRAPPED_KEYRING_VERSION,
            kek: KekOut {
                kek_type: &self.kek_type,
                key: &self.kek_key,
            },
            owner: &self.owner,
            wrapped_dek: URL_SAFE_NO_PAD.encode(&self.wrapped_dek),
            nonce: URL_SAFE_NO_PAD.encode(self.nonce),
            ciphertext: URL_SAFE_NO_PAD.encode(&self.ciphertext),
        };
        #[allow(clippy::expect_used)]
        // serde_json writes strings and integers to a String infallibly
        serde_json::to_string(&out).expect("serializing strings and an integer cannot fail")
    }

    /// The KEK type (`aws-kms`, `pkcs11`, `passphrase`, or an application's, e.g. `gcp-kms`).
    #[must_use]
    pub fn kek_type(&self) -> &str {
        &self.kek_type
    }

    /// The KEK key reference (ARN, alias, PKCS#11 URI, Argon2id parameter string).
    #[must_use]
    pub fn kek_key(&self) -> &str {
        &self.kek_key
    }

    /// The owner: a tenant id, or `""` for the platform keyring.
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The AWS KMS `EncryptionContext` to pass with this keyring's DEK
    /// (see [`aws_kms_encryption_context`]).
    #[must_use]
    pub fn aws_kms_encryption_context(&self) -> [(&'static str, &str); 2] {
        aws_kms_encryption_context(&self.owner)
    }

    /// Refuses a wrapped keyring that belongs to another owner than `expected` (a tenant's
    /// row holding another tenant's keyring; `""` for the platform keyring), before any KEK
    /// is asked.
    ///
    /// # Errors
    /// [`Error::DecryptFailed`] when the owners differ (the same error as any other failure
    /// to unwrap).
    pub fn expect_owner(&self, expected: &str) -> Result<()> {
        if crate::ct::constant_time_equal(self.owner.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(Error::DecryptFailed)
        }
    }

    /// The KEK's encryption of the DEK (pass it to the KEK to unwrap).
    #[must_use]
    pub fn wrapped_dek(&self) -> &[u8] {
        &self.wrapped_dek
    }

    /// The header: the AAD of the keyring ciphertext, and the AAD / context to pass to a KEK
    /// that takes one (PKCS#11, application KEKs).
    #[must_use]
    pub fn header(&self) -> Vec<u8> {
        header(&self.kek_type, &self.kek_key, &self.owner)
    }

    /// Opens the keyring with the DEK the KEK unwrapped.
    ///
    /// # Errors
    /// [`Error::DecryptFailed`] for a wrong DEK (or one that is not 32 bytes), a tampered
    /// header or ciphertext; then as [`Keyring::parse`] for an authentic plaintext that is
    /// not a keyring.
    pub fn open_with_dek(&self, dek: &[u8]) -> Result<Keyring> {
        let key: &[u8; DEK_LEN] = dek.try_into().map_err(|_| Error::DecryptFailed)?;
        let split = self
            .ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::DecryptFailed)?;
        let (ct, tag) = self.ciphertext.split_at(split);
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| Error::DecryptFailed)?;
        let mut buf = SecretBytes::new(ct.to_vec());
        open_in_place(
            Backend::DEFAULT,
            key,
            &self.nonce,
            &self.header(),
            buf.expose_secret_mut(),
            tag,
        )?;
        let text = buf.into_string()?;
        Keyring::parse(text.expose_secret())
    }

    /// Opens a `passphrase`-wrapped keyring: `KEK = Argon2id(passphrase, salt, 32)` with the
    /// parameters of the key string, then the DEK, then the keyring.
    ///
    /// # Errors
    /// [`Error::Malformed`] with [`MalformedKind::KekType`] for another KEK type;
    /// [`Error::DecryptFailed`] for a wrong passphrase or any tampering;
    /// [`Error::TooLarge`] for a passphrase over [`MAX_PASSPHRASE_LEN`].
    pub fn open_with_passphrase(&self, passphrase: &[u8]) -> Result<Keyring> {
        if self.kek_type != KEK_PASSPHRASE {
            return Err(Error::Malformed(MalformedKind::KekType));
        }
        let (params, salt) = Argon2Params::parse_key_string(&self.kek_key)?;
        if self.wrapped_dek.len() != WRAPPED_PASSPHRASE_DEK_LEN {
            return Err(Error::DecryptFailed);
        }
        let kek = derive_kek(passphrase, &salt, params)?;
        let (iv, rest) = self.wrapped_dek.split_at(NONCE_LEN);
        let (ct, tag) = rest.split_at(DEK_LEN);
        let iv: &[u8; NONCE_LEN] = iv.try_into().map_err(|_| Error::DecryptFailed)?;
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| Error::DecryptFailed)?;
        let mut dek = Zeroizing::new([0u8; DEK_LEN]);
        dek.copy_from_slice(ct);
        open_in_place(
            Backend::DEFAULT,
            &kek,
            iv,
            &self.header(),
            &mut dek[..],
            tag,
        )?;
        self.open_with_dek(&dek[..])
    }
}

/// The first step of wrapping under any KEK: the keyring is encrypted under a fresh DEK;
/// hand [`PendingWrap::dek`] (with [`PendingWrap::header`] as AAD / context where the KEK
/// takes one) to the KEK, then [`PendingWrap::finish`] with what it returned.
/// The DEK is wiped on drop; `Debug` shows neither it nor the key reference.
pub struct PendingWrap {
    dek: Zeroizing<[u8; DEK_LEN]>,
    header: Vec<u8>,
    kek_type: String,
    kek_key: String,
    owner: String,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

impl fmt::Debug for PendingWrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingWrap")
            .field("kek_type", &self.kek_type)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl PendingWrap {
    /// Encrypts `keyring` under a fresh random DEK for a KEK of `kek_type` / `kek_key`,
    /// owned by `owner` (a tenant, or `""` for the platform keyring).
    ///
    /// # Errors
    /// [`Error::Malformed`] with [`MalformedKind::KekType`] for an invalid type name;
    /// [`Error::InvalidArgument`] for a key reference that is empty or over 2048 bytes, or a
    /// `passphrase` type (use [`wrap_with_passphrase`]); [`Error::InvalidOwner`];
    /// [`Error::RandomUnavailable`].
    pub fn new(
        keyring: &Keyring,
        kek_type: &str,
        kek_key: &str,
        owner: &str,
    ) -> Result<PendingWrap> {
        if kek_type == KEK_PASSPHRASE {
            return Err(Error::InvalidArgument(
                "kek type passphrase: use wrap_with_passphrase",
            ));
        }
        let mut dek = Zeroizing::new([0u8; DEK_LEN]);
        fill_random(&mut dek[..])?;
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        PendingWrap::with_dek_and_nonce(keyring, kek_type, kek_key, owner, &dek, &nonce)
    }

    /// [`PendingWrap::new`] with a caller-chosen DEK and nonce (test vectors only, through
    /// `keycustody::internal`).
    pub(crate) fn with_dek_and_nonce(
        keyring: &Keyring,
        kek_type: &str,
        kek_key: &str,
        owner: &str,
        dek: &[u8; DEK_LEN],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<PendingWrap> {
        if !valid_kek_type(kek_type) {
            return Err(Error::Malformed(MalformedKind::KekType));
        }
        if kek_key.is_empty() || kek_key.len() > MAX_KEK_KEY_LEN {
            return Err(Error::InvalidArgument("kek key must be 1 to 2048 bytes"));
        }
        check_wrapped_owner(owner)?;
        let header = header(kek_type, kek_key, owner);
        let text = keyring.export()?;
        let mut buf = Zeroizing::new(Vec::with_capacity(text.len() + TAG_LEN));
        buf.extend_from_slice(text.expose_secret().as_bytes());
        let tag = seal_in_place(Backend::DEFAULT, dek, nonce, &header, &mut buf[..])?;
        // Now ciphertext: no longer secret, but the buffer stays zeroizing until moved out.
        let mut ciphertext = Vec::with_capacity(buf.len() + TAG_LEN);
        ciphertext.extend_from_slice(&buf);
        ciphertext.extend_from_slice(&tag);
        Ok(PendingWrap {
            dek: Zeroizing::new(*dek),
            header,
            kek_type: kek_type.to_owned(),
            kek_key: kek_key.to_owned(),
            owner: owner.to_owned(),
            nonce: *nonce,
            ciphertext,
        })
    }

    /// The 32-byte DEK to hand to the KEK (wiped when this value is dropped).
    #[must_use]
    pub fn dek(&self) -> &[u8] {
        &self.dek[..]
    }

    /// The header: AAD / context to bind the wrapped DEK to (PKCS#11, application KEKs).
    #[must_use]
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// The KEK type.
    #[must_use]
    pub fn kek_type(&self) -> &str {
        &self.kek_type
    }

    /// The KEK key reference.
    #[must_use]
    pub fn kek_key(&self) -> &str {
        &self.kek_key
    }

    /// The owner.
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The AWS KMS `EncryptionContext` to pass with this keyring's DEK
    /// (see [`aws_kms_encryption_context`]).
    #[must_use]
    pub fn aws_kms_encryption_context(&self) -> [(&'static str, &str); 2] {
        aws_kms_encryption_context(&self.owner)
    }

    /// The second step: the wrapped keyring, given the KEK's encryption of the DEK.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a `wrapped_dek` that is empty or over 4096 bytes.
    pub fn finish(self, wrapped_dek: &[u8]) -> Result<WrappedKeyring> {
        if wrapped_dek.is_empty() || wrapped_dek.len() > MAX_WRAPPED_DEK_LEN {
            return Err(Error::InvalidArgument(
                "wrapped_dek must be 1 to 4096 bytes",
            ));
        }
        // The DEK (zeroizing) is dropped, and wiped, with the rest of `self`.
        Ok(WrappedKeyring {
            kek_type: self.kek_type,
            kek_key: self.kek_key,
            owner: self.owner,
            wrapped_dek: wrapped_dek.to_vec(),
            nonce: self.nonce,
            ciphertext: self.ciphertext,
        })
    }
}

/// Wraps `keyring` under a passphrase: `KEK = Argon2id(passphrase, random 16-byte salt, 32)`
/// with `params` (stored in the key string), `wrapped_dek = iv12 || AES-256-GCM(KEK, iv12,
/// DEK, AAD = header)`. Slow by design (Argon2id): call it off an event loop.
///
/// # Errors
/// [`Error::InvalidArgument`] for an empty passphrase or parameters out of bounds;
/// [`Error::TooLarge`] for a passphrase over [`MAX_PASSPHRASE_LEN`];
/// [`Error::InvalidOwner`]; [`Error::RandomUnavailable`].
pub fn wrap_with_passphrase(
    keyring: &Keyring,
    passphrase: &[u8],
    owner: &str,
    params: Argon2Params,
) -> Result<WrappedKeyring> {
    let mut salt = [0u8; ARGON2_SALT_LEN];
    fill_random(&mut salt)?;
    let mut dek = Zeroizing::new([0u8; DEK_LEN]);
    fill_random(&mut dek[..])?;
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let mut iv = [0u8; NONCE_LEN];
    fill_random(&mut iv)?;
    wrap_with_passphrase_fixed(keyring, passphrase, owner, params, &salt, &dek, &nonce, &iv)
}

/// [`wrap_with_passphrase`] with caller-chosen salt, DEK and nonces (test vectors only,
/// through `keycustody::internal`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn wrap_with_passphrase_fixed(
    keyring: &Keyring,
    passphrase: &[u8],
    owner: &str,
    params: Argon2Params,
    salt: &[u8; ARGON2_SALT_LEN],
    dek: &[u8; DEK_LEN],
    nonce: &[u8; NONCE_LEN],
    iv: &[u8; NONCE_LEN],
) -> Result<WrappedKeyring> {
    if passphrase.is_empty() {
        return Err(Error::InvalidArgument("passphrase is empty"));
    }
    params.check()?;
    let key = params.key_string(salt);
    let pending =
        PendingWrap::with_dek_and_nonce(keyring, KEK_PASSPHRASE, &key, owner, dek, nonce)?;
    let kek = derive_kek(passphrase, salt, params)?;
    let mut wrapped = Vec::with_capacity(WRAPPED_PASSPHRASE_DEK_LEN);
    wrapped.extend_from_slice(iv);
    let mut enc = Zeroizing::new(*dek);
    let tag = seal_in_place(Backend::DEFAULT, &kek, iv, pending.header(), &mut enc[..])?;
    wrapped.extend_from_slice(&enc[..]);
    wrapped.extend_from_slice(&tag);
    pending.finish(&wrapped)
}

/// Reads a passphrase for a `passphrase`-wrapped keyring from [`PASSPHRASE_FILE_ENV_VAR`]
/// (a file, checked like a key file; one trailing newline dropped) or else
/// [`PASSPHRASE_ENV_VAR`]; `get` reads an environment variable.
fn passphrase_from_env(
    get: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Zeroizing<Vec<u8>>> {
    let file = get(PASSPHRASE_FILE_ENV_VAR);
    let var = get(PASSPHRASE_ENV_VAR);
    match (file, var) {
        (Some(_), Some(_)) => Err(Error::InvalidArgument(
            "both KEYCUSTODY_PASSPHRASE_FILE and KEYCUSTODY_PASSPHRASE are set",
        )),
        (Some(path), None) => {
            let mut bytes = crate::keyfile::read_secret_file(
                std::path::Path::new(&path),
                MAX_PASSPHRASE_LEN + 2,
            )?;
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
            }
            if bytes.len() > MAX_PASSPHRASE_LEN {
                return Err(Error::TooLarge {
                    limit: MAX_PASSPHRASE_LEN,
                });
            }
            Ok(bytes)
        }
        (None, Some(v)) => {
            let s = Zeroizing::new(
                v.into_string()
                    .map_err(|_| Error::Malformed(MalformedKind::Utf8))?,
            );
            Ok(Zeroizing::new(s.as_bytes().to_vec()))
        }
        (None, None) => Err(Error::MissingEnvVar(crate::error::EnvVarName::new(
            PASSPHRASE_ENV_VAR,
        ))),
    }
}

/// The KEK type name [`Error::KekUnavailable`] carries for a wrapped keyring core cannot
/// unwrap itself.
fn unavailable_type(kek_type: &str) -> &'static str {
    match kek_type {
        KEK_AWS_KMS => KEK_AWS_KMS,
        KEK_PKCS11 => KEK_PKCS11,
        _ => "external",
    }
}

/// A keyring from loaded text (env var or key file): a keyring's text form, or a wrapped
/// keyring of type `passphrase` (passphrase from the environment, see
/// [`PASSPHRASE_FILE_ENV_VAR`]); any other KEK type is [`Error::KekUnavailable`].
pub(crate) fn keyring_from_loaded_text(
    text: &str,
    get: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Keyring> {
    if !is_wrapped_keyring(text) {
        return Keyring::parse(text);
    }
    let w = WrappedKeyring::parse(text)?;
    if w.kek_type() != KEK_PASSPHRASE {
        return Err(Error::KekUnavailable(unavailable_type(w.kek_type())));
    }
    let pass = passphrase_from_env(get)?;
    w.open_with_passphrase(&pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Argon2Params = Argon2Params {
        m_kib: 256,
        t: 1,
        p: 1,
    };

    fn keyring() -> Keyring {
        let k = Keyring::generate().unwrap();
        k.rotate().unwrap();
        k
    }

    fn same(a: &Keyring, b: &Keyring) -> bool {
        a.export().unwrap() == b.export().unwrap()
    }

    #[test]
    fn aws_kms_encryption_context_is_the_design_pairs_for_the_owner() {
        let want = [("keycustody", "wrapped-keyring/v1"), ("owner", "acme")];
        let p = PendingWrap::new(&keyring(), KEK_AWS_KMS, "alias/k", "acme").unwrap();
        assert_eq!(p.aws_kms_encryption_context(), want);
        let w = p.finish(b"blob").unwrap();
        assert_eq!(w.aws_kms_encryption_context(), want);
        assert_eq!(aws_kms_encryption_context("acme"), want);
        assert_eq!(aws_kms_encryption_context("")[1], ("owner", ""));
    }

    #[test]
    fn two_step_wrap_round_trips_through_text() {
        let k = keyring();
        let p = PendingWrap::new(&k, "gcp-kms", "projects/p/keys/k", "acme").unwrap();
        assert_eq!(p.dek().len(), 32);
        assert_eq!(p.header(), header("gcp-kms", "projects/p/keys/k", "acme"));
        let dek = p.dek().to_vec();
        let w = p.finish(b"opaque-wrapped-dek").unwrap();
        let text = w.to_text();
        assert!(text.starts_with("{\"version\":1,\"kek\":{\"type\":\"gcp-kms\",\"key\":\"projects/p/keys/k\"},\"owner\":\"acme\",\"wrapped_dek\":\""));
        let back = WrappedKeyring::parse(&text).unwrap();
        assert_eq!(back, w);
        assert_eq!(back.wrapped_dek(), b"opaque-wrapped-dek");
        assert!(same(&back.open_with_dek(&dek).unwrap(), &k));
        assert!(is_wrapped_keyring(&text));
        assert!(!is_wrapped_keyring(k.export().unwrap().expose_secret()));
    }

    #[test]
    fn expect_owner_refuses_another_tenant() {
        let w = PendingWrap::new(&keyring(), "gcp-kms", "k", "tenant-a")
            .unwrap()
            .finish(b"w")
            .unwrap();
        assert_eq!(w.expect_owner("tenant-a"), Ok(()));
        for other in ["tenant-b", "", "tenant-a ", "Tenant-a"] {
            assert_eq!(w.expect_owner(other), Err(Error::DecryptFailed), "{other}");
        }
    }

    #[test]
    fn header_layout_is_the_spec() {
        let h = header("t", "kk", "");
        let mut want = b"keycustody/v1/wrapped-keyring\0".to_vec();
        want.extend_from_slice(&[0, 0, 0, 1, b't', 0, 0, 0, 2, b'k', b'k', 0, 0, 0, 0]);
        assert_eq!(h, want);
    }

    #[test]
    fn wrong_dek_and_tampering_are_decrypt_failed() {
        let k = keyring();
        let p = PendingWrap::new(&k, "vault-transit", "transit/keys/kc", "").unwrap();
        let dek = p.dek().to_vec();
        let w = p.finish(b"x").unwrap();
        let mut bad = dek.clone();
        bad[0] ^= 1;
        assert_eq!(w.open_with_dek(&bad).unwrap_err(), Error::DecryptFailed);
        assert_eq!(
            w.open_with_dek(&dek[..31]).unwrap_err(),
            Error::DecryptFailed
        );
        assert_eq!(w.open_with_dek(&[]).unwrap_err(), Error::DecryptFailed);
        for (field, value) in [
            ("\"owner\":\"\"", "\"owner\":\"acme\""),
            ("transit/keys/kc", "transit/keys/kd"),
            ("vault-transit", "vault-transix"),
        ] {
            let t = w.to_text().replace(field, value);
            let tw = WrappedKeyring::parse(&t).unwrap();
            assert_eq!(
                tw.open_with_dek(&dek).unwrap_err(),
                Error::DecryptFailed,
                "{field}"
            );
        }
        let mut tw = w.clone();
        let last = tw.ciphertext.len() - 1;
        tw.ciphertext[last] ^= 0x80;
        assert_eq!(tw.open_with_dek(&dek).unwrap_err(), Error::DecryptFailed);
        tw.ciphertext = w.ciphertext[..w.ciphertext.len() - 3].to_vec();
        assert_eq!(tw.open_with_dek(&dek).unwrap_err(), Error::DecryptFailed);
    }

    #[test]
    fn parse_refuses_malformed_texts_with_typed_errors() {
        let k = keyring();
        let w = PendingWrap::new(&k, "gcp-kms", "k", "acme")
            .unwrap()
            .finish(b"w")
            .unwrap();
        let text = w.to_text();
        let wk = Error::Malformed(MalformedKind::WrappedKeyring);
        let cases: Vec<(String, Error)> = vec![
            (
                text.replace("\"version\":1", "\"version\":2"),
                Error::Malformed(MalformedKind::WrappedKeyringVersion),
            ),
            (
                text.replace("\"version\":1,", "\"version\":2,\"extra\":1,"),
                Error::Malformed(MalformedKind::WrappedKeyringVersion),
            ),
            (text.replace("\"version\":1", "\"version\":\"1\""), wk),
            (text.replacen('{', "{\"extra\":0,", 1), wk),
            (
                text.replace("\"key\":\"k\"", "\"key\":\"k\",\"region\":\"x\""),
                wk,
            ),
            (
                text.replace("\"type\":\"gcp-kms\"", "\"type\":\"GCP\""),
                Error::Malformed(MalformedKind::KekType),
            ),
            (
                text.replace("\"type\":\"gcp-kms\"", "\"type\":\"\""),
                Error::Malformed(MalformedKind::KekType),
            ),
            (text.replace("\"key\":\"k\"", "\"key\":\"\""), wk),
            (
                text.replace("\"wrapped_dek\":\"dw\"", "\"wrapped_dek\":\"dw==\""),
                wk,
            ),
            (
                text.replace("\"wrapped_dek\":\"dw\"", "\"wrapped_dek\":\"d+\""),
                wk,
            ),
            (
                text.replace("\"wrapped_dek\":\"dw\"", "\"wrapped_dek\":\"\""),
                wk,
            ),
            (
                text.replace(
                    "\"owner\":\"acme\"",
                    &format!("\"owner\":\"{}\"", "o".repeat(1025)),
                ),
                Error::InvalidOwner,
            ),
            (
                text.replace(
                    &format!(
                        "\"ciphertext\":\"{}\"",
                        URL_SAFE_NO_PAD.encode(&w.ciphertext)
                    ),
                    "\"ciphertext\":\"AAAA\"",
                ),
                wk,
            ),
            (
                text.replace(
                    &format!("\"nonce\":\"{}\"", URL_SAFE_NO_PAD.encode(w.nonce)),
                    "\"nonce\":\"AAAAAAAAAAAAAAAAAAAA\"",
                ),
                wk,
            ),
            (
                text.replace(",\"ciphertext\"", ",\"ciphertext\":\"\",\"ciphertext\""),
                wk,
            ),
            ("[]".into(), wk),
            ("".into(), wk),
            (text[..text.len() - 1].to_string(), wk),
        ];
        for (t, e) in cases {
            assert_eq!(WrappedKeyring::parse(&t).err(), Some(e), "{t}");
        }
        let huge = " ".repeat(MAX_WRAPPED_KEYRING_TEXT + 1);
        assert_eq!(
            WrappedKeyring::parse(&huge).unwrap_err(),
            Error::TooLarge {
                limit: MAX_WRAPPED_KEYRING_TEXT
            }
        );
    }

    #[test]
    fn passphrase_round_trip_and_wrong_passphrase() {
        let k = keyring();
        let w = wrap_with_passphrase(&k, b"correct horse", "", FAST).unwrap();
        assert_eq!(w.kek_type(), "passphrase");
        assert!(w.kek_key().starts_with("argon2id$v=19$m=256,t=1,p=1$"));
        assert_eq!(w.wrapped_dek().len(), 60);
        let back = WrappedKeyring::parse(&w.to_text()).unwrap();
        assert!(same(
            &back.open_with_passphrase(b"correct horse").unwrap(),
            &k
        ));
        assert_eq!(
            back.open_with_passphrase(b"correct horsf").unwrap_err(),
            Error::DecryptFailed
        );
        assert_eq!(
            back.open_with_passphrase(b"").unwrap_err(),
            Error::DecryptFailed
        );
        // Another type's keyring does not take a passphrase.
        let other = PendingWrap::new(&k, "aws-kms", "alias/x", "")
            .unwrap()
            .finish(b"w")
            .unwrap();
        assert_eq!(
            other.open_with_passphrase(b"p").unwrap_err(),
            Error::Malformed(MalformedKind::KekType)
        );
        assert_eq!(
            wrap_with_passphrase(&k, b"", "", FAST).unwrap_err(),
            Error::InvalidArgument("passphrase is empty")
        );
        assert_eq!(
            PendingWrap::new(&k, "passphrase", "x", "")
                .unwrap_err()
                .kind(),
            "InvalidArgument"
        );
    }

    #[test]
    fn argon2_key_strings_are_canonical_and_bounded() {
        let salt = URL_SAFE_NO_PAD.encode([7u8; 16]);
        let ok = format!("argon2id$v=19$m=256,t=1,p=1${salt}");
        assert_eq!(
            Argon2Params::parse_key_string(&ok).unwrap(),
            (FAST, [7u8; 16])
        );
        let wk = Error::Malformed(MalformedKind::WrappedKeyring);
        for bad in [
            format!("argon2id$v=19$m=0256,t=1,p=1${salt}"),
            format!("argon2id$v=19$m=+256,t=1,p=1${salt}"),
            format!("argon2i$v=19$m=256,t=1,p=1${salt}"),
            format!("argon2id$v=16$m=256,t=1,p=1${salt}"),
            format!("argon2id$v=19$t=1,m=256,p=1${salt}"),
            format!("argon2id$v=19$m=256,t=1,p=1${salt}="),
            format!(
                "argon2id$v=19$m=256,t=1,p=1${}",
                URL_SAFE_NO_PAD.encode([7u8; 15])
            ),
            format!("argon2id$v=19$m=99999999999,t=1,p=1${salt}"),
            "argon2id$v=19$m=256,t=1,p=1".to_string(),
        ] {
            assert_eq!(
                Argon2Params::parse_key_string(&bad).unwrap_err(),
                wk,
                "{bad}"
            );
        }
        for (m, t, p) in [
            (2_000_000, 1, 1),
            (7, 1, 1),
            (64, 17, 1),
            (256, 0, 1),
            (256, 1, 0),
            (256, 1, 17),
            (8, 1, 2),
        ] {
            let s = format!("argon2id$v=19$m={m},t={t},p={p}${salt}");
            assert_eq!(
                Argon2Params::parse_key_string(&s).unwrap_err().kind(),
                "InvalidArgument",
                "{s}"
            );
        }
        // Parse refuses an absurd passphrase key before any Argon2 work is done.
        let k = keyring();
        let w = wrap_with_passphrase(&k, b"p", "", FAST).unwrap();
        let t = w.to_text().replace("m=256,", "m=4294967295,");
        assert_eq!(
            WrappedKeyring::parse(&t).unwrap_err().kind(),
            "InvalidArgument"
        );
    }

    #[test]
    fn default_params_are_rfc9106_second_recommendation() {
        assert_eq!(
            Argon2Params::default(),
            Argon2Params {
                m_kib: 65536,
                t: 3,
                p: 1
            }
        );
        assert!(Argon2Params::default().check().is_ok());
    }

    #[test]
    fn debug_shows_no_secret() {
        let k = keyring();
        let secret = k.export().unwrap();
        let p = PendingWrap::new(
            &k,
            "pkcs11",
            "pkcs11:token=t;object=o;pin-value=1234",
            "acme",
        )
        .unwrap();
        let dek_b64 = URL_SAFE_NO_PAD.encode(p.dek());
        let dek_hex: String = p.dek().iter().map(|b| format!("{b:02x}")).collect();
        let dbg_p = format!("{p:?}");
        let w = p.finish(b"wrapped-secret-bytes").unwrap();
        let dbg_w = format!("{w:?}");
        for d in [&dbg_p, &dbg_w] {
            assert!(
                !d.contains("1234") && !d.contains(&dek_b64) && !d.contains(&dek_hex),
                "{d}"
            );
            assert!(
                !d.contains("wrapped-secret") && !d.contains(secret.expose_secret()),
                "{d}"
            );
            assert!(d.contains("pkcs11") && d.contains("acme"), "{d}");
        }
        // Errors carry no input.
        let t = w.to_text();
        for e in [
            WrappedKeyring::parse(&t.replace("acme", "x\u{1}")).unwrap_err(),
            w.open_with_dek(&[0u8; 32]).unwrap_err(),
        ] {
            let s = format!("{e} {e:?}");
            assert!(!s.contains("1234") && !s.contains("acme"), "{s}");
        }
    }

    #[test]
    fn loaded_text_unwraps_passphrase_and_refuses_other_types() {
        let k = keyring();
        let w = wrap_with_passphrase(&k, b"pw", "", FAST).unwrap().to_text();
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| std::ffi::OsString::from(*v))
            }
        };
        let got = keyring_from_loaded_text(&w, &env(&[(PASSPHRASE_ENV_VAR, "pw")])).unwrap();
        assert!(same(&got, &k));
        assert_eq!(
            keyring_from_loaded_text(&w, &env(&[(PASSPHRASE_ENV_VAR, "px")])).unwrap_err(),
            Error::DecryptFailed
        );
        assert_eq!(
            keyring_from_loaded_text(&w, &env(&[])).unwrap_err(),
            Error::MissingEnvVar(crate::error::EnvVarName::new(PASSPHRASE_ENV_VAR))
        );
        assert_eq!(
            keyring_from_loaded_text(
                &w,
                &env(&[
                    (PASSPHRASE_ENV_VAR, "pw"),
                    (PASSPHRASE_FILE_ENV_VAR, "/nonexistent")
                ])
            )
            .unwrap_err()
            .kind(),
            "InvalidArgument"
        );
        assert_eq!(
            keyring_from_loaded_text(&w, &env(&[(PASSPHRASE_FILE_ENV_VAR, "/nonexistent/kc")]))
                .unwrap_err(),
            Error::Io(std::io::ErrorKind::NotFound)
        );
        for (ty, want) in [
            ("aws-kms", "aws-kms"),
            ("pkcs11", "pkcs11"),
            ("gcp-kms", "external"),
        ] {
            let t = PendingWrap::new(&k, ty, "ref", "")
                .unwrap()
                .finish(b"w")
                .unwrap()
                .to_text();
            let e = keyring_from_loaded_text(&t, &env(&[(PASSPHRASE_ENV_VAR, "pw")])).unwrap_err();
            assert_eq!(e, Error::KekUnavailable(want));
            assert!(
                e.to_string().contains("keycustody-kms") && e.to_string().contains("open_with_dek")
            );
        }
        // A plain keyring still loads.
        let plain = k.export().unwrap();
        assert!(same(
            &keyring_from_loaded_text(plain.expose_secret(), &env(&[])).unwrap(),
            &k
        ));
    }
}
