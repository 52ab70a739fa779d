//! Webhook signatures: the Stripe scheme, Standard Webhooks and Telegram's secret token.
//!
//! Every verifier takes the time as a parameter (`*_at(.., now)`); the thin wall-clock
//! wrappers exist on native targets only (wasm callers pass `Date.now() / 1000`).
//! Timestamps are checked on both sides: older than `now - tolerance` and newer than
//! `now + tolerance` are both refused. Tags are compared in constant time, and any one
//! matching signature passes, so a sender can roll its secret.
//!
//! Each parser here is a pure function of its input (no I/O, no clock), so fuzz
//! targets can call it directly.

use crate::ct::constant_time_equal;
use crate::error::{Error, MalformedKind, Result};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The wall clock now lives in `clock.rs`; this path is kept for existing callers.
#[cfg(not(target_arch = "wasm32"))]
use crate::clock::unix_now;

type HmacSha256 = Hmac<Sha256>;

/// Default timestamp tolerance, in seconds (Stripe's and Standard Webhooks' default).
pub const DEFAULT_TOLERANCE: u64 = 300;
/// The largest payload a verifier or signer accepts, in bytes (16 MiB).
pub const MAX_PAYLOAD_LEN: usize = 16 * 1024 * 1024;
/// The largest signature header accepted, in bytes.
pub const MAX_HEADER_LEN: usize = 8 * 1024;
/// The largest secret accepted, in bytes (Stripe text secret or decoded Standard Webhooks secret).
pub const MAX_SECRET_LEN: usize = 1024;
/// The largest Standard Webhooks message id accepted, in bytes.
pub const MAX_MESSAGE_ID_LEN: usize = 256;
/// The prefix of a Standard Webhooks secret.
pub const STANDARD_SECRET_PREFIX: &str = "whsec_";

/// Base64 (standard alphabet) that accepts input with or without padding.
const B64_STD_INDIFFERENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A parsed `Stripe-Signature` header: the timestamp and every `v1` signature.
///
/// Other schemes (`v0`, future ones) are ignored, as Stripe's own libraries do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StripeSignatureHeader {
    /// The `t=` value, seconds since the Unix epoch.
    pub timestamp: i64,
    /// The `v1=` values, each 32 bytes (hex-decoded). Values that are not 64 hex
    /// characters are dropped: they can never match.
    pub v1: Vec<[u8; 32]>,
}

fn check_payload(payload: &[u8]) -> Result<()> {
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(Error::TooLarge {
            limit: MAX_PAYLOAD_LEN,
        });
    }
    Ok(())
}

fn check_header(header: &str) -> Result<()> {
    if header.len() > MAX_HEADER_LEN {
        return Err(Error::TooLarge {
            limit: MAX_HEADER_LEN,
        });
    }
    Ok(())
}

/// Parses a decimal Unix timestamp: ASCII digits only (no sign, no spaces), at most
/// 18 digits so that it always fits an `i64`.
///
/// # Errors
/// [`Error::Malformed`] with [`MalformedKind::Timestamp`].
pub fn parse_timestamp(s: &str) -> Result<i64> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Malformed(MalformedKind::Timestamp));
    }
    s.parse::<i64>()
        .map_err(|_| Error::Malformed(MalformedKind::Timestamp))
}

/// 64 lowercase hex characters as 32 bytes (constant-time decoding); `None` otherwise.
fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 2 * out.len() {
        return None;
    }
    base16ct::lower::decode(s, &mut out).ok()?;
    Some(out)
}

