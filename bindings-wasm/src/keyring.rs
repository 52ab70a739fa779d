//! `Keyring`: root keys with states; seal, open, rotate, rewrap, derive.

use crate::{
    array_of, bytes, envelope_text_to_js, js_string, js_u32, object, opt_bytes, opt_u32,
    secret_bytes_to_js, secret_string, secret_to_js, u8_array, usize_of, BytesArg, JsResult,
    KeyInfoArray, NumArg, StrArg, U8Arg,
};
use js_sys::{JsString, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use zeroize::Zeroizing;

/// A set of root keys: one active primary, any number of decrypt-only and retired keys.
///
/// Create one with `Keyring.generate()`, `Keyring.parse(text)` or
/// `Keyring.fromSecret(secret, kid)`. Its secrets never leave it except through
/// `export()`; `toString()` shows key ids and states only.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Keyring {
    inner: keycustody::Keyring,
}

#[wasm_bindgen]
impl Keyring {
    /// Not a way to make a keyring: throws `KC_INVALID_ARGUMENT`.
    /// Use `Keyring.generate()`, `Keyring.parse(text)` or `Keyring.fromSecret(secret, kid)`.
    ///
    /// (`keyring.js`, the package's `Keyring`, passes a keyring made by one of those to move
    /// it into an instance of its own class; no caller of the package can pass one.)
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "never")] from: Option<Keyring>,
    ) -> JsResult<Keyring> {
        from.ok_or_else(|| {
            crate::Failure::Core(keycustody::Error::InvalidArgument(
                "use Keyring.generate(), Keyring.parse() or Keyring.fromSecret()",
            ))
        })
    }

    /// A new keyring with one fresh random 32-byte key, kid 1, active.
    pub fn generate() -> JsResult<Keyring> {
        Ok(Keyring {
            inner: keycustody::Keyring::generate()?,
        })
    }

    /// Parses the keyring text form (`{"version":1,"primary":..,"keys":[..]}`).
    pub fn parse(text: &StrArg) -> JsResult<Keyring> {
        let text = secret_string(text, "text must be a string")?;
        Ok(Keyring {
            inner: keycustody::Keyring::parse(&text)?,
        })
    }

    /// Adopts an existing platform secret (at least 32 bytes; a string is taken as its
    /// UTF-8 bytes, never decoded) as key `kid` (default 1).
    #[wasm_bindgen(js_name = fromSecret)]
    pub fn from_secret(secret: &BytesArg, kid: Option<NumArg>) -> JsResult<Keyring> {
        let secret = bytes(secret, "secret must be a string or Uint8Array")?;
        let kid = opt_u32(kid, 1, "kid must be an integer from 1 to 4294967295")?;
        Ok(Keyring {
            inner: keycustody::Keyring::from_secret(&secret, kid)?,
        })
    }

    /// The keyring text form, secrets included: treat it as a secret.
    pub fn export(&self) -> JsResult<JsString> {
        Ok(secret_to_js(self.inner.export()?.expose_secret()))
    }

    /// Adds a fresh random key as `decrypt-only` (kid = max + 1) and returns its kid.
    /// Roll it out to every instance, then `promote` it. Takes no argument: to adopt an
    /// existing secret use `addKeyWithSecret(secret)` (an argument here throws
    /// `KC_INVALID_ARGUMENT` rather than being ignored for a random key).
    #[wasm_bindgen(js_name = addKey)]
    pub fn add_key(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "never")] secret: Option<JsValue>,
    ) -> JsResult<u32> {
        if secret.is_some() {
            return Err(crate::Failure::Arg {
                arg: "secret",
                what: "addKey takes no argument: use addKeyWithSecret(secret) to adopt a secret",
            });
        }
        Ok(self.inner.add_key()?)
    }

    /// `addKey` adopting an existing secret (32 to 1024 bytes; a string is taken as its
    /// UTF-8 bytes, never decoded) instead of a fresh random one.
    #[wasm_bindgen(js_name = addKeyWithSecret)]
    pub fn add_key_with_secret(&self, secret: &BytesArg) -> JsResult<u32> {
        let mut bytes = bytes(secret, "secret must be a string or Uint8Array")?;
        let secret = keycustody::SecretBytes::new(core::mem::take(&mut *bytes));
        Ok(self.inner.add_key_with_secret(secret)?)
    }

    /// Makes `kid` the primary; the old primary becomes `decrypt-only`.
    pub fn promote(&self, kid: &NumArg) -> JsResult<()> {
        Ok(self.inner.promote(kid_arg(kid)?)?)
    }

    /// `addKey()` then `promote()`, for a single instance. Returns the new kid.
    pub fn rotate(&self) -> JsResult<u32> {
        Ok(self.inner.rotate()?)
    }

    /// Retires `kid` (not the primary): its secret is destroyed and opening under it
    /// fails with `KC_KEY_RETIRED`.
    pub fn retire(&self, kid: &NumArg) -> JsResult<()> {
        Ok(self.inner.retire(kid_arg(kid)?)?)
    }

    /// Removes `kid`'s secret (not the primary), leaving a retired tombstone (the kid is never reused): opening under it fails with `KC_KEY_RETIRED`.
    pub fn remove(&self, kid: &NumArg) -> JsResult<()> {
        Ok(self.inner.remove(kid_arg(kid)?)?)
    }

    /// The kid of the primary (active) key.
    #[wasm_bindgen(getter, js_name = primaryKid)]
    pub fn primary_kid(&self) -> u32 {
        self.inner.primary_kid()
    }

    /// Every key with its state and public fingerprint, in kid order.
    pub fn kids(&self) -> KeyInfoArray {
        array_of(self.inner.kids().iter().map(|k| {
            object(&[
                ("kid", JsValue::from(k.kid)),
                ("state", JsValue::from_str(k.state.as_str())),
                ("fingerprint", JsValue::from_str(&k.fingerprint)),
            ])
            .into()
        }))
        .unchecked_into()
    }

    /// The state of one key: `"active"`, `"decrypt-only"` or `"retired"`.
    #[wasm_bindgen(js_name = stateOf)]
    pub fn state_of(&self, kid: &NumArg) -> JsResult<String> {
        Ok(self.inner.state_of(kid_arg(kid)?)?.as_str().to_owned())
    }

    /// Seals `plaintext` for `owner` (and `context`, binding it to one field) under the
    /// primary key; returns the `kc1.` text envelope.
    pub fn seal(
        &self,
        owner: &StrArg,
        plaintext: &BytesArg,
        context: Option<BytesArg>,
    ) -> JsResult<String> {
        let owner = owner_arg(owner)?;
        let plaintext = bytes(plaintext, "plaintext must be a string or Uint8Array")?;
        let context = context_arg(context)?;
        Ok(self.inner.seal(&owner, &plaintext, &context)?)
    }

    /// `seal` returning the binary envelope.
    #[wasm_bindgen(js_name = sealBinary)]
    pub fn seal_binary(
        &self,
        owner: &StrArg,
        plaintext: &BytesArg,
        context: Option<BytesArg>,
    ) -> JsResult<Uint8Array> {
        let owner = owner_arg(owner)?;
        let plaintext = bytes(plaintext, "plaintext must be a string or Uint8Array")?;
        let context = context_arg(context)?;
        let bin = self.inner.seal_binary(&owner, &plaintext, &context)?;
        Ok(Uint8Array::from(bin.as_slice()))
    }

    /// Opens a `kc1.` envelope sealed for `owner` and `context`. Wrong owner, context
    /// or key and tampering all throw `KC_DECRYPT_FAILED`.
    pub fn open(
        &self,
        owner: &StrArg,
        envelope: &StrArg,
        context: Option<BytesArg>,
    ) -> JsResult<Uint8Array> {
        let owner = owner_arg(owner)?;
        let envelope = envelope_arg(envelope)?;
        let context = context_arg(context)?;
        let plain = self.inner.open(&owner, &envelope, &context)?;
        Ok(secret_bytes_to_js(plain.expose_secret()))
    }

    /// `open` for the binary envelope.
    #[wasm_bindgen(js_name = openBinary)]
    pub fn open_binary(
        &self,
        owner: &StrArg,
        envelope: &U8Arg,
        context: Option<BytesArg>,
    ) -> JsResult<Uint8Array> {
        let owner = owner_arg(owner)?;
        let envelope = u8_array(envelope, "envelope must be a Uint8Array")?;
        let context = context_arg(context)?;
        let plain = self.inner.open_binary(&owner, &envelope, &context)?;
        Ok(secret_bytes_to_js(plain.expose_secret()))
    }

    /// `open`, returning the plaintext as a string (`KC_MALFORMED` if it is not UTF-8).
    #[wasm_bindgen(js_name = openText)]
    pub fn open_text(
        &self,
        owner: &StrArg,
        envelope: &StrArg,
        context: Option<BytesArg>,
    ) -> JsResult<JsString> {
        let owner = owner_arg(owner)?;
        let envelope = envelope_arg(envelope)?;
        let context = context_arg(context)?;
        let plain = self.inner.open_text(&owner, &envelope, &context)?;
        Ok(secret_to_js(plain.expose_secret()))
    }

    /// Whether the envelope was sealed under a key other than the primary (header only).
    #[wasm_bindgen(js_name = needsRewrap)]
    pub fn needs_rewrap(&self, envelope: &StrArg) -> JsResult<bool> {
        Ok(self.inner.needs_rewrap(&envelope_arg(envelope)?)?)
    }

    /// The envelope re-sealed under the primary key (the same envelope if it already is,
    /// after checking that it opens).
    pub fn rewrap(
        &self,
        owner: &StrArg,
        envelope: &StrArg,
        context: Option<BytesArg>,
    ) -> JsResult<String> {
        let owner = owner_arg(owner)?;
        let envelope = envelope_arg(envelope)?;
        let context = context_arg(context)?;
        Ok(self.inner.rewrap(&owner, &envelope, &context)?)
    }

    /// A key for a custom purpose, per owner: HKDF-SHA256 with info
    /// `"keycustody/v1/custom/<purpose>" || 0x00 || owner`, `length` bytes (default 32).
    #[wasm_bindgen(js_name = deriveKey)]
    pub fn derive_key(
        &self,
        purpose: &StrArg,
        owner: &StrArg,
        length: Option<NumArg>,
    ) -> JsResult<Uint8Array> {
        let purpose = js_string(purpose, "purpose must be a string")?;
        let owner = owner_arg(owner)?;
        let length = opt_u32(length, 32, "length must be an integer from 1 to 8160")?;
        let key = self.inner.derive_key(&purpose, &owner, usize_of(length))?;
        Ok(secret_bytes_to_js(key.expose_secret()))
    }

    /// Seals `keyring` (a tenant keyring) under this keyring for `tenant`: a kc1 envelope
    /// with the fixed context `keycustody/v1/keyring`.
    #[wasm_bindgen(js_name = sealKeyring)]
    pub fn seal_keyring(&self, tenant: &StrArg, keyring: &Keyring) -> JsResult<String> {
        let tenant = js_string(tenant, "tenant must be a string")?;
        Ok(self.inner.seal_keyring(&tenant, &keyring.inner)?)
    }

    /// Opens a tenant keyring sealed by `sealKeyring` for `tenant` (`KC_DECRYPT_FAILED` for
    /// the wrong tenant, the wrong platform key or tampering).
    #[wasm_bindgen(js_name = openKeyring)]
    pub fn open_keyring(&self, tenant: &StrArg, envelope: &StrArg) -> JsResult<Keyring> {
        let tenant = js_string(tenant, "tenant must be a string")?;
        let envelope = envelope_arg(envelope)?;
        Ok(Keyring {
            inner: self.inner.open_keyring(&tenant, &envelope)?,
        })
    }

    /// Key ids and states, never a secret.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_js_string(&self) -> String {
        format!("{:?}", self.inner)
    }
}

