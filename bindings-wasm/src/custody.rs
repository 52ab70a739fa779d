//! Custody (DESIGN §7): wrapped keyrings (opened with a DEK the application unwrapped with
//! its own KMS SDK, or a passphrase), the two-step wrap, and the tenant keyring cache.
//! `Keyring.sealKeyring` / `openKeyring` are in keyring.rs.
//!
//! The passphrase calls run Argon2id (64 MiB, 3 passes by default) synchronously: wasm has
//! no thread here, so in a browser call them from a Worker, not the main thread.
//!
//! `Keyring` arguments are checked by keyring.js (wasm-bindgen's own check would throw an
//! untyped error), which also turns the keyrings returned here into the package's `Keyring`.

use crate::{
    bytes, invalid, js_string, object, opt_u32, secret_bytes_to_js, u8_array, usize_of, BytesArg,
    JsResult, Keyring, NumArg, StrArg, U8Arg,
};
use js_sys::{Object, Uint8Array};
use keycustody::Error;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_CUSTODY: &'static str = r#"
/** The AWS KMS `EncryptionContext` of a wrapped keyring. */
export interface EncryptionContext { keycustody: "wrapped-keyring/v1"; owner: string; }
"#;

#[wasm_bindgen]
extern "C" {
    /// Return type `EncryptionContext`.
    #[wasm_bindgen(typescript_type = "EncryptionContext")]
    pub type EncryptionContextJs;
}

