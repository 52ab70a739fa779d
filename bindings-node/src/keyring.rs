//! The `Keyring` class: root keys, rotation, and the kc1 envelope operations.

use crate::conv::{
    self, ascii_js_string, envelope_js_string, seal_envelope_text, secret_buffer_copy,
    secret_js_string, AsciiText,
};
use crate::error::{run, Fail, Res};
use crate::tasks::{Deferred, OpenArgs, OpenTask, SecretStringTask, StringTask, Work};
use napi::bindgen_prelude::{AsyncTask, BufferSlice, Unknown};
use napi::Env;
use napi::JsString;
use napi_derive::napi;
use std::sync::Arc;

/// The environment variable `Keyring.fromEnv()` reads when no name is given.
const DEFAULT_ENV_VAR: &str = keycustody::KEYRING_ENV_VAR;

/// A key and its state, without its secret.
#[napi(object)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id (a non-zero 32-bit integer).
    pub kid: u32,
    /// `"active"` (the primary: seals and opens), `"decrypt-only"` (opens) or `"retired"` (opens nothing).
    pub state: String,
    /// A public fingerprint of the key (16 hex characters); empty for a retired key read from text.
    pub fingerprint: String,
}

/// A set of root keys: one active primary that seals, any number of
/// decrypt-only keys that still open, and retired keys that open nothing.
///
/// Every tenant (owner) gets its own AES-256 key derived with HKDF from the
/// root key, so one tenant's envelope never opens as another's. Create one
/// with `Keyring.generate()`, `Keyring.parse(text)`, `Keyring.fromEnv()`,
/// `Keyring.fromFile(path)` or `Keyring.fromSecret(secret)`; there is no
/// public constructor. Printing a keyring never shows a secret.
///
/// Errors are `Error` objects with a stable `code` (e.g. `KC_DECRYPT_FAILED`)
/// and `kind` (e.g. `DecryptFailed`); see the package README.
#[napi]
#[derive(Debug)]
pub struct Keyring {
    pub(crate) inner: Arc<keycustody::Keyring>,
}

impl Keyring {
    fn wrap(inner: keycustody::Keyring) -> Keyring {
        Keyring {
            inner: Arc::new(inner),
        }
    }
}

#[napi]
impl Keyring {
    /// A new keyring with one fresh random 32-byte key (kid 1, active).
    ///
    /// @throws {Error} `KC_RANDOM_UNAVAILABLE` if the OS random number generator fails.
    #[napi(factory)]
    pub fn generate(env: &Env) -> napi::Result<Keyring> {
        run(env, || Ok(Keyring::wrap(keycustody::Keyring::generate()?)))
    }

    /// Parses the JSON text form:
    /// `{"version":1,"primary":2,"keys":[{"kid":1,"state":"decrypt-only","secret":"<base64url>"},...]}`.
    ///
    /// @throws {Error} `KC_MALFORMED` for text that is not a valid keyring, `KC_TOO_LARGE` over 1 MiB.
    #[napi(factory)]
    pub fn parse(
        env: &Env,
        #[napi(ts_arg_type = "string")] text: Unknown<'_>,
    ) -> napi::Result<Keyring> {
        run(env, || {
            let text = conv::secret_string(text, "text")?;
            Ok(Keyring::wrap(keycustody::Keyring::parse(&text)?))
        })
    }

    /// Reads the JSON text form from an environment variable (default `KEYCUSTODY_KEYRING`).
    ///
    /// @throws {Error} `KC_MISSING_ENV_VAR` if it is not set, or as `Keyring.parse`.
    #[napi(factory)]
    pub fn from_env(
        env: &Env,
        #[napi(ts_arg_type = "string")] name: Option<Unknown<'_>>,
    ) -> napi::Result<Keyring> {
        run(env, || {
            let name = conv::opt_string(name, "name")?;
            let name = name.as_deref().unwrap_or(DEFAULT_ENV_VAR);
            Ok(Keyring::wrap(keycustody::Keyring::from_env(name)?))
        })
    }

    /// Reads the JSON text form from a file, refusing a file that group or
    /// others can access or that another user owns (as ssh does): `chmod 600` it.
    ///
    /// @throws {Error} `KC_INSECURE_PERMISSIONS`, `KC_IO`, `KC_TOO_LARGE`, or as `Keyring.parse`.
    #[napi(factory)]
    pub fn from_file(
        env: &Env,
        #[napi(ts_arg_type = "string")] path: Unknown<'_>,
    ) -> napi::Result<Keyring> {
        run(env, || {
            let path = conv::string(path, "path")?;
            Ok(Keyring::wrap(keycustody::Keyring::from_file(&path)?))
        })
    }

