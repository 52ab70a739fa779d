//! The keyring: root keys with their states, rotation and lookup.
//!
//! The envelope operations on a keyring (seal, open, rewrap) are in `envelope.rs`, beside
//! the byte layout they implement; the JSON text form is `keyring_text.rs`; loading it
//! from an environment variable or a file is `keyfile.rs`. This file imports none of them.

use crate::aead::Backend;
use crate::error::{Error, Result};
use crate::kdf::{Prk, LABEL_FINGERPRINT};
use crate::keycache::OwnerCache;
use crate::random::fill_random;
use crate::secret::SecretBytes;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use zeroize::Zeroizing;

/// The shortest root key, in bytes.
pub const MIN_ROOT_LEN: usize = 32;
/// The key id of a fresh keyring's first key ([`Keyring::generate`]) and the bindings'
/// default for [`Keyring::from_secret`].
pub const DEFAULT_KID: u32 = 1;
/// The longest root key, in bytes.
pub const MAX_ROOT_LEN: usize = 1024;
/// The most keys one keyring holds.
pub const MAX_KEYS: usize = 4096;
/// The largest keyring text or file.
pub const MAX_KEYRING_TEXT: usize = 1024 * 1024;

/// The state of a root key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
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

    pub(crate) fn parse(s: &str) -> Option<KeyState> {
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
#[non_exhaustive]
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
pub(crate) struct Entry {
    pub(crate) state: KeyState,
    pub(crate) fingerprint: String,
    // None once retired: retiring destroys the key material.
    pub(crate) material: Option<Material>,
}

impl Entry {
    /// A key with its secret, in `state` (active or decrypt-only).
    pub(crate) fn live(state: KeyState, secret: SecretBytes) -> Entry {
        let (material, fingerprint) = Material::new(secret);
        Entry {
            state,
            fingerprint,
            material: Some(material),
        }
    }

    /// A retired key: its id only (no secret, no fingerprint, as in the text form).
    pub(crate) fn retired() -> Entry {
        Entry {
            state: KeyState::Retired,
            fingerprint: String::new(),
            material: None,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Material {
    secret: SecretBytes,
    prk: Prk,
    // Expanded envelope ciphers of recent owners (RustCrypto backend only; see keycache).
    soft_keys: OwnerCache<aes_gcm::Aes256Gcm>,
}

impl Material {
    /// The root secret (for the text form).
    pub(crate) fn secret(&self) -> &SecretBytes {
        &self.secret
    }

    /// The HKDF pseudo-random key of this root key.
    pub(crate) fn prk(&self) -> &Prk {
        &self.prk
    }

    /// Runs `f` with this key's expanded envelope cipher for `owner` (RustCrypto backend),
    /// cached; on a miss it is expanded from the key `key` returns.
    pub(crate) fn with_soft_cipher<T>(
        &self,
        owner: &str,
        key: impl FnOnce() -> Result<Zeroizing<[u8; 32]>>,
        f: impl FnOnce(&aes_gcm::Aes256Gcm) -> Result<T>,
    ) -> Result<T> {
        self.soft_keys
            .with(owner, || Ok(crate::aead::expand(&*key()?)), f)
    }

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
pub(crate) struct State {
    pub(crate) primary: u32,
    pub(crate) keys: BTreeMap<u32, Entry>,
}

impl State {
    /// The material of a key that opens: `UnknownKey` / `KeyRetired` otherwise.
    pub(crate) fn material(&self, kid: u32) -> Result<&Material> {
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

fn random_root() -> Result<SecretBytes> {
    let mut k = vec![0u8; 32];
    fill_random(&mut k)?;
    Ok(SecretBytes::new(k))
}

impl Keyring {
    pub(crate) fn from_state(state: State) -> Keyring {
        Keyring {
            state: RwLock::new(Arc::new(state)),
            backend: Backend::DEFAULT,
        }
    }

    /// The same keys, using `backend` for AES-GCM (differential tests).
    #[cfg(any(test, feature = "internal"))]
    pub(crate) fn with_backend(&self, backend: Backend) -> Keyring {
        Keyring {
            state: RwLock::new(self.snapshot()),
            backend,
        }
    }

    /// The AES-GCM backend of this keyring.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// The current keys (changes swap in a new snapshot; this one stays as it is).
    pub(crate) fn snapshot(&self) -> Arc<State> {
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
        Ok(Keyring::with_root(DEFAULT_KID, random_root()?))
    }

    fn with_root(kid: u32, secret: SecretBytes) -> Keyring {
        let mut keys = BTreeMap::new();
        keys.insert(kid, Entry::live(KeyState::Active, secret));
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

    /// Adds a fresh random key as `decrypt-only` (kid = max + 1, above every kid held,
    /// retired ones included, so a kid is never reused) and returns its kid.
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
            s.keys
                .insert(kid, Entry::live(KeyState::DecryptOnly, secret));
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
    /// Retiring a retired key does nothing.
    ///
    /// # Errors
    /// [`Error::PrimaryKey`] for the primary, [`Error::UnknownKey`].
    pub fn retire(&self, kid: u32) -> Result<()> {
        self.update(|s| {
            if kid == s.primary {
                return Err(Error::PrimaryKey(kid));
            }
            let e = s.keys.get_mut(&kid).ok_or(Error::UnknownKey(kid))?;
            // No fingerprint either, as in the text form: kids() is the same before and
            // after an export/parse round trip.
            *e = Entry::retired();
            Ok(())
        })
    }

    /// Removes `kid`'s secret for good, leaving a retired entry (a tombstone): envelopes
    /// under it fail with `KeyRetired`, and the kid is never issued again, since
    /// [`Keyring::add_key`] goes above every kid this keyring holds, tombstones included.
    /// The keyring's text form has no other way to remember a kid, so `remove` is
    /// [`Keyring::retire`]; removing a retired key does nothing.
    ///
    /// (Forgetting the kid entirely would let `add_key` re-issue it with a new secret:
    /// old envelopes would then fail as `DecryptFailed`, and instances still holding
    /// the old key would open what the others cannot.)
    ///
    /// # Errors
    /// [`Error::PrimaryKey`] for the primary, [`Error::UnknownKey`].
    pub fn remove(&self, kid: u32) -> Result<()> {
        self.retire(kid)
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
}
