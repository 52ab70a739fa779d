//! Argument conversion: JavaScript values in, Rust values out, with a
//! `TypeError`/`RangeError` naming the argument (never quoting its value)
//! when the type or range is wrong.
//!
//! napi-rs's own conversions put the offending value into the error message
//! (a number's digits, an object's JSON). A secret passed in the wrong place
//! would then end up in a log, so every binding function takes `Unknown`
//! arguments and converts them here instead. This module is also the only
//! place with `unsafe`: the string readers (see [`read_string`] for why napi-rs's
//! safe string conversions are not used, and [`ascii_string`] for envelope text), [`new_buffer`] (`napi_create_buffer`, which
//! napi-rs 3 offers only in compat mode), [`latin1_js_string`] (external strings for large
//! envelope text), the small path's scratch region ([`scratch_array_buffer`], [`with_scratch`])
//! and two `ToNapiValue` impls.

use crate::error::{Fail, Res};
use napi::bindgen_prelude::{
    Buffer, BufferSlice, FromNapiValue, JsObjectValue, JsValue, Object, ToNapiValue, TypeName,
    Uint8ArraySlice, Unknown,
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

/// Reads a JavaScript string as UTF-8, refusing one that is not well-formed UTF-16.
///
/// V8's UTF-8 conversion replaces a lone surrogate with U+FFFD, which would make
/// `"tenant-\u{D800}"` and `"tenant-\u{FFFD}"` the same owner. So a string whose UTF-8
/// holds U+FFFD (rare: a search of the bytes costs little next to the copy) is read
/// again as UTF-16 and checked exactly; one with a lone surrogate is
/// `Malformed(Utf8)`, as in the Python and wasm bindings.
///
/// One pass for the common case: napi-rs's own `String` conversion (and `JsString::into_utf8`)
/// asks V8 for the UTF-8 length (a full scan) and then converts (a second scan), into a
/// buffer it frees without wiping; here the capacity comes from the UTF-16 length, which V8
/// knows without scanning (one UTF-16 unit is at most 3 UTF-8 bytes, a surrogate pair, 2
/// units, is 4), and every copy is wiped on drop (a string argument may be a secret).
fn read_string(v: &Unknown<'_>) -> Res<String> {
    let s = read_utf8(v)?;
    if s.contains('\u{FFFD}') {
        let units = read_utf16(v)?;
        if char::decode_utf16(units.iter().copied()).any(|c| c.is_err()) {
            drop(Zeroizing::new(s));
            return Err(Fail::Core(keycustody::Error::Malformed(
                keycustody::MalformedKind::Utf8,
            )));
        }
    }
    Ok(s)
}

fn read_failed(st: sys::napi_status) -> Fail {
    Fail::Napi(napi::Error::new(
        napi::Status::from(st),
        "could not read a string argument",
    ))
}

/// The string's length in UTF-16 code units (V8 knows it without a scan).
#[allow(unsafe_code)]
fn utf16_len(env: sys::napi_env, raw: sys::napi_value) -> Res<usize> {
    let mut units = 0usize;
    // SAFETY: `env` and `raw` are the live handles of this call's argument, which
    // is a string; a null buffer only queries the length (in UTF-16 code units).
    let st =
        unsafe { sys::napi_get_value_string_utf16(env, raw, std::ptr::null_mut(), 0, &mut units) };
    if st != sys::Status::napi_ok {
        return Err(read_failed(st));
    }
    Ok(units)
}

/// At most `cap - 1` bytes of V8's UTF-8 of the string (whole characters only; lone
/// surrogates become U+FFFD), in one pass; a read that fills the buffer is refused.
#[allow(unsafe_code)]
fn read_utf8_capped(env: sys::napi_env, raw: sys::napi_value, cap: usize) -> Res<Vec<u8>> {
    let mut buf: Vec<u8> = Vec::with_capacity(cap);
    let mut written = 0usize;
    // SAFETY: `buf` has `cap` writable bytes; V8 writes at most `cap - 1` bytes of
    // UTF-8 (whole characters only) plus a NUL and reports how many bytes it wrote.
    let st = unsafe {
        sys::napi_get_value_string_utf8(env, raw, buf.as_mut_ptr().cast(), cap, &mut written)
    };
    if st != sys::Status::napi_ok || written >= cap {
        return Err(read_failed(st));
    }
    // SAFETY: the first `written` bytes were initialised by V8 (checked above: written < cap).
    unsafe { buf.set_len(written) };
    Ok(buf)
}

/// V8's UTF-8 of the string (lone surrogates become U+FFFD), in one pass.
fn read_utf8(v: &Unknown<'_>) -> Res<String> {
    let env = v.value().env;
    let raw = v.raw();
    let units = utf16_len(env, raw)?;
    let cap = units
        .checked_mul(3)
        .and_then(|c| c.checked_add(1))
        .ok_or(Fail::Core(keycustody::Error::TooLarge {
            limit: usize::MAX / 3,
        }))?;
    let buf = read_utf8_capped(env, raw, cap)?;
    // V8 writes valid UTF-8 (lone surrogates become U+FFFD); checked all the same.
    String::from_utf8(buf).map_err(|e| {
        drop(Zeroizing::new(e.into_bytes()));
        Fail::Core(keycustody::Error::Malformed(
            keycustody::MalformedKind::Utf8,
        ))
    })
}

/// The string's UTF-16 code units, exactly as JavaScript holds them (wiped on drop).
#[allow(unsafe_code)]
fn read_utf16(v: &Unknown<'_>) -> Res<Zeroizing<Vec<u16>>> {
    let env = v.value().env;
    let raw = v.raw();
    let units = utf16_len(env, raw)?;
    let cap = units
        .checked_add(1)
        .ok_or_else(|| crate::error::internal("string too long"))?;
    let mut buf = Zeroizing::new(vec![0u16; cap]);
    let mut written = 0usize;
    // SAFETY: `buf` has `cap` initialised, writable u16 units; V8 writes at most
    // `cap - 1` units plus a NUL and reports how many it wrote.
    let st =
        unsafe { sys::napi_get_value_string_utf16(env, raw, buf.as_mut_ptr(), cap, &mut written) };
    if st != sys::Status::napi_ok || written >= cap {
        return Err(read_failed(st));
    }
    buf.truncate(written);
    Ok(buf)
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

/// A required string expected to be ASCII (an envelope, whose text form is `kc1.` and
/// base64url): read in one pass into a buffer of its UTF-16 length, with no UTF-8
/// validation or U+FFFD scan beyond an ASCII check. A string that is not all ASCII (V8's
/// UTF-8 of it is longer than its UTF-16 length, so the read stops short, or holds a
/// non-ASCII byte) is read again by [`string`], which refuses a lone surrogate exactly as
/// for any other string argument; so the result is always [`string`]'s.
pub(crate) fn ascii_string(v: Unknown<'_>, arg: &'static str) -> Res<String> {
    if type_of(&v)? != ValueType::String {
        return Err(Fail::Type {
            arg,
            expected: "a string",
        });
    }
    match read_ascii(&v)? {
        Some(s) => Ok(s),
        None => read_string(&v),
    }
}

/// The string as ASCII bytes if it is all ASCII, else `None`.
fn read_ascii(v: &Unknown<'_>) -> Res<Option<String>> {
    let env = v.value().env;
    let raw = v.raw();
    let units = utf16_len(env, raw)?;
    let cap = units
        .checked_add(1)
        .ok_or_else(|| crate::error::internal("string too long"))?;
    let buf = read_utf8_capped(env, raw, cap)?;
    // All `units` characters arrived as one byte each only if every one is ASCII.
    if buf.len() != units || !buf.is_ascii() {
        return Ok(None);
    }
    // ASCII is UTF-8: this cannot fail, and is checked all the same.
    Ok(String::from_utf8(buf).ok())
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
            // `Uint8ArraySlice` checks that the typed array is a Uint8Array (a Buffer
            // is one) and fails otherwise.
            match Uint8ArraySlice::<'a>::from_unknown(v) {
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
    // A number (checked above): napi reads it as a double.
    let n = f64::from_unknown(v)?;
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

/// A length or count whose JavaScript type is `u32` (as in keycustody-wasm): an integer
/// from 0 to 2^32 - 1, else a `RangeError` naming the argument (the core checks its own
/// limits, which are far below).
pub(crate) fn u32_len(v: Unknown<'_>, arg: &'static str) -> Res<usize> {
    let n = kid(v, arg)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// An optional [`u32_len`].
pub(crate) fn opt_u32_len(v: Option<Unknown<'_>>, arg: &'static str, default: usize) -> Res<usize> {
    match v {
        Some(u) if !is_absent(&Some(u))? => u32_len(u, arg),
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

/// A text envelope (core's `seal`, whose text form every binding shares) as a JavaScript
/// string (see [`latin1_js_string`]).
pub(crate) fn envelope_js_string(env: &Env, text: String) -> Res<JsString<'_>> {
    let raw = latin1_js_string(env, text.into_bytes())?;
    // SAFETY: `raw` is a string napi just created in `env`.
    #[allow(unsafe_code)]
    Ok(unsafe { JsString::from_napi_value(env.raw(), raw)? })
}

/// From this length on, ASCII text goes to V8 as an external string (as Node's own
/// `buf.toString()` does from about 1 MB): copying a large string into V8's heap costs a
/// fresh large-object mapping per string, its page faults and its unmapping at the next GC,
/// which at 1 MiB took several times what the base64 encoding itself takes.
const EXTERNAL_TEXT_MIN: usize = 64 * 1024;

/// Whether this Node has `node_api_create_external_string_latin1` (v18.18, v20.4, v21+):
/// the binding is linked without lazy symbol loading, so calling it on an older Node
/// would abort the process.
fn has_external_strings(env: &Env) -> bool {
    env.get_node_version().is_ok_and(|v| match v.major {
        18 => v.minor >= 18,
        20 => v.minor >= 4,
        m => m >= 21,
    })
}

/// Frees the bytes of an external string: V8 calls this when the string is collected (or
/// at once, when it chose to copy the bytes instead).
#[allow(unsafe_code)]
unsafe extern "C" fn drop_external_text(
    _env: sys::node_api_basic_env,
    data: *mut std::ffi::c_void,
    hint: *mut std::ffi::c_void,
) {
    // SAFETY: `hint` is the `Box<(len, cap)>` and `data` the pointer of the `Vec<u8>` that
    // `latin1_js_string` gave away to this one finalizer call, so both are rebuilt once.
    unsafe {
        let (len, cap) = *Box::from_raw(hint.cast::<(usize, usize)>());
        drop(Vec::from_raw_parts(data.cast::<u8>(), len, cap));
    }
}

/// ASCII (non-secret) text as a JavaScript string: below [`EXTERNAL_TEXT_MIN`] V8 copies
/// the bytes as Latin-1 (no UTF-8 validation or transcoding); from there on the bytes move
/// into an external string (no copy). Only for non-secret text: V8 never wipes either.
#[allow(unsafe_code)]
pub(crate) fn latin1_js_string(env: &Env, text: Vec<u8>) -> Res<sys::napi_value> {
    let mut value: sys::napi_value = std::ptr::null_mut();
    let text = if text.len() >= EXTERNAL_TEXT_MIN && has_external_strings(env) {
        let mut text = std::mem::ManuallyDrop::new(text);
        let (ptr, len, cap) = (text.as_mut_ptr(), text.len(), text.capacity());
        let hint = Box::into_raw(Box::new((len, cap)));
        let mut copied = false;
        // SAFETY: `env` is this call's live environment; `ptr` points to `len` initialised
        // bytes that nothing else owns or changes from here on (the finalizer frees them,
        // at once if V8 copies them); `len` is at most the text of a 64 MiB envelope.
        let st = unsafe {
            sys::node_api_create_external_string_latin1(
                env.raw(),
                ptr.cast(),
                len as isize,
                Some(drop_external_text),
                hint.cast(),
                &mut value,
                &mut copied,
            )
        };
        if st == sys::Status::napi_ok && !value.is_null() {
            return Ok(value);
        }
        // SAFETY: on failure V8 keeps no reference and never calls the finalizer, so the
        // bytes and the hint are ours again; the text is then copied below.
        unsafe {
            drop(Box::from_raw(hint));
            Vec::from_raw_parts(ptr, len, cap)
        }
    } else {
        text
    };
    // SAFETY: `env` is this call's live environment; `text` outlives the call, which
    // copies it.
    let st = unsafe {
        sys::napi_create_string_latin1(
            env.raw(),
            text.as_ptr().cast(),
            text.len() as isize,
            &mut value,
        )
    };
    if st != sys::Status::napi_ok || value.is_null() {
        return Err(Fail::Napi(napi::Error::new(
            napi::Status::from(st),
            "could not create a string",
        )));
    }
    Ok(value)
}

/// A new `Buffer` of `len` bytes in V8's own memory (`napi_create_buffer`), writable from
/// Rust through the slice. napi-rs 3 offers this call only in its compat mode.
#[allow(unsafe_code)]
fn new_buffer(env: &Env, len: usize) -> Res<BufferSlice<'_>> {
    let mut data: *mut std::ffi::c_void = std::ptr::null_mut();
    let mut value: sys::napi_value = std::ptr::null_mut();
    // SAFETY: `env` is this call's live environment; napi writes the new Buffer's handle
    // and data pointer into the two out-parameters, which live on this stack frame.
    let st = unsafe { sys::napi_create_buffer(env.raw(), len, &mut data, &mut value) };
    if st != sys::Status::napi_ok || value.is_null() {
        return Err(read_failed(st));
    }
    // SAFETY: `value` is the handle napi just created in `env`: a Buffer.
    let u = unsafe { Unknown::from_raw_unchecked(env.raw(), value) };
    Ok(BufferSlice::from_unknown(u)?)
}

/// `open` for the sync `Keyring.open`: the text is decoded by core (`envelope_binary`,
/// whose errors for a malformed text are `open`'s) and the plaintext decrypted straight
/// into a new `Buffer` in V8's memory (`open_binary_into`), so no Rust copy of it exists
/// at all (none to wipe, no external buffer).
pub(crate) fn open_to_buffer<'e>(
    env: &'e Env,
    k: &keycustody::Keyring,
    owner: &str,
    envelope: &str,
    context: &[u8],
) -> Res<BufferSlice<'e>> {
    let bin = keycustody::envelope_binary(envelope)?;
    open_binary_to_buffer(env, k, owner, &bin, context)
}

/// `open_binary` straight into a new `Buffer` in V8's memory (see [`open_to_buffer`]).
pub(crate) fn open_binary_to_buffer<'e>(
    env: &'e Env,
    k: &keycustody::Keyring,
    owner: &str,
    bin: &[u8],
    context: &[u8],
) -> Res<BufferSlice<'e>> {
    // The header check `open_binary_into` makes first, for the plaintext's length.
    let len = keycustody::inspect_binary(bin)?.plaintext_len;
    let mut out = new_buffer(env, len)?;
    k.open_binary_into(owner, bin, context, &mut out)?;
    Ok(out)
}