/// Parses a `Stripe-Signature` header (`t=<ts>,v1=<hex>[,v1=<hex>...]`).
///
/// Pure function of its input, for fuzzing.
///
/// # Errors
/// [`Error::TooLarge`] over [`MAX_HEADER_LEN`]; [`Error::Malformed`] with
/// [`MalformedKind::SignatureHeader`] (no `t`, two `t`, an item without `=`, no `v1`)
/// or [`MalformedKind::Timestamp`] (a `t` that is not a decimal integer in range).
pub fn parse_stripe_signature_header(header: &str) -> Result<StripeSignatureHeader> {
    check_header(header)?;
    let mut timestamp = None;
    let mut v1 = Vec::new();
    let mut saw_v1 = false;
    for item in header.split(',') {
        let item = item.trim();
        let (k, v) = item
            .split_once('=')
            .ok_or(Error::Malformed(MalformedKind::SignatureHeader))?;
        match k {
            "t" => {
                if timestamp.is_some() {
                    return Err(Error::Malformed(MalformedKind::SignatureHeader));
                }
                timestamp = Some(parse_timestamp(v)?);
            }
            "v1" => {
                saw_v1 = true;
                if let Some(sig) = decode_hex32(v) {
                    v1.push(sig);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Error::Malformed(MalformedKind::SignatureHeader))?;
    if !saw_v1 {
        return Err(Error::Malformed(MalformedKind::SignatureHeader));
    }
    Ok(StripeSignatureHeader { timestamp, v1 })
}

fn check_tolerance(timestamp: i64, tolerance: u64, now: i64) -> Result<()> {
    let diff = (i128::from(now) - i128::from(timestamp)).unsigned_abs();
    if diff > u128::from(tolerance) {
        return Err(Error::TimestampOutOfTolerance);
    }
    Ok(())
}

fn stripe_mac(payload: &[u8], secret: &[u8], timestamp: i64) -> Result<[u8; 32]> {
    let mut mac =
        HmacSha256::new_from_slice(secret).map_err(|_| Error::InvalidArgument("secret"))?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    Ok(mac.finalize().into_bytes().into())
}

fn check_stripe_secret(secret: &str) -> Result<()> {
    if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
        return Err(Error::InvalidArgument(
            "webhook secret must be 1 to 1024 bytes",
        ));
    }
    Ok(())
}

/// Verifies a Stripe webhook at time `now` (seconds since the Unix epoch) and
/// returns the signed timestamp.
///
/// The secret (`whsec_...`) is used as the HMAC-SHA256 key exactly as given, like
/// Stripe's libraries. Any `v1` signature matching passes (secret rolling). The
/// timestamp must be within `tolerance` seconds of `now` in either direction.
///
/// Presentation and data errors: this returns the signed timestamp, so a request that
/// does not verify is an `Err`, always one of the *rejections* `SignatureInvalid`,
/// `TimestampOutOfTolerance`, `Malformed` (`SignatureHeader`, `Timestamp`) or
/// `TooLarge` (answer 400/401). Only `InvalidArgument` comes from the caller's own
/// data (the secret) and means a configuration error (500).
///
/// # Errors
/// [`Error::InvalidArgument`] for an empty or oversized secret; [`Error::TooLarge`]
/// for an oversized payload or header; [`Error::Malformed`] for a malformed header;
/// [`Error::SignatureInvalid`] when no `v1` matches; [`Error::TimestampOutOfTolerance`].
pub fn verify_stripe_signature_at(
    payload: &[u8],
    header: &str,
    secret: &str,
    tolerance: u64,
    now: i64,
) -> Result<i64> {
    check_stripe_secret(secret)?;
    check_payload(payload)?;
    let parsed = parse_stripe_signature_header(header)?;
    // The expected tag is a valid signature of this payload until it is compared: wiped.
    let expected = Zeroizing::new(stripe_mac(payload, secret.as_bytes(), parsed.timestamp)?);
    // Check every candidate, without stopping at the first match.
    let mut ok = false;
    for sig in &parsed.v1 {
        ok |= constant_time_equal(&expected[..], sig);
    }
    if !ok {
        return Err(Error::SignatureInvalid);
    }
    check_tolerance(parsed.timestamp, tolerance, now)?;
    Ok(parsed.timestamp)
}

/// [`verify_stripe_signature_at`] at the current wall-clock time (native targets only).
///
/// # Errors
/// As [`verify_stripe_signature_at`].
#[cfg(not(target_arch = "wasm32"))]
pub fn verify_stripe_signature(
    payload: &[u8],
    header: &str,
    secret: &str,
    tolerance: u64,
) -> Result<i64> {
    verify_stripe_signature_at(payload, header, secret, tolerance, unix_now()?)
}

/// Signs a payload as Stripe does and returns the `Stripe-Signature` header
/// (`t=<timestamp>,v1=<hex>`), for senders and tests.
///
/// # Errors
/// [`Error::InvalidArgument`] for an empty or oversized secret or a negative
/// timestamp; [`Error::TooLarge`] for an oversized payload.
pub fn sign_stripe_payload(payload: &[u8], secret: &str, timestamp: i64) -> Result<String> {
    check_stripe_secret(secret)?;
    check_payload(payload)?;
    if timestamp < 0 {
        return Err(Error::InvalidArgument("timestamp must not be negative"));
    }
    let mac = stripe_mac(payload, secret.as_bytes(), timestamp)?;
    Ok(format!(
        "t={timestamp},v1={}",
        base16ct::lower::encode_string(&mac)
    ))
}

/// Decodes a Standard Webhooks secret: `whsec_<base64>` (the prefix is optional, as
/// in the reference libraries), padded or not.
///
/// # Errors
/// [`Error::Malformed`] with [`MalformedKind::Base64`]; [`Error::InvalidArgument`]
/// for an empty or oversized key.
pub fn parse_standard_webhook_secret(secret: &str) -> Result<crate::SecretBytes> {
    let body = secret
        .strip_prefix(STANDARD_SECRET_PREFIX)
        .unwrap_or(secret);
    // Base64 of MAX_SECRET_LEN bytes is at most 4 * 1024 / 3 + 4 characters.
    if body.len() > MAX_SECRET_LEN * 4 / 3 + 4 {
        return Err(Error::InvalidArgument(
            "webhook secret must be 1 to 1024 bytes",
        ));
    }
    let key = Zeroizing::new(
        B64_STD_INDIFFERENT
            .decode(body)
            .map_err(|_| Error::Malformed(MalformedKind::Base64))?,
    );
    if key.is_empty() || key.len() > MAX_SECRET_LEN {
        return Err(Error::InvalidArgument(
            "webhook secret must be 1 to 1024 bytes",
        ));
    }
    Ok(crate::SecretBytes::new(key.to_vec()))
}

fn check_message_id(msg_id: &str) -> Result<()> {
    if msg_id.is_empty()
        || msg_id.len() > MAX_MESSAGE_ID_LEN
        || msg_id.chars().any(char::is_control)
    {
        return Err(Error::Malformed(MalformedKind::SignatureHeader));
    }
    Ok(())
}

fn standard_mac(key: &[u8], msg_id: &str, timestamp: i64, payload: &[u8]) -> Result<[u8; 32]> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| Error::InvalidArgument("secret"))?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    Ok(mac.finalize().into_bytes().into())
}

