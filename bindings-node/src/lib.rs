//! Node.js binding of keycustody (npm package `keycustody`).
//!
//! Thin by design: every function converts its JavaScript arguments
//! ([`conv`]), calls the Rust core, and maps a failure to a JavaScript error in
//! the one mapping function [`error::to_js`]. No logic lives here, and nothing
//! here panics: a wrong type is a `TypeError`, an out-of-range number a
//! `RangeError`, everything else an `Error` with the core's stable `code`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `unsafe` only in conv.rs (the string reader, `new_buffer`, two `ToNapiValue` impls), allowed
// where it is (see `conv::read_string` for why napi-rs's safe string reads are not used).
#![deny(unsafe_code)]
#![deny(missing_docs)]
// napi-derive registers exports only outside `cfg(test)`; the lib has no Rust tests.
#![cfg_attr(test, allow(dead_code))]

mod apikeys;
mod audit;
mod conv;
mod custody;
mod delivery;
mod error;
mod fast;
mod jwt;
mod keyring;
mod keyring_extra;
mod legacy;
mod otp;
mod tasks;
mod text;
mod tokens;
mod webhooks;