/// The buffer `openAsync` decrypts into, allocated on the JavaScript thread when the call is
/// made, with room for the plaintext of an envelope text of this length (core's
/// `Keyring::opened_len`; none for a length no envelope has: a hint, a wrong guess only
/// moves the allocation to the pool). Why: a buffer allocated on a libuv pool
/// thread comes from that thread's glibc arena, which trims its top when the buffer is freed
/// (on the JavaScript thread, when V8 collects the `Buffer`) and faults fresh pages in for
/// the next call (~95 page faults per 1 MiB call, measured); the JavaScript thread's arena
/// reuses the freed chunk, as the sync `open` does. Nothing is written to it here.
pub(crate) fn open_output(envelope: &str) -> Zeroizing<Vec<u8>> {
    let n = keycustody::Keyring::opened_len(envelope.len()).unwrap_or(0);
    Zeroizing::new(Vec::with_capacity(n))
}

/// `open` for the async forms, on the pool, as the sync [`open_to_buffer`] does it (same
/// calls, so the same errors in the same order): the text is decoded (`envelope_binary`,
/// the ciphertext: no secret, freed unwiped) and the plaintext decrypted into `out` (made by
/// [`open_output`]), which becomes the result. On any failure `out` is wiped (by
/// `open_binary_into`, and on drop). The envelope's text is freed here, on the pool.
pub(crate) fn open_into(
    k: &keycustody::Keyring,
    owner: &str,
    envelope: String,
    context: &[u8],
    mut out: Zeroizing<Vec<u8>>,
) -> keycustody::Result<keycustody::SecretBytes> {
    let bin = keycustody::envelope_binary(&envelope)?;
    drop(envelope);
    let len = keycustody::inspect_binary(&bin)?.plaintext_len;
    out.resize(len, 0);
    k.open_binary_into(owner, &bin, context, &mut out)?;
    Ok(keycustody::SecretBytes::new(std::mem::take(&mut *out)))
}

