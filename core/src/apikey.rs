//! Daemon/API keys: `<prefix>_<30 base62 random><6 base62 CRC-32>`, shown once,
//! stored as SHA-256 hex, verified in constant time, typos rejected by checksum.

use crate::error::{Error, MalformedKind, Result};
use crate::random::{random_base62, BASE62};
use crate::secret::SecretString;
use core::fmt;
use core::str::FromStr;
use sha2::{Digest, Sha256};

/// Random characters in a key body.
pub const RANDOM_LEN: usize = 30;
/// Checksum characters in a key body.
pub const CHECKSUM_LEN: usize = 6;
/// Characters in a key body.
pub const BODY_LEN: usize = RANDOM_LEN + CHECKSUM_LEN;
/// The longest prefix.
pub const MAX_PREFIX_LEN: usize = 16;

/// A syntactically valid API key (prefix, charset and checksum all checked).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    key: SecretString,
    prefix_len: usize,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("hint", &self.hint())
            .finish_non_exhaustive()
    }
}

/// A freshly generated key: show `key` once, store `hash`, display `hint`.
#[derive(Clone)]
#[non_exhaustive]
pub struct GeneratedApiKey {
    /// The key itself; shown to the user once, never stored.
    pub key: SecretString,
    /// Lowercase SHA-256 hex of the key: what the database stores.
    pub hash: String,
    /// `prefix_` + first 4 + `…` + last 4 characters of the body, for UIs.
    pub hint: String,
}

impl fmt::Debug for GeneratedApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedApiKey")
            .field("hash", &self.hash)
            .field("hint", &self.hint)
            .finish_non_exhaustive()
    }
}

fn check_prefix(prefix: &str) -> Result<()> {
    let b = prefix.as_bytes();
    let ok = (2..=MAX_PREFIX_LEN).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Error::Malformed(MalformedKind::ApiKeyPrefix))
    }
}

fn checksum(prefix_and_random: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut n = crc32fast::hash(prefix_and_random);
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Checks the syntax of a key (prefix, length, charset, checksum) without copying it;
/// returns the prefix length.
fn check_key(s: &str) -> Result<usize> {
    let (prefix, body) = s
        .split_once('_')
        .ok_or(Error::Malformed(MalformedKind::ApiKeyPrefix))?;
    check_prefix(prefix)?;
    if body.len() != BODY_LEN {
        return Err(Error::Malformed(MalformedKind::ApiKeyLength));
    }
    if !body.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::Malformed(MalformedKind::ApiKeyCharset));
    }
    let split = prefix.len() + 1 + RANDOM_LEN;
    let expected = checksum(&s.as_bytes()[..split]);
    if !crate::constant_time_equal(&expected, &s.as_bytes()[split..]) {
        return Err(Error::Malformed(MalformedKind::ApiKeyChecksum));
    }
    Ok(prefix.len())
}

impl ApiKey {
    /// Parses a key, telling a bad prefix, length, charset and checksum apart.
    ///
    /// # Errors
    /// [`Error::Malformed`] with `ApiKeyPrefix`, `ApiKeyLength`, `ApiKeyCharset` or `ApiKeyChecksum`.
    pub fn parse(s: &str) -> Result<ApiKey> {
        let prefix_len = check_key(s)?;
        Ok(ApiKey {
            key: SecretString::new(s.to_owned()),
            prefix_len,
        })
    }

    /// The prefix (before `_`).
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.key.expose_secret()[..self.prefix_len]
    }

    /// `prefix_` + first 4 + `…` + last 4 characters of the body.
    #[must_use]
    pub fn hint(&self) -> String {
        let body = &self.key.expose_secret()[self.prefix_len + 1..];
        format!("{}_{}…{}", self.prefix(), &body[..4], &body[BODY_LEN - 4..])
    }

    /// Lowercase SHA-256 hex of the whole key.
    #[must_use]
    pub fn hash(&self) -> String {
        base16ct::lower::encode_string(&self.digest())
    }

    fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.key.expose_secret().as_bytes()).into()
    }

    /// The key text.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        self.key.expose_secret()
    }
}

impl FromStr for ApiKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<ApiKey> {
        ApiKey::parse(s)
    }
}

/// Generates a key with the given prefix (`[a-z][a-z0-9]{1,15}`).
///
/// # Errors
/// [`Error::Malformed`] with `ApiKeyPrefix`; [`Error::RandomUnavailable`].
pub fn generate_api_key(prefix: &str) -> Result<GeneratedApiKey> {
    check_prefix(prefix)?;
    let random = random_base62(RANDOM_LEN)?;
    let mut key = String::with_capacity(prefix.len() + 1 + BODY_LEN);
    key.push_str(prefix);
    key.push('_');
    key.push_str(random.expose_secret());
    let sum = checksum(key.as_bytes());
    key.extend(sum.iter().map(|&c| char::from(c)));
    let parsed = ApiKey {
        key: SecretString::new(key),
        prefix_len: prefix.len(),
    };
    Ok(GeneratedApiKey {
        hash: parsed.hash(),
        hint: parsed.hint(),
        key: parsed.key,
    })
}

/// Parses a key (see [`ApiKey::parse`]): reject typos before any database lookup.
///
/// # Errors
/// As [`ApiKey::parse`].
pub fn parse_api_key(key: &str) -> Result<ApiKey> {
    ApiKey::parse(key)
}

/// The stored form of a key: lowercase SHA-256 hex. The key is parsed first.
///
/// # Errors
/// As [`ApiKey::parse`].
pub fn hash_api_key(key: &str) -> Result<String> {
    Ok(ApiKey::parse(key)?.hash())
}

/// Whether the presented `key` hashes to `stored_hash`, compared in constant time.
///
/// The rule of every `verify_*` of a presented credential: a presentation that does not
/// verify is `Ok(false)`, whatever is wrong with it (wrong key, typo, bad prefix, wrong
/// length, not base62, empty), so a route handler answers 401, never 500. Only a defect
/// of the *stored* side, which is the caller's data, is an error.
///
/// Timing: the presented text is hashed as it is (SHA-256 of its bytes, whether or not it
/// parses) and that digest is compared with the stored one in constant time in every
/// case; the result is `digest_matches & parses`. What varies with the input is only the
/// parse (where the first defect is) and the hash's length dependence, both functions of
/// the presented text alone, which the presenter already knows: nothing about the
/// stored hash shows. (A text that does not parse cannot be the key behind a stored hash
/// made by [`hash_api_key`], so `parses` never turns a match into a mismatch in practice;
/// it is kept so that an unparsable text never verifies, even against a hash stored
/// some other way.)
///
/// # Errors
/// [`Error::Malformed`] with [`MalformedKind::ApiKeyHash`] if `stored_hash` is not 64
/// lowercase hex characters (a data error); never for the presented key.
pub fn verify_api_key(key: &str, stored_hash: &str) -> Result<bool> {
    let mut stored = [0u8; 32];
    if stored_hash.len() != 2 * stored.len()
        || base16ct::lower::decode(stored_hash, &mut stored).is_err()
    {
        return Err(Error::Malformed(MalformedKind::ApiKeyHash));
    }
    let parses = check_key(key).is_ok();
    // The same bytes `ApiKey::digest` hashes for a key that parses.
    let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let matches = crate::constant_time_equal(&digest, &stored);
    Ok(matches & parses)
}
