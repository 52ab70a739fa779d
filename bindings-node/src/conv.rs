//! Argument conversion: JavaScript values in, Rust values out, with a
//! `TypeError`/`RangeError` naming the argument (never quoting its value)
//! when the type or range is wrong.
//!
//! napi-rs's own conversions put the offending value into the error message
//! (a number's digits, an object's JSON). A secret passed in the wrong place
//! would then end up in a log, so every binding function takes `Unknown`
//! arguments and converts them here instead. This module is also the only
//! place with `unsafe`: `Unknown::cast` after the type has been checked.

use crate::error::{Fail, Res};
use napi::bindgen_prelude::{
    Buffer, BufferSlice, JsObjectValue, JsValue, Object, Uint8ArraySlice, Unknown,
};
use napi::{sys, Env, JsString, ValueType};
use zeroize::Zeroizing;

/// Bytes given as a JavaScript string (its UTF-8 encoding) or a `Uint8Array`/`Buffer`.
pub(crate) enum Bytes<'a> {
    /// A string's UTF-8 bytes (wiped on drop), or an empty default.
    Owned(Zeroizing<Vec<u8>>),
    /// A view of a `Uint8Array` or `Buffer`, borrowed for the duration of the call.
    Slice(Uint8ArraySlice<'a>),
}

impl Bytes<'_> {
    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Slice(s) => s,
        }
    }

    /// A copy that outlives the call (for work on the libuv thread pool), wiped on drop.
    pub(crate) fn to_owned_bytes(&self) -> Zeroizing<Vec<u8>> {
        match self {
            Bytes::Owned(v) => v.clone(),
            Bytes::Slice(s) => Zeroizing::new(s.to_vec()),
        }
    }
}

fn type_of(v: &Unknown<'_>) -> Res<ValueType> {
    Ok(v.get_type()?)
}

fn is_absent(v: &Option<Unknown<'_>>) -> Res<bool> {
    match v {
        None => Ok(true),
        Some(u) => Ok(matches!(
            type_of(u)?,
            ValueType::Undefined | ValueType::Null
        )),
    }
}

/// Reads a JavaScript string as UTF-8 in one pass.
///
/// napi-rs's own `String` conversion asks V8 for the UTF-8 length (a full scan)
/// and then converts (a second scan). Here the capacity comes from the UTF-16
/// length, which V8 knows without scanning: one UTF-16 unit is at most 3 UTF-8
/// bytes (a surrogate pair, 2 units, is 4), plus the NUL terminator.
fn read_string(v: &Unknown<'_>) -> Res<String> {
    let env = v.value().env;
    let raw = v.raw();
    let mut units = 0usize;
    // SAFETY: `env` and `raw` are the live handles of this call's argument, which
    // is a string; a null buffer only queries the length (in UTF-16 code units).
    let st =
        unsafe { sys::napi_get_value_string_utf16(env, raw, std::ptr::null_mut(), 0, &mut units) };
    if st != sys::Status::napi_ok {
        return Err(Fail::Napi(napi::Error::new(
            napi::Status::from(st),
            "could not read a string argument",
        )));
    }
    let cap = units
        .checked_mul(3)
        .and_then(|c| c.checked_add(1))
        .ok_or(Fail::Core(keycustody::Error::TooLarge {
            limit: usize::MAX / 3,
        }))?;
    let mut buf: Vec<u8> = Vec::with_capacity(cap);
    let mut written = 0usize;
    // SAFETY: `buf` has `cap` writable bytes; V8 writes at most `cap - 1` bytes of
    // UTF-8 plus a NUL and reports how many bytes of UTF-8 it wrote.
    let st = unsafe {
        sys::napi_get_value_string_utf8(env, raw, buf.as_mut_ptr().cast(), cap, &mut written)
    };
    if st != sys::Status::napi_ok || written >= cap {
        return Err(Fail::Napi(napi::Error::new(
            napi::Status::from(st),
            "could not read a string argument",
        )));
    }
    // SAFETY: the first `written` bytes were initialised by V8 (checked above: written < cap).
    unsafe { buf.set_len(written) };
    // V8 writes valid UTF-8 (lone surrogates become U+FFFD); checked all the same.
    String::from_utf8(buf).map_err(|e| {
        let mut b = e.into_bytes();
        zeroize::Zeroize::zeroize(&mut b);
        Fail::Core(keycustody::Error::Malformed(
            keycustody::MalformedKind::Utf8,
        ))
    })
}