/// The `Buffer` `openAsync` decrypts into, made on the JavaScript thread (V8's memory, as
/// `open`'s) with the plaintext length of an envelope text of this length (core's
/// `Keyring::opened_len`); `None` when no envelope has it (the pool then reports core's error). Nothing is written to it
/// here; JavaScript sees it only once it holds the plaintext.
pub(crate) fn open_output_buffer(env: &Env, envelope: &str) -> Res<Option<Buffer>> {
    match keycustody::Keyring::opened_len(envelope.len()) {
        Some(len) => Ok(Some(new_buffer(env, len)?.into_buffer(env)?)),
        None => Ok(None),
    }
}

/// `open` for `openAsync`, on the pool, as the sync [`open_to_buffer`] does it (same core
/// calls, so the same errors in the same order): the text is decoded (`envelope_binary`: the
/// ciphertext, no secret, freed unwiped) and the plaintext decrypted into `out` (made by
/// [`open_output_buffer`]; `Ok(None)`); on any failure `out` is wiped (`open_binary_into`).
/// Without an `out` of the right length (a text no envelope has), into a new vector.
pub(crate) fn open_into_slice(
    k: &keycustody::Keyring,
    owner: &str,
    envelope: String,
    context: &[u8],
    out: Option<&mut [u8]>,
) -> keycustody::Result<Option<keycustody::SecretBytes>> {
    let bin = keycustody::envelope_binary(&envelope)?;
    drop(envelope);
    let len = keycustody::inspect_binary(&bin)?.plaintext_len;
    match out {
        Some(out) if out.len() == len => {
            k.open_binary_into(owner, &bin, context, out)?;
            Ok(None)
        }
        _ => Ok(Some(k.open_binary(owner, &bin, context)?)),
    }
}

