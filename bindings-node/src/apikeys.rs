//! Daemon/API keys: `<prefix>_<30 base62 random><6 base62 CRC-32 checksum>`.

use crate::conv::{self, SecretText};
use crate::error::run;
use napi::bindgen_prelude::Unknown;
use napi::Env;
use napi_derive::napi;

/// A freshly generated API key: show `key` to the user once, store `hash`, display `hint`.
#[napi(object, object_from_js = false)]
pub struct GeneratedApiKey {
    /// The key itself. Show it once; never store or log it.
    #[napi(ts_type = "string")]
    pub key: SecretText,
    /// Lowercase SHA-256 hex of the key: what the database stores.
    pub hash: String,
    /// `prefix_` + first 4 + `…` + last 4 characters of the body, for UIs.
    pub hint: String,
}

/// What a syntactically valid API key tells without a database lookup.
#[napi(object)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedApiKey {
    /// The prefix (before `_`).
    pub prefix: String,
    /// `prefix_` + first 4 + `…` + last 4 characters of the body, for UIs.
    pub hint: String,
    /// Lowercase SHA-256 hex of the key (look this up).
    pub hash: String,
}

/// Generates an API key with `prefix` (`[a-z][a-z0-9]{1,15}`).
///
/// @throws {Error} `KC_MALFORMED` for an invalid prefix.
#[napi]
pub fn generate_api_key(
    env: &Env,
    #[napi(ts_arg_type = "string")] prefix: Unknown<'_>,
) -> napi::Result<GeneratedApiKey> {
    run(env, || {
        let prefix = conv::string(prefix, "prefix")?;
        let g = keycustody::generate_api_key(&prefix)?;
        Ok(GeneratedApiKey {
            key: SecretText(g.key),
            hash: g.hash,
            hint: g.hint,
        })
    })
}

/// Parses an API key, rejecting typos by checksum before any database lookup.
///
/// @throws {Error} `KC_MALFORMED` for a bad prefix, length, character or checksum.
#[napi]
pub fn parse_api_key(
    env: &Env,
    #[napi(ts_arg_type = "string")] key: Unknown<'_>,
) -> napi::Result<ParsedApiKey> {
    run(env, || {
        let key = conv::secret_string(key, "key")?;
        let k = keycustody::parse_api_key(&key)?;
        Ok(ParsedApiKey {
            prefix: k.prefix().to_owned(),
            hint: k.hint(),
            hash: k.hash(),
        })
    })
}

/// The stored form of an API key: lowercase SHA-256 hex (the key is parsed first).
///
/// @throws {Error} `KC_MALFORMED` as `parseApiKey`.
#[napi]
pub fn hash_api_key(
    env: &Env,
    #[napi(ts_arg_type = "string")] key: Unknown<'_>,
) -> napi::Result<String> {
    run(env, || {
        let key = conv::secret_string(key, "key")?;
        Ok(keycustody::hash_api_key(&key)?)
    })
}

/// Whether `key` hashes to `storedHash`, compared in constant time.
///
/// @throws {Error} `KC_MALFORMED` if the key does not parse or the hash is not 64 lowercase hex characters.
#[napi]
pub fn verify_api_key(
    env: &Env,
    #[napi(ts_arg_type = "string")] key: Unknown<'_>,
    #[napi(ts_arg_type = "string")] stored_hash: Unknown<'_>,
) -> napi::Result<bool> {
    run(env, || {
        let key = conv::secret_string(key, "key")?;
        let stored = conv::string(stored_hash, "storedHash")?;
        Ok(keycustody::verify_api_key(&key, &stored)?)
    })
}

impl std::fmt::Debug for GeneratedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedApiKey")
            .field("hint", &self.hint)
            .finish_non_exhaustive()
    }
}
