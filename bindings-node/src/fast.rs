//! Internal entries for the package's JS layer (bindings-node/index.js): the hot `Keyring`
//! calls without napi-rs's class-receiver check and with the result `Buffer` allocated in JS.
//!
//! Not API: `__` names, no TypeScript declarations (`skip_typescript`), not exported by the
//! package's `index.js` (only the generated loader `native.js` has them), not in
//! tests/api.json. Each entry converts its arguments with the same conv.rs functions in the
//! same order, and makes the same core calls, as the generated method it stands for
//! (keyring.rs, keyring_extra.rs), so results and errors are the method's; test/fast.test.mjs
//! checks that they agree.
//!
//! Why (measured, ASSURANCE.md §9 and BENCHMARKS.md): a napi-rs method call checks its
//! receiver against the class (~0.2 µs in a napi6 build); an `External`'s payload check is
//! cheaper. A `Buffer` made through Node-API costs ~0.5 µs, one made by
//! `Buffer.allocUnsafeSlow` in JS far less; the entries fill a Buffer the JS layer made with
//! exactly the result's length, and make one themselves only when it has another length
//! (never, for the lengths index.js computes).

use crate::conv;
use crate::error::{run, Res};
use crate::keyring::Keyring;
use napi::bindgen_prelude::{BufferSlice, External, Unknown};
use napi::{Env, JsString};
use napi_derive::napi;
use std::borrow::Cow;
use std::sync::Arc;

/// What the JS layer holds for a keyring: the same core keyring (shared, so a rotation
/// through either is seen by both).
type Handle = External<Arc<keycustody::Keyring>>;

/// core's `MAX_PLAINTEXT`, read once by index.js when it loads, to size results (the entries
/// check lengths themselves). The Rust name is the JavaScript name: napi-rs registers a
/// `const` under its Rust name (a `js_name` would rename only its declaration).
#[allow(non_upper_case_globals)]
#[napi(skip_typescript)]
pub const __keyringMaxPlaintext: u32 = const_u32(keycustody::MAX_PLAINTEXT);

/// core's `Keyring::sealed_len(0)`: what an envelope adds to its plaintext (header and tag),
/// read once by index.js as `__keyringMaxPlaintext` is.
#[allow(non_upper_case_globals)]
#[napi(skip_typescript)]
pub const __keyringOverhead: u32 = const_u32(keycustody::Keyring::sealed_len(0));

/// `n` as a `u32`, for the constants above: a compile-time error if it does not fit.
const fn const_u32(n: usize) -> u32 {
    assert!(n <= u32::MAX as usize, "not a u32");
    n as u32
}

/// The handle of a keyring, for the JS layer (made once per keyring).
#[napi(js_name = "__keyringHandle", skip_typescript)]
pub fn keyring_handle(keyring: &Keyring) -> Handle {
    External::new(Arc::clone(&keyring.inner))
}

/// `Keyring.seal` (keyring.rs) through a handle.
#[napi(js_name = "__keyringSeal", skip_typescript)]
pub fn keyring_seal<'e>(
    env: &'e Env,
    h: &Handle,
    owner: Unknown<'_>,
    plaintext: Unknown<'_>,
    context: Option<Unknown<'_>>,
) -> napi::Result<JsString<'e>> {
    run(env, || {
        let owner = conv::string(owner, "owner")?;
        let plaintext = conv::bytes(plaintext, "plaintext")?;
        let context = conv::opt_bytes(context, "context")?;
        let text = h.seal(&owner, plaintext.as_slice(), context.as_slice())?;
        conv::envelope_js_string(env, text)
    })
}

/// `Keyring.open` through a handle, into `out`; returns a new Buffer instead when `out`
/// does not have the plaintext's length (`undefined` when `out` holds the plaintext).
#[napi(js_name = "__keyringOpenInto", skip_typescript)]
pub fn keyring_open_into<'e>(
    env: &'e Env,
    h: &Handle,
    owner: Unknown<'_>,
    envelope: Unknown<'_>,
    context: Option<Unknown<'_>>,
    out: BufferSlice<'_>,
) -> napi::Result<Option<BufferSlice<'e>>> {
    open_into(env, h, owner, envelope, context, out, |e| {
        conv::ascii_string(e, "envelope").map(Envelope::Text)
    })
}

/// `Keyring.openBinary` (keyring_extra.rs) through a handle, into `out` (as `__keyringOpenInto`).
#[napi(js_name = "__keyringOpenBinaryInto", skip_typescript)]
pub fn keyring_open_binary_into<'e>(
    env: &'e Env,
    h: &Handle,
    owner: Unknown<'_>,
    envelope: Unknown<'_>,
    context: Option<Unknown<'_>>,
    out: BufferSlice<'_>,
) -> napi::Result<Option<BufferSlice<'e>>> {
    open_into(env, h, owner, envelope, context, out, |e| {
        conv::binary(e, "envelope").map(Envelope::Binary)
    })
}

/// An envelope argument of the open entries, as `convert` made it.
enum Envelope<'a> {
    /// The text form (`open`), decoded only once every argument is converted.
    Text(String),
    /// The binary form (`openBinary`).
    Binary(conv::Bytes<'a>),
}

/// The body of both open entries: the arguments converted in the generated methods' order
/// (owner, envelope by `convert`, context), then a text decoded by core (`envelope_binary`,
/// as `open` does) and the plaintext opened into `out` ([`conv::open_binary_to`]).
fn open_into<'e, 'a>(
    env: &'e Env,
    h: &Handle,
    owner: Unknown<'_>,
    envelope: Unknown<'a>,
    context: Option<Unknown<'_>>,
    out: BufferSlice<'_>,
    convert: impl FnOnce(Unknown<'a>) -> Res<Envelope<'a>>,
) -> napi::Result<Option<BufferSlice<'e>>> {
    run(env, || {
        let owner = conv::string(owner, "owner")?;
        let envelope = convert(envelope)?;
        let context = conv::opt_bytes(context, "context")?;
        let bin = match &envelope {
            Envelope::Text(text) => Cow::Owned(keycustody::envelope_binary(text)?),
            Envelope::Binary(bin) => Cow::Borrowed(bin.as_slice()),
        };
        conv::open_binary_to(env, h, &owner, &bin, context.as_slice(), out)
    })
}

/// `Keyring.sealBinary` (keyring_extra.rs) through a handle, into `out`; returns a new Buffer
/// instead when `out` is not `sealed_len(plaintext)` long.
#[napi(js_name = "__keyringSealBinaryInto", skip_typescript)]
pub fn keyring_seal_binary_into<'e>(
    env: &'e Env,
    h: &Handle,
    owner: Unknown<'_>,
    plaintext: Unknown<'_>,
    context: Option<Unknown<'_>>,
    mut out: BufferSlice<'_>,
) -> napi::Result<Option<BufferSlice<'e>>> {
    run(env, || {
        let owner = conv::string(owner, "owner")?;
        let plaintext = conv::bytes(plaintext, "plaintext")?;
        let (p, c) = (plaintext.as_slice(), conv::opt_bytes(context, "context")?);
        if p.len() > keycustody::MAX_PLAINTEXT
            || out.len() != keycustody::Keyring::sealed_len(p.len())
        {
            return conv::seal_binary_to_buffer(env, h, &owner, p, c.as_slice()).map(Some);
        }
        h.seal_binary_into(&owner, p, c.as_slice(), &mut out)?;
        Ok(None)
    })
}