/// `open_binary` into `out`, a `Buffer` the JS layer made (fast.rs): `Ok(None)` when `out`
/// has the plaintext's length and now holds it (wiped on failure), else the plaintext in a
/// new `Buffer` as [`open_binary_to_buffer`] makes it. Errors as `open_binary_to_buffer`'s,
/// in the same order (the header check comes first in both).
pub(crate) fn open_binary_to<'e>(
    env: &'e Env,
    k: &keycustody::Keyring,
    owner: &str,
    bin: &[u8],
    context: &[u8],
    mut out: BufferSlice<'_>,
) -> Res<Option<BufferSlice<'e>>> {
    let len = keycustody::inspect_binary(bin)?.plaintext_len;
    if out.len() != len {
        return open_binary_to_buffer(env, k, owner, bin, context).map(Some);
    }
    k.open_binary_into(owner, bin, context, &mut out)?;
    Ok(None)
}

/// `seal_binary` straight into a new `Buffer` in V8's memory (`seal_binary_into`): no
/// intermediate vector, no external buffer. A plaintext over the core's limit goes to
/// `seal_binary` instead, for its exact error without allocating the Buffer first.
pub(crate) fn seal_binary_to_buffer<'e>(
    env: &'e Env,
    k: &keycustody::Keyring,
    owner: &str,
    plaintext: &[u8],
    context: &[u8],
) -> Res<BufferSlice<'e>> {
    if plaintext.len() > keycustody::MAX_PLAINTEXT {
        return bytes_buffer(env, k.seal_binary(owner, plaintext, context)?);
    }
    let mut out = new_buffer(env, keycustody::Keyring::sealed_len(plaintext.len()))?;
    k.seal_binary_into(owner, plaintext, context, &mut out)?;
    Ok(out)
}

