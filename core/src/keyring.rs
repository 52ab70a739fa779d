//! The keyring: root keys with states, their text form, and the envelope operations.

use crate::aead::{Backend, Cipher, NONCE_LEN, TAG_LEN};
use crate::envelope::{self, EnvelopeInfo, HEADER_LEN, MAX_PLAINTEXT, VERSION};
use crate::error::{Error, MalformedKind, Result};
use crate::kdf::{self, Prk, LABEL_CUSTOM_PREFIX, LABEL_ENVELOPE, LABEL_FINGERPRINT};
use crate::keycache::OwnerCache;
use crate::random::fill_random;
use crate::secret::{SecretBytes, SecretString};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use zeroize::Zeroizing;

/// The shortest root key, in bytes.
pub const MIN_ROOT_LEN: usize = 32;
/// The longest root key, in bytes.
pub const MAX_ROOT_LEN: usize = 1024;
/// The most keys one keyring holds.
pub const MAX_KEYS: usize = 4096;
/// The largest keyring text or file.
pub const MAX_KEYRING_TEXT: usize = 1024 * 1024;

/// The state of a root key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// The primary: seals, and opens.
    Active,
    /// Opens only; the rewrap job moves data off it.
    DecryptOnly,
    /// Opens nothing (`KeyRetired`); its secret is gone, only its id is kept.
    Retired,
}

impl KeyState {
    /// The text form: `active`, `decrypt-only`, `retired`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::DecryptOnly => "decrypt-only",
            KeyState::Retired => "retired",
        }
    }

    fn parse(s: &str) -> Option<KeyState> {
        match s {
            "active" => Some(KeyState::Active),
            "decrypt-only" => Some(KeyState::DecryptOnly),
            "retired" => Some(KeyState::Retired),
            _ => None,
        }
    }
}

/// What can be said about a key without revealing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id.
    pub kid: u32,
    /// Its state.
    pub state: KeyState,
    /// A public fingerprint: 16 hex characters of `HKDF-Expand(PRK, "keycustody/v1/fingerprint" || 0x00, 8)`;
    /// empty for a retired key (its secret is gone).
    pub fingerprint: String,
}

#[derive(Clone)]
struct Entry {
    state: KeyState,
    fingerprint: String,
    // None once retired: retiring destroys the key material.
    material: Option<Material>,
}

#[derive(Clone)]
struct Material {
    secret: SecretBytes,
    prk: Prk,
    // Expanded envelope ciphers of recent owners (RustCrypto backend only; see keycache).
    soft_keys: OwnerCache<aes_gcm::Aes256Gcm>,
}

impl Material {
    fn new(secret: SecretBytes) -> (Material, String) {
        let prk = Prk::extract(secret.expose_secret());
        let mut fp = [0u8; 8];
        // 8 bytes is always a valid HKDF output length.
        let _ = prk.expand(LABEL_FINGERPRINT, b"", &mut fp);
        let fingerprint = fp.iter().map(|b| format!("{b:02x}")).collect();
        (
            Material {
                secret,
                prk,
                soft_keys: OwnerCache::new(),
            },
            fingerprint,
        )
    }
}

#[derive(Clone)]
struct State {
    primary: u32,
    keys: BTreeMap<u32, Entry>,
}

impl State {
    fn material(&self, kid: u32) -> Result<&Material> {
        let e = self.keys.get(&kid).ok_or(Error::UnknownKey(kid))?;
        match (&e.state, &e.material) {
            (KeyState::Retired, _) | (_, None) => Err(Error::KeyRetired(kid)),
            (_, Some(m)) => Ok(m),
        }
    }
}

/// A set of root keys: one active primary, any number of decrypt-only and retired keys.
///
/// `Send + Sync`; every method takes `&self` (changes swap an internal snapshot),
/// so one `Arc<Keyring>` can be shared by all threads of an application.
/// `Debug` shows key ids and states, never a secret.
pub struct Keyring {
    state: RwLock<Arc<State>>,
    backend: Backend,
}

