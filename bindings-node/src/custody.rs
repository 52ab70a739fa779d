//! Custody (DESIGN §7): tenant keyrings sealed under a keyring, wrapped keyrings (opened
//! with a DEK the application unwrapped with its own KMS SDK, or a passphrase), the
//! two-step wrap, and the tenant keyring cache. No call here reaches a network service.
//!
//! The passphrase calls (Argon2id, 64 MiB by default) run on the libuv thread pool and
//! return Promises, so the event loop keeps running.

use crate::conv::{self, ascii_js_string};
use crate::error::{run, Fail, Res};
use crate::keyring::Keyring;
use crate::tasks::{Deferred, Outcome, Work};
use napi::bindgen_prelude::{
    AsyncTask, BufferSlice, ClassInstance, FromNapiValue, JavaScriptClassExt, Unknown,
};
use napi::{Env, JsString, Task};
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::Arc;

/// A `Keyring` argument (the binding class), as the shared core keyring.
fn keyring_arg(env: &Env, v: Unknown<'_>, arg: &'static str) -> Res<Arc<keycustody::Keyring>> {
    if !Keyring::instance_of(env, &v)? {
        return Err(Fail::Type {
            arg,
            expected: "a Keyring",
        });
    }
    let k = ClassInstance::<Keyring>::from_unknown(v)?;
    Ok(Arc::clone(&k.inner))
}

/// An optional Argon2id parameter: an integer from 1 to 2^32 - 1 (core checks the bounds).
fn argon2_param(v: Option<Unknown<'_>>, arg: &'static str, default: u32) -> Res<u32> {
    let n = conv::opt_u64(v, arg)?.unwrap_or(u64::from(default));
    u32::try_from(n).map_err(|_| Fail::Range {
        arg,
        expected: "an integer from 0 to 4294967295",
    })
}

/// `now` (seconds) for the tenant keyring cache: given, or the Unix time.
fn cache_now(v: Option<Unknown<'_>>) -> Res<u64> {
    match conv::opt_u64(v, "now")? {
        Some(n) => Ok(n),
        // The clock is at or after 1970 on any machine that runs this; a clock before it
        // counts as time 0 (the cache treats a clock that went back as no time passed).
        None => Ok(u64::try_from(keycustody::unix_now()?).unwrap_or(0)),
    }
}

/// Core's AWS KMS encryption context (DESIGN §7) as a JS object.
fn encryption_context(pairs: [(&'static str, &str); 2]) -> HashMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn refused_finished() -> Fail {
    Fail::Core(keycustody::Error::InvalidArgument(
        "the pending wrap was already finished",
    ))
}

#[napi]
impl Keyring {
    /// Seals `keyring` (a tenant keyring) under this keyring (the platform keyring) for
    /// `tenant`: a `kc1.` envelope with the fixed context `keycustody/v1/keyring`. Store it
    /// in the tenant's row; rotating the platform root rewraps it like any envelope.
    ///
    /// @throws {Error} `KC_INVALID_OWNER`, `KC_RANDOM_UNAVAILABLE`; `TypeError` for a `keyring` that is not a `Keyring`.
    #[napi]
    pub fn seal_keyring<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string")] tenant: Unknown<'_>,
        #[napi(ts_arg_type = "Keyring")] keyring: Unknown<'_>,
    ) -> napi::Result<JsString<'e>> {
        run(env, || {
            let tenant = conv::string(tenant, "tenant")?;
            let keyring = keyring_arg(env, keyring, "keyring")?;
            let out = self.inner.seal_keyring(&tenant, &keyring)?;
            ascii_js_string(env, &out)
        })
    }

    /// Opens a tenant keyring sealed by `sealKeyring` for `tenant`.
    ///
    /// @throws {Error} `KC_DECRYPT_FAILED` (wrong tenant, wrong platform key, tampering), `KC_MALFORMED`, `KC_UNKNOWN_KEY`, `KC_KEY_RETIRED`, `KC_INVALID_OWNER`.
    #[napi]
    pub fn open_keyring(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] tenant: Unknown<'_>,
        #[napi(ts_arg_type = "string")] envelope: Unknown<'_>,
    ) -> napi::Result<Keyring> {
        run(env, || {
            let tenant = conv::string(tenant, "tenant")?;
            let envelope = conv::string(envelope, "envelope")?;
            let k = self.inner.open_keyring(&tenant, &envelope)?;
            Ok(Keyring { inner: Arc::new(k) })
        })
    }
}