impl Keyring {
    /// The core keyring (for the other modules of this binding).
    pub(crate) fn core(&self) -> &keycustody::Keyring {
        &self.inner
    }

    /// A keyring around a core keyring (for the other modules of this binding).
    pub(crate) fn from_core(inner: keycustody::Keyring) -> Keyring {
        Keyring { inner }
    }
}

fn kid_arg(v: &JsValue) -> JsResult<u32> {
    js_u32(v, "kid must be an integer from 1 to 4294967295")
}

fn owner_arg(v: &JsValue) -> JsResult<String> {
    js_string(v, "owner must be a string")
}

fn envelope_arg(v: &JsValue) -> JsResult<String> {
    js_string(v, "envelope must be a string")
}

fn context_arg(v: Option<BytesArg>) -> JsResult<zeroize::Zeroizing<Vec<u8>>> {
    opt_bytes(v, "context must be a string or Uint8Array")
}

// ---------------------------------------------------------------- typed entries of keyring.js

// The four entries below are what `keyring.js` calls for `seal`, `open` and `openText` when it
// has checked in JS that every argument has an accepted type (strings well-formed UTF-16). They
// receive the values directly, where the general methods above inspect each JS value through
// calls back into JS (about a third of the cost of a 64-byte seal). They trust their argument
// types: internal (`__` names, no TypeScript, not in the API), reached only through `keyring.js`.
// Each makes the same core call as its general method; test/fast.test.mjs checks that they agree.