/// A required string.
pub(crate) fn string(v: Unknown<'_>, arg: &'static str) -> Res<String> {
    if type_of(&v)? != ValueType::String {
        return Err(Fail::Type {
            arg,
            expected: "a string",
        });
    }
    read_string(&v)
}

/// A required string that holds a secret (wiped on drop).
pub(crate) fn secret_string(v: Unknown<'_>, arg: &'static str) -> Res<Zeroizing<String>> {
    string(v, arg).map(Zeroizing::new)
}

/// An optional string (`undefined` or `null` gives `None`).
pub(crate) fn opt_string(v: Option<Unknown<'_>>, arg: &'static str) -> Res<Option<String>> {
    if is_absent(&v)? {
        return Ok(None);
    }
    match v {
        Some(u) => string(u, arg).map(Some),
        None => Ok(None),
    }
}

/// Required bytes: a string (UTF-8) or a `Uint8Array` (including `Buffer`).
pub(crate) fn bytes<'a>(v: Unknown<'a>, arg: &'static str) -> Res<Bytes<'a>> {
    match type_of(&v)? {
        ValueType::String => {
            let s = read_string(&v)?;
            Ok(Bytes::Owned(Zeroizing::new(s.into_bytes())))
        }
        ValueType::Object if v.is_typedarray()? => {
            // SAFETY: the value is a typed array; `Uint8ArraySlice` checks that it
            // is a Uint8Array (a Buffer is one) and fails otherwise.
            match unsafe { v.cast::<Uint8ArraySlice<'a>>() } {
                Ok(s) => Ok(Bytes::Slice(s)),
                Err(_) => Err(Fail::Type {
                    arg,
                    expected: "a string, Buffer or Uint8Array",
                }),
            }
        }
        _ => Err(Fail::Type {
            arg,
            expected: "a string, Buffer or Uint8Array",
        }),
    }
}

/// Required binary data: a `Uint8Array` (including `Buffer`) only, no string.
pub(crate) fn binary<'a>(v: Unknown<'a>, arg: &'static str) -> Res<Bytes<'a>> {
    if type_of(&v)? == ValueType::String {
        return Err(Fail::Type {
            arg,
            expected: "a Buffer or Uint8Array",
        });
    }
    bytes(v, arg).map_err(|_| Fail::Type {
        arg,
        expected: "a Buffer or Uint8Array",
    })
}

/// Optional bytes (`undefined` or `null` gives empty bytes).
pub(crate) fn opt_bytes<'a>(v: Option<Unknown<'a>>, arg: &'static str) -> Res<Bytes<'a>> {
    if is_absent(&v)? {
        return Ok(Bytes::Owned(Zeroizing::new(Vec::new())));
    }
    match v {
        Some(u) => bytes(u, arg),
        None => Ok(Bytes::Owned(Zeroizing::new(Vec::new()))),
    }
}

/// A number that must be an integer in `min..=max` (both exactly representable).
fn integer(v: Unknown<'_>, arg: &'static str, min: f64, max: f64, range: &'static str) -> Res<f64> {
    if type_of(&v)? != ValueType::Number {
        return Err(Fail::Type {
            arg,
            expected: "a number",
        });
    }
    // SAFETY: the value was just checked to be a JavaScript number.
    let n = unsafe { v.cast::<f64>() }?;
    if !n.is_finite() || n.fract() != 0.0 || n < min || n > max {
        return Err(Fail::Range {
            arg,
            expected: range,
        });
    }
    Ok(n)
}

/// A key id: an integer from 0 to 2^32 - 1 (the core rejects 0 where it matters).
pub(crate) fn kid(v: Unknown<'_>, arg: &'static str) -> Res<u32> {
    let n = integer(
        v,
        arg,
        0.0,
        f64::from(u32::MAX),
        "an integer from 0 to 4294967295",
    )?;
    // In range and integral, so the conversion is exact.
    Ok(n as u32)
}

/// An optional key id.
pub(crate) fn opt_kid(v: Option<Unknown<'_>>, arg: &'static str, default: u32) -> Res<u32> {
    match v {
        Some(u) if !is_absent(&Some(u))? => kid(u, arg),
        _ => Ok(default),
    }
}

/// The largest integer a JavaScript number holds exactly (2^53 - 1).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// An optional length or count: a non-negative safe integer (the core checks its own limits).
pub(crate) fn opt_len(v: Option<Unknown<'_>>, arg: &'static str, default: usize) -> Res<usize> {
    match v {
        Some(u) if !is_absent(&Some(u))? => {
            let n = integer(u, arg, 0.0, MAX_SAFE, "a non-negative integer")?;
            // Saturate on 32-bit targets; the core's limits are far below.
            Ok(usize::try_from(n as u64).unwrap_or(usize::MAX))
        }
        _ => Ok(default),
    }
}

