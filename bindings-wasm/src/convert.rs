//! The conversions of every export: JS values in (checked, never trusted: a wrong type is a
//! typed `KC_INVALID_ARGUMENT`, never a trap), the one error mapping out ([`error_to_js`]), and
//! secrets copied out of zeroizing buffers. Shared by this crate and the delivery module
//! (`delivery/`, which includes this file), so that both throw the same `KeycustodyError`.

use js_sys::{JsString, Object, Reflect, Uint8Array};
use keycustody::{Error, MalformedKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use zeroize::Zeroizing;

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR: &'static str = r#"
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
  /** The seq where the chain breaks, for `KC_AUDIT_BROKEN`. */
  auditPosition?: number;
}
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
/// `argument`, `malformedKind` (`MalformedKind::name()`), `envVar`, `ioKind`, `auditPosition`. The message
/// is the core's fixed `Display` text, which never contains input bytes or secrets.
/// `argument` overrides the `argument` detail (this binding's own refusals: the bare name).
pub(crate) fn error_to_js(e: &Error, argument: Option<&'static str>) -> JsValue {
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
    if let Some(seq) = e.audit_position() {
        // Seqs are far below 2^53: the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        set(&err, "auditPosition", &JsValue::from(seq as f64));
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
pub(crate) fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// A fresh plain object with the given properties.
pub(crate) fn object(props: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in props {
        set(&o, k, v);
    }
    o
}

/// This binding's refusal of an argument; `what` is a sentence starting with the
/// parameter's name (`"owner must be a string"`, `"options.leeway must be ..."`), and the
/// `argument` detail is that name alone.
pub(crate) fn invalid(what: &'static str) -> Failure {
    let arg = what.split_once(' ').map_or(what, |(name, _)| name);
    Failure::Arg { arg, what }
}

/// A JS string, refusing other types (`String` objects included) and strings that are
/// not well-formed UTF-16 (a lone surrogate would otherwise be silently replaced by U+FFFD).
pub(crate) fn js_string(v: &JsValue, what: &'static str) -> JsResult<String> {
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
pub(crate) fn secret_string(v: &JsValue, what: &'static str) -> JsResult<Zeroizing<String>> {
    js_string(v, what).map(Zeroizing::new)
}

/// `string | Uint8Array` as bytes, in a zeroizing buffer.
pub(crate) fn bytes(v: &JsValue, what: &'static str) -> JsResult<Zeroizing<Vec<u8>>> {
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(Zeroizing::new(a.to_vec()));
    }
    js_string(v, what).map(|s| Zeroizing::new(s.into_bytes()))
}

/// An optional `string | Uint8Array` (absent, `undefined` or `null` = empty).
pub(crate) fn opt_bytes(v: Option<BytesArg>, what: &'static str) -> JsResult<Zeroizing<Vec<u8>>> {
    match v {
        None => Ok(Zeroizing::new(Vec::new())),
        Some(v) => bytes(&v, what),
    }
}

/// A `Uint8Array` only.
pub(crate) fn u8_array(v: &JsValue, what: &'static str) -> JsResult<Zeroizing<Vec<u8>>> {
    v.dyn_ref::<Uint8Array>()
        .map(|a| Zeroizing::new(a.to_vec()))
        .ok_or_else(|| invalid(what))
}

/// A JS number that is an integer in `0..=u32::MAX` (no silent truncation or wrap-around).
pub(crate) fn js_u32(v: &JsValue, what: &'static str) -> JsResult<u32> {
    let n = v.as_f64().ok_or_else(|| invalid(what))?;
    if !(n.is_finite() && n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n)) {
        return Err(invalid(what));
    }
    // In range and integral, checked above: the conversion is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(n as u32)
}

/// An optional `number` with a default.
pub(crate) fn opt_u32(v: Option<NumArg>, default: u32, what: &'static str) -> JsResult<u32> {
    match v {
        None => Ok(default),
        Some(v) => js_u32(&v, what),
    }
}

pub(crate) fn usize_of(n: u32) -> usize {
    // u32 always fits usize on wasm32 and on 64-bit hosts.
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A length or count as a JS number (saturating at 2^32 - 1; ours are far below).
pub(crate) fn len_to_f64(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

pub(crate) fn js_len(n: usize) -> JsValue {
    // Lengths handled here are at most 64 MiB; saturate rather than wrap.
    JsValue::from(u32::try_from(n).unwrap_or(u32::MAX))
}

/// A secret string as a JS string, copied directly out of the zeroizing buffer.
pub(crate) fn secret_to_js(s: &str) -> JsString {
    JsValue::from_str(s).unchecked_into()
}

/// Secret bytes as a fresh `Uint8Array`, copied directly out of the zeroizing buffer.
pub(crate) fn secret_bytes_to_js(b: &[u8]) -> Uint8Array {
    Uint8Array::from(b)
}