/// `seal` of a `Uint8Array` plaintext (types checked by `keyring.js`).
#[doc(hidden)]
#[wasm_bindgen(js_name = __keyringSealBytes, skip_typescript)]
pub fn keyring_seal_bytes(
    keyring: &Keyring,
    owner: String,
    plaintext: Vec<u8>,
    context: Option<Vec<u8>>,
    context_text: Option<String>,
) -> JsResult<JsString> {
    let plaintext = Zeroizing::new(plaintext);
    seal_typed(keyring, &owner, &plaintext, context, context_text)
}

/// `seal` of a string plaintext (types checked by `keyring.js`).
#[doc(hidden)]
#[wasm_bindgen(js_name = __keyringSealText, skip_typescript)]
pub fn keyring_seal_text(
    keyring: &Keyring,
    owner: String,
    plaintext: String,
    context: Option<Vec<u8>>,
    context_text: Option<String>,
) -> JsResult<JsString> {
    let plaintext = Zeroizing::new(plaintext);
    seal_typed(keyring, &owner, plaintext.as_bytes(), context, context_text)
}

/// `open` (types checked by `keyring.js`).
#[doc(hidden)]
#[wasm_bindgen(js_name = __keyringOpen, skip_typescript)]
pub fn keyring_open(
    keyring: &Keyring,
    owner: String,
    envelope: String,
    context: Option<Vec<u8>>,
    context_text: Option<String>,
) -> JsResult<Uint8Array> {
    let context = typed_context(context, context_text);
    let plain = keyring.inner.open(&owner, &envelope, &context)?;
    Ok(secret_bytes_to_js(plain.expose_secret()))
}