/// A required length or count.
pub(crate) fn len(v: Unknown<'_>, arg: &'static str) -> Res<usize> {
    let n = integer(v, arg, 0.0, MAX_SAFE, "a non-negative integer")?;
    Ok(usize::try_from(n as u64).unwrap_or(usize::MAX))
}

/// An optional signed integer (e.g. a Unix timestamp in seconds).
pub(crate) fn opt_i64(v: Option<Unknown<'_>>, arg: &'static str) -> Res<Option<i64>> {
    match v {
        Some(u) if !is_absent(&Some(u))? => {
            let n = integer(u, arg, -MAX_SAFE, MAX_SAFE, "a safe integer")?;
            Ok(Some(n as i64))
        }
        _ => Ok(None),
    }
}

/// The Unix time (seconds) to check against: `now` when given, else the clock.
pub(crate) fn now_or_clock(now: Option<i64>) -> Res<i64> {
    match now {
        Some(n) => Ok(n),
        None => Ok(keycustody::unix_now()?),
    }
}

/// A required signed integer.
pub(crate) fn i64_int(v: Unknown<'_>, arg: &'static str) -> Res<i64> {
    let n = integer(v, arg, -MAX_SAFE, MAX_SAFE, "a safe integer")?;
    Ok(n as i64)
}

/// ASCII text (an envelope, a token) as a JavaScript string, copied without a UTF-8 scan.
pub(crate) fn ascii_js_string<'e>(env: &'e Env, s: &str) -> Res<JsString<'e>> {
    if s.is_ascii() {
        Ok(env.create_string_latin1(s.as_bytes())?)
    } else {
        Ok(env.create_string(s)?)
    }
}

/// A secret string as a JavaScript string; the Rust copy is wiped when the caller drops it.
pub(crate) fn secret_js_string<'e>(
    env: &'e Env,
    s: &keycustody::SecretString,
) -> Res<JsString<'e>> {
    Ok(env.create_string(s.expose_secret())?)
}

/// Secret bytes as a new `Buffer` (a copy; the Rust bytes are wiped when `s` drops).
///
/// Copying is much cheaper than handing V8 an external buffer for the sizes secrets
/// usually have (an external buffer costs a finalizer and GC bookkeeping per call).
pub(crate) fn secret_buffer_copy<'e>(
    env: &'e Env,
    s: &keycustody::SecretBytes,
) -> Res<BufferSlice<'e>> {
    Ok(BufferSlice::copy_from(env, s.expose_secret())?)
}

/// Secret bytes as a `Buffer`: the bytes move into it (JavaScript owns them from here on).
/// Used where no `Env` is at hand (async results, object fields).
pub(crate) fn secret_buffer(s: keycustody::SecretBytes) -> Buffer {
    let mut z = s.into_zeroizing();
    Buffer::from(std::mem::take(&mut *z))
}

/// An optional options object (`undefined` or `null` gives `None`).
pub(crate) fn opt_object<'a>(v: Option<Unknown<'a>>, arg: &'static str) -> Res<Option<Object<'a>>> {
    if is_absent(&v)? {
        return Ok(None);
    }
    match v {
        Some(u) if type_of(&u)? == ValueType::Object && !u.is_typedarray()? && !u.is_array()? => {
            // SAFETY: the value was just checked to be a JavaScript object.
            Ok(Some(unsafe { u.cast::<Object<'a>>() }?))
        }
        _ => Err(Fail::Type {
            arg,
            expected: "an object",
        }),
    }
}

/// A property of an options object, `None` when missing (or `undefined`/`null`).
pub(crate) fn prop<'a>(o: &Object<'a>, name: &str) -> Res<Option<Unknown<'a>>> {
    let v: Unknown<'a> = o.get_named_property(name)?;
    if matches!(type_of(&v)?, ValueType::Undefined | ValueType::Null) {
        Ok(None)
    } else {
        Ok(Some(v))
    }
}

/// An optional non-negative safe integer as `u64` (`undefined`/`null` gives `None`).
pub(crate) fn opt_u64(v: Option<Unknown<'_>>, arg: &'static str) -> Res<Option<u64>> {
    match v {
        Some(u) if !is_absent(&Some(u))? => {
            let n = integer(u, arg, 0.0, MAX_SAFE, "a non-negative integer")?;
            // Integral and within 0..=2^53-1: exact.
            Ok(Some(n as u64))
        }
        _ => Ok(None),
    }
}