/// Core's AWS KMS encryption context (DESIGN §7) as a JS object.
fn encryption_context(pairs: [(&'static str, &str); 2]) -> EncryptionContextJs {
    use wasm_bindgen::JsCast;
    let o: Object = object(&pairs.map(|(k, v)| (k, JsValue::from_str(v))));
    o.unchecked_into()
}

fn finished() -> crate::Failure {
    invalid("the pending wrap was already finished")
}

/// The typed error keyring.js throws for a `keyring` argument that is not a `Keyring`.
#[doc(hidden)]
#[wasm_bindgen(js_name = __notAKeyring, skip_typescript)]
pub fn not_a_keyring() -> JsValue {
    invalid("keyring must be a Keyring").into()
}

/// A `Keyring` (made from the core keyring by keyring.js's `adopt`).
fn keyring(inner: keycustody::Keyring) -> Keyring {
    Keyring::from_core(inner)
}

/// A keyring wrapped under a key-encryption key (KEK): an AWS KMS key, an HSM key, a
/// passphrase, or any key you wrap with your own SDK. Parse the text with
/// `WrappedKeyring.parse(text)`, unwrap `wrappedDek` with your KMS (passing
/// `encryptionContext` to AWS KMS, or `header` as AAD elsewhere), then `openWithDek(dek)`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WrappedKeyring {
    inner: keycustody::WrappedKeyring,
}

#[wasm_bindgen]
impl WrappedKeyring {
    /// Not a way to make one: throws `KC_INVALID_ARGUMENT`. Use `WrappedKeyring.parse(text)`,
    /// `PendingWrap#finish` or `wrapWithPassphrase`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "never")] _from: Option<JsValue>,
    ) -> JsResult<WrappedKeyring> {
        Err(invalid(
            "use WrappedKeyring.parse(), PendingWrap#finish or wrapWithPassphrase()",
        ))
    }

    /// Parses the text form; refuses unknown fields, versions and KEK type names
    /// (`KC_MALFORMED` with `malformedKind` `WrappedKeyring`, `WrappedKeyringVersion`, `KekType`).
    pub fn parse(text: &StrArg) -> JsResult<WrappedKeyring> {
        let text = js_string(text, "text must be a string")?;
        Ok(WrappedKeyring {
            inner: keycustody::WrappedKeyring::parse(&text)?,
        })
    }

    /// The text form (field order as in the specification).
    #[wasm_bindgen(js_name = toText)]
    pub fn to_text(&self) -> String {
        self.inner.to_text()
    }

    /// The KEK type: `"aws-kms"`, `"pkcs11"`, `"passphrase"` or an application type.
    #[wasm_bindgen(getter, js_name = kekType)]
    pub fn kek_type(&self) -> String {
        self.inner.kek_type().to_owned()
    }

    /// The KEK reference (key ARN or alias, PKCS#11 URI, Argon2id parameters and salt).
    #[wasm_bindgen(getter, js_name = kekKey)]
    pub fn kek_key(&self) -> String {
        self.inner.kek_key().to_owned()
    }

    /// The owner: a tenant id, or `""` for the platform keyring.
    #[wasm_bindgen(getter)]
    pub fn owner(&self) -> String {
        self.inner.owner().to_owned()
    }

    /// The DEK as the KEK encrypted it (e.g. the AWS KMS `CiphertextBlob`).
    #[wasm_bindgen(getter, js_name = wrappedDek)]
    pub fn wrapped_dek(&self) -> Uint8Array {
        Uint8Array::from(self.inner.wrapped_dek())
    }

    /// The header: the AAD to bind the DEK to where the KEK takes one.
    #[wasm_bindgen(getter)]
    pub fn header(&self) -> Uint8Array {
        Uint8Array::from(self.inner.header().as_slice())
    }

    /// The AWS KMS `EncryptionContext` for `Decrypt`.
    #[wasm_bindgen(getter, js_name = encryptionContext)]
    pub fn encryption_context(&self) -> EncryptionContextJs {
        encryption_context(self.inner.aws_kms_encryption_context())
    }

    /// Throws `KC_DECRYPT_FAILED` unless the owner is `expected` (check the row's tenant
    /// before asking the KEK).
    #[wasm_bindgen(js_name = expectOwner)]
    pub fn expect_owner(&self, expected: &StrArg) -> JsResult<()> {
        let expected = js_string(expected, "expected must be a string")?;
        Ok(self.inner.expect_owner(&expected)?)
    }

    /// Opens the keyring with the 32-byte DEK your KEK unwrapped (`KC_DECRYPT_FAILED` otherwise).
    #[wasm_bindgen(js_name = openWithDek)]
    pub fn open_with_dek(&self, dek: &U8Arg) -> JsResult<Keyring> {
        let dek = u8_array(dek, "dek must be a Uint8Array")?;
        Ok(keyring(self.inner.open_with_dek(&dek)?))
    }

    /// Opens a `passphrase`-wrapped keyring. Argon2id runs synchronously and blocks (about a
    /// second at the default 64 MiB): in a browser, call it from a Worker.
    #[wasm_bindgen(js_name = openWithPassphrase)]
    pub fn open_with_passphrase(&self, passphrase: &BytesArg) -> JsResult<Keyring> {
        let pw = bytes(passphrase, "passphrase must be a string or Uint8Array")?;
        Ok(keyring(self.inner.open_with_passphrase(&pw)?))
    }
}

/// The first step of wrapping a keyring under any KEK: `new PendingWrap(keyring, kekType,
/// kekKey, owner)`; encrypt `dek` with your KEK (AWS KMS: `Encrypt` with
/// `encryptionContext`; elsewhere `header` as AAD), then `finish(wrappedDek)`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct PendingWrap {
    inner: Option<keycustody::PendingWrap>,
}

impl PendingWrap {
    fn get(&self) -> JsResult<&keycustody::PendingWrap> {
        self.inner.as_ref().ok_or_else(finished)
    }
}