    /// Adopts an existing platform secret (at least 32 bytes) as the only,
    /// active key with id `kid` (default 1). A string is taken as its UTF-8
    /// bytes exactly, never hex- or base64-decoded.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` for a secret outside 32 to 1024 bytes or a kid of 0.
    #[napi(factory)]
    pub fn from_secret(
        env: &Env,
        #[napi(ts_arg_type = "string | Uint8Array")] secret: Unknown<'_>,
        #[napi(ts_arg_type = "number")] kid: Option<Unknown<'_>>,
    ) -> napi::Result<Keyring> {
        run(env, || {
            let secret = conv::bytes(secret, "secret")?;
            let kid = conv::opt_kid(kid, "kid", 1)?;
            Ok(Keyring::wrap(keycustody::Keyring::from_secret(
                secret.as_slice(),
                kid,
            )?))
        })
    }

    /// The JSON text form, secrets as base64url. This is the keyring's secret:
    /// store it like one (an env var or a 0600 file), never log it.
    #[napi]
    pub fn export<'e>(&self, env: &'e Env) -> napi::Result<JsString<'e>> {
        run(env, || secret_js_string(env, &self.inner.export()?))
    }

    /// Adds a fresh random key as `decrypt-only` and returns its kid. Roll the
    /// new keyring out to every instance before `promote(kid)` makes it seal. Takes no
    /// argument: to adopt an existing secret use `addKeyWithSecret(secret)` (an argument
    /// here throws `KC_INVALID_ARGUMENT` rather than being ignored for a random key).
    ///
    /// @throws {TypeError} `KC_INVALID_ARGUMENT` when given an argument.
    /// @throws {Error} `KC_RANDOM_UNAVAILABLE`, `KC_TOO_LARGE` when the key limit is reached.
    // `secret?: never` is a refusal guard (tests/api.md). `undefined` and `null` are no
    // argument, as for every optional argument here and in keycustody-wasm.
    #[napi]
    pub fn add_key(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "never")] secret: Option<Unknown<'_>>,
    ) -> napi::Result<u32> {
        run(env, || {
            if secret.is_some() {
                return Err(Fail::Refused {
                    arg: "secret",
                    message:
                        "addKey takes no argument: use addKeyWithSecret(secret) to adopt a secret",
                });
            }
            Ok(self.inner.add_key()?)
        })
    }

    /// Makes `kid` the primary (sealing) key; the old primary becomes `decrypt-only`.
    ///
    /// @throws {Error} `KC_UNKNOWN_KEY`, `KC_KEY_RETIRED` (with a `kid` property).
    #[napi]
    pub fn promote(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "number")] kid: Unknown<'_>,
    ) -> napi::Result<()> {
        run(env, || Ok(self.inner.promote(conv::kid(kid, "kid")?)?))
    }

    /// `addKey()` then `promote()`, for a single instance. Returns the new kid.
    ///
    /// @throws {Error} as `addKey` and `promote`.
    #[napi]
    pub fn rotate(&self, env: &Env) -> napi::Result<u32> {
        run(env, || Ok(self.inner.rotate()?))
    }

    /// Retires `kid`: its secret is dropped and envelopes under it fail with
    /// `KC_KEY_RETIRED`. Rewrap the data first.
    ///
    /// @throws {Error} `KC_PRIMARY_KEY` for the primary, `KC_UNKNOWN_KEY`.
    #[napi]
    pub fn retire(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "number")] kid: Unknown<'_>,
    ) -> napi::Result<()> {
        run(env, || Ok(self.inner.retire(conv::kid(kid, "kid")?)?))
    }

    /// Removes `kid`'s secret, leaving a retired tombstone (the kid is never reused): envelopes under it then fail with `KC_KEY_RETIRED`.
    ///
    /// @throws {Error} `KC_PRIMARY_KEY` for the primary, `KC_UNKNOWN_KEY`.
    #[napi]
    pub fn remove(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "number")] kid: Unknown<'_>,
    ) -> napi::Result<()> {
        run(env, || Ok(self.inner.remove(conv::kid(kid, "kid")?)?))
    }

    /// The kid of the primary (active, sealing) key.
    #[napi(getter)]
    pub fn primary_kid(&self) -> u32 {
        self.inner.primary_kid()
    }

    /// Every key with its state and fingerprint, in kid order.
    #[napi]
    pub fn kids(&self) -> Vec<KeyInfo> {
        self.inner
            .kids()
            .into_iter()
            .map(|k| KeyInfo {
                kid: k.kid,
                state: k.state.as_str().to_owned(),
                fingerprint: k.fingerprint,
            })
            .collect()
    }

    /// Seals `plaintext` for `owner` (a tenant id: 1 to 1024 bytes of UTF-8)
    /// and an optional `context` (e.g. the field name, so values cannot be
    /// swapped between fields) under the primary key. Returns the `kc1.` text envelope.
    ///
    /// @throws {Error} `KC_INVALID_OWNER`, `KC_TOO_LARGE` over 64 MiB; `TypeError` for wrong argument types.
    #[napi]
    pub fn seal<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] plaintext: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] context: Option<Unknown<'_>>,
    ) -> napi::Result<JsString<'e>> {
        run(env, || {
            let owner = conv::string(owner, "owner")?;
            let plaintext = conv::bytes(plaintext, "plaintext")?;
            let context = conv::opt_bytes(context, "context")?;
            let text = self
                .inner
                .seal(&owner, plaintext.as_slice(), context.as_slice())?;
            envelope_js_string(env, text)
        })
    }

    /// Opens an envelope sealed for `owner` and `context`; returns the plaintext bytes.
    ///
    /// A wrong owner, wrong context, wrong key or tampering all give the one
    /// error `KC_DECRYPT_FAILED`, by design.
    ///
    /// @throws {Error} `KC_DECRYPT_FAILED`, `KC_MALFORMED`, `KC_UNKNOWN_KEY`, `KC_KEY_RETIRED`, `KC_INVALID_OWNER`.
    #[napi]
    pub fn open<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "string")] envelope: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] context: Option<Unknown<'_>>,
    ) -> napi::Result<BufferSlice<'e>> {
        run(env, || {
            let owner = conv::string(owner, "owner")?;
            let envelope = conv::ascii_string(envelope, "envelope")?;
            let context = conv::opt_bytes(context, "context")?;
            conv::open_to_buffer(env, &self.inner, &owner, &envelope, context.as_slice())
        })
    }

    /// `open`, returning the plaintext as a string; it must be UTF-8.
    ///
    /// @throws {Error} as `open`, and `KC_MALFORMED` if the plaintext is not UTF-8.
    #[napi]
    pub fn open_text<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "string")] envelope: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] context: Option<Unknown<'_>>,
    ) -> napi::Result<JsString<'e>> {
        run(env, || {
            let owner = conv::string(owner, "owner")?;
            let envelope = conv::ascii_string(envelope, "envelope")?;
            let context = conv::opt_bytes(context, "context")?;
            let text = self
                .inner
                .open_text(&owner, &envelope, context.as_slice())?;
            secret_js_string(env, &text)
        })
    }

    /// Whether the envelope was sealed under a key other than the primary
    /// (reads the header only; no key is used).
    ///
    /// @throws {Error} `KC_MALFORMED`.
    #[napi]
    pub fn needs_rewrap(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] envelope: Unknown<'_>,
    ) -> napi::Result<bool> {
        run(env, || {
            let envelope = conv::ascii_string(envelope, "envelope")?;
            Ok(self.inner.needs_rewrap(&envelope)?)
        })
    }

    /// The envelope sealed under the primary key (or the same envelope, once
    /// authenticated, if it already is). The plaintext never leaves Rust.
    ///
    /// @throws {Error} as `open` and `seal`.
    #[napi]
    pub fn rewrap<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "string")] envelope: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] context: Option<Unknown<'_>>,
    ) -> napi::Result<JsString<'e>> {
        run(env, || {
            let owner = conv::string(owner, "owner")?;
            let envelope = conv::ascii_string(envelope, "envelope")?;
            let context = conv::opt_bytes(context, "context")?;
            let out = self.inner.rewrap(&owner, &envelope, context.as_slice())?;
            ascii_js_string(env, &out)
        })
    }

    /// Derives a per-owner key for your own purpose (HKDF-SHA256 under the
    /// primary key, label `keycustody/v1/custom/<purpose>`), `length` bytes (default 32).
    /// Hand a tenant its subkey without exposing any other tenant.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` for an empty purpose or a length outside 1 to 8160, `KC_INVALID_OWNER`.
    #[napi]
    pub fn derive_key<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string")] purpose: Unknown<'_>,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "number")] length: Option<Unknown<'_>>,
    ) -> napi::Result<BufferSlice<'e>> {
        run(env, || {
            let purpose = conv::string(purpose, "purpose")?;
            let owner = conv::string(owner, "owner")?;
            let length = conv::opt_u32_len(length, "length", 32)?;
            let key = self.inner.derive_key(&purpose, &owner, length)?;
            secret_buffer_copy(env, &key)
        })
    }

    /// `seal` on the libuv thread pool, for large payloads: the event loop
    /// keeps running. The plaintext is copied first, so the caller may reuse its buffer.
    ///
    /// Rejects as `seal` throws.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn seal_async(
        &self,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] plaintext: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] context: Option<Unknown<'_>>,
    ) -> AsyncTask<StringTask> {
        let work = (|| -> Res<Work<AsciiText>> {
            let keyring = Arc::clone(&self.inner);
            let owner = conv::string(owner, "owner")?;
            let plaintext = conv::bytes(plaintext, "plaintext")?;
            let context = conv::opt_bytes(context, "context")?.to_owned_bytes();
            // The one copy of the plaintext is the envelope's own buffer, sealed in place on
            // the pool: no second copy to wipe (wiping 1 MiB took longer than sealing it).
            if plaintext.as_slice().len() > keycustody::MAX_PLAINTEXT {
                // Core's own refusal (owner, then size; checked before `out` is looked at),
                // without copying the oversized plaintext first.
                let refused = keyring
                    .seal_binary_into(&owner, plaintext.as_slice(), &context, &mut [])
                    .err()
                    .unwrap_or(keycustody::Error::TooLarge {
                        limit: keycustody::MAX_PLAINTEXT,
                    });
                return Ok(Box::new(move || Err(refused)));
            }
            let buf = keycustody::Keyring::sealed_buffer(plaintext.as_slice());
            Ok(Box::new(move || {
                seal_envelope_text(&keyring, &owner, buf, &context)
            }))
        })();
        AsyncTask::new(StringTask(Deferred::new(work)))
    }

    /// `open` on the libuv thread pool, for large payloads. Resolves to the plaintext bytes.
    ///
    /// Rejects as `open` throws.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn open_async(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "string")] envelope: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] context: Option<Unknown<'_>>,
    ) -> AsyncTask<OpenTask> {
        let args = (|| -> Res<OpenArgs> {
            let owner = conv::string(owner, "owner")?;
            let envelope = conv::ascii_string(envelope, "envelope")?;
            let context = conv::opt_bytes(context, "context")?.to_owned_bytes();
            let out = conv::open_output_buffer(env, &envelope)?;
            Ok(OpenArgs {
                keyring: Arc::clone(&self.inner),
                owner,
                envelope,
                context,
                out,
            })
        })();
        AsyncTask::new(OpenTask(Deferred::new(args)))
    }

    /// `openText` on the libuv thread pool. Resolves to the plaintext string.
    ///
    /// Rejects as `openText` throws.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn open_text_async(
        &self,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "string")] envelope: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] context: Option<Unknown<'_>>,
    ) -> AsyncTask<SecretStringTask> {
        let work = self.open_work(
            owner,
            envelope,
            context,
            keycustody::SecretBytes::into_string,
        );
        AsyncTask::new(SecretStringTask(Deferred::new(work)))
    }

    /// `rewrap` on the libuv thread pool, for large payloads.
    ///
    /// Rejects as `rewrap` throws.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn rewrap_async(
        &self,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "string")] envelope: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] context: Option<Unknown<'_>>,
    ) -> AsyncTask<StringTask> {
        let work = self.envelope_work(owner, envelope, context, |k, o, e, c| {
            k.rewrap(o, e, c).map(|s| AsciiText(s.into_bytes()))
        });
        AsyncTask::new(StringTask(Deferred::new(work)))
    }
}