/// `sealAsync`'s work on the thread pool: seals the plaintext in `buf` (made by
/// `Keyring::sealed_buffer`) where it lies, and returns the envelope's text as an
/// [`AsciiText`]. The sealed buffer then holds no secret: it is freed without a wipe.
pub(crate) fn seal_envelope_text(
    k: &keycustody::Keyring,
    owner: &str,
    mut buf: Zeroizing<Vec<u8>>,
    context: &[u8],
) -> keycustody::Result<AsciiText> {
    k.seal_binary_in_place(owner, context, &mut buf)?;
    let bin = std::mem::take(&mut *buf);
    Ok(AsciiText(keycustody::envelope_text(&bin)?.into_bytes()))
}

/// Non-secret text on its way to JavaScript without an `Env` at hand (async results):
/// created as Latin-1 when it is ASCII (an envelope), else as UTF-8.
pub struct AsciiText(pub(crate) Vec<u8>);

impl std::fmt::Debug for AsciiText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AsciiText(..)")
    }
}

impl TypeName for AsciiText {
    fn type_name() -> &'static str {
        "String"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

#[allow(unsafe_code)]
impl ToNapiValue for AsciiText {
    unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let env = Env::from_raw(raw_env);
        let s = match std::str::from_utf8(&val.0) {
            Ok(s) if s.is_ascii() => {
                return latin1_js_string(&env, val.0).map_err(|f| match f {
                    Fail::Napi(e) => e,
                    _ => {
                        napi::Error::new(napi::Status::GenericFailure, "could not create a string")
                    }
                })
            }
            Ok(s) => env.create_string(s)?,
            Err(_) => {
                return Err(napi::Error::new(
                    napi::Status::InvalidArg,
                    "text is not UTF-8",
                ))
            }
        };
        Ok(s.raw())
    }
}