/// A keyring wrapped under a key-encryption key (KEK): an AWS KMS key, an HSM key, a
/// passphrase, or any key the application wraps with its own SDK (DESIGN §7). Parse the
/// text with `WrappedKeyring.parse(text)`, unwrap `wrappedDek` with your KMS (passing
/// `encryptionContext` to AWS KMS, or `header` as AAD elsewhere), then `openWithDek(dek)`.
/// Holds no secret; printing it shows no key reference.
#[napi]
pub struct WrappedKeyring {
    inner: Arc<keycustody::WrappedKeyring>,
}

impl std::fmt::Debug for WrappedKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappedKeyring").finish_non_exhaustive()
    }
}

impl WrappedKeyring {
    fn wrap(inner: keycustody::WrappedKeyring) -> WrappedKeyring {
        WrappedKeyring {
            inner: Arc::new(inner),
        }
    }
}

#[napi]
impl WrappedKeyring {
    /// Parses the text form `{"version":1,"kek":{"type":..,"key":..},"owner":..,"wrapped_dek":..,"nonce":..,"ciphertext":..}`.
    ///
    /// @throws {Error} `KC_MALFORMED` (`malformedKind` `WrappedKeyring`, `WrappedKeyringVersion` or `KekType`) for an unknown field, version or KEK type name or bad base64url, `KC_TOO_LARGE`, `KC_INVALID_OWNER`, `KC_INVALID_ARGUMENT` for Argon2id parameters out of bounds.
    #[napi(factory)]
    pub fn parse(
        env: &Env,
        #[napi(ts_arg_type = "string")] text: Unknown<'_>,
    ) -> napi::Result<WrappedKeyring> {
        run(env, || {
            let text = conv::string(text, "text")?;
            Ok(WrappedKeyring::wrap(keycustody::WrappedKeyring::parse(
                &text,
            )?))
        })
    }

    /// The text form (field order as in the specification). Not secret by itself, but it
    /// is the keyring to anyone who can unwrap its DEK: store it like a credential.
    #[napi]
    pub fn to_text(&self) -> String {
        self.inner.to_text()
    }

    /// The KEK type: `"aws-kms"`, `"pkcs11"`, `"passphrase"` or an application type.
    #[napi(getter)]
    pub fn kek_type(&self) -> String {
        self.inner.kek_type().to_owned()
    }

    /// The KEK reference: a KMS key ARN or alias, a PKCS#11 URI, the Argon2id parameters and salt.
    #[napi(getter)]
    pub fn kek_key(&self) -> String {
        self.inner.kek_key().to_owned()
    }

    /// The owner: a tenant id, or `""` for the platform keyring.
    #[napi(getter)]
    pub fn owner(&self) -> String {
        self.inner.owner().to_owned()
    }

    /// The DEK as the KEK encrypted it (e.g. the AWS KMS `CiphertextBlob`).
    #[napi(getter)]
    pub fn wrapped_dek<'e>(&self, env: &'e Env) -> napi::Result<BufferSlice<'e>> {
        BufferSlice::copy_from(env, self.inner.wrapped_dek())
    }

    /// The header: the AAD to bind the DEK to where the KEK takes one (PKCS#11, your own KEK types).
    #[napi(getter)]
    pub fn header<'e>(&self, env: &'e Env) -> napi::Result<BufferSlice<'e>> {
        BufferSlice::copy_from(env, self.inner.header())
    }

    /// The AWS KMS `EncryptionContext` to pass to `Decrypt`: `{keycustody: "wrapped-keyring/v1", owner}`.
    #[napi(getter, ts_return_type = "Record<string, string>")]
    pub fn encryption_context(&self) -> HashMap<String, String> {
        encryption_context(self.inner.aws_kms_encryption_context())
    }

    /// Refuses a wrapped keyring of another owner than `expected` (a tenant's row holding
    /// another tenant's keyring; `""` for the platform keyring): call it before the KEK.
    ///
    /// @throws {Error} `KC_DECRYPT_FAILED` when the owners differ.
    #[napi]
    pub fn expect_owner(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] expected: Unknown<'_>,
    ) -> napi::Result<()> {
        run(env, || {
            let expected = conv::string(expected, "expected")?;
            Ok(self.inner.expect_owner(&expected)?)
        })
    }

    /// Opens the keyring with the 32-byte DEK your KEK unwrapped.
    ///
    /// @throws {Error} `KC_DECRYPT_FAILED` for a wrong DEK or any tampering, `KC_MALFORMED`.
    #[napi]
    pub fn open_with_dek(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "Uint8Array")] dek: Unknown<'_>,
    ) -> napi::Result<Keyring> {
        run(env, || {
            let dek = conv::binary(dek, "dek")?;
            let k = self.inner.open_with_dek(dek.as_slice())?;
            Ok(Keyring { inner: Arc::new(k) })
        })
    }

    /// Opens a `passphrase`-wrapped keyring (Argon2id with the stored parameters, on the
    /// libuv thread pool). A string is taken as its UTF-8 bytes.
    ///
    /// Rejects with `KC_DECRYPT_FAILED` for a wrong passphrase or tampering, `KC_MALFORMED` (`KekType`) for another KEK type, `KC_TOO_LARGE`.
    #[napi(ts_return_type = "Promise<Keyring>")]
    pub fn open_with_passphrase(
        &self,
        #[napi(ts_arg_type = "string | Uint8Array")] passphrase: Unknown<'_>,
    ) -> AsyncTask<KeyringTask> {
        let work = (|| -> Res<Work<keycustody::Keyring>> {
            let wrapped = Arc::clone(&self.inner);
            let passphrase = conv::bytes(passphrase, "passphrase")?.to_owned_bytes();
            Ok(Box::new(move || wrapped.open_with_passphrase(&passphrase)))
        })();
        AsyncTask::new(KeyringTask(Deferred::new(work)))
    }
}

