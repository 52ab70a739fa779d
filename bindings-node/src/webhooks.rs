//! Webhook verification and signing (Stripe, Standard Webhooks, Telegram) and
//! the in-memory replay guard.
//!
//! Every `verify*` function takes the time as an optional last argument (`now`,
//! Unix seconds): omitted, it is the system clock; given, tests never depend on time.

use crate::conv::{self, secret_js_string};
use crate::error::{run, Fail, Res};
use napi::bindgen_prelude::{Function, JsObjectValue, JsValue, Object, Unknown};
use napi::{Env, JsString, ValueType};
use napi_derive::napi;

/// The default tolerance of webhook timestamps, in seconds (5 minutes).
const DEFAULT_TOLERANCE: u64 = keycustody::DEFAULT_TOLERANCE;
// The replay guard's default ttl (core's, 2 x the tolerance) as the argument reader's type.
const DEFAULT_TTL: usize = keycustody::DEFAULT_REPLAY_TTL as usize;

fn tolerance_secs(v: Option<Unknown<'_>>) -> Res<u64> {
    // DEFAULT_TOLERANCE is 300: it fits any usize.
    let t = conv::opt_len(v, "tolerance", DEFAULT_TOLERANCE as usize)?;
    Ok(u64::try_from(t).unwrap_or(u64::MAX))
}

/// Verifies a Stripe webhook (`Stripe-Signature: t=..,v1=..[,v1=..]`, HMAC-SHA256 of
/// `"{t}.{body}"`) and returns the signed timestamp. Pass the raw request body, not
/// parsed JSON. Any matching `v1` passes, so secrets can roll.
///
/// `tolerance` (default 300) is in seconds; `now` (Unix seconds) defaults to the clock.
///
/// @throws {Error} `KC_SIGNATURE_INVALID`, `KC_TIMESTAMP_OUT_OF_TOLERANCE`, `KC_MALFORMED` (header), `KC_TOO_LARGE`, `KC_INVALID_ARGUMENT` (secret).
#[napi]
pub fn verify_stripe_signature(
    env: &Env,
    #[napi(ts_arg_type = "string | Uint8Array")] payload: Unknown<'_>,
    #[napi(ts_arg_type = "string")] header: Unknown<'_>,
    #[napi(ts_arg_type = "string")] secret: Unknown<'_>,
    #[napi(ts_arg_type = "number")] tolerance: Option<Unknown<'_>>,
    #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
) -> napi::Result<i64> {
    run(env, || {
        let payload = conv::bytes(payload, "payload")?;
        let header = conv::string(header, "header")?;
        let secret = conv::secret_string(secret, "secret")?;
        let tolerance = tolerance_secs(tolerance)?;
        let now = conv::now_or_clock(conv::opt_i64(now, "now")?)?;
        Ok(keycustody::verify_stripe_signature_at(
            payload.as_slice(),
            &header,
            &secret,
            tolerance,
            now,
        )?)
    })
}

/// Signs a payload as Stripe does; returns the `Stripe-Signature` header value
/// (`t=<timestamp>,v1=<hex>`), for senders and tests.
///
/// @throws {Error} `KC_INVALID_ARGUMENT` (secret, negative timestamp), `KC_TOO_LARGE`.
#[napi]
pub fn sign_stripe_payload(
    env: &Env,
    #[napi(ts_arg_type = "string | Uint8Array")] payload: Unknown<'_>,
    #[napi(ts_arg_type = "string")] secret: Unknown<'_>,
    #[napi(ts_arg_type = "number")] timestamp: Unknown<'_>,
) -> napi::Result<String> {
    run(env, || {
        let payload = conv::bytes(payload, "payload")?;
        let secret = conv::secret_string(secret, "secret")?;
        let timestamp = conv::i64_int(timestamp, "timestamp")?;
        Ok(keycustody::sign_stripe_payload(
            payload.as_slice(),
            &secret,
            timestamp,
        )?)
    })
}

