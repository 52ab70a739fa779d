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
use crate::error::{internal, run, Res};
use crate::keyring::Keyring;
use keycustody::{Error, MalformedKind};
use napi::bindgen_prelude::{BufferSlice, External, Unknown};
use napi::{Env, JsString};
use napi_derive::napi;
use std::borrow::Cow;
use std::sync::Arc;
use zeroize::Zeroize;

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

// ---------------------------------------------------------------- the small path

// For small calls (an API key, a token, a short context) the entries above still cost more in
// napi than core does: each argument is read through Node-API (a string's UTF-16 to UTF-8, a
// Buffer's address) and the result made through it. The entries below take only the keyring
// handle and lengths: index.js writes the owner, the context and the plaintext (or the
// envelope) into one scratch region of this thread's memory that it sees as an ArrayBuffer
// (conv.rs: `scratch_array_buffer`), at the fixed offsets below (`__scratchLayout`), and
// makes the result's JS string or Buffer from the region's output part, where the entry wrote
// it. Every input byte is wiped before the entry returns, failed or not; index.js wipes an
// opened plaintext from the output part as soon as it has copied it out. Calls whose inputs
// do not fit take the entries above. Errors are the same as theirs (same core calls, same
// order; strings reach the region only if well-formed, so as UTF-8: test/fast.test.mjs).

/// Where the owner's UTF-8 goes in the region, and its capacity (`MAX_OWNER_LEN`).
const OWNER_AT: usize = 0;
/// Where the context goes; its capacity is `DATA_AT - CONTEXT_AT`.
const CONTEXT_AT: usize = keycustody::MAX_OWNER_LEN;
/// Where the plaintext (seal) or the envelope (open) goes; up to `OUT_AT - DATA_AT` bytes.
const DATA_AT: usize = CONTEXT_AT + 1024;
/// Where the result goes: room for the text envelope of an `OUT_AT - DATA_AT`-byte plaintext.
const OUT_AT: usize = DATA_AT + 2048;
const _: () = assert!(
    OUT_AT + 4096 == conv::SCRATCH_LEN,
    "the layout fills the region"
);

/// This thread's scratch region, as an `ArrayBuffer` over it (index.js takes it once).
#[napi(js_name = "__scratch", skip_typescript)]
pub fn scratch(env: &Env) -> napi::Result<Unknown<'_>> {
    run(env, || conv::scratch_array_buffer(env))
}

/// The region's layout: `[ownerAt, contextAt, dataAt, outAt, length]`.
#[napi(js_name = "__scratchLayout", skip_typescript)]
pub fn scratch_layout() -> Vec<u32> {
    const LAYOUT: [u32; 5] = [
        const_u32(OWNER_AT),
        const_u32(CONTEXT_AT),
        const_u32(DATA_AT),
        const_u32(OUT_AT),
        const_u32(conv::SCRATCH_LEN),
    ];
    LAYOUT.to_vec()
}

/// A small call's inputs, as slices of the region, and its output part.
struct Small<'a> {
    owner: &'a str,
    context: &'a [u8],
    data: &'a [u8],
    out: &'a mut [u8],
}

/// Runs `f` on the inputs in the region (`owner_len`, `context_len`, `data_len` bytes at
/// their offsets), then wipes them; `f` returns the length of the result it wrote.
fn small_call(
    env: &Env,
    lens: [u32; 3],
    f: impl FnOnce(Small<'_>) -> Res<usize>,
) -> napi::Result<u32> {
    let [o, c, d] = lens.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    run(env, || {
        let done = conv::with_scratch(|s| {
            let result =
                if o > CONTEXT_AT - OWNER_AT || c > DATA_AT - CONTEXT_AT || d > OUT_AT - DATA_AT {
                    Err(internal("small call input too long"))
                } else {
                    let (inputs, out) = s.split_at_mut(OUT_AT);
                    match std::str::from_utf8(&inputs[OWNER_AT..OWNER_AT + o]) {
                        Ok(owner) => f(Small {
                            owner,
                            context: &inputs[CONTEXT_AT..CONTEXT_AT + c],
                            data: &inputs[DATA_AT..DATA_AT + d],
                            out,
                        }),
                        Err(_) => Err(Error::Malformed(MalformedKind::Utf8).into()),
                    }
                };
            // Every input wiped: the plaintext (seal) above all, the owner and context too.
            for (at, len) in [(OWNER_AT, o), (CONTEXT_AT, c), (DATA_AT, d)] {
                if let Some(b) = s.get_mut(at..at.saturating_add(len)) {
                    b.zeroize();
                }
            }
            result
        });
        let n = done.unwrap_or_else(|| Err(internal("small call re-entered")))?;
        u32::try_from(n).map_err(|_| internal("small call result too long"))
    })
}

/// `seal` (`binary` false: the `kc1.` text) or `sealBinary` of a small call, the envelope
/// written to the output part.
#[napi(js_name = "__keyringSealSmall", skip_typescript)]
pub fn keyring_seal_small(
    env: &Env,
    h: &Handle,
    owner_len: u32,
    context_len: u32,
    plaintext_len: u32,
    binary: bool,
) -> napi::Result<u32> {
    small_call(env, [owner_len, context_len, plaintext_len], |s| {
        let n = keycustody::Keyring::sealed_len(s.data.len());
        let bin = s
            .out
            .get_mut(..n)
            .ok_or_else(|| internal("small call result too long"))?;
        h.seal_binary_into(s.owner, s.data, s.context, bin)?;
        if binary {
            return Ok(n);
        }
        let text = keycustody::envelope_text(bin)?;
        let dst = s
            .out
            .get_mut(..text.len())
            .ok_or_else(|| internal("small call result too long"))?;
        dst.copy_from_slice(text.as_bytes());
        Ok(text.len())
    })
}

/// `open` (`binary` false: the envelope is its text) or `openBinary` of a small call, the
/// plaintext written to the output part (which index.js wipes once it has copied it).
#[napi(js_name = "__keyringOpenSmall", skip_typescript)]
pub fn keyring_open_small(
    env: &Env,
    h: &Handle,
    owner_len: u32,
    context_len: u32,
    envelope_len: u32,
    binary: bool,
) -> napi::Result<u32> {
    small_call(env, [owner_len, context_len, envelope_len], |s| {
        // As the entries above: a text is decoded by core first (its errors are open's).
        let bin = if binary {
            Cow::Borrowed(s.data)
        } else {
            let text =
                std::str::from_utf8(s.data).map_err(|_| Error::Malformed(MalformedKind::Utf8))?;
            Cow::Owned(keycustody::envelope_binary(text)?)
        };
        match keycustody::Keyring::opened_len_binary(bin.len()) {
            Some(n) if n <= s.out.len() => {
                h.open_binary_into(s.owner, &bin, s.context, &mut s.out[..n])?;
                Ok(n)
            }
            // No envelope has this length: core says why (the same error as `openBinary`).
            _ => {
                h.open_binary(s.owner, &bin, s.context)?;
                Err(internal("small call result too long"))
            }
        }
    })
}