/// The first step of wrapping a keyring under any KEK: `new PendingWrap(keyring, kekType,
/// kekKey, owner)` encrypts it under a fresh DEK; encrypt `dek` with your KEK (AWS KMS:
/// `Encrypt` with `encryptionContext`; elsewhere `header` as AAD), then `finish(wrappedDek)`.
/// The DEK is wiped when the wrap is finished or collected; printing shows no secret.
#[napi]
pub struct PendingWrap {
    inner: Option<keycustody::PendingWrap>,
}

impl std::fmt::Debug for PendingWrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingWrap").finish_non_exhaustive()
    }
}

impl PendingWrap {
    fn get(&self) -> Res<&keycustody::PendingWrap> {
        self.inner.as_ref().ok_or_else(refused_finished)
    }
}

#[napi]
impl PendingWrap {
    /// Encrypts `keyring` under a fresh DEK for a KEK of type `kekType` (e.g. `"aws-kms"`,
    /// `"gcp-kms"`) and reference `kekKey`, owned by `owner` (a tenant, or `""`).
    ///
    /// @throws {Error} `KC_MALFORMED` (`KekType`) for an invalid type name, `KC_INVALID_ARGUMENT` for an empty or over-long key or type `passphrase` (use `wrapWithPassphrase`), `KC_INVALID_OWNER`, `KC_RANDOM_UNAVAILABLE`.
    #[napi(constructor)]
    pub fn new(
        env: &Env,
        #[napi(ts_arg_type = "Keyring")] keyring: Unknown<'_>,
        #[napi(ts_arg_type = "string")] kek_type: Unknown<'_>,
        #[napi(ts_arg_type = "string")] kek_key: Unknown<'_>,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
    ) -> napi::Result<PendingWrap> {
        run(env, || {
            let keyring = keyring_arg(env, keyring, "keyring")?;
            let kek_type = conv::string(kek_type, "kekType")?;
            let kek_key = conv::string(kek_key, "kekKey")?;
            let owner = conv::string(owner, "owner")?;
            Ok(PendingWrap {
                inner: Some(keycustody::PendingWrap::new(
                    &keyring, &kek_type, &kek_key, &owner,
                )?),
            })
        })
    }

