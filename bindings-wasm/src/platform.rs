//! The platform pieces of the core: browser-direct delivery (HPKE), webhooks, replay
//! guard, per-tenant JWT, one-time codes, TOTP, validation, pseudonyms and
//! the legacy decoders.
//!
//! Where the core has a wall-clock form only on native targets (`verify(..)` beside
//! `verify_at(.., now)`), the binding takes `now` (Unix seconds) as an optional last
//! argument and reads `Date.now()` when it is absent: time stays a parameter.

use crate::{
    bytes, invalid, js_string, js_u32, len_to_f64, object, opt_u32, secret_bytes_to_js,
    secret_string, secret_to_js, u8_array, usize_of, BytesArg, Failure, JsResult, Keyring, NumArg,
    StrArg, U8Arg,
};
use js_sys::{Array, ArrayBuffer, Function, JsString, Reflect, Uint8Array};
use keycustody::{Error, MalformedKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TS_PLATFORM: &'static str = r#"
/** A delivery keypair: keep `privateKey` (`kcsk1.`) on the receiving machine, publish `publicKey` (`kcpk1.`). */
export interface DeliveryKeypair { privateKey: string; publicKey: string; }
/** Options of `Keyring.verifyJwt`. `now` is Unix seconds (default: the clock). */
export interface JwtVerifyOptions { audience?: string; issuer?: string; leeway?: number; now?: number; }
/** A freshly issued one-time code: send `code`, store `record`. */
export interface IssuedCode { code: string; record: string; expiresAt: number; }
/** The outcome of `Keyring.verifyCode`; write `record` back when `changed`. */
export interface CodeCheck { status: "valid" | "wrong" | "expired" | "locked" | "used"; attemptsLeft: number; record: string; changed: boolean; }
/** Parameters of the legacy PBKDF2 + AES-GCM format (defaults: 100000, 16, 12). */
export interface Pbkdf2GcmParams { iterations?: number; saltLen?: number; ivLen?: number; }
/** The per-tenant JWT secret and the key id it was derived under. */
export interface JwtSecret { kid: number; secret: Uint8Array; }
"#;

#[wasm_bindgen]
extern "C" {
    /// The `headers` of `verifyStandardWebhook`, checked at run time.
    #[wasm_bindgen(typescript_type = "Headers | Record<string, string | string[] | undefined>")]
    pub type HeadersArg;
    #[wasm_bindgen(typescript_type = "DeliveryKeypair")]
    pub type DeliveryKeypairJs;
    #[wasm_bindgen(typescript_type = "JwtVerifyOptions")]
    pub type JwtVerifyOptionsArg;
    #[wasm_bindgen(typescript_type = "IssuedCode")]
    pub type IssuedCodeJs;
    #[wasm_bindgen(typescript_type = "CodeCheck")]
    pub type CodeCheckJs;
    #[wasm_bindgen(typescript_type = "Pbkdf2GcmParams")]
    pub type Pbkdf2GcmParamsArg;
    #[wasm_bindgen(typescript_type = "JwtSecret")]
    pub type JwtSecretJs;
    #[wasm_bindgen(typescript_type = "string | Record<string, unknown>")]
    pub type ClaimsArg;
    #[wasm_bindgen(typescript_type = "Record<string, unknown>")]
    pub type ClaimsJs;
}

/// The largest integer a JS number holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A JS number that is a safe integer (|n| <= 2^53 - 1), as i64.
fn js_i64(v: &JsValue, what: &'static str) -> JsResult<i64> {
    let n = v.as_f64().ok_or_else(|| invalid(what))?;
    if !(n.is_finite() && n.fract() == 0.0 && n.abs() <= MAX_SAFE) {
        return Err(invalid(what));
    }
    // A safe integer: the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    Ok(n as i64)
}

/// A non-negative safe integer, as u64.
pub(crate) fn js_u64(v: &JsValue, what: &'static str) -> JsResult<u64> {
    u64::try_from(js_i64(v, what)?).map_err(|_| invalid(what))
}

fn opt_u64(v: Option<NumArg>, default: u64, what: &'static str) -> JsResult<u64> {
    match v {
        None => Ok(default),
        Some(v) => js_u64(&v, what),
    }
}

/// `now` as given, or the clock (`Date.now()`, whole seconds).
fn now_or_clock(v: Option<NumArg>) -> JsResult<i64> {
    match v {
        Some(v) => js_i64(&v, "now must be an integer (Unix seconds)"),
        None => clock(),
    }
}

pub(crate) fn clock() -> JsResult<i64> {
    let secs = (js_sys::Date::now() / 1000.0).floor();
    let n = secs
        .is_finite()
        .then_some(secs)
        .filter(|n| n.abs() <= MAX_SAFE);
    // A safe integer (checked): the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    n.map(|n| n as i64)
        .ok_or(Failure::Core(Error::InvalidArgument(
            "the clock is out of range",
        )))
}

/// A property of an options object; `undefined` when the object is absent, and a
/// `null` property counts as absent too.
fn prop(obj: Option<&JsValue>, key: &str) -> JsResult<JsValue> {
    let v = match obj {
        None => JsValue::UNDEFINED,
        // A throwing getter or Proxy trap: the caller's exception, rethrown as is.
        Some(o) => Reflect::get(o, &JsValue::from_str(key)).map_err(Failure::Thrown)?,
    };
    Ok(if v.is_null() { JsValue::UNDEFINED } else { v })
}

/// An options argument: absent, `undefined`/`null`, or an object that is not an array, a
/// function, a typed array, a `DataView` or an `ArrayBuffer` (as in the Node binding).
fn options_object(v: Option<&JsValue>) -> JsResult<Option<&JsValue>> {
    match v {
        None => Ok(None),
        Some(o) if o.is_undefined() || o.is_null() => Ok(None),
        Some(o)
            if o.is_object()
                && !js_sys::Array::is_array(o)
                && !o.is_function()
                && !ArrayBuffer::is_view(o)
                && !o.is_instance_of::<ArrayBuffer>() =>
        {
            Ok(Some(o))
        }
        Some(_) => Err(invalid("options must be an object")),
    }
}

fn delivery_keypair_to_js(k: &keycustody::DeliveryKeypair) -> DeliveryKeypairJs {
    object(&[
        (
            "privateKey",
            secret_to_js(k.private_key.expose_secret()).into(),
        ),
        ("publicKey", JsValue::from_str(&k.public_key)),
    ])
    .unchecked_into()
}

// ---------------------------------------------------------------- delivery (HPKE)

/// A fresh X25519 delivery keypair (`kcsk1.` private, `kcpk1.` public).
#[wasm_bindgen(js_name = generateDeliveryKeypair)]
pub fn generate_delivery_keypair() -> JsResult<DeliveryKeypairJs> {
    Ok(delivery_keypair_to_js(
        &keycustody::generate_delivery_keypair()?,
    ))
}

/// A delivery keypair derived from at least 32 bytes of key material (RFC 9180 DeriveKeyPair).
#[wasm_bindgen(js_name = deriveDeliveryKeypair)]
pub fn derive_delivery_keypair(ikm: &BytesArg) -> JsResult<DeliveryKeypairJs> {
    let ikm = bytes(ikm, "ikm must be a string or Uint8Array")?;
    Ok(delivery_keypair_to_js(
        &keycustody::derive_delivery_keypair(&ikm)?,
    ))
}

/// The `kcpk1.` public key of a `kcsk1.` private key.
#[wasm_bindgen(js_name = deliveryPublicKey)]
pub fn delivery_public_key(
    #[wasm_bindgen(js_name = privateKey)] private_key: &StrArg,
) -> JsResult<String> {
    let sk = secret_string(private_key, "privateKey must be a string")?;
    Ok(keycustody::delivery_public_key(&sk)?)
}

/// Opens a `kcd1.` blob with the `kcsk1.` private key for `owner`.
#[wasm_bindgen(js_name = openDelivery)]
pub fn open_delivery(
    #[wasm_bindgen(js_name = privateKey)] private_key: &StrArg,
    owner: &StrArg,
    blob: &StrArg,
) -> JsResult<Uint8Array> {
    let sk = secret_string(private_key, "privateKey must be a string")?;
    let owner = js_string(owner, "owner must be a string")?;
    let blob = js_string(blob, "blob must be a string")?;
    let plain = keycustody::open_delivery(&sk, &owner, &blob)?;
    Ok(secret_bytes_to_js(plain.expose_secret()))
}

// ---------------------------------------------------------------- webhooks

/// Verifies a `Stripe-Signature` header over the raw `payload`; returns its timestamp.
/// `tolerance` (seconds, default 300) bounds the age; any matching `v1` passes.
#[wasm_bindgen(js_name = verifyStripeSignature)]
pub fn verify_stripe_signature(
    payload: &BytesArg,
    header: &StrArg,
    secret: &StrArg,
    tolerance: Option<NumArg>,
    now: Option<NumArg>,
) -> JsResult<f64> {
    let payload = bytes(payload, "payload must be a string or Uint8Array")?;
    let header = js_string(header, "header must be a string")?;
    let secret = secret_string(secret, "secret must be a string")?;
    let tolerance = opt_u64(tolerance, 300, "tolerance must be a non-negative integer")?;
    let now = now_or_clock(now)?;
    let ts = keycustody::verify_stripe_signature_at(&payload, &header, &secret, tolerance, now)?;
    Ok(ts_to_f64(ts))
}

/// The `Stripe-Signature` header value `t=<timestamp>,v1=<hmac>` for `payload`.
#[wasm_bindgen(js_name = signStripePayload)]
pub fn sign_stripe_payload(
    payload: &BytesArg,
    secret: &StrArg,
    timestamp: &NumArg,
) -> JsResult<String> {
    let payload = bytes(payload, "payload must be a string or Uint8Array")?;
    let secret = secret_string(secret, "secret must be a string")?;
    let ts = js_i64(timestamp, "timestamp must be an integer (Unix seconds)")?;
    Ok(keycustody::sign_stripe_payload(&payload, &secret, ts)?)
}

/// The refusal of a `headers` argument that is not a header mapping.
const HEADERS_EXPECTED: &str = "headers must be a Headers object or a plain object of header names to values (string or string[])";

/// Whether `name` is one of the three Standard Webhooks headers (ASCII case-insensitive).
fn is_standard_header(name: &str) -> bool {
    keycustody::STANDARD_HEADER_NAMES
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

/// The request's headers as `(name, value)` pairs for core's
/// `verify_standard_webhook_headers_at`: only the three Standard Webhooks headers are
/// read (others may hold anything), every occurrence of them is kept, so core refuses a
/// repeated one.
///
/// - An object with an `entries()` method (a WHATWG `Headers`, a `Map`): its entries.
///   `Headers` joins a repeated header into one value with `", "`, so that value is
///   what gets verified (a joined timestamp is malformed).
/// - Any other object (a literal, Node's `IncomingHttpHeaders`): its own enumerable
///   entries; a value is a string, an array of strings (each item one occurrence) or
///   `undefined` (absent). Names differing only in case are two occurrences.
fn header_pairs(headers: &JsValue) -> JsResult<Vec<(String, String)>> {
    // Not an object; an array, a typed array, a DataView, an ArrayBuffer or a `String`
    // object (objects, but never a header mapping).
    if !headers.is_object()
        || Array::is_array(headers)
        || ArrayBuffer::is_view(headers)
        || headers.is_instance_of::<ArrayBuffer>()
        || headers.is_instance_of::<JsString>()
    {
        return Err(invalid(HEADERS_EXPECTED));
    }
    // Every step that can run the caller's code (a getter, a Proxy trap, an iterator) is
    // caught (an exception thrown through the wasm frames would skip their cleanup) and
    // the caller's exception is rethrown as is, as the Node binding does.
    let bad = Failure::Thrown;
    let entries_fn = Reflect::get(headers, &JsValue::from_str("entries")).map_err(bad)?;
    let iterable = entries_fn.is_function();
    let entries = if iterable {
        let iter = entries_fn
            .unchecked_ref::<Function>()
            .call0(headers)
            .map_err(bad)?;
        array_from(&iter).map_err(bad)?
    } else {
        object_entries(headers).map_err(bad)?
    };
    let mut pairs = Vec::new();
    for entry in elements(&entries)? {
        if !Array::is_array(&entry) || entry.unchecked_ref::<Array>().length() != 2 {
            return Err(invalid(HEADERS_EXPECTED));
        }
        let name = Reflect::get_u32(&entry, 0).map_err(bad)?;
        let name = js_string(&name, HEADERS_EXPECTED)?;
        if !is_standard_header(&name) {
            continue;
        }
        let value = Reflect::get_u32(&entry, 1).map_err(bad)?;
        if value.is_string() {
            pairs.push((name, js_string(&value, HEADERS_EXPECTED)?));
        } else if !iterable && value.is_undefined() {
            // `IncomingHttpHeaders` leaves a header that is not there `undefined`.
        } else if !iterable && Array::is_array(&value) {
            for item in elements(&value)? {
                if !item.is_string() {
                    return Err(invalid(HEADERS_EXPECTED));
                }
                pairs.push((name.clone(), js_string(&item, HEADERS_EXPECTED)?));
            }
        } else {
            return Err(invalid(HEADERS_EXPECTED));
        }
    }
    Ok(pairs)
}

/// The elements of a JS array (`arr` is one), each read with the caller's getters caught.
fn elements(arr: &JsValue) -> JsResult<Vec<JsValue>> {
    let n = arr.unchecked_ref::<Array>().length();
    (0..n)
        .map(|i| Reflect::get_u32(arr, i).map_err(Failure::Thrown))
        .collect()
}

#[wasm_bindgen]
extern "C" {
    /// `Object.entries(o)`, with a throwing getter or Proxy trap caught.
    #[wasm_bindgen(catch, js_namespace = Object, js_name = entries)]
    fn object_entries(o: &JsValue) -> Result<JsValue, JsValue>;
    /// `Array.from(iterable)`, with a throwing iterator caught.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = from)]
    fn array_from(iterable: &JsValue) -> Result<JsValue, JsValue>;
}

/// Verifies a Standard Webhooks request and returns the signed timestamp. `headers` is the
/// request's headers as they come: a WHATWG `Headers` (`request.headers`) or a plain object;
/// `webhook-id`, `webhook-timestamp` and `webhook-signature` are looked up
/// case-insensitively, like the official `standardwebhooks` libraries. Secret `whsec_...`.
#[wasm_bindgen(js_name = verifyStandardWebhook)]
pub fn verify_standard_webhook(
    payload: &BytesArg,
    headers: &HeadersArg,
    secret: &StrArg,
    tolerance: Option<NumArg>,
    now: Option<NumArg>,
) -> JsResult<f64> {
    let payload = bytes(payload, "payload must be a string or Uint8Array")?;
    let headers = header_pairs(headers)?;
    let secret = secret_string(secret, "secret must be a string")?;
    let tolerance = opt_u64(
        tolerance,
        keycustody::DEFAULT_TOLERANCE,
        "tolerance must be a non-negative integer",
    )?;
    let now = now_or_clock(now)?;
    let ts =
        keycustody::verify_standard_webhook_headers_at(&payload, headers, &secret, tolerance, now)?;
    Ok(ts_to_f64(ts))
}

/// The `webhook-signature` header value (`v1,<base64>`) for a Standard Webhooks message.
#[wasm_bindgen(js_name = signStandardWebhook)]
pub fn sign_standard_webhook(
    payload: &BytesArg,
    #[wasm_bindgen(js_name = msgId)] msg_id: &StrArg,
    timestamp: &NumArg,
    secret: &StrArg,
) -> JsResult<String> {
    let payload = bytes(payload, "payload must be a string or Uint8Array")?;
    let msg_id = js_string(msg_id, "msgId must be a string")?;
    let ts = js_i64(timestamp, "timestamp must be an integer (Unix seconds)")?;
    let secret = secret_string(secret, "secret must be a string")?;
    Ok(keycustody::sign_standard_webhook(
        &payload, &msg_id, ts, &secret,
    )?)
}

/// A fresh Standard Webhooks secret, `whsec_<base64 of 32 random bytes>`.
#[wasm_bindgen(js_name = generateStandardWebhookSecret)]
pub fn generate_standard_webhook_secret() -> JsResult<JsString> {
    Ok(secret_to_js(
        keycustody::generate_standard_webhook_secret()?.expose_secret(),
    ))
}

/// Checks Telegram's `X-Telegram-Bot-Api-Secret-Token` header in constant time;
/// throws `KC_SIGNATURE_INVALID` when it does not match.
#[wasm_bindgen(js_name = verifyTelegramSecret)]
pub fn verify_telegram_secret(header: &StrArg, expected: &StrArg) -> JsResult<()> {
    let header = secret_string(header, "header must be a string")?;
    let expected = secret_string(expected, "expected must be a string")?;
    Ok(keycustody::verify_telegram_secret(&header, &expected)?)
}

fn ts_to_f64(ts: i64) -> f64 {
    // Timestamps passed the core's range checks; the cast is exact below 2^53.
    #[allow(clippy::cast_precision_loss)]
    let f = ts as f64;
    f
}

/// Accepts each event id once within `ttlSeconds` (in memory, at most `capacity` ids;
/// use the SQLite/PostgreSQL store for several app instances).
#[wasm_bindgen]
#[derive(Debug)]
pub struct ReplayGuard {
    inner: keycustody::ReplayGuard,
}

// core's default capacity as the argument reader's type (100,000 fits u32).
const DEFAULT_CAPACITY: u32 = keycustody::DEFAULT_REPLAY_CAPACITY as u32;

#[wasm_bindgen]
impl ReplayGuard {
    /// A guard for at most `capacity` ids (default 100000), each remembered for
    /// `ttlSeconds` (default 600).
    #[wasm_bindgen(constructor)]
    pub fn new(
        capacity: Option<NumArg>,
        #[wasm_bindgen(js_name = ttlSeconds)] ttl_seconds: Option<NumArg>,
    ) -> JsResult<ReplayGuard> {
        let capacity = opt_u32(
            capacity,
            DEFAULT_CAPACITY,
            "capacity must be an integer from 1 to 10000000",
        )?;
        let ttl = opt_u64(
            ttl_seconds,
            keycustody::DEFAULT_REPLAY_TTL,
            "ttlSeconds must be a positive integer",
        )?;
        Ok(ReplayGuard {
            inner: keycustody::ReplayGuard::new(usize_of(capacity), ttl)?,
        })
    }

    /// Records `eventId` at `now` (default: the clock); throws `KC_REPLAYED` if it was seen.
    #[wasm_bindgen(js_name = checkAndRecord)]
    pub fn check_and_record(
        &self,
        #[wasm_bindgen(js_name = eventId)] event_id: &StrArg,
        now: Option<NumArg>,
    ) -> JsResult<()> {
        let id = js_string(event_id, "id must be a string")?;
        let now = now_or_clock(now)?;
        Ok(self.inner.check_and_record_at(&id, now)?)
    }

    /// The capacity given to the constructor.
    #[wasm_bindgen(getter)]
    pub fn capacity(&self) -> f64 {
        len_to_f64(self.inner.capacity())
    }

    /// The number of ids remembered (expired ones until pruned).
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> f64 {
        len_to_f64(self.inner.len())
    }
}

// ---------------------------------------------------------------- TOTP, validation

/// A fresh TOTP secret (base32, 20 random bytes).
#[wasm_bindgen(js_name = generateTotpSecret)]
pub fn generate_totp_secret() -> JsResult<JsString> {
    Ok(secret_to_js(
        keycustody::generate_totp_secret()?.expose_secret(),
    ))
}

/// The `otpauth://totp/...` URI for authenticator apps (a QR code's content).
#[wasm_bindgen(js_name = totpUri)]
pub fn totp_uri(secret: &StrArg, account: &StrArg, issuer: &StrArg) -> JsResult<JsString> {
    let secret = secret_string(secret, "secret must be a string")?;
    let account = js_string(account, "account must be a string")?;
    let issuer = js_string(issuer, "issuer must be a string")?;
    Ok(secret_to_js(
        keycustody::totp_uri(&secret, &account, &issuer)?.expose_secret(),
    ))
}

/// The 6-digit TOTP code (RFC 6238, SHA-1, 30 s) at `now` (default: the clock).
#[wasm_bindgen(js_name = totpAt)]
pub fn totp_at(secret: &StrArg, now: Option<NumArg>) -> JsResult<JsString> {
    let secret = secret_string(secret, "secret must be a string")?;
    let now = now_or_clock(now)?;
    Ok(secret_to_js(
        keycustody::totp_at(&secret, now)?.expose_secret(),
    ))
}

/// RFC 6238 with explicit parameters, for authenticators that are not the default: `key`
/// bytes, at `now` (default: the clock), `period` seconds (default 30), 6 to 8 `digits`
/// (default 6), `algorithm` `"SHA1"` (default), `"SHA256"` or `"SHA512"`.
#[wasm_bindgen(js_name = totpRawAt)]
pub fn totp_raw_at(
    key: &BytesArg,
    now: Option<NumArg>,
    period: Option<NumArg>,
    digits: Option<NumArg>,
    algorithm: Option<StrArg>,
) -> JsResult<JsString> {
    let key = bytes(key, "key must be a string or Uint8Array")?;
    let now = now_or_clock(now)?;
    let period = opt_u64(
        period,
        keycustody::TOTP_PERIOD,
        "period must be a positive integer",
    )?;
    let digits = opt_u32(
        digits,
        keycustody::TOTP_DIGITS,
        "digits must be an integer from 6 to 8",
    )?;
    let algorithm = match algorithm {
        None => None,
        Some(a) => Some(js_string(&a, "algorithm must be a string")?),
    };
    Ok(secret_to_js(
        keycustody::totp_raw_at(
            &key,
            now,
            period,
            digits,
            algorithm.as_deref().unwrap_or("SHA1"),
        )?
        .expose_secret(),
    ))
}

/// The TOTP time step (`floor(now / 30)`) at `now` (default: the clock): what `verifyTotpAt`
/// returns for a code of that moment.
#[wasm_bindgen(js_name = totpStep)]
pub fn totp_step(now: Option<NumArg>) -> JsResult<f64> {
    let step = keycustody::totp_step(now_or_clock(now)?)?;
    // A step is now / 30 for a safe-integer now: exact.
    #[allow(clippy::cast_precision_loss)]
    Ok(step as f64)
}

/// Verifies a TOTP code at `now` (default: the clock), accepting the previous, current and
/// next step, and returns the step that matched: store it and pass it as `lastUsedStep`
/// next time (`KC_REPLAYED` for a code at or before it).
#[wasm_bindgen(js_name = verifyTotpAt)]
pub fn verify_totp_at(
    secret: &StrArg,
    code: &StrArg,
    now: Option<NumArg>,
    #[wasm_bindgen(js_name = lastUsedStep)] last_used_step: Option<NumArg>,
) -> JsResult<f64> {
    let secret = secret_string(secret, "secret must be a string")?;
    let code = secret_string(code, "code must be a string")?;
    let now = now_or_clock(now)?;
    let last = match last_used_step {
        None => None,
        Some(v) => Some(js_u64(&v, "lastUsedStep must be a non-negative integer")?),
    };
    let step = keycustody::verify_totp_at(&secret, &code, now, last)?;
    // A step is now / 30 for a safe-integer now: exact.
    #[allow(clippy::cast_precision_loss)]
    Ok(step as f64)
}

/// Throws `KC_INVALID_ARGUMENT` unless `s` is a valid slug.
#[wasm_bindgen(js_name = validateSlug)]
pub fn validate_slug(s: &StrArg) -> JsResult<()> {
    Ok(keycustody::validate_slug(&js_string(
        s,
        "slug must be a string",
    )?)?)
}

/// Throws `KC_INVALID_ARGUMENT` unless `s` is a plausible email address.
#[wasm_bindgen(js_name = validateEmail)]
pub fn validate_email(s: &StrArg) -> JsResult<()> {
    Ok(keycustody::validate_email(&js_string(
        s,
        "email must be a string",
    )?)?)
}

// ---------------------------------------------------------------- legacy decoders

/// Decrypts a legacy `base64(salt || iv || ciphertext || tag)` blob (PBKDF2-HMAC-SHA256 +
/// AES-256-GCM), for migration to `kc1`.
#[wasm_bindgen(js_name = decryptLegacyPbkdf2Gcm)]
pub fn decrypt_legacy_pbkdf2_gcm(
    blob: &StrArg,
    password: &BytesArg,
    options: Option<Pbkdf2GcmParamsArg>,
) -> JsResult<Uint8Array> {
    let blob = js_string(blob, "blob must be a string")?;
    let password = bytes(password, "password must be a string or Uint8Array")?;
    let options = options.map(JsValue::from);
    let opts = options_object(options.as_ref())?;
    let mut p = keycustody::Pbkdf2GcmParams::default();
    let it = prop(opts, "iterations")?;
    if !it.is_undefined() {
        p.iterations = js_u32(&it, "options.iterations must be an integer")?;
    }
    let salt = prop(opts, "saltLen")?;
    if !salt.is_undefined() {
        p.salt_len = usize_of(js_u32(&salt, "options.saltLen must be an integer")?);
    }
    let iv = prop(opts, "ivLen")?;
    if !iv.is_undefined() {
        p.iv_len = usize_of(js_u32(&iv, "options.ivLen must be an integer")?);
    }
    let plain = keycustody::decrypt_legacy_pbkdf2_gcm(&blob, &password, p)?;
    Ok(secret_bytes_to_js(plain.expose_secret()))
}

/// Decrypts an `openssl enc -aes-256-cbc -pbkdf2 -iter N` file (`Salted__` header).
#[wasm_bindgen(js_name = decryptOpensslEnc)]
pub fn decrypt_openssl_enc(
    data: &U8Arg,
    password: &BytesArg,
    iterations: Option<NumArg>,
) -> JsResult<Uint8Array> {
    let data = u8_array(data, "data must be a Uint8Array")?;
    let password = bytes(password, "password must be a string or Uint8Array")?;
    let iterations = opt_u32(
        iterations,
        keycustody::DEFAULT_ITERATIONS,
        "iterations must be an integer",
    )?;
    let plain = keycustody::decrypt_openssl_enc(&data, &password, iterations)?;
    Ok(secret_bytes_to_js(plain.expose_secret()))
}

// ---------------------------------------------------------------- Keyring: JWT, codes, pseudonyms

#[wasm_bindgen]
impl Keyring {
    /// A per-tenant HS256 JWT (header `kid` = the primary's kid) with `claims` (an object
    /// or its JSON text, without `exp`/`iat`), valid `ttlSeconds` from `now` (default: the clock).
    #[wasm_bindgen(js_name = signJwt)]
    pub fn sign_jwt(
        &self,
        tenant: &StrArg,
        claims: &ClaimsArg,
        #[wasm_bindgen(js_name = ttlSeconds)] ttl_seconds: &NumArg,
        now: Option<NumArg>,
    ) -> JsResult<String> {
        let tenant = js_string(tenant, "tenant must be a string")?;
        let claims = claims_text(claims)?;
        let ttl = js_u64(ttl_seconds, "ttlSeconds must be a positive integer")?;
        let now = now_or_clock(now)?;
        Ok(self.core().sign_jwt_at(&tenant, &claims, ttl, now)?)
    }

    /// Verifies a tenant's JWT (alg pinned to HS256; exp/nbf/iat, and `audience`/`issuer`
    /// when given, checked at `options.now`, default the clock); returns its claims.
    #[wasm_bindgen(js_name = verifyJwt)]
    pub fn verify_jwt(
        &self,
        tenant: &StrArg,
        token: &StrArg,
        options: Option<JwtVerifyOptionsArg>,
    ) -> JsResult<ClaimsJs> {
        let tenant = js_string(tenant, "tenant must be a string")?;
        let token = js_string(token, "token must be a string")?;
        let options = options.map(JsValue::from);
        let opts = options_object(options.as_ref())?;
        let mut o = keycustody::JwtVerifyOptions::default();
        let aud = prop(opts, "audience")?;
        if !aud.is_undefined() {
            o.audience = Some(js_string(&aud, "options.audience must be a string")?);
        }
        let iss = prop(opts, "issuer")?;
        if !iss.is_undefined() {
            o.issuer = Some(js_string(&iss, "options.issuer must be a string")?);
        }
        let leeway = prop(opts, "leeway")?;
        if !leeway.is_undefined() {
            o.leeway = js_u64(&leeway, "options.leeway must be a non-negative integer")?;
        }
        let now = prop(opts, "now")?;
        let now = if now.is_undefined() {
            clock()?
        } else {
            js_i64(&now, "options.now must be an integer (Unix seconds)")?
        };
        let claims = self.core().verify_jwt_at(&tenant, &token, &o, now)?;
        js_sys::JSON::parse(&claims)
            .map(JsCast::unchecked_into)
            .map_err(|_| Error::Malformed(MalformedKind::Jwt).into())
    }

    /// The tenant's HS256 secret under the primary key (to hand to a verifier elsewhere).
    #[wasm_bindgen(js_name = jwtSecret)]
    pub fn jwt_secret(&self, tenant: &StrArg) -> JsResult<JwtSecretJs> {
        let tenant = js_string(tenant, "tenant must be a string")?;
        let (kid, secret) = self.core().jwt_secret(&tenant)?;
        Ok(object(&[
            ("kid", JsValue::from(kid)),
            ("secret", secret_bytes_to_js(secret.expose_secret()).into()),
        ])
        .unchecked_into())
    }

    /// Issues a 6-digit one-time code for `subject` (15-minute TTL from `now`, default the
    /// clock): `{code, record, expiresAt}`. Send `code`; store `record` (it holds only an HMAC).
    #[wasm_bindgen(js_name = issueCode)]
    pub fn issue_code(&self, subject: &StrArg, now: Option<NumArg>) -> JsResult<IssuedCodeJs> {
        let subject = js_string(subject, "subject must be a string")?;
        let now = now_or_clock(now)?;
        let c = self.core().issue_code_at(&subject, now)?;
        Ok(object(&[
            ("code", secret_to_js(c.code.expose_secret()).into()),
            ("record", JsValue::from_str(&c.record)),
            ("expiresAt", JsValue::from(ts_to_f64(c.expires_at))),
        ])
        .unchecked_into())
    }

    /// Checks `code` against the stored `record` at `now` (default: the clock):
    /// `{status, attemptsLeft, record, changed}`; write `record` back when `changed`.
    #[wasm_bindgen(js_name = verifyCode)]
    pub fn verify_code(
        &self,
        subject: &StrArg,
        code: &StrArg,
        record: &StrArg,
        now: Option<NumArg>,
    ) -> JsResult<CodeCheckJs> {
        let subject = js_string(subject, "subject must be a string")?;
        let code = secret_string(code, "code must be a string")?;
        let record = js_string(record, "record must be a string")?;
        let now = now_or_clock(now)?;
        let c = self.core().verify_code_at(&subject, &code, &record, now)?;
        Ok(object(&[
            ("status", JsValue::from_str(c.status.as_str())),
            ("attemptsLeft", JsValue::from(c.attempts_left)),
            ("record", JsValue::from_str(&c.record)),
            ("changed", JsValue::from_bool(c.changed)),
        ])
        .unchecked_into())
    }

    /// A stable pseudonym (HMAC hex) of an IP address, email or other identifier.
    pub fn pseudonymize(&self, value: &StrArg) -> JsResult<String> {
        let value = secret_string(value, "value must be a string")?;
        Ok(self.core().pseudonymize(&value)?)
    }

    /// `pseudonymize` with a per-tenant key, so pseudonyms cannot be joined across tenants.
    #[wasm_bindgen(js_name = pseudonymizeFor)]
    pub fn pseudonymize_for(&self, tenant: &StrArg, value: &StrArg) -> JsResult<String> {
        let tenant = js_string(tenant, "tenant must be a string")?;
        let value = secret_string(value, "value must be a string")?;
        Ok(self.core().pseudonymize_for(&tenant, &value)?)
    }
}

/// JWT claims given as JSON text or as an object (serialised with `JSON.stringify`).
fn claims_text(v: &JsValue) -> JsResult<String> {
    const WHAT: &str = "claims must be an object or its JSON text";
    if v.is_string() {
        return js_string(v, WHAT);
    }
    if !v.is_object() || js_sys::Array::is_array(v) || v.is_function() {
        return Err(invalid(WHAT));
    }
    let text = js_sys::JSON::stringify(v).map_err(|_| invalid(WHAT))?;
    js_string(&text, WHAT)
}