#[wasm_bindgen]
impl PendingWrap {
    /// Encrypts `keyring` under a fresh DEK for the KEK `kekType` / `kekKey`, owned by
    /// `owner` (a tenant, or `""`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        keyring: &Keyring,
        #[wasm_bindgen(js_name = kekType)] kek_type: &StrArg,
        #[wasm_bindgen(js_name = kekKey)] kek_key: &StrArg,
        owner: &StrArg,
    ) -> JsResult<PendingWrap> {
        let kek_type = js_string(kek_type, "kekType must be a string")?;
        let kek_key = js_string(kek_key, "kekKey must be a string")?;
        let owner = js_string(owner, "owner must be a string")?;
        Ok(PendingWrap {
            inner: Some(keycustody::PendingWrap::new(
                keyring.core(),
                &kek_type,
                &kek_key,
                &owner,
            )?),
        })
    }

    /// The 32-byte DEK to hand to your KEK (a copy; a secret). Throws after `finish`.
    #[wasm_bindgen(getter)]
    pub fn dek(&self) -> JsResult<Uint8Array> {
        Ok(secret_bytes_to_js(self.get()?.dek()))
    }

    /// The header: the AAD to bind the wrapped DEK to where the KEK takes one.
    #[wasm_bindgen(getter)]
    pub fn header(&self) -> JsResult<Uint8Array> {
        Ok(Uint8Array::from(self.get()?.header()))
    }

    /// The AWS KMS `EncryptionContext` for `Encrypt`.
    #[wasm_bindgen(getter, js_name = encryptionContext)]
    pub fn encryption_context(&self) -> JsResult<EncryptionContextJs> {
        Ok(encryption_context(self.get()?.aws_kms_encryption_context()))
    }

    /// The KEK type.
    #[wasm_bindgen(getter, js_name = kekType)]
    pub fn kek_type(&self) -> JsResult<String> {
        Ok(self.get()?.kek_type().to_owned())
    }

    /// The KEK reference.
    #[wasm_bindgen(getter, js_name = kekKey)]
    pub fn kek_key(&self) -> JsResult<String> {
        Ok(self.get()?.kek_key().to_owned())
    }

    /// The owner.
    #[wasm_bindgen(getter)]
    pub fn owner(&self) -> JsResult<String> {
        Ok(self.get()?.owner().to_owned())
    }

    /// The wrapped keyring, given your KEK's encryption of `dek` (1 to 4096 bytes); the DEK
    /// is wiped and a second `finish` throws.
    pub fn finish(
        &mut self,
        #[wasm_bindgen(js_name = wrappedDek)] wrapped_dek: &U8Arg,
    ) -> JsResult<WrappedKeyring> {
        let blob = u8_array(wrapped_dek, "wrappedDek must be a Uint8Array")?;
        self.get()?;
        // Checked before the DEK is given up, so a refused wrappedDek can be retried.
        if blob.is_empty() || blob.len() > keycustody::MAX_WRAPPED_DEK_LEN {
            return Err(crate::Failure::from(Error::InvalidArgument(
                "wrapped_dek must be 1 to 4096 bytes",
            )));
        }
        let p = self.inner.take().ok_or_else(finished)?;
        Ok(WrappedKeyring {
            inner: p.finish(&blob)?,
        })
    }
}

/// Wraps `keyring` under a passphrase (Argon2id with `mKib` KiB, `t` passes, `p` lanes;
/// defaults 65536, 3, 1; a random salt), owned by `owner`. Synchronous and blocking (about a
/// second at the defaults): in a browser, call it from a Worker.
#[wasm_bindgen(js_name = wrapWithPassphrase)]
pub fn wrap_with_passphrase(
    keyring: &Keyring,
    passphrase: &BytesArg,
    owner: &StrArg,
    #[wasm_bindgen(js_name = mKib)] m_kib: Option<NumArg>,
    t: Option<NumArg>,
    p: Option<NumArg>,
) -> JsResult<WrappedKeyring> {
    let pw = bytes(passphrase, "passphrase must be a string or Uint8Array")?;
    let owner = js_string(owner, "owner must be a string")?;
    let d = keycustody::Argon2Params::default();
    let params = keycustody::Argon2Params {
        m_kib: opt_u32(
            m_kib,
            d.m_kib,
            "mKib must be an integer from 0 to 4294967295",
        )?,
        t: opt_u32(t, d.t, "t must be an integer from 0 to 4294967295")?,
        p: opt_u32(p, d.p, "p must be an integer from 0 to 4294967295")?,
    };
    Ok(WrappedKeyring {
        inner: keycustody::wrap_with_passphrase(keyring.core(), &pw, &owner, params)?,
    })
}