    /// The 32-byte DEK to hand to your KEK (a copy; a secret: never log or store it).
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` after `finish`.
    #[napi(getter)]
    pub fn dek<'e>(&self, env: &'e Env) -> napi::Result<BufferSlice<'e>> {
        run(env, || Ok(BufferSlice::copy_from(env, self.get()?.dek())?))
    }

    /// The header: the AAD to bind the wrapped DEK to where the KEK takes one.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` after `finish`.
    #[napi(getter)]
    pub fn header<'e>(&self, env: &'e Env) -> napi::Result<BufferSlice<'e>> {
        run(env, || {
            Ok(BufferSlice::copy_from(env, self.get()?.header())?)
        })
    }

    /// The AWS KMS `EncryptionContext` to pass to `Encrypt`: `{keycustody: "wrapped-keyring/v1", owner}`.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` after `finish`.
    #[napi(getter, ts_return_type = "Record<string, string>")]
    pub fn encryption_context(&self, env: &Env) -> napi::Result<HashMap<String, String>> {
        run(env, || {
            Ok(encryption_context(self.get()?.aws_kms_encryption_context()))
        })
    }

    /// The KEK type.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` after `finish`.
    #[napi(getter)]
    pub fn kek_type(&self, env: &Env) -> napi::Result<String> {
        run(env, || Ok(self.get()?.kek_type().to_owned()))
    }

    /// The KEK reference.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` after `finish`.
    #[napi(getter)]
    pub fn kek_key(&self, env: &Env) -> napi::Result<String> {
        run(env, || Ok(self.get()?.kek_key().to_owned()))
    }

    /// The owner.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` after `finish`.
    #[napi(getter)]
    pub fn owner(&self, env: &Env) -> napi::Result<String> {
        run(env, || Ok(self.get()?.owner().to_owned()))
    }

    /// The second step: the wrapped keyring, given your KEK's encryption of `dek`. The DEK
    /// is wiped; a second `finish` throws.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` for a `wrappedDek` that is empty or over 4096 bytes, or after `finish`.
    #[napi]
    pub fn finish(
        &mut self,
        env: &Env,
        #[napi(ts_arg_type = "Uint8Array")] wrapped_dek: Unknown<'_>,
    ) -> napi::Result<WrappedKeyring> {
        run(env, || {
            let wrapped_dek = conv::binary(wrapped_dek, "wrappedDek")?;
            // Checked before the DEK is given up, so a refused `wrappedDek` can be retried.
            self.get()?;
            let len = wrapped_dek.as_slice().len();
            if len == 0 || len > keycustody::MAX_WRAPPED_DEK_LEN {
                return Err(Fail::Core(keycustody::Error::InvalidArgument(
                    "wrapped_dek must be 1 to 4096 bytes",
                )));
            }
            let pending = self.inner.take().ok_or_else(refused_finished)?;
            Ok(WrappedKeyring::wrap(
                pending.finish(wrapped_dek.as_slice())?,
            ))
        })
    }
}

/// Wraps `keyring` under a passphrase (DESIGN §7: Argon2id with `mKib` KiB, `t` passes,
/// `p` lanes, a random salt; defaults 65536, 3, 1), owned by `owner` (a tenant, or `""`),
/// on the libuv thread pool. A string passphrase is taken as its UTF-8 bytes.
///
/// Rejects with `KC_INVALID_ARGUMENT` for an empty passphrase or parameters out of bounds, `KC_TOO_LARGE`, `KC_INVALID_OWNER`, `KC_RANDOM_UNAVAILABLE`.
#[napi(ts_return_type = "Promise<WrappedKeyring>")]
pub fn wrap_with_passphrase(
    env: &Env,
    #[napi(ts_arg_type = "Keyring")] keyring: Unknown<'_>,
    #[napi(ts_arg_type = "string | Uint8Array")] passphrase: Unknown<'_>,
    #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
    #[napi(ts_arg_type = "number")] m_kib: Option<Unknown<'_>>,
    #[napi(ts_arg_type = "number")] t: Option<Unknown<'_>>,
    #[napi(ts_arg_type = "number")] p: Option<Unknown<'_>>,
) -> AsyncTask<WrappedTask> {
    let work = (|| -> Res<Work<keycustody::WrappedKeyring>> {
        let keyring = keyring_arg(env, keyring, "keyring")?;
        let passphrase = conv::bytes(passphrase, "passphrase")?.to_owned_bytes();
        let owner = conv::string(owner, "owner")?;
        let d = keycustody::Argon2Params::default();
        let params = keycustody::Argon2Params {
            m_kib: argon2_param(m_kib, "mKib", d.m_kib)?,
            t: argon2_param(t, "t", d.t)?,
            p: argon2_param(p, "p", d.p)?,
        };
        Ok(Box::new(move || {
            keycustody::wrap_with_passphrase(&keyring, &passphrase, &owner, params)
        }))
    })();
    AsyncTask::new(WrappedTask(Deferred::new(work)))
}

/// Whether `text` looks like a wrapped keyring (a JSON object with a `"kek"` member)
/// rather than a plain keyring: a cheap sniff, not a parse.
#[napi]
pub fn is_wrapped_keyring(
    env: &Env,
    #[napi(ts_arg_type = "string")] text: Unknown<'_>,
) -> napi::Result<bool> {
    run(env, || {
        let text = conv::secret_string(text, "text")?;
        Ok(keycustody::is_wrapped_keyring(&text))
    })
}

