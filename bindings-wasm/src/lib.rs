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

use js_sys::{Array, JsString};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

mod audit;
mod convert;
mod custody;
mod delivery;
mod functions;
mod keyring;
mod platform;

pub use audit::*;
#[allow(clippy::wildcard_imports)]
use convert::*;
pub use convert::{BytesArg, Failure, JsResult, NumArg, StrArg, U8Arg};
pub use custody::*;
pub use delivery::*;
pub use functions::*;
pub use keyring::Keyring;
pub use platform::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
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