impl Clone for Keyring {
    fn clone(&self) -> Self {
        Keyring {
            state: RwLock::new(self.snapshot()),
            backend: self.backend,
        }
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.snapshot();
        let keys: Vec<(u32, &'static str)> =
            s.keys.iter().map(|(k, e)| (*k, e.state.as_str())).collect();
        f.debug_struct("Keyring")
            .field("primary", &s.primary)
            .field("keys", &keys)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringJson {
    version: u32,
    primary: u32,
    keys: Vec<KeyJson>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyJson {
    kid: u32,
    state: String,
    #[serde(default)]
    secret: Option<Zeroizing<String>>,
}

const B64_INDIFFERENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn random_root() -> Result<SecretBytes> {
    let mut k = vec![0u8; 32];
    fill_random(&mut k)?;
    Ok(SecretBytes::new(k))
}

impl Keyring {
    fn from_state(state: State) -> Keyring {
        Keyring {
            state: RwLock::new(Arc::new(state)),
            backend: Backend::DEFAULT,
        }
    }

    fn snapshot(&self) -> Arc<State> {
        match self.state.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn update<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut guard = match self.state.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut next: State = (**guard).clone();
        let out = f(&mut next)?;
        *guard = Arc::new(next);
        Ok(out)
    }

    /// A new keyring with one fresh random 32-byte key, kid 1, active.
    ///
    /// # Errors
    /// [`Error::RandomUnavailable`].
    pub fn generate() -> Result<Keyring> {
        Ok(Keyring::with_root(1, random_root()?))
    }

    fn with_root(kid: u32, secret: SecretBytes) -> Keyring {
        let (material, fingerprint) = Material::new(secret);
        let mut keys = BTreeMap::new();
        keys.insert(
            kid,
            Entry {
                state: KeyState::Active,
                fingerprint,
                material: Some(material),
            },
        );
        Keyring::from_state(State { primary: kid, keys })
    }

    /// Adopts an existing platform secret as the only (active) key: its bytes
    /// exactly as given, never hex- or base64-decoded.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a kid of 0 or a secret shorter than 32 or longer than 1024 bytes.
    pub fn from_secret(secret: &[u8], kid: u32) -> Result<Keyring> {
        if kid == 0 {
            return Err(Error::InvalidArgument("kid must be non-zero"));
        }
        if secret.len() < MIN_ROOT_LEN || secret.len() > MAX_ROOT_LEN {
            return Err(Error::InvalidArgument("secret must be 32 to 1024 bytes"));
        }
        Ok(Keyring::with_root(kid, SecretBytes::new(secret.to_vec())))
    }

    /// Parses the JSON text form.
    ///
    /// # Errors
    /// [`Error::Malformed`] with a `Keyring*` kind; [`Error::TooLarge`] over 1 MiB.
    pub fn parse(text: &str) -> Result<Keyring> {
        if text.len() > MAX_KEYRING_TEXT {
            return Err(Error::TooLarge {
                limit: MAX_KEYRING_TEXT,
            });
        }
        // serde_json's messages can quote the input, so only the kind is kept.
        let j: KeyringJson =
            serde_json::from_str(text).map_err(|_| Error::Malformed(MalformedKind::KeyringJson))?;
        if j.version != 1 {
            return Err(Error::Malformed(MalformedKind::KeyringVersion));
        }
        if j.keys.len() > MAX_KEYS {
            return Err(Error::TooLarge { limit: MAX_KEYS });
        }
        let mut keys = BTreeMap::new();
        let mut active = Vec::new();
        for k in j.keys {
            if k.kid == 0 || keys.contains_key(&k.kid) {
                return Err(Error::Malformed(MalformedKind::KeyringKid));
            }
            let state =
                KeyState::parse(&k.state).ok_or(Error::Malformed(MalformedKind::KeyringJson))?;
            let entry = if state == KeyState::Retired {
                Entry {
                    state,
                    fingerprint: String::new(),
                    material: None,
                }
            } else {
                let text = k
                    .secret
                    .ok_or(Error::Malformed(MalformedKind::KeyringSecret))?;
                let bytes = Zeroizing::new(
                    B64_INDIFFERENT
                        .decode(text.as_bytes())
                        .map_err(|_| Error::Malformed(MalformedKind::KeyringSecret))?,
                );
                if bytes.len() < MIN_ROOT_LEN || bytes.len() > MAX_ROOT_LEN {
                    return Err(Error::Malformed(MalformedKind::KeyringSecret));
                }
                let (material, fingerprint) = Material::new(SecretBytes::new(bytes.to_vec()));
                if state == KeyState::Active {
                    active.push(k.kid);
                }
                Entry {
                    state,
                    fingerprint,
                    material: Some(material),
                }
            };
            keys.insert(k.kid, entry);
        }
        if active != [j.primary] {
            return Err(Error::Malformed(MalformedKind::KeyringPrimary));
        }
        Ok(Keyring::from_state(State {
            primary: j.primary,
            keys,
        }))
    }

    /// Reads the text form from an environment variable (e.g. `KEYCUSTODY_KEYRING`).
    ///
    /// # Errors
    /// [`Error::MissingEnvVar`], or as [`Keyring::parse`].
    pub fn from_env(var: &str) -> Result<Keyring> {
        let text = Zeroizing::new(std::env::var(var).map_err(|_| Error::MissingEnvVar)?);
        Keyring::parse(&text)
    }

    /// Reads the text form from a file, refusing one that group or others can
    /// access, or (on Unix) one owned by another user, as ssh does.
    ///
    /// # Errors
    /// [`Error::InsecurePermissions`], [`Error::Io`], [`Error::TooLarge`], or as [`Keyring::parse`].
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Keyring> {
        use std::io::Read;
        let mut f = std::fs::File::open(path.as_ref())?;
        let meta = f.metadata()?;
        check_key_file_metadata(&meta)?;
        if meta.len() > MAX_KEYRING_TEXT as u64 {
            return Err(Error::TooLarge {
                limit: MAX_KEYRING_TEXT,
            });
        }
        let mut buf = Zeroizing::new(Vec::new());
        f.by_ref()
            .take(MAX_KEYRING_TEXT as u64 + 1)
            .read_to_end(&mut buf)?;
        if buf.len() > MAX_KEYRING_TEXT {
            return Err(Error::TooLarge {
                limit: MAX_KEYRING_TEXT,
            });
        }
        let text = std::str::from_utf8(&buf).map_err(|_| Error::Malformed(MalformedKind::Utf8))?;
        Keyring::parse(text)
    }

    /// The JSON text form, secrets as base64url without padding. Retired keys carry no secret.
    ///
    /// # Errors
    /// None in practice; the `Result` is kept for forward compatibility.
    pub fn export(&self) -> Result<SecretString> {
        let s = self.snapshot();
        let mut out = String::with_capacity(64 + 80 * s.keys.len());
        out.push_str(&format!(
            "{{\"version\":1,\"primary\":{},\"keys\":[",
            s.primary
        ));
        for (i, (kid, e)) in s.keys.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&format!(
                "{{\"kid\":{kid},\"state\":\"{}\"",
                e.state.as_str()
            ));
            if let Some(m) = &e.material {
                out.push_str(",\"secret\":\"");
                URL_SAFE_NO_PAD.encode_string(m.secret.expose_secret(), &mut out);
                out.push('"');
            }
            out.push('}');
        }
        out.push_str("]}");
        Ok(SecretString::new(out))
    }

    /// Adds a fresh random key as `decrypt-only` (kid = max + 1) and returns its kid.
    /// Roll it out to every instance before [`Keyring::promote`] makes it seal.
    ///
    /// # Errors
    /// [`Error::RandomUnavailable`]; [`Error::TooLarge`] when the kid space or key limit is exhausted.
    pub fn add_key(&self) -> Result<u32> {
        let secret = random_root()?;
        self.add_key_with_secret(secret)
    }

    /// Adds a given secret as a `decrypt-only` key (kid = max + 1).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a secret outside 32 to 1024 bytes; [`Error::TooLarge`].
    pub fn add_key_with_secret(&self, secret: SecretBytes) -> Result<u32> {
        if secret.len() < MIN_ROOT_LEN || secret.len() > MAX_ROOT_LEN {
            return Err(Error::InvalidArgument("secret must be 32 to 1024 bytes"));
        }
        self.update(|s| {
            if s.keys.len() >= MAX_KEYS {
                return Err(Error::TooLarge { limit: MAX_KEYS });
            }
            let max = s.keys.keys().next_back().copied().unwrap_or(0);
            let kid = max.checked_add(1).ok_or(Error::TooLarge {
                limit: u32::MAX as usize,
            })?;
            let (material, fingerprint) = Material::new(secret);
            s.keys.insert(
                kid,
                Entry {
                    state: KeyState::DecryptOnly,
                    fingerprint,
                    material: Some(material),
                },
            );
            Ok(kid)
        })
    }

    /// Makes `kid` the primary; the old primary becomes `decrypt-only`.
    ///
    /// # Errors
    /// [`Error::UnknownKey`], [`Error::KeyRetired`].
    pub fn promote(&self, kid: u32) -> Result<()> {
        self.update(|s| {
            s.material(kid)?;
            let old = s.primary;
            if old == kid {
                return Ok(());
            }
            if let Some(e) = s.keys.get_mut(&old) {
                e.state = KeyState::DecryptOnly;
            }
            if let Some(e) = s.keys.get_mut(&kid) {
                e.state = KeyState::Active;
            }
            s.primary = kid;
            Ok(())
        })
    }

    /// [`Keyring::add_key`] then [`Keyring::promote`], for a single instance. Returns the new kid.
    ///
    /// # Errors
    /// As those two.
    pub fn rotate(&self) -> Result<u32> {
        let kid = self.add_key()?;
        self.promote(kid)?;
        Ok(kid)
    }

    /// Retires `kid`: its secret is dropped, and envelopes under it fail with `KeyRetired`.
    /// Run the rewrap job first (the CLI refuses while envelopes under it remain).
    ///
    /// # Errors
    /// [`Error::PrimaryKey`] for the primary, [`Error::UnknownKey`].
    pub fn retire(&self, kid: u32) -> Result<()> {
        self.update(|s| {
            if kid == s.primary {
                return Err(Error::PrimaryKey(kid));
            }
            let e = s.keys.get_mut(&kid).ok_or(Error::UnknownKey(kid))?;
            e.state = KeyState::Retired;
            e.material = None;
            // The text form keeps no fingerprint for a retired key; match it, so that
            // kids() is the same before and after an export/parse round trip.
            e.fingerprint = String::new();
            Ok(())
        })
    }

    /// Removes `kid` entirely: envelopes under it then fail with `UnknownKey`.
    ///
    /// # Errors
    /// [`Error::PrimaryKey`] for the primary, [`Error::UnknownKey`].
    pub fn remove(&self, kid: u32) -> Result<()> {
        self.update(|s| {
            if kid == s.primary {
                return Err(Error::PrimaryKey(kid));
            }
            s.keys
                .remove(&kid)
                .map(|_| ())
                .ok_or(Error::UnknownKey(kid))
        })
    }

    /// The kid of the primary (active) key.
    #[must_use]
    pub fn primary_kid(&self) -> u32 {
        self.snapshot().primary
    }

    /// Every key id with its state and fingerprint, in kid order.
    #[must_use]
    pub fn kids(&self) -> Vec<KeyInfo> {
        self.snapshot()
            .keys
            .iter()
            .map(|(kid, e)| KeyInfo {
                kid: *kid,
                state: e.state,
                fingerprint: e.fingerprint.clone(),
            })
            .collect()
    }

    /// The state of one key.
    ///
    /// # Errors
    /// [`Error::UnknownKey`].
    pub fn state_of(&self, kid: u32) -> Result<KeyState> {
        self.snapshot()
            .keys
            .get(&kid)
            .map(|e| e.state)
            .ok_or(Error::UnknownKey(kid))
    }

    /// Seals `plaintext` for `owner` (and `context`, which may be empty) under the primary key.
    ///
    /// # Errors
    /// [`Error::InvalidOwner`], [`Error::TooLarge`] over 64 MiB, [`Error::RandomUnavailable`].
    pub fn seal(&self, owner: &str, plaintext: &[u8], context: &[u8]) -> Result<String> {
        let bin = self.seal_binary(owner, plaintext, context)?;
        Ok(envelope::encode_text(&bin))
    }

    /// [`Keyring::seal`] returning the binary form.
    ///
    /// # Errors
    /// As [`Keyring::seal`].
    pub fn seal_binary(&self, owner: &str, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        self.seal_inner(
            self.primary_kid_checked(owner, plaintext)?,
            owner,
            plaintext,
            context,
            &nonce,
        )
    }

    fn primary_kid_checked(&self, owner: &str, plaintext: &[u8]) -> Result<u32> {
        kdf::check_owner(owner)?;
        if plaintext.len() > MAX_PLAINTEXT {
            return Err(Error::TooLarge {
                limit: MAX_PLAINTEXT,
            });
        }
        Ok(self.primary_kid())
    }

    /// Seals with a caller-chosen nonce, for test vectors and differential tests only.
    /// Reusing a nonce under one key and owner destroys GCM's security.
    ///
    /// # Errors
    /// As [`Keyring::seal`].
    #[doc(hidden)]
    pub fn dangerous_seal_with_nonce(
        &self,
        owner: &str,
        plaintext: &[u8],
        context: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<String> {
        let kid = self.primary_kid_checked(owner, plaintext)?;
        Ok(envelope::encode_text(
            &self.seal_inner(kid, owner, plaintext, context, nonce)?,
        ))
    }

    /// Like [`Keyring::dangerous_seal_with_nonce`] but with an explicit AES backend.
    ///
    /// # Errors
    /// As [`Keyring::seal`].
    #[doc(hidden)]
    pub fn dangerous_seal_with_backend(
        &self,
        backend: Backend,
        owner: &str,
        plaintext: &[u8],
        context: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<String> {
        let kid = self.primary_kid_checked(owner, plaintext)?;
        let kr = Keyring {
            state: RwLock::new(self.snapshot()),
            backend,
        };
        Ok(envelope::encode_text(
            &kr.seal_inner(kid, owner, plaintext, context, nonce)?,
        ))
    }

    /// Opens with an explicit AES backend (differential tests).
    ///
    /// # Errors
    /// As [`Keyring::open`].
    #[doc(hidden)]
    pub fn dangerous_open_with_backend(
        &self,
        backend: Backend,
        owner: &str,
        envelope: &str,
        context: &[u8],
    ) -> Result<SecretBytes> {
        let kr = Keyring {
            state: RwLock::new(self.snapshot()),
            backend,
        };
        kr.open(owner, envelope, context)
    }

    /// Runs `f` with the owner's envelope cipher: on the RustCrypto backend the expanded
    /// cipher cached for this key and owner (made on a miss), otherwise a freshly derived key.
    fn with_envelope_cipher<T>(
        &self,
        m: &Material,
        owner: &str,
        f: impl FnOnce(Cipher<'_>) -> Result<T>,
    ) -> Result<T> {
        if self.backend == Backend::RustCrypto {
            m.soft_keys.with(
                owner,
                || Ok(crate::aead::expand(&*self.envelope_key(m, owner)?)),
                |k| f(Cipher::Soft(k)),
            )
        } else {
            let key = self.envelope_key(m, owner)?;
            f(Cipher::Raw(self.backend, &key))
        }
    }

    fn envelope_key(&self, m: &Material, owner: &str) -> Result<Zeroizing<[u8; 32]>> {
        let mut key = Zeroizing::new([0u8; 32]);
        m.prk
            .expand(LABEL_ENVELOPE, owner.as_bytes(), &mut key[..])?;
        Ok(key)
    }

    fn seal_inner(
        &self,
        kid: u32,
        owner: &str,
        plaintext: &[u8],
        context: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<Vec<u8>> {
        let snap = self.snapshot();
        let m = snap.material(kid)?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(&kid.to_be_bytes());
        out.extend_from_slice(nonce);
        out.extend_from_slice(plaintext);
        let in_out = &mut out[HEADER_LEN..];
        let tag = envelope::with_aad(kid, owner, context, |aad| {
            self.with_envelope_cipher(m, owner, |c| c.seal(nonce, aad, in_out))
        })?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens a text envelope sealed for `owner` and `context`.
    ///
    /// # Errors
    /// [`Error::Malformed`] for anything not `kc1`; [`Error::UnknownKey`], [`Error::KeyRetired`];
    /// [`Error::InvalidOwner`]; [`Error::DecryptFailed`] for a wrong owner, context or key, or tampering.
    pub fn open(&self, owner: &str, envelope: &str, context: &[u8]) -> Result<SecretBytes> {
        let bin = envelope::decode_text(envelope)?;
        self.open_binary(owner, &bin, context)
    }

    /// [`Keyring::open`] for the binary form.
    ///
    /// # Errors
    /// As [`Keyring::open`].
    pub fn open_binary(&self, owner: &str, envelope: &[u8], context: &[u8]) -> Result<SecretBytes> {
        let p = envelope::parse_binary(envelope)?;
        kdf::check_owner(owner)?;
        let snap = self.snapshot();
        let m = snap.material(p.kid)?;
        // Decrypt into the buffer that is returned; on failure it is wiped on drop.
        let mut buf = SecretBytes::new(p.ciphertext.to_vec());
        let out = buf.expose_secret_mut();
        envelope::with_aad(p.kid, owner, context, |aad| {
            self.with_envelope_cipher(m, owner, |c| c.open(&p.nonce, aad, out, &p.tag))
        })?;
        Ok(buf)
    }

    /// [`Keyring::open`], requiring the plaintext to be UTF-8.
    ///
    /// # Errors
    /// As [`Keyring::open`], and [`Error::Malformed`] with [`MalformedKind::Utf8`].
    pub fn open_text(&self, owner: &str, envelope: &str, context: &[u8]) -> Result<SecretString> {
        self.open(owner, envelope, context)?.into_string()
    }

    /// Whether the envelope was sealed under a key other than the primary (header only, no key used).
    ///
    /// # Errors
    /// [`Error::Malformed`].
    pub fn needs_rewrap(&self, envelope: &str) -> Result<bool> {
        let info: EnvelopeInfo = envelope::inspect(envelope)?;
        Ok(info.kid != self.primary_kid())
    }

    /// The envelope sealed under the primary key, or the same envelope if it already is.
    /// The plaintext exists only in a zeroizing buffer.
    ///
    /// # Errors
    /// As [`Keyring::open`] and [`Keyring::seal`].
    pub fn rewrap(&self, owner: &str, envelope: &str, context: &[u8]) -> Result<String> {
        let bin = envelope::decode_text(envelope)?;
        let p = envelope::parse_binary(&bin)?;
        kdf::check_owner(owner)?;
        if p.kid == self.primary_kid() {
            // Still authenticate it, so a rewrap never blesses a forged or misaddressed value.
            self.open_binary(owner, &bin, context)?;
            return Ok(envelope.to_owned());
        }
        let plain = self.open_binary(owner, &bin, context)?;
        self.seal(owner, plain.expose_secret(), context)
    }

    /// Derives a key for a custom purpose: `HKDF-Expand(PRK_primary, "keycustody/v1/custom/<purpose>" || 0x00 || owner, length)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty purpose or a length outside 1 to 8160; [`Error::InvalidOwner`].
    pub fn derive_key(&self, purpose: &str, owner: &str, length: usize) -> Result<SecretBytes> {
        if purpose.is_empty() || purpose.len() > 256 {
            return Err(Error::InvalidArgument("purpose must be 1 to 256 bytes"));
        }
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
    /// [`Error::UnknownKey`], [`Error::KeyRetired`], [`Error::InvalidOwner`], [`Error::InvalidArgument`].
    pub fn derive_labeled(
        &self,
        kid: Option<u32>,
        label: &[u8],
        owner: &str,
        length: usize,
    ) -> Result<(u32, SecretBytes)> {
        kdf::check_owner(owner)?;
        if length == 0 || length > kdf::MAX_DERIVED_LEN {
            return Err(Error::InvalidArgument("length must be 1 to 8160 bytes"));
        }
        let snap = self.snapshot();
        let kid = kid.unwrap_or(snap.primary);
        let m = snap.material(kid)?;
        let mut out = vec![0u8; length];
        m.prk.expand(label, owner.as_bytes(), &mut out)?;
        Ok((kid, SecretBytes::new(out)))
    }
}

/// Refuses key-file metadata that lets group or others in, or (Unix) another owner.
///
/// # Errors
/// [`Error::InsecurePermissions`].
pub fn check_key_file_metadata(meta: &std::fs::Metadata) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.mode() & 0o077 != 0 {
            return Err(Error::InsecurePermissions);
        }
        // std has no geteuid; on Linux /proc/self is owned by the effective uid.
        if let Ok(me) = std::fs::metadata("/proc/self") {
            if me.uid() != meta.uid() {
                return Err(Error::InsecurePermissions);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}