/// ASCII text (an envelope, a token) as a JavaScript string, copied without a UTF-8 scan.
pub(crate) fn ascii_js_string<'e>(env: &'e Env, s: &str) -> Res<JsString<'e>> {
    if s.is_ascii() {
        Ok(env.create_string_latin1(s.as_bytes())?)
    } else {
        Ok(env.create_string(s)?)
    }
}

/// A secret string on its way to JavaScript, for places without an `Env` (async results,
/// object fields): V8 copies it straight from the secret's own buffer, which is wiped
/// right after (no intermediate `String`).
pub struct SecretText(pub(crate) keycustody::SecretString);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(..)")
    }
}

impl TypeName for SecretText {
    fn type_name() -> &'static str {
        "String"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

#[allow(unsafe_code)]
impl ToNapiValue for SecretText {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: `env` is forwarded as napi-rs handed it to us (the contract of this trait).
        // `val` (the secret) is dropped, and wiped, when this returns.
        unsafe { <&str as ToNapiValue>::to_napi_value(env, val.0.expose_secret()) }
    }
}

/// A secret string as a JavaScript string, copied by V8 from the secret's own buffer.
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

/// From this size on, a binary envelope moves into its `Buffer` instead of being copied.
const MOVE_AT: usize = 64 * 1024;

/// Non-secret bytes (a binary envelope) as a `Buffer`: copied below 64 KiB (cheaper than
/// an external buffer), moved into it from 64 KiB on.
pub(crate) fn bytes_buffer(env: &Env, b: Vec<u8>) -> Res<BufferSlice<'_>> {
    if b.len() < MOVE_AT {
        return Ok(BufferSlice::copy_from(env, &b)?);
    }
    Ok(BufferSlice::from_data(env, b)?)
}

