//! wasm-bindgen binding of `keycustody`: the npm package `keycustody-wasm`.
//!
//! Thin by design: every function converts its arguments, calls the core and
//! maps the core's error in [`error_to_js`], the one mapping function. Nothing
//! here can panic on caller input (a wasm panic aborts the whole instance):
//! every JS value is checked for its type and turned into a typed error
//! (`KC_INVALID_ARGUMENT`, `argument` = the parameter's name) when it is not what the
//! signature says. An exception thrown by the caller's own code while an argument is read
//! (a getter, a Proxy trap, an iterator) is caught at the call into JS and rethrown as is,
//! as the Node binding does ([`Failure::Thrown`]).
//!
//! Secrets cross the boundary by copy only: inputs are copied into zeroizing
//! buffers, outputs are copied straight from the core's zeroizing buffers into
//! JS values, so no un-wiped copy is left in the wasm linear memory.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use js_sys::{Array, JsString, Object, Reflect, Uint8Array};
use keycustody::{Error, MalformedKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use zeroize::Zeroizing;

mod custody;
mod functions;
mod keyring;
mod platform;

pub use custody::*;
pub use functions::*;
pub use keyring::Keyring;
pub use platform::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Every error thrown by keycustody-wasm is an `Error` with these fields. */
export interface KeycustodyError extends Error {
  name: "KeycustodyError";
  /** Stable code, e.g. `"KC_DECRYPT_FAILED"`, `"KC_MALFORMED"`, `"KC_INVALID_ARGUMENT"`. */
  code: string;
  /** The core error kind, e.g. `"DecryptFailed"` (the `expect` of the test vectors). */
  kind: string;
  /** The key id, for `KC_UNKNOWN_KEY`, `KC_KEY_RETIRED` and `KC_PRIMARY_KEY`. */
  kid?: number;
  /** The size limit in bytes, for `KC_TOO_LARGE`. */
  limit?: number;
  /** The claim that did not match, for `KC_CLAIM_MISMATCH` (e.g. `"aud"`). */
  claim?: string;
  /** For `KC_INVALID_ARGUMENT`: the parameter's name when the argument has the wrong JS type or is out of range (e.g. `"headers"`, `"options.leeway"`), else core's fixed text naming it. */
  argument?: string;
  /** Which part was malformed, for `KC_MALFORMED` (e.g. `"EnvelopePrefix"`, `"ApiKeyChecksum"`, `"WebhookHeaderMissing"`). */
  malformedKind?: string;
  /** The environment variable that is not set, for `KC_MISSING_ENV_VAR`. */
  envVar?: string;
  /** The I/O error kind, for `KC_IO` (e.g. `"NotFound"`). */
  ioKind?: string;
}
/** What an envelope's header says (no key needed). */
export interface EnvelopeInfo { version: number; kid: number; plaintextLen: number; }
/** A key of a keyring, without its secret. */
export interface KeyInfo { kid: number; state: "active" | "decrypt-only" | "retired"; fingerprint: string; }
/** A fresh API key: show `key` once, store `hash`, display `hint`. */
export interface GeneratedApiKey { key: string; hash: string; hint: string; }
/** A parsed (checksum-verified) API key. */
export interface ParsedApiKey { prefix: string; hint: string; hash: string; }
"#;

#[wasm_bindgen]
extern "C" {
    /// `string | Uint8Array` argument (a string is taken as its UTF-8 bytes).
    #[wasm_bindgen(typescript_type = "string | Uint8Array")]
    pub type BytesArg;
    /// `string` argument, checked at run time.
    #[wasm_bindgen(typescript_type = "string")]
    pub type StrArg;
    /// `Uint8Array` argument, checked at run time.
    #[wasm_bindgen(typescript_type = "Uint8Array")]
    pub type U8Arg;
    /// `number` argument, checked at run time (a non-negative integer).
    #[wasm_bindgen(typescript_type = "number")]
    pub type NumArg;
    /// Return type `EnvelopeInfo`.
    #[wasm_bindgen(typescript_type = "EnvelopeInfo")]
    pub type EnvelopeInfoJs;
    /// Return type `KeyInfo[]`.
    #[wasm_bindgen(typescript_type = "KeyInfo[]")]
    pub type KeyInfoArray;
    /// Return type `GeneratedApiKey`.
    #[wasm_bindgen(typescript_type = "GeneratedApiKey")]
    pub type GeneratedApiKeyJs;
    /// Return type `ParsedApiKey`.
    #[wasm_bindgen(typescript_type = "ParsedApiKey")]
    pub type ParsedApiKeyJs;
}

/// A failure on its way to JS (`Result<T, Failure>` is what every export returns).
#[derive(Debug)]
pub enum Failure {
    /// A core error.
    Core(Error),
    /// This binding's refusal of an argument of the wrong JS type or out of range:
    /// `KC_INVALID_ARGUMENT` whose `argument` is the bare parameter name (`owner`,
    /// `options.leeway`), as in the Node binding, and whose message is the sentence.
    Arg {
        /// The parameter's name as documented.
        arg: &'static str,
        /// The sentence saying what it must be, starting with the name.
        what: &'static str,
    },
    /// An exception thrown by the caller's own code while an argument was read (a
    /// getter, a Proxy trap, an iterator of a header mapping or options object): caught
    /// at the call into JS (an exception unwinding through the wasm frames would skip
    /// their cleanup) and rethrown as is once this call has cleaned up, as napi does.
    Thrown(JsValue),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl From<Failure> for JsValue {
    fn from(f: Failure) -> JsValue {
        match f {
            Failure::Core(e) => error_to_js(&e, None),
            Failure::Arg { arg, what } => error_to_js(&Error::InvalidArgument(what), Some(arg)),
            Failure::Thrown(v) => v,
        }
    }
}

/// The result type of every export.
pub type JsResult<T> = Result<T, Failure>;

/// THE error mapping: a JS `Error` named `KeycustodyError` with the core's stable
/// `code` and `kind`, plus, where the error carries one, its non-secret detail from core's
/// accessors (the same names and values as the Node binding): `kid`, `limit`, `claim`,
/// `argument`, `malformedKind` (`MalformedKind::name()`), `envVar`, `ioKind`. The message
/// is the core's fixed `Display` text, which never contains input bytes or secrets.
/// `argument` overrides the `argument` detail (this binding's own refusals: the bare name).
fn error_to_js(e: &Error, argument: Option<&'static str>) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("KeycustodyError");
    set(&err, "code", &JsValue::from_str(e.code()));
    set(&err, "kind", &JsValue::from_str(e.kind()));
    if let Some(kid) = e.kid() {
        set(&err, "kid", &JsValue::from(kid));
    }
    if let Some(limit) = e.limit() {
        set(&err, "limit", &JsValue::from(len_to_f64(limit)));
    }
    let texts = [
        ("claim", e.claim()),
        ("argument", argument.or(e.argument())),
        ("malformedKind", e.malformed_kind().map(|k| k.name())),
        ("envVar", e.env_var()),
        ("ioKind", e.io_kind_name()),
    ];
    for (name, value) in texts {
        if let Some(v) = value {
            set(&err, name, &JsValue::from_str(v));
        }
    }
    err.into()
}

/// Sets a property on an object we just created (cannot fail on a plain, extensible
/// object with no setters, so the result is deliberately ignored).
fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// A fresh plain object with the given properties.
fn object(props: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in props {
        set(&o, k, v);
    }
    o
}

/// This binding's refusal of an argument; `what` is a sentence starting with the
/// parameter's name (`"owner must be a string"`, `"options.leeway must be ..."`), and the
/// `argument` detail is that name alone.
fn invalid(what: &'static str) -> Failure {
    let arg = what.split_once(' ').map_or(what, |(name, _)| name);
    Failure::Arg { arg, what }
}

/// A JS string, refusing other types (`String` objects included) and strings that are
/// not well-formed UTF-16 (a lone surrogate would otherwise be silently replaced by U+FFFD).
fn js_string(v: &JsValue, what: &'static str) -> JsResult<String> {
    let s = v.as_string().ok_or_else(|| invalid(what))?;
    // The conversion turns each lone surrogate into U+FFFD, so only a string that now holds
    // one needs the exact check (which costs one JS call per UTF-16 code unit).
    if s.contains('\u{FFFD}')
        && !v
            .dyn_ref::<JsString>()
            .is_some_and(JsString::is_valid_utf16)
    {
        drop(Zeroizing::new(s)); // wiped: it may be a secret
        return Err(Failure::Core(Error::Malformed(MalformedKind::Utf8)));
    }
    Ok(s)
}

/// A string argument that may be secret: held in a zeroizing buffer.
fn secret_string(v: &JsValue, what: &'static str) -> JsResult<Zeroizing<String>> {
    js_string(v, what).map(Zeroizing::new)
}

/// `string | Uint8Array` as bytes, in a zeroizing buffer.
fn bytes(v: &JsValue, what: &'static str) -> JsResult<Zeroizing<Vec<u8>>> {
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(Zeroizing::new(a.to_vec()));
    }
    js_string(v, what).map(|s| Zeroizing::new(s.into_bytes()))
}

/// An optional `string | Uint8Array` (absent, `undefined` or `null` = empty).
fn opt_bytes(v: Option<BytesArg>, what: &'static str) -> JsResult<Zeroizing<Vec<u8>>> {
    match v {
        None => Ok(Zeroizing::new(Vec::new())),
        Some(v) => bytes(&v, what),
    }
}

/// A `Uint8Array` only.
fn u8_array(v: &JsValue, what: &'static str) -> JsResult<Zeroizing<Vec<u8>>> {
    v.dyn_ref::<Uint8Array>()
        .map(|a| Zeroizing::new(a.to_vec()))
        .ok_or_else(|| invalid(what))
}

/// A JS number that is an integer in `0..=u32::MAX` (no silent truncation or wrap-around).
fn js_u32(v: &JsValue, what: &'static str) -> JsResult<u32> {
    let n = v.as_f64().ok_or_else(|| invalid(what))?;
    if !(n.is_finite() && n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n)) {
        return Err(invalid(what));
    }
    // In range and integral, checked above: the conversion is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(n as u32)
}