/// What the `headers` argument must be (the `TypeError` text).
const HEADERS_EXPECTED: &str =
    "a Headers object or a plain object of header names to values (string or string[])";

fn headers_type() -> Fail {
    Fail::Type {
        arg: "headers",
        expected: HEADERS_EXPECTED,
    }
}

/// Whether `name` is one of the three Standard Webhooks headers (ASCII case-insensitive).
fn is_standard_header(name: &str) -> bool {
    keycustody::STANDARD_HEADER_NAMES
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

/// The elements of a JavaScript array (`arr` is known to be an array).
fn elements<'a>(arr: &Object<'a>) -> Res<Vec<Unknown<'a>>> {
    let n = arr.get_array_length()?;
    let mut out = Vec::with_capacity(n.min(1024) as usize);
    for i in 0..n {
        out.push(arr.get_element::<Unknown<'a>>(i)?);
    }
    Ok(out)
}

/// Calls the global `Object.entries(o)` or `Array.from(o)`.
fn global_call<'a>(env: &Env, class: &str, method: &str, arg: Unknown<'a>) -> Res<Object<'a>> {
    // `Object` and `Array` are constructors: functions, with the static method as a property.
    let ctor: Function<'_, (), Unknown<'_>> = env.get_global()?.get_named_property(class)?;
    let f: Function<'_, Unknown<'a>, Object<'a>> = ctor.get_named_property(method)?;
    Ok(f.apply(ctor, arg)?)
}

/// `[name, value]` as a pair of JavaScript values, or a `TypeError`.
fn entry_pair<'a>(entry: Unknown<'a>) -> Res<(Unknown<'a>, Unknown<'a>)> {
    if !entry.is_array()? {
        return Err(headers_type());
    }
    let arr = entry.coerce_to_object()?;
    if arr.get_array_length()? != 2 {
        return Err(headers_type());
    }
    Ok((arr.get_element(0)?, arr.get_element(1)?))
}

/// The request's headers as `(name, value)` pairs for core's
/// `verify_standard_webhook_headers_at`: only the three Standard Webhooks headers are
/// read (others may hold anything), every occurrence of them is kept, so core refuses a
/// repeated one.
///
/// - An object with an `entries()` method (a WHATWG `Headers`, a `Map`): its entries.
///   `Headers` joins a repeated header into one value with `", "`, so that value is
///   what gets verified (a joined timestamp is malformed, a joined signature header
///   carries both signatures).
/// - Any other object (`IncomingHttpHeaders`, a literal): its own enumerable entries;
///   a value is a string, an array of strings (each item one occurrence of the header)
///   or `undefined` (absent). Names differing only in case are two occurrences.
fn header_pairs(env: &Env, headers: Unknown<'_>) -> Res<Vec<(String, String)>> {
    // Not an object; an array, a typed array, a DataView, an ArrayBuffer (refused by
    // `opt_object`) or a `String` object (objects, but never a header mapping); null or
    // undefined: a TypeError, as in keycustody-wasm.
    let obj = conv::opt_object(Some(headers), "headers")
        .map_err(|_| headers_type())?
        .ok_or_else(headers_type)?;
    let string_ctor: Function<'_, (), Unknown<'_>> =
        env.get_global()?.get_named_property("String")?;
    if obj.instanceof(string_ctor)? {
        return Err(headers_type());
    }
    let entries_fn: Unknown<'_> = obj.get_named_property("entries")?;
    let iterable = entries_fn.get_type()? == ValueType::Function;
    let entries = if iterable {
        let f: Function<'_, (), Unknown<'_>> = obj.get_named_property("entries")?;
        let iter = f.apply(obj, ())?;
        global_call(env, "Array", "from", iter)?
    } else {
        global_call(env, "Object", "entries", obj.to_unknown())?
    };
    let mut pairs = Vec::new();
    for entry in elements(&entries)? {
        let (name, value) = entry_pair(entry)?;
        if name.get_type()? != ValueType::String {
            return Err(headers_type());
        }
        let name = conv::string(name, "headers")?;
        if !is_standard_header(&name) {
            continue;
        }
        match value.get_type()? {
            ValueType::String => pairs.push((name, conv::string(value, "headers")?)),
            // `IncomingHttpHeaders` leaves a header that is not there `undefined`.
            ValueType::Undefined if !iterable => {}
            ValueType::Object if !iterable && value.is_array()? => {
                for item in elements(&value.coerce_to_object()?)? {
                    if item.get_type()? != ValueType::String {
                        return Err(headers_type());
                    }
                    pairs.push((name.clone(), conv::string(item, "headers")?));
                }
            }
            _ => return Err(headers_type()),
        }
    }
    Ok(pairs)
}