/// `openText` (types checked by `keyring.js`).
#[doc(hidden)]
#[wasm_bindgen(js_name = __keyringOpenText, skip_typescript)]
pub fn keyring_open_text(
    keyring: &Keyring,
    owner: String,
    envelope: String,
    context: Option<Vec<u8>>,
    context_text: Option<String>,
) -> JsResult<JsString> {
    let context = typed_context(context, context_text);
    let plain = keyring.inner.open_text(&owner, &envelope, &context)?;
    Ok(secret_to_js(plain.expose_secret()))
}

/// The two typed seals: the binary envelope, its text built on the JS side.
fn seal_typed(
    keyring: &Keyring,
    owner: &str,
    plaintext: &[u8],
    context: Option<Vec<u8>>,
    context_text: Option<String>,
) -> JsResult<JsString> {
    let context = typed_context(context, context_text);
    let bin = keyring.inner.seal_binary(owner, plaintext, &context)?;
    Ok(envelope_text_to_js(&bin)?)
}

/// The context of a typed call: the bytes, the UTF-8 of the text, or empty. Wiped on drop.
fn typed_context(bytes: Option<Vec<u8>>, text: Option<String>) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(match (bytes, text) {
        (Some(b), _) => b,
        (None, Some(t)) => t.into_bytes(),
        (None, None) => Vec::new(),
    })
}

// ---------------------------------------------------------------- small-call entries of keyring.js

// For small calls (the common case: an API key, a token, a short context) even the typed
// entries above cost more in wasm-bindgen's glue than in core: each `String`/`Vec<u8>`
// argument is a `malloc` in the module, a copy and a `free`, and the result crosses back as a
// new JS value. The entries below take no such argument. `keyring.js` writes the owner, the
// context and the plaintext (or the envelope text) into one scratch region of the module's
// memory, allocated once, at fixed offsets (`__scratch` gives the layout), and passes only
// their lengths; the result is written into the region's output part and its length returned,
// and `keyring.js` makes the JS value from there. Every input byte is wiped before the entry
// returns; `keyring.js` wipes the output (an opened plaintext) as soon as it has copied it.
// A failure returns `FAILED` and leaves the error for `__takeFailure`. Calls whose inputs do
// not fit their fields take the typed entries above.