/// An optional `number` with a default.
fn opt_u32(v: Option<NumArg>, default: u32, what: &'static str) -> JsResult<u32> {
    match v {
        None => Ok(default),
        Some(v) => js_u32(&v, what),
    }
}

fn usize_of(n: u32) -> usize {
    // u32 always fits usize on wasm32 and on 64-bit hosts.
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A length or count as a JS number (saturating at 2^32 - 1; ours are far below).
fn len_to_f64(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

fn js_len(n: usize) -> JsValue {
    // Lengths handled here are at most 64 MiB; saturate rather than wrap.
    JsValue::from(u32::try_from(n).unwrap_or(u32::MAX))
}

#[wasm_bindgen(inline_js = r#"
// The text of a new envelope, built by the JS engine from the binary envelope in the
// module's memory. The generated glue would decode a Rust string with TextDecoder, which in
// Chromium costs about 1 µs for a string it has not decoded before (that is, every
// envelope): over a third of a 64-byte seal. Uint8Array.prototype.toBase64 (Chrome 140,
// Firefox 133, Safari 18.2) takes 0.3 µs for any content. Where it is missing this returns
// undefined and Rust encodes the text, returned the usual way (Node's TextDecoder is fast).
let view = new Uint8Array(0);
const B64 = { alphabet: 'base64url', omitPadding: true };
const hasToBase64 = typeof Uint8Array.prototype.toBase64 === 'function';
export function kc_envelope_text(memory, ptr, len) {
  if (!hasToBase64) return undefined;
  if (view.buffer !== memory.buffer) view = new Uint8Array(memory.buffer);
  return 'kc1.' + view.subarray(ptr, ptr + len).toBase64(B64);
}
"#)]
extern "C" {
    fn kc_envelope_text(memory: &JsValue, ptr: u32, len: u32) -> JsValue;
}

/// Where `b` is in this module's memory (addresses and lengths fit u32 on wasm32).
fn mem_range(b: &[u8]) -> (u32, u32) {
    let ptr = u32::try_from(b.as_ptr() as usize).unwrap_or(0);
    (ptr, u32::try_from(b.len()).unwrap_or(0))
}

/// The text form of a binary envelope as a JS string (see `kc_envelope_text`).
fn envelope_text_to_js(bin: &[u8]) -> Result<JsString, keycustody::Error> {
    let memory = wasm_bindgen::memory();
    let (ptr, len) = mem_range(bin);
    match kc_envelope_text(&memory, ptr, len).dyn_into::<JsString>() {
        Ok(s) => Ok(s),
        Err(_) => Ok(JsValue::from_str(&keycustody::envelope_text(bin)?).unchecked_into()),
    }
}

/// A secret string as a JS string, copied directly out of the zeroizing buffer.
fn secret_to_js(s: &str) -> JsString {
    JsValue::from_str(s).unchecked_into()
}

/// Secret bytes as a fresh `Uint8Array`, copied directly out of the zeroizing buffer.
fn secret_bytes_to_js(b: &[u8]) -> Uint8Array {
    Uint8Array::from(b)
}

fn envelope_info_to_js(i: &keycustody::EnvelopeInfo) -> EnvelopeInfoJs {
    object(&[
        ("version", JsValue::from(i.version)),
        ("kid", JsValue::from(i.kid)),
        ("plaintextLen", js_len(i.plaintext_len)),
    ])
    .unchecked_into()
}

fn array_of(items: impl IntoIterator<Item = JsValue>) -> Array {
    items.into_iter().collect()
}

/// Whether this build has 128-bit SIMD (kept on, see the README); checked by the tests so
/// that the shipped package cannot silently lose it. Not part of the API.
#[doc(hidden)]
#[wasm_bindgen(js_name = __simd128, skip_typescript)]
pub fn simd128() -> bool {
    cfg!(target_feature = "simd128")
}