/// Verifies a Standard Webhooks message and returns the signed timestamp. `headers` is
/// the request's headers as they come: a WHATWG `Headers` (`request.headers` in
/// `fetch`, Next.js, Hono, ...) or a plain object such as Node's `IncomingHttpHeaders`
/// (`req.headers` in `node:http`, Express); `webhook-id`, `webhook-timestamp` and
/// `webhook-signature` are looked up case-insensitively, like the official
/// `standardwebhooks` libraries. Secret `whsec_<base64>`. An exception thrown by the
/// mapping's own code (a getter, a Proxy trap, its `entries()` iterator) propagates as is,
/// as in keycustody-wasm.
///
/// `tolerance` (default 300) is in seconds; `now` (Unix seconds) defaults to the clock.
///
/// @throws {TypeError} `KC_INVALID_ARGUMENT` when `headers` is not a header mapping (an
/// array, a typed array, a `DataView`, an `ArrayBuffer` or a `String` object is none).
/// @throws {Error} `KC_MALFORMED` (`malformedKind` `WebhookHeaderMissing`, `WebhookHeaderRepeated`, `SignatureHeader`, `Timestamp`, `Base64`), `KC_SIGNATURE_INVALID`, `KC_TIMESTAMP_OUT_OF_TOLERANCE`, `KC_TOO_LARGE`, `KC_INVALID_ARGUMENT`.
#[napi]
pub fn verify_standard_webhook(
    env: &Env,
    #[napi(ts_arg_type = "string | Uint8Array")] payload: Unknown<'_>,
    #[napi(ts_arg_type = "Headers | Record<string, string | string[] | undefined>")]
    headers: Unknown<'_>,
    #[napi(ts_arg_type = "string")] secret: Unknown<'_>,
    #[napi(ts_arg_type = "number")] tolerance: Option<Unknown<'_>>,
    #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
) -> napi::Result<i64> {
    run(env, || {
        let payload = conv::bytes(payload, "payload")?;
        let headers = header_pairs(env, headers)?;
        let secret = conv::secret_string(secret, "secret")?;
        let tolerance = tolerance_secs(tolerance)?;
        let now = conv::now_or_clock(conv::opt_i64(now, "now")?)?;
        Ok(keycustody::verify_standard_webhook_headers_at(
            payload.as_slice(),
            headers,
            &secret,
            tolerance,
            now,
        )?)
    })
}

/// Signs a Standard Webhooks message; returns the `webhook-signature` header value (`v1,<base64>`).
///
/// @throws {Error} `KC_MALFORMED` (secret, id), `KC_INVALID_ARGUMENT`, `KC_TOO_LARGE`.
#[napi]
pub fn sign_standard_webhook(
    env: &Env,
    #[napi(ts_arg_type = "string | Uint8Array")] payload: Unknown<'_>,
    #[napi(ts_arg_type = "string")] msg_id: Unknown<'_>,
    #[napi(ts_arg_type = "number")] timestamp: Unknown<'_>,
    #[napi(ts_arg_type = "string")] secret: Unknown<'_>,
) -> napi::Result<String> {
    run(env, || {
        let payload = conv::bytes(payload, "payload")?;
        let msg_id = conv::string(msg_id, "msgId")?;
        let timestamp = conv::i64_int(timestamp, "timestamp")?;
        let secret = conv::secret_string(secret, "secret")?;
        Ok(keycustody::sign_standard_webhook(
            payload.as_slice(),
            &msg_id,
            timestamp,
            &secret,
        )?)
    })
}

