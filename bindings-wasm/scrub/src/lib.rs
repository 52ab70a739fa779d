//! The wasm module of `keycustody-wasm/scrub`: `scrub` and nothing else. scrub's regex stack
//! (regex-automata, regex-syntax, aho-corasick: about a third of the code when it was in the full
//! module) is only linked here, so a page or an edge route that never scrubs does not download
//! it. The code is keycustody-wasm's own, included from `../src`: the same argument checks and
//! the same `KeycustodyError` mapping (`convert.rs`), the same function (`scrub.rs`).
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// scrub uses a few of the conversions; the rest are keycustody-wasm's.
#[allow(dead_code, unreachable_pub)]
#[path = "../../src/convert.rs"]
mod convert;
#[path = "../../src/scrub.rs"]
mod scrub;

#[allow(clippy::wildcard_imports)]
use convert::*;
pub use convert::{Failure, JsResult, StrArg};
pub use scrub::scrub;