/// Whether `text` looks like a wrapped keyring rather than a plain keyring (a sniff, not a parse).
#[wasm_bindgen(js_name = isWrappedKeyring)]
pub fn is_wrapped_keyring(text: &StrArg) -> JsResult<bool> {
    let text = zeroize::Zeroizing::new(js_string(text, "text must be a string")?);
    Ok(keycustody::is_wrapped_keyring(&text))
}

/// A bounded cache of unwrapped tenant keyrings (LRU + TTL, wiped on eviction); `now` in
/// seconds, default the clock (`Date.now()`).
#[wasm_bindgen]
#[derive(Debug)]
pub struct TenantKeyringCache {
    inner: keycustody::TenantKeyringCache,
}

// core's defaults as the argument reader's type (both fit u32).
const DEFAULT_CAPACITY: u32 = keycustody::DEFAULT_TENANT_CACHE_CAPACITY as u32;
const DEFAULT_TTL: u32 = keycustody::DEFAULT_TENANT_CACHE_TTL as u32;

fn cache_now(now: Option<NumArg>) -> JsResult<u64> {
    match now {
        Some(n) => crate::platform::js_u64(&n, "now must be a non-negative integer (seconds)"),
        // The clock is after 1970; before it counts as 0 (no time passed).
        None => Ok(u64::try_from(crate::platform::clock()?).unwrap_or(0)),
    }
}

#[wasm_bindgen]
impl TenantKeyringCache {
    /// A cache of at most `capacity` keyrings (default 10000) kept `ttlSecs` seconds (default 300).
    #[wasm_bindgen(constructor)]
    pub fn new(
        capacity: Option<NumArg>,
        #[wasm_bindgen(js_name = ttlSecs)] ttl_secs: Option<NumArg>,
    ) -> JsResult<TenantKeyringCache> {
        let capacity = opt_u32(
            capacity,
            DEFAULT_CAPACITY,
            "capacity must be an integer from 0 to 4294967295",
        )?;
        let ttl = opt_u32(
            ttl_secs,
            DEFAULT_TTL,
            "ttlSecs must be an integer from 0 to 4294967295",
        )?;
        Ok(TenantKeyringCache {
            inner: keycustody::TenantKeyringCache::new(usize_of(capacity), u64::from(ttl)),
        })
    }

    /// The cached keyring of `tenant`, or `undefined` if none was inserted less than the TTL before `now`.
    pub fn get(&self, tenant: &StrArg, now: Option<NumArg>) -> JsResult<Option<Keyring>> {
        let tenant = js_string(tenant, "tenant must be a string")?;
        let now = cache_now(now)?;
        Ok(self.inner.get(&tenant, now).map(|k| keyring((*k).clone())))
    }

    /// Caches a snapshot of `keyring` as `tenant`'s, loaded at `now`; returns the cached keyring.
    pub fn insert(
        &self,
        tenant: &StrArg,
        keyring: &Keyring,
        now: Option<NumArg>,
    ) -> JsResult<Keyring> {
        let tenant = js_string(tenant, "tenant must be a string")?;
        let now = cache_now(now)?;
        let k = self.inner.insert(&tenant, keyring.core().clone(), now);
        Ok(self::keyring((*k).clone()))
    }

    /// Removes `tenant`'s keyring (after a rotation or a shred).
    pub fn invalidate(&self, tenant: &StrArg) -> JsResult<()> {
        let tenant = js_string(tenant, "tenant must be a string")?;
        self.inner.invalidate(&tenant);
        Ok(())
    }

    /// Removes every keyring.
    pub fn clear(&self) {
        self.inner.clear();
    }

    /// How many keyrings are held (expired ones until next looked up).
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> f64 {
        crate::len_to_f64(self.inner.len())
    }

    /// The most keyrings held.
    #[wasm_bindgen(getter)]
    pub fn capacity(&self) -> f64 {
        crate::len_to_f64(self.inner.capacity())
    }

    /// The TTL in seconds.
    #[wasm_bindgen(getter)]
    pub fn ttl(&self) -> f64 {
        // Set from a u32: exact.
        self.inner.ttl() as f64
    }
}