/// A fresh Standard Webhooks secret: `whsec_` + base64 of 32 random bytes.
///
/// @throws {Error} `KC_RANDOM_UNAVAILABLE`.
#[napi]
pub fn generate_standard_webhook_secret<'e>(env: &'e Env) -> napi::Result<JsString<'e>> {
    run(env, || {
        secret_js_string(env, &keycustody::generate_standard_webhook_secret()?)
    })
}

/// Checks Telegram's `X-Telegram-Bot-Api-Secret-Token` header against the secret
/// given to `setWebhook`, in constant time. Returns nothing; throws on mismatch.
///
/// @throws {Error} `KC_SIGNATURE_INVALID` on mismatch (including an empty header), `KC_INVALID_ARGUMENT` for an invalid expected secret.
#[napi]
pub fn verify_telegram_secret(
    env: &Env,
    #[napi(ts_arg_type = "string")] header: Unknown<'_>,
    #[napi(ts_arg_type = "string")] expected: Unknown<'_>,
) -> napi::Result<()> {
    run(env, || {
        let header = conv::secret_string(header, "header")?;
        let expected = conv::secret_string(expected, "expected")?;
        Ok(keycustody::verify_telegram_secret(&header, &expected)?)
    })
}

/// Accepts each event id once within `ttlSeconds` (in memory, at most `capacity`
/// unexpired ids; when full it fails closed with `KC_INVALID_ARGUMENT`). For many app
/// instances use the SQLite/PostgreSQL guard of the store crate instead.
#[napi]
pub struct ReplayGuard {
    inner: keycustody::ReplayGuard,
}

#[napi]
impl ReplayGuard {
    /// A guard remembering at most `capacity` ids (default 100000) for `ttlSeconds` (default 600).
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` for a capacity outside 1 to 10,000,000 or a ttl outside 1 s to 10 years.
    #[napi(constructor)]
    pub fn new(
        env: &Env,
        #[napi(ts_arg_type = "number")] capacity: Option<Unknown<'_>>,
        #[napi(ts_arg_type = "number")] ttl_seconds: Option<Unknown<'_>>,
    ) -> napi::Result<ReplayGuard> {
        run(env, || {
            let capacity =
                conv::opt_u32_len(capacity, "capacity", keycustody::DEFAULT_REPLAY_CAPACITY)?;
            let ttl = conv::opt_len(ttl_seconds, "ttlSeconds", DEFAULT_TTL)?;
            let ttl = u64::try_from(ttl).map_err(|_| Fail::Range {
                arg: "ttlSeconds",
                expected: "a non-negative integer",
            })?;
            Ok(ReplayGuard {
                inner: keycustody::ReplayGuard::new(capacity, ttl)?,
            })
        })
    }

    /// Records `eventId` (e.g. a webhook event id) and returns; throws `KC_REPLAYED` if it
    /// was already seen within the ttl. `now` (Unix seconds) defaults to the clock.
    ///
    /// @throws {Error} `KC_REPLAYED`, `KC_INVALID_ARGUMENT` for an empty or over-long id or when the guard is full of unexpired ids.
    #[napi]
    pub fn check_and_record(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] event_id: Unknown<'_>,
        #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
    ) -> napi::Result<()> {
        run(env, || {
            let id = conv::string(event_id, "id")?;
            let now = conv::now_or_clock(conv::opt_i64(now, "now")?)?;
            Ok(self.inner.check_and_record_at(&id, now)?)
        })
    }

    /// How many ids are remembered now (expired ones included until pruned).
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }

    /// The most ids remembered.
    #[napi(getter)]
    pub fn capacity(&self) -> u32 {
        u32::try_from(self.inner.capacity()).unwrap_or(u32::MAX)
    }
}

impl std::fmt::Debug for ReplayGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayGuard")
            .field("capacity", &self.inner.capacity())
            .finish_non_exhaustive()
    }
}
