//! The wasm module of `keycustody-wasm/delivery`: a page that hands a tenant's key to the
//! tenant's VM needs `sealForDelivery` and `deliveryKeyFingerprint` only, so this module has
//! those two and nothing else (no keyring, no key pair, no webhooks, no regex), a fraction of the
//! full module's size. The code is keycustody-wasm's own, included from `../src`: the same
//! argument checks and the same `KeycustodyError` mapping (`convert.rs`), the same two functions
//! (`delivery.rs`).
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// The delivery functions use a few of the conversions; the rest are keycustody-wasm's.
#[allow(dead_code, unreachable_pub)]
#[path = "../../src/convert.rs"]
mod convert;
#[path = "../../src/delivery.rs"]
mod delivery;

#[allow(clippy::wildcard_imports)]
use convert::*;
pub use convert::{BytesArg, Failure, JsResult, StrArg};
pub use delivery::{delivery_key_fingerprint, seal_for_delivery};