/// Where the owner's UTF-8 goes in the scratch region, and its capacity (`MAX_OWNER_LEN`).
const OWNER_AT: usize = 0;
/// Where the context's bytes go; its capacity is `DATA_AT - CONTEXT_AT`.
const CONTEXT_AT: usize = keycustody::MAX_OWNER_LEN;
/// Where the plaintext (seal) or the envelope text (open) goes; up to `OUT_AT - DATA_AT`.
const DATA_AT: usize = CONTEXT_AT + 1024;
/// Where the result goes: the envelope (seal) or the plaintext (open).
const OUT_AT: usize = DATA_AT + 2048;
/// The region's size: room for the text envelope of a `OUT_AT - DATA_AT`-byte plaintext.
const SCRATCH_LEN: usize = OUT_AT + 4096;
/// What a small-call entry returns when it failed (no result is that long).
const FAILED: u32 = u32::MAX;

thread_local! {
    static SCRATCH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0u8; SCRATCH_LEN].into_boxed_slice());
    static FAILURE: std::cell::RefCell<Option<crate::Failure>> = const { std::cell::RefCell::new(None) };
}

/// The scratch region: `[memory, address, ownerAt, contextAt, dataAt, outAt, length, failed]`.
/// Internal (`__` name, no TypeScript, not in the API), called by `keyring.js` only.
#[doc(hidden)]
#[wasm_bindgen(js_name = __scratch, skip_typescript)]
pub fn scratch() -> js_sys::Array {
    let addr = SCRATCH.with_borrow(|s| crate::mem_range(s).0);
    [wasm_bindgen::memory(), JsValue::from(addr)]
        .into_iter()
        .chain(
            [OWNER_AT, CONTEXT_AT, DATA_AT, OUT_AT, SCRATCH_LEN]
                .into_iter()
                .map(|n| JsValue::from(u32::try_from(n).unwrap_or(0))),
        )
        .chain(std::iter::once(JsValue::from(FAILED)))
        .collect()
}

/// The error of the last small call that returned `FAILED` (taken: a second call gives a
/// generic one). Internal, called by `keyring.js` only.
#[doc(hidden)]
#[wasm_bindgen(js_name = __takeFailure, skip_typescript)]
pub fn take_failure() -> JsValue {
    FAILURE
        .with_borrow_mut(Option::take)
        .unwrap_or(crate::Failure::Core(keycustody::Error::InvalidArgument(
            "no failed call to report",
        )))
        .into()
}

/// The three inputs of a small call as slices of the region, and the output part.
struct Small<'a> {
    owner: &'a str,
    context: &'a [u8],
    data: &'a [u8],
    out: &'a mut [u8],
}