impl Keyring {
    /// `openAsync` / `openTextAsync`: converts (owner, envelope, context) on the JS thread
    /// and allocates the plaintext's buffer there too ([`conv::open_output`]); the pool
    /// decodes the text and decrypts into that buffer ([`conv::open_into`]), then `then`
    /// makes the result (`into_string` for the text form: core's `open_text` check).
    fn open_work<T: 'static>(
        &self,
        owner: Unknown<'_>,
        envelope: Unknown<'_>,
        context: Option<Unknown<'_>>,
        then: fn(keycustody::SecretBytes) -> keycustody::Result<T>,
    ) -> Res<Work<T>> {
        let keyring = Arc::clone(&self.inner);
        let owner = conv::string(owner, "owner")?;
        let envelope = conv::ascii_string(envelope, "envelope")?;
        let context = conv::opt_bytes(context, "context")?.to_owned_bytes();
        let out = conv::open_output(&envelope);
        Ok(Box::new(move || {
            then(conv::open_into(&keyring, &owner, envelope, &context, out)?)
        }))
    }

    /// Converts (owner, envelope, context) on the JS thread into work for the pool.
    fn envelope_work<T: 'static>(
        &self,
        owner: Unknown<'_>,
        envelope: Unknown<'_>,
        context: Option<Unknown<'_>>,
        f: fn(&keycustody::Keyring, &str, &str, &[u8]) -> keycustody::Result<T>,
    ) -> Res<Work<T>> {
        let keyring = Arc::clone(&self.inner);
        let owner = conv::string(owner, "owner")?;
        let envelope = conv::ascii_string(envelope, "envelope")?;
        let context = conv::opt_bytes(context, "context")?.to_owned_bytes();
        Ok(Box::new(move || f(&keyring, &owner, &envelope, &context)))
    }
}