/// Parses a `webhook-signature` header: space-separated `v1,<base64>` entries.
/// Entries of other versions (e.g. `v1a`) are ignored; `v1` entries whose value is
/// not base64 of 32 bytes are dropped (they can never match).
///
/// # Errors
/// [`Error::TooLarge`]; [`Error::Malformed`] with [`MalformedKind::SignatureHeader`]
/// when an entry has no `,` or there is no `v1` entry.
pub fn parse_standard_signature_header(header: &str) -> Result<Vec<[u8; 32]>> {
    check_header(header)?;
    let mut out = Vec::new();
    let mut saw_v1 = false;
    for entry in header.split(' ').filter(|e| !e.is_empty()) {
        let (version, sig) = entry
            .split_once(',')
            .ok_or(Error::Malformed(MalformedKind::SignatureHeader))?;
        if version != "v1" {
            continue;
        }
        saw_v1 = true;
        if sig.len() <= 48 {
            if let Ok(bytes) = STANDARD.decode(sig) {
                if let Ok(arr) = <[u8; 32]>::try_from(bytes.as_slice()) {
                    out.push(arr);
                }
            }
        }
    }
    if !saw_v1 {
        return Err(Error::Malformed(MalformedKind::SignatureHeader));
    }
    Ok(out)
}