/// Runs `f` on the region's inputs (`owner_len`, `context_len`, `data_len` bytes at their
/// offsets), then wipes them; `f` returns the result's length in the output part.
fn small_call(
    owner_len: u32,
    context_len: u32,
    data_len: u32,
    f: impl FnOnce(Small<'_>) -> JsResult<usize>,
) -> u32 {
    let done = SCRATCH.with(|cell| {
        // A second call while one runs (JS re-entered from inside core) is refused, not
        // a panic; keyring.js never makes one (it takes the typed entries meanwhile).
        let Ok(mut s) = cell.try_borrow_mut() else {
            return Err(crate::Failure::Core(keycustody::Error::InvalidArgument(
                "small call re-entered",
            )));
        };
        let (o, c, d) = (
            usize_of(owner_len),
            usize_of(context_len),
            usize_of(data_len),
        );
        let result = if o > CONTEXT_AT - OWNER_AT
            || c > DATA_AT - CONTEXT_AT
            || d > OUT_AT - DATA_AT
        {
            Err(crate::Failure::Core(keycustody::Error::InvalidArgument(
                "small call input too long",
            )))
        } else {
            let (inputs, out) = s.split_at_mut(OUT_AT);
            match std::str::from_utf8(&inputs[OWNER_AT..OWNER_AT + o]) {
                Ok(owner) => f(Small {
                    owner,
                    context: &inputs[CONTEXT_AT..CONTEXT_AT + c],
                    data: &inputs[DATA_AT..DATA_AT + d],
                    out,
                }),
                Err(_) => Err(keycustody::Error::Malformed(keycustody::MalformedKind::Utf8).into()),
            }
        };
        // Every input wiped: the plaintext (seal) above all, the owner and context too.
        for (at, len) in [(OWNER_AT, o), (CONTEXT_AT, c), (DATA_AT, d)] {
            if let Some(b) = s.get_mut(at..at.saturating_add(len)) {
                zeroize::Zeroize::zeroize(b);
            }
        }
        result
    });
    match done.and_then(|n| {
        u32::try_from(n)
            .ok()
            .filter(|&n| n != FAILED)
            .ok_or_else(|| {
                crate::Failure::Core(keycustody::Error::InvalidArgument(
                    "small call result too long",
                ))
            })
    }) {
        Ok(n) => n,
        Err(e) => {
            FAILURE.with_borrow_mut(|f| *f = Some(e));
            FAILED
        }
    }
}

/// `seal` of a small call: the binary envelope (`text` false: `keyring.js` makes the text
/// with `Uint8Array.prototype.toBase64`) or its `kc1.` text (`text` true) in the output part.
#[doc(hidden)]
#[wasm_bindgen(js_name = __keyringSealSmall, skip_typescript)]
pub fn keyring_seal_small(
    keyring: &Keyring,
    owner_len: u32,
    context_len: u32,
    plaintext_len: u32,
    text: bool,
) -> u32 {
    small_call(owner_len, context_len, plaintext_len, |s| {
        let n = keycustody::Keyring::sealed_len(s.data.len());
        let Some(bin) = s.out.get_mut(..n) else {
            return Err(keycustody::Error::InvalidArgument("small call result too long").into());
        };
        keyring
            .inner
            .seal_binary_into(s.owner, s.data, s.context, bin)?;
        if !text {
            return Ok(n);
        }
        let t = keycustody::envelope_text(bin)?;
        match s.out.get_mut(..t.len()) {
            Some(dst) => {
                dst.copy_from_slice(t.as_bytes());
                Ok(t.len())
            }
            None => Err(keycustody::Error::InvalidArgument("small call result too long").into()),
        }
    })
}

/// `open` (`text` false) or `openText` (`text` true: the plaintext must be UTF-8) of a small
/// call: the plaintext in the output part, which `keyring.js` copies and then wipes.
#[doc(hidden)]
#[wasm_bindgen(js_name = __keyringOpenSmall, skip_typescript)]
pub fn keyring_open_small(
    keyring: &Keyring,
    owner_len: u32,
    context_len: u32,
    envelope_len: u32,
    text: bool,
) -> u32 {
    small_call(owner_len, context_len, envelope_len, |s| {
        let Ok(envelope) = std::str::from_utf8(s.data) else {
            return Err(keycustody::Error::Malformed(keycustody::MalformedKind::Utf8).into());
        };
        let plain = keyring.inner.open(s.owner, envelope, s.context)?;
        let plain = plain.expose_secret();
        if text && std::str::from_utf8(plain).is_err() {
            return Err(keycustody::Error::Malformed(keycustody::MalformedKind::Utf8).into());
        }
        match s.out.get_mut(..plain.len()) {
            Some(dst) => {
                dst.copy_from_slice(plain);
                Ok(plain.len())
            }
            None => Err(keycustody::Error::InvalidArgument("small call result too long").into()),
        }
    })
}

// ---------------------------------------------------------------- benchmark entry

/// For `make bench-wasm`'s per-call overhead rows only (bench/bench.mjs): runs core's own call
/// `n` times inside the module, with no crossing between the calls, so that JS can time
/// core's cost per call and subtract it from the binding's (the crossing: argument checks in
/// `keyring.js`, wasm-bindgen's conversions, the result's JS string or `Uint8Array`).
/// `op` 0 is `Keyring::seal` of `plaintext`, 1 is `Keyring::open` of `envelope`; each result
/// is dropped (an opened one wiped). Internal: `__` name, no TypeScript, not in the API.
#[doc(hidden)]
#[wasm_bindgen(js_name = __benchCoreCalls, skip_typescript)]
pub fn bench_core_calls(
    keyring: &Keyring,
    op: u32,
    owner: String,
    plaintext: Vec<u8>,
    envelope: String,
    context: Vec<u8>,
    n: u32,
) -> JsResult<()> {
    let plaintext = Zeroizing::new(plaintext);
    for _ in 0..n {
        match op {
            0 => drop(keyring.inner.seal(&owner, &plaintext, &context)?),
            1 => drop(keyring.inner.open(&owner, &envelope, &context)?),
            _ => return Err(keycustody::Error::InvalidArgument("op must be 0 or 1").into()),
        }
    }
    Ok(())
}
