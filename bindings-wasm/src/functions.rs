//! Free functions: envelope inspection, constant-time compare, tokens, API keys.

use crate::{
    bytes, envelope_info_to_js, js_string, js_u32, object, opt_u32, secret_string, secret_to_js,
    u8_array, usize_of, BytesArg, EnvelopeInfoJs, GeneratedApiKeyJs, JsResult, NumArg,
    ParsedApiKeyJs, StrArg, U8Arg,
};
use js_sys::JsString;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// What a `kc1.` envelope's header says: `{version, kid, plaintextLen}` (no key needed).
#[wasm_bindgen]
pub fn inspect(envelope: &StrArg) -> JsResult<EnvelopeInfoJs> {
    let envelope = js_string(envelope, "envelope must be a string")?;
    Ok(envelope_info_to_js(&keycustody::inspect(&envelope)?))
}

/// `inspect` for a binary envelope.
#[wasm_bindgen(js_name = inspectBinary)]
pub fn inspect_binary(envelope: &U8Arg) -> JsResult<EnvelopeInfoJs> {
    let envelope = u8_array(envelope, "envelope must be a Uint8Array")?;
    Ok(envelope_info_to_js(&keycustody::inspect_binary(&envelope)?))
}

/// Compares two byte strings (or strings, as UTF-8) in time that depends only on their
/// lengths. See the package README: a wasm engine may not keep that property.
#[wasm_bindgen(js_name = constantTimeEqual)]
pub fn constant_time_equal(a: &BytesArg, b: &BytesArg) -> JsResult<bool> {
    let a = bytes(a, "a must be a string or Uint8Array")?;
    let b = bytes(b, "b must be a string or Uint8Array")?;
    Ok(keycustody::constant_time_equal(&a, &b))
}

/// `nbytes` (default 32, at most 1024) random bytes as lowercase hex.
#[wasm_bindgen(js_name = randomToken)]
pub fn random_token(nbytes: Option<NumArg>) -> JsResult<JsString> {
    let n = opt_u32(nbytes, 32, "nbytes must be an integer from 1 to 1024")?;
    Ok(secret_to_js(
        keycustody::random_token(usize_of(n))?.expose_secret(),
    ))
}

/// A uniform base62 (`0-9A-Za-z`) token of `length` characters (default 32, 1 to 1024).
#[wasm_bindgen(js_name = randomBase62)]
pub fn random_base62(length: Option<NumArg>) -> JsResult<JsString> {
    let n = opt_u32(length, 32, "length must be an integer from 1 to 1024")?;
    Ok(secret_to_js(
        keycustody::random_base62(usize_of(n))?.expose_secret(),
    ))
}

/// `length` characters (1 to 1024) drawn uniformly from `alphabet` (2 to 128 distinct ASCII
/// symbols) by rejection sampling.
#[wasm_bindgen(js_name = randomString)]
pub fn random_string(alphabet: &StrArg, length: &NumArg) -> JsResult<JsString> {
    let alphabet = js_string(alphabet, "alphabet must be a string")?;
    let n = js_u32(length, "length must be an integer from 1 to 1024")?;
    Ok(secret_to_js(
        keycustody::random_string(alphabet.as_bytes(), usize_of(n))?.expose_secret(),
    ))
}

/// An invite code of `length` characters over `ABCDEFGHJKLMNPQRSTUVWXYZ23456789`.
#[wasm_bindgen(js_name = inviteCode)]
pub fn invite_code(length: &NumArg) -> JsResult<JsString> {
    let n = js_u32(length, "length must be an integer from 1 to 1024")?;
    Ok(secret_to_js(
        keycustody::invite_code(usize_of(n))?.expose_secret(),
    ))
}

/// A new API key `<prefix>_<30 random base62><6 checksum>`: `{key, hash, hint}`.
/// Show `key` once; store `hash` (SHA-256 hex); display `hint`.
#[wasm_bindgen(js_name = generateApiKey)]
pub fn generate_api_key(prefix: &StrArg) -> JsResult<GeneratedApiKeyJs> {
    let prefix = js_string(prefix, "prefix must be a string")?;
    let g = keycustody::generate_api_key(&prefix)?;
    Ok(object(&[
        ("key", secret_to_js(g.key.expose_secret()).into()),
        ("hash", JsValue::from_str(&g.hash)),
        ("hint", JsValue::from_str(&g.hint)),
    ])
    .unchecked_into())
}

/// The lowercase SHA-256 hex to store for an API key (checksum verified first).
#[wasm_bindgen(js_name = hashApiKey)]
pub fn hash_api_key(key: &StrArg) -> JsResult<String> {
    let key = secret_string(key, "key must be a string")?;
    Ok(keycustody::hash_api_key(&key)?)
}

/// Whether `key` matches `storedHash`, compared in constant time. A key with a bad
/// checksum or a malformed hash throws `KC_MALFORMED`.
#[wasm_bindgen(js_name = verifyApiKey)]
pub fn verify_api_key(
    key: &StrArg,
    #[wasm_bindgen(js_name = storedHash)] stored_hash: &StrArg,
) -> JsResult<bool> {
    let key = secret_string(key, "key must be a string")?;
    let stored_hash = js_string(stored_hash, "storedHash must be a string")?;
    Ok(keycustody::verify_api_key(&key, &stored_hash)?)
}

/// Parses an API key, rejecting typos by checksum before any lookup: `{prefix, hint, hash}`.
#[wasm_bindgen(js_name = parseApiKey)]
pub fn parse_api_key(key: &StrArg) -> JsResult<ParsedApiKeyJs> {
    let key = secret_string(key, "key must be a string")?;
    let k = keycustody::parse_api_key(&key)?;
    Ok(object(&[
        ("prefix", JsValue::from_str(k.prefix())),
        ("hint", JsValue::from_str(&k.hint())),
        ("hash", JsValue::from_str(&k.hash())),
    ])
    .unchecked_into())
}