/// Verifies a Standard Webhooks message (headers `webhook-id`, `webhook-timestamp`,
/// `webhook-signature`) at time `now`, returning the signed timestamp.
///
/// Presentation and data errors: a request that does not verify is an `Err`, one of the
/// *rejections* `SignatureInvalid`, `TimestampOutOfTolerance`, `TooLarge` or
/// `Malformed` with `SignatureHeader` (id or signature header), `Timestamp`,
/// `WebhookHeaderMissing` / `WebhookHeaderRepeated` (header mapping) (answer
/// 400/401). Only the secret is the caller's data: `Malformed` with `Base64` or
/// `InvalidArgument` for it means a configuration error (500).
///
/// # Errors
/// [`Error::Malformed`] for a bad secret (`Base64`), id or signature header
/// (`SignatureHeader`) or timestamp (`Timestamp`); [`Error::TooLarge`];
/// [`Error::SignatureInvalid`]; [`Error::TimestampOutOfTolerance`].
pub fn verify_standard_webhook_at(
    payload: &[u8],
    msg_id: &str,
    timestamp: &str,
    signature: &str,
    secret: &str,
    tolerance: u64,
    now: i64,
) -> Result<i64> {
    let key = parse_standard_webhook_secret(secret)?;
    check_payload(payload)?;
    check_message_id(msg_id)?;
    let ts = parse_timestamp(timestamp)?;
    let sigs = parse_standard_signature_header(signature)?;
    let expected = Zeroizing::new(standard_mac(key.expose_secret(), msg_id, ts, payload)?);
    let mut ok = false;
    for sig in &sigs {
        ok |= constant_time_equal(&expected[..], sig);
    }
    if !ok {
        return Err(Error::SignatureInvalid);
    }
    check_tolerance(ts, tolerance, now)?;
    Ok(ts)
}

/// [`verify_standard_webhook_at`] at the current wall-clock time (native targets only).
///
/// # Errors
/// As [`verify_standard_webhook_at`].
#[cfg(not(target_arch = "wasm32"))]
pub fn verify_standard_webhook(
    payload: &[u8],
    msg_id: &str,
    timestamp: &str,
    signature: &str,
    secret: &str,
    tolerance: u64,
) -> Result<i64> {
    verify_standard_webhook_at(
        payload,
        msg_id,
        timestamp,
        signature,
        secret,
        tolerance,
        unix_now()?,
    )
}

/// The three Standard Webhooks header names, lowercase.
pub const STANDARD_HEADER_NAMES: [&str; 3] =
    ["webhook-id", "webhook-timestamp", "webhook-signature"];

/// Finds `webhook-id`, `webhook-timestamp` and `webhook-signature` in a request's
/// headers, names compared ASCII case-insensitively (HTTP field names are
/// case-insensitive). Other headers are ignored.
///
/// # Errors
/// [`Error::Malformed`] with [`MalformedKind::WebhookHeaderRepeated`] when one of the
/// three appears twice (even with the same value: a proxy or a client that repeats it
/// is not the sender the signature vouches for), or
/// [`MalformedKind::WebhookHeaderMissing`] when one is absent.
fn find_standard_headers<I, K, V>(headers: I) -> Result<[V; 3]>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut found: [Option<V>; 3] = [None, None, None];
    for (name, value) in headers {
        let name = name.as_ref();
        if let Some(i) = STANDARD_HEADER_NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
        {
            if found[i].is_some() {
                return Err(Error::Malformed(MalformedKind::WebhookHeaderRepeated));
            }
            found[i] = Some(value);
        }
    }
    let [id, ts, sig] = found;
    match (id, ts, sig) {
        (Some(id), Some(ts), Some(sig)) => Ok([id, ts, sig]),
        _ => Err(Error::Malformed(MalformedKind::WebhookHeaderMissing)),
    }
}

