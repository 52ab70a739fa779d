//! Free functions: envelope inspection, constant-time comparison, random tokens.

use crate::conv::{self, secret_js_string};
use crate::error::run;
use napi::bindgen_prelude::Unknown;
use napi::Env;
use napi::JsString;
use napi_derive::napi;

/// What an envelope's header says (no key needed).
#[napi(object)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeInfo {
    /// The format version (1 for `kc1`).
    pub version: u32,
    /// The key id that sealed it.
    pub kid: u32,
    /// The plaintext length in bytes.
    pub plaintext_len: u32,
}

/// Reads an envelope's header: version, key id and plaintext length. Needs no key.
///
/// @throws {Error} `KC_MALFORMED` for anything that is not a `kc1` envelope.
#[napi]
pub fn inspect(
    env: &Env,
    #[napi(ts_arg_type = "string")] envelope: Unknown<'_>,
) -> napi::Result<EnvelopeInfo> {
    run(env, || {
        let envelope = conv::string(envelope, "envelope")?;
        let info = keycustody::inspect(&envelope)?;
        Ok(EnvelopeInfo {
            version: u32::from(info.version),
            kid: info.kid,
            // At most 64 MiB, checked by the parser.
            plaintext_len: u32::try_from(info.plaintext_len).unwrap_or(u32::MAX),
        })
    })
}

/// `inspect` for a binary envelope (from `sealBinary`).
///
/// @throws {Error} `KC_MALFORMED`.
#[napi]
pub fn inspect_binary(
    env: &Env,
    #[napi(ts_arg_type = "Uint8Array")] envelope: Unknown<'_>,
) -> napi::Result<EnvelopeInfo> {
    run(env, || {
        let envelope = conv::binary(envelope, "envelope")?;
        let info = keycustody::inspect_binary(envelope.as_slice())?;
        Ok(EnvelopeInfo {
            version: u32::from(info.version),
            kid: info.kid,
            plaintext_len: u32::try_from(info.plaintext_len).unwrap_or(u32::MAX),
        })
    })
}

/// Compares two byte strings (or strings, as UTF-8) in constant time: the
/// time never depends on where they differ. Different lengths give `false`.
#[napi]
pub fn constant_time_equal(
    env: &Env,
    #[napi(ts_arg_type = "string | Uint8Array")] a: Unknown<'_>,
    #[napi(ts_arg_type = "string | Uint8Array")] b: Unknown<'_>,
) -> napi::Result<bool> {
    run(env, || {
        let a = conv::bytes(a, "a")?;
        let b = conv::bytes(b, "b")?;
        Ok(keycustody::constant_time_equal(a.as_slice(), b.as_slice()))
    })
}

/// `nbytes` (default 32, at most 1024) random bytes from the OS CSPRNG as
/// lowercase hex: a 32-byte gateway token is 64 hex characters.
///
/// @throws {Error} `KC_INVALID_ARGUMENT` unless 1 <= nbytes <= 1024.
#[napi]
pub fn random_token<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "number")] nbytes: Option<Unknown<'_>>,
) -> napi::Result<JsString<'e>> {
    run(env, || {
        let n = conv::opt_u32_len(nbytes, "nbytes", 32)?;
        secret_js_string(env, &keycustody::random_token(n)?)
    })
}

/// A uniform random token of `length` (default 32, at most 1024) base62
/// characters (`0-9A-Za-z`), by rejection sampling (no modulo bias).
///
/// @throws {Error} `KC_INVALID_ARGUMENT` unless 1 <= length <= 1024.
#[napi]
pub fn random_base62<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "number")] length: Option<Unknown<'_>>,
) -> napi::Result<JsString<'e>> {
    run(env, || {
        let n = conv::opt_u32_len(length, "length", 32)?;
        secret_js_string(env, &keycustody::random_base62(n)?)
    })
}

/// `length` characters (1 to 1024) drawn uniformly from `alphabet` (2 to 128 distinct
/// ASCII symbols) by rejection sampling (no modulo bias).
///
/// @throws {Error} `KC_INVALID_ARGUMENT` for a bad alphabet or unless 1 <= length <= 1024.
#[napi]
pub fn random_string<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "string")] alphabet: Unknown<'_>,
    #[napi(ts_arg_type = "number")] length: Unknown<'_>,
) -> napi::Result<JsString<'e>> {
    run(env, || {
        let alphabet = conv::string(alphabet, "alphabet")?;
        let n = conv::u32_len(length, "length")?;
        secret_js_string(env, &keycustody::random_string(alphabet.as_bytes(), n)?)
    })
}

/// An invite code of `length` characters over `ABCDEFGHJKLMNPQRSTUVWXYZ23456789`
/// (no `0`, `1`, `I`, `O`), uniform.
///
/// @throws {Error} `KC_INVALID_ARGUMENT` unless 1 <= length <= 1024.
#[napi]
pub fn invite_code<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "number")] length: Unknown<'_>,
) -> napi::Result<JsString<'e>> {
    run(env, || {
        let n = conv::u32_len(length, "length")?;
        secret_js_string(env, &keycustody::invite_code(n)?)
    })
}