/// A bounded cache of unwrapped tenant keyrings: least recently used evicted first, each
/// used for at most `ttlSecs` seconds after it was inserted (a revoked customer-managed key
/// takes effect within it). `now` is in seconds (default: the Unix time).
#[napi]
pub struct TenantKeyringCache {
    inner: keycustody::TenantKeyringCache,
}

impl std::fmt::Debug for TenantKeyringCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

#[napi]
impl TenantKeyringCache {
    /// A cache of at most `capacity` keyrings (default 10000) kept `ttlSecs` seconds (default 300).
    /// A capacity or TTL of 0 caches nothing.
    #[napi(constructor)]
    pub fn new(
        env: &Env,
        #[napi(ts_arg_type = "number")] capacity: Option<Unknown<'_>>,
        #[napi(ts_arg_type = "number")] ttl_secs: Option<Unknown<'_>>,
    ) -> napi::Result<TenantKeyringCache> {
        run(env, || {
            let capacity = conv::opt_len(
                capacity,
                "capacity",
                keycustody::DEFAULT_TENANT_CACHE_CAPACITY,
            )?;
            let ttl =
                conv::opt_u64(ttl_secs, "ttlSecs")?.unwrap_or(keycustody::DEFAULT_TENANT_CACHE_TTL);
            Ok(TenantKeyringCache {
                inner: keycustody::TenantKeyringCache::new(capacity, ttl),
            })
        })
    }

    /// The cached keyring of `tenant`, or `null` if none was inserted less than the TTL before `now`.
    #[napi]
    pub fn get(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] tenant: Unknown<'_>,
        #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
    ) -> napi::Result<Option<Keyring>> {
        run(env, || {
            let tenant = conv::string(tenant, "tenant")?;
            let now = cache_now(now)?;
            Ok(self.inner.get(&tenant, now).map(|inner| Keyring { inner }))
        })
    }

    /// Caches a snapshot of `keyring` as `tenant`'s, loaded at `now` (evicting the least
    /// recently used one when full), and returns the cached keyring.
    #[napi]
    pub fn insert(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] tenant: Unknown<'_>,
        #[napi(ts_arg_type = "Keyring")] keyring: Unknown<'_>,
        #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
    ) -> napi::Result<Keyring> {
        run(env, || {
            let tenant = conv::string(tenant, "tenant")?;
            let keyring = keyring_arg(env, keyring, "keyring")?;
            let now = cache_now(now)?;
            let inner = self.inner.insert(&tenant, (*keyring).clone(), now);
            Ok(Keyring { inner })
        })
    }

    /// Removes `tenant`'s keyring (after a rotation or a shred).
    #[napi]
    pub fn invalidate(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] tenant: Unknown<'_>,
    ) -> napi::Result<()> {
        run(env, || {
            let tenant = conv::string(tenant, "tenant")?;
            self.inner.invalidate(&tenant);
            Ok(())
        })
    }

    /// Removes every keyring.
    #[napi]
    pub fn clear(&self) {
        self.inner.clear();
    }

    /// How many keyrings are held (expired ones included until next looked up).
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }

    /// The most keyrings held.
    #[napi(getter)]
    pub fn capacity(&self) -> u32 {
        u32::try_from(self.inner.capacity()).unwrap_or(u32::MAX)
    }

    /// The TTL in seconds.
    #[napi(getter)]
    pub fn ttl(&self) -> f64 {
        // TTLs are far below 2^53 in practice; a larger one is shown rounded.
        self.inner.ttl() as f64
    }
}

/// An async call resolving to a `Keyring`.
pub struct KeyringTask(Deferred<Work<keycustody::Keyring>>);

impl Task for KeyringTask {
    type Output = Outcome<keycustody::Keyring>;
    type JsValue = Keyring;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.0.compute())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        self.0
            .settle(&env, output, |k| Ok(Keyring { inner: Arc::new(k) }))
    }
}

/// An async call resolving to a `WrappedKeyring`.
pub struct WrappedTask(Deferred<Work<keycustody::WrappedKeyring>>);

impl Task for WrappedTask {
    type Output = Outcome<keycustody::WrappedKeyring>;
    type JsValue = WrappedKeyring;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.0.compute())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        self.0.settle(&env, output, |w| Ok(WrappedKeyring::wrap(w)))
    }
}

impl std::fmt::Debug for KeyringTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringTask").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for WrappedTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappedTask").finish_non_exhaustive()
    }
}
