//! `scrub`, the whole API of the scrub module (`scrub/`, npm `keycustody-wasm/scrub`), which
//! includes this file. It is not part of the full module: scrub's regex stack would be about a
//! third of its code (bindings-wasm/bench/size.mjs).

use crate::{secret_string, JsResult, StrArg};
use wasm_bindgen::prelude::*;

/// Replaces known secret shapes (provider API keys, bot tokens, JWTs, `Authorization:`
/// values, PEM private keys, our API keys) with `[REDACTED:<kind>]`.
#[wasm_bindgen]
pub fn scrub(text: &StrArg) -> JsResult<String> {
    let text = secret_string(text, "text must be a string")?;
    Ok(keycustody::scrub(&text))
}