/// [`verify_standard_webhook_at`] with the request's headers as they come: any
/// sequence of `(name, value)` pairs (a header map's iterator, a `Vec` of pairs).
/// `webhook-id`, `webhook-timestamp` and `webhook-signature` are looked up with names
/// compared ASCII case-insensitively, as the official `standardwebhooks` libraries do
/// (they lowercase the mapping's keys); unlike them, a header given twice is refused
/// instead of one copy silently winning.
///
/// The bindings' `verify_standard_webhook(payload, headers, secret)` call this.
///
/// # Errors
/// [`Error::Malformed`] with [`MalformedKind::WebhookHeaderMissing`] or
/// [`MalformedKind::WebhookHeaderRepeated`]; otherwise as [`verify_standard_webhook_at`].
pub fn verify_standard_webhook_headers_at<I, K, V>(
    payload: &[u8],
    headers: I,
    secret: &str,
    tolerance: u64,
    now: i64,
) -> Result<i64>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let [id, ts, sig] = find_standard_headers(headers)?;
    verify_standard_webhook_at(
        payload,
        id.as_ref(),
        ts.as_ref(),
        sig.as_ref(),
        secret,
        tolerance,
        now,
    )
}

/// [`verify_standard_webhook_headers_at`] at the current wall-clock time (native
/// targets only).
///
/// # Errors
/// As [`verify_standard_webhook_headers_at`].
#[cfg(not(target_arch = "wasm32"))]
pub fn verify_standard_webhook_headers<I, K, V>(
    payload: &[u8],
    headers: I,
    secret: &str,
    tolerance: u64,
) -> Result<i64>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    verify_standard_webhook_headers_at(payload, headers, secret, tolerance, unix_now()?)
}

/// Signs a Standard Webhooks message and returns the `webhook-signature` header
/// value (`v1,<base64>`).
///
/// # Errors
/// [`Error::Malformed`] for a secret that is not `whsec_<base64>`; [`Error::Malformed`] for a bad id;
/// [`Error::InvalidArgument`] for a negative timestamp; [`Error::TooLarge`].
pub fn sign_standard_webhook(
    payload: &[u8],
    msg_id: &str,
    timestamp: i64,
    secret: &str,
) -> Result<String> {
    let key = parse_standard_webhook_secret(secret)?;
    check_payload(payload)?;
    check_message_id(msg_id)?;
    if timestamp < 0 {
        return Err(Error::InvalidArgument("timestamp must not be negative"));
    }
    let mac = standard_mac(key.expose_secret(), msg_id, timestamp, payload)?;
    Ok(format!("v1,{}", STANDARD.encode(mac)))
}

/// A fresh Standard Webhooks secret: `whsec_` + base64 of 32 random bytes.
///
/// # Errors
/// [`Error::RandomUnavailable`].
pub fn generate_standard_webhook_secret() -> Result<crate::SecretString> {
    let mut raw = Zeroizing::new([0u8; 32]);
    crate::random::fill_random(&mut raw[..])?;
    Ok(crate::SecretString::new(format!(
        "{STANDARD_SECRET_PREFIX}{}",
        STANDARD.encode(&raw[..])
    )))
}

/// Checks Telegram's `X-Telegram-Bot-Api-Secret-Token` header against the secret
/// given to `setWebhook`, in constant time.
///
/// Presentation and data errors: any presented header that is not the secret (empty,
/// missing, any bytes) is [`Error::SignatureInvalid`]; only a bad `expected` (the
/// caller's configuration) is [`Error::InvalidArgument`].
///
/// # Errors
/// [`Error::InvalidArgument`] when `expected` is not 1 to 256 characters of
/// `A-Za-z0-9_-` (Telegram's rule); [`Error::SignatureInvalid`] on mismatch
/// (including a missing/empty header).
pub fn verify_telegram_secret(header: &str, expected: &str) -> Result<()> {
    if expected.is_empty()
        || expected.len() > 256
        || !expected
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Error::InvalidArgument(
            "Telegram secret token must be 1 to 256 characters of A-Za-z0-9_-",
        ));
    }
    if constant_time_equal(header.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(Error::SignatureInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_roundtrip() {
        let h = sign_stripe_payload(b"{}", "whsec_x", 1000).unwrap();
        assert_eq!(
            verify_stripe_signature_at(b"{}", &h, "whsec_x", 300, 1000),
            Ok(1000)
        );
    }
}