/// Secret bytes as a `Buffer`: the bytes move into it (JavaScript owns them from here on).
/// Used where no `Env` is at hand (async results, object fields).
pub(crate) fn secret_buffer(s: keycustody::SecretBytes) -> Buffer {
    let mut z = s.into_zeroizing();
    Buffer::from(std::mem::take(&mut *z))
}

/// An optional options object (`undefined` or `null` gives `None`); an array, a typed
/// array (a `Buffer`), a `DataView` or an `ArrayBuffer` is not one (as in keycustody-wasm).
pub(crate) fn opt_object<'a>(v: Option<Unknown<'a>>, arg: &'static str) -> Res<Option<Object<'a>>> {
    if is_absent(&v)? {
        return Ok(None);
    }
    match v {
        Some(u)
            if type_of(&u)? == ValueType::Object
                && !u.is_typedarray()?
                && !u.is_array()?
                && !u.is_dataview()?
                && !u.is_arraybuffer()? =>
        {
            // An object (checked above).
            Ok(Some(Object::<'a>::from_unknown(u)?))
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

// ---------------------------------------------------------------- the small path's region

/// The size of a thread's scratch region ([`with_scratch`]); its layout is fast.rs's.
pub(crate) const SCRATCH_LEN: usize = 8192;

/// One thread's scratch region: `SCRATCH_LEN` bytes allocated on the thread's first small
/// call, freed when the thread ends (after its JS engine, the only other user, has gone).
/// Every access, Rust's and the JS view's ([`scratch_array_buffer`]), goes through `ptr`.
struct Scratch {
    ptr: *mut u8,
    busy: std::cell::Cell<bool>,
}

impl Drop for Scratch {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `Box::into_raw` of a `SCRATCH_LEN`-byte boxed slice in
        // `SCRATCH`'s initialiser and is freed only here, once, as the thread ends.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.ptr, SCRATCH_LEN)) });
    }
}

thread_local! {
    // One per thread: each worker_threads Worker is its own thread with its own JS engine
    // and its own copy of index.js, hence its own region. Tasks on the libuv pool never use it.
    static SCRATCH: Scratch = Scratch {
        ptr: Box::into_raw(vec![0u8; SCRATCH_LEN].into_boxed_slice()).cast::<u8>(),
        busy: std::cell::Cell::new(false),
    };
}

/// This thread's scratch region as a JS `ArrayBuffer` over the same memory (external, no
/// finalizer: the memory is the thread's, see [`Scratch`]), for index.js, which writes the
/// small calls' inputs into it and reads their results from it.
#[allow(unsafe_code)]
pub(crate) fn scratch_array_buffer(env: &Env) -> Res<Unknown<'_>> {
    let ptr = SCRATCH.with(|s| s.ptr);
    let mut value: sys::napi_value = std::ptr::null_mut();
    // SAFETY: `ptr` is valid for `SCRATCH_LEN` bytes for as long as this thread lives, which
    // outlasts its JS engine; V8 only reads and writes those bytes (no finalizer is given, so
    // nothing frees them from the JS side).
    let st = unsafe {
        sys::napi_create_external_arraybuffer(
            env.raw(),
            ptr.cast(),
            SCRATCH_LEN,
            None,
            std::ptr::null_mut(),
            &mut value,
        )
    };
    if st != sys::Status::napi_ok || value.is_null() {
        return Err(crate::error::internal(
            "could not create the scratch region",
        ));
    }
    // SAFETY: `value` is the handle napi just created in `env`: an ArrayBuffer.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
}

/// Runs `f` on this thread's scratch region, or returns `None` if a small call is already
/// running on it (a re-entered call; not possible today, since no small call runs JS).
#[allow(unsafe_code)]
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
    SCRATCH.with(|s| {
        if s.busy.replace(true) {
            return None;
        }
        // SAFETY: `ptr` is valid for `SCRATCH_LEN` bytes (see `Scratch`), and this slice is
        // the only Rust reference to them (`busy` excludes a second one); JS, the other
        // writer, runs on this thread and so not while `f` does (`f` calls no JS).
        let region = unsafe { std::slice::from_raw_parts_mut(s.ptr, SCRATCH_LEN) };
        let r = f(region);
        s.busy.set(false);
        Some(r)
    })
}
