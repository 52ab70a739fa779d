//! TOTP (RFC 6238) for authenticator apps: SHA-1, 6 digits, 30-second steps (the
//! parameters every app supports), a ±1 step window, and replay prevention: the
//! caller stores the step that last verified and passes it back, and a code of that
//! step or an earlier one is refused with [`Error::Replayed`].
//!
//! Secrets travel as RFC 4648 base32 (upper case, no padding), as in `otpauth://` URIs.

use crate::ct::constant_time_equal;
use crate::error::{Error, MalformedKind, Result};
use crate::secret::{SecretBytes, SecretString};
use data_encoding::{BASE32_NOPAD, BASE32_NOPAD_NOCASE};
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use zeroize::Zeroizing;

/// Seconds per step.
pub const TOTP_PERIOD: u64 = 30;
/// Digits per code.
pub const TOTP_DIGITS: u32 = 6;
/// Bytes of a generated secret (160 bits, RFC 4226's recommendation).
pub const TOTP_SECRET_LEN: usize = 20;
/// Smallest secret accepted, in bytes (128 bits, RFC 4226's minimum).
pub const MIN_SECRET_LEN: usize = 16;
/// Largest secret accepted, in bytes.
pub const MAX_SECRET_LEN: usize = 128;

/// The characters left as they are in the `otpauth://` label and query values: RFC 3986's
/// unreserved set (`A-Z a-z 0-9 - . _ ~`); every other byte is `%XX` (upper-case hex).
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn totp_malformed() -> Error {
    Error::Malformed(MalformedKind::Totp)
}

/// Encodes bytes as RFC 4648 base32, upper case, without padding.
#[must_use]
pub fn base32_encode(bytes: &[u8]) -> String {
    BASE32_NOPAD.encode(bytes)
}

/// Decodes a TOTP secret: RFC 4648 base32, case-insensitive, `=` padding optional,
/// 16 to 128 bytes once decoded. Pure function of its input, for fuzzing.
///
/// # Errors
/// [`Error::Malformed`] with [`MalformedKind::Totp`].
pub fn parse_totp_secret(secret: &str) -> Result<SecretBytes> {
    let body = secret.trim_end_matches('=');
    if body.len() > MAX_SECRET_LEN * 8 / 5 + 1 || secret.len() - body.len() > 6 {
        return Err(totp_malformed());
    }
    // Case-insensitive; a length that no byte string encodes to, or leftover bits that
    // are not zero (a non-canonical encoding), are refused.
    let input = body.as_bytes();
    let len = BASE32_NOPAD_NOCASE
        .decode_len(input.len())
        .map_err(|_| totp_malformed())?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    let n = BASE32_NOPAD_NOCASE
        .decode_mut(input, &mut out)
        .map_err(|_| totp_malformed())?;
    out.truncate(n);
    if out.len() < MIN_SECRET_LEN || out.len() > MAX_SECRET_LEN {
        return Err(totp_malformed());
    }
    Ok(SecretBytes::new(core::mem::take(&mut *out)))
}

/// A fresh random TOTP secret (20 bytes) as base32.
///
/// # Errors
/// [`Error::RandomUnavailable`].
pub fn generate_totp_secret() -> Result<SecretString> {
    let mut raw = Zeroizing::new([0u8; TOTP_SECRET_LEN]);
    crate::random::fill_random(&mut raw[..])?;
    Ok(SecretString::new(base32_encode(&raw[..])))
}

fn pct_encode(s: &str) -> String {
    utf8_percent_encode(s, URI_COMPONENT).to_string()
}

/// The `otpauth://totp/...` URI for a QR code (Google Authenticator key URI format):
/// `otpauth://totp/<issuer>:<account>?secret=..&issuer=..&algorithm=SHA1&digits=6&period=30`.
/// It contains the secret, hence the [`SecretString`].
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::Totp`]) for a bad secret;
/// [`Error::InvalidArgument`] when the account or issuer is empty, over 256 bytes,
/// contains `:` or a control character.
pub fn totp_uri(secret: &str, account: &str, issuer: &str) -> Result<SecretString> {
    let raw = parse_totp_secret(secret)?;
    for s in [account, issuer] {
        if s.is_empty() || s.len() > 256 || s.contains(':') || s.chars().any(char::is_control) {
            return Err(Error::InvalidArgument(
                "account and issuer must be 1 to 256 bytes without ':' or control characters",
            ));
        }
    }
    let canonical = Zeroizing::new(base32_encode(raw.expose_secret()));
    let issuer = pct_encode(issuer);
    let mut uri = String::from("otpauth://totp/");
    uri.push_str(&issuer);
    uri.push(':');
    uri.push_str(&pct_encode(account));
    uri.push_str("?secret=");
    uri.push_str(&canonical);
    uri.push_str("&issuer=");
    uri.push_str(&issuer);
    uri.push_str("&algorithm=SHA1&digits=6&period=30");
    Ok(SecretString::new(uri))
}

fn hmac_digest<M: Mac + KeyInit>(key: &[u8], msg: &[u8]) -> Result<Vec<u8>> {
    let mut m = <M as KeyInit>::new_from_slice(key).map_err(|_| Error::InvalidArgument("key"))?;
    m.update(msg);
    Ok(m.finalize().into_bytes().to_vec())
}

fn hotp_value(key: &[u8], counter: u64, digits: u32, algorithm: &str) -> Result<u32> {
    let msg = counter.to_be_bytes();
    let h = Zeroizing::new(match algorithm {
        "SHA1" => hmac_digest::<Hmac<sha1::Sha1>>(key, &msg)?,
        "SHA256" => hmac_digest::<Hmac<sha2::Sha256>>(key, &msg)?,
        "SHA512" => hmac_digest::<Hmac<sha2::Sha512>>(key, &msg)?,
        _ => {
            return Err(Error::InvalidArgument(
                "algorithm must be SHA1, SHA256 or SHA512",
            ))
        }
    });
    // Dynamic truncation (RFC 4226 5.3); every digest here is at least 20 bytes.
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let bin = (u32::from(h[offset] & 0x7f) << 24)
        | (u32::from(h[offset + 1]) << 16)
        | (u32::from(h[offset + 2]) << 8)
        | u32::from(h[offset + 3]);
    Ok(bin % 10u32.pow(digits))
}

fn format_code(v: u32, digits: u32) -> SecretString {
    let mut s = v.to_string();
    while s.len() < digits as usize {
        s.insert(0, '0');
    }
    SecretString::new(s)
}

/// The general RFC 6238 function: the code of raw `key` at Unix time `now` with the
/// given period, digits (6 to 8) and algorithm (`"SHA1"`, `"SHA256"`, `"SHA512"`).
/// For the RFC's test vectors and unusual deployments; apps use [`totp_at`].
///
/// # Errors
/// [`Error::InvalidArgument`] for a period of 0, digits outside 6 to 8, an unknown
/// algorithm, an empty key or a negative time.
pub fn totp_raw_at(
    key: &[u8],
    now: i64,
    period: u64,
    digits: u32,
    algorithm: &str,
) -> Result<SecretString> {
    if period == 0 || !(6..=8).contains(&digits) {
        return Err(Error::InvalidArgument(
            "period must be positive and digits 6 to 8",
        ));
    }
    if key.is_empty() {
        return Err(Error::InvalidArgument("key must not be empty"));
    }
    let t = u64::try_from(now).map_err(|_| Error::InvalidArgument("time must not be negative"))?;
    let v = hotp_value(key, t / period, digits, algorithm)?;
    Ok(format_code(v, digits))
}

/// The current 6-digit code of a base32 secret at Unix time `now`.
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::Totp`]); [`Error::InvalidArgument`] for a
/// negative time.
pub fn totp_at(secret: &str, now: i64) -> Result<SecretString> {
    let key = parse_totp_secret(secret)?;
    totp_raw_at(key.expose_secret(), now, TOTP_PERIOD, TOTP_DIGITS, "SHA1")
}

/// The step (`floor(now / 30)`) of a Unix time.
///
/// # Errors
/// [`Error::InvalidArgument`] for a negative time.
pub fn totp_step(now: i64) -> Result<u64> {
    let t = u64::try_from(now).map_err(|_| Error::InvalidArgument("time must not be negative"))?;
    Ok(t / TOTP_PERIOD)
}

/// Verifies a 6-digit code at Unix time `now`, accepting the previous, current and
/// next step, and returns the step that matched: store it and pass it back as
/// `last_used_step` next time, so the same code (or an older one) cannot be used
/// twice.
///
/// Presentation and data errors: this returns the matched step, so a code that does
/// not verify is an `Err`, and for every presented code it is one of the two
/// *rejections* [`Error::SignatureInvalid`] (wrong, empty, not 6 digits: never
/// `Malformed`) or [`Error::Replayed`]. `Malformed` (`Totp`) and `InvalidArgument`
/// come only from the caller's data (the stored secret, the time).
///
/// # Errors
/// [`Error::Malformed`] ([`MalformedKind::Totp`]) for a bad secret;
/// [`Error::InvalidArgument`] for a negative time; [`Error::SignatureInvalid`] when
/// no step in the window matches (including codes that are not 6 digits);
/// [`Error::Replayed`] when the only matching steps are at or before `last_used_step`.
pub fn verify_totp_at(
    secret: &str,
    code: &str,
    now: i64,
    last_used_step: Option<u64>,
) -> Result<u64> {
    let key = parse_totp_secret(secret)?;
    let step = totp_step(now)?;
    let well_formed =
        code.len() == TOTP_DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit());
    let mut fresh: Option<u64> = None;
    let mut replayed = false;
    for s in [step.saturating_sub(1), step, step.saturating_add(1)] {
        let expected = format_code(
            hotp_value(key.expose_secret(), s, TOTP_DIGITS, "SHA1")?,
            TOTP_DIGITS,
        );
        // Compare every step (no early exit) so timing does not reveal which matched.
        if constant_time_equal(expected.expose_secret().as_bytes(), code.as_bytes()) && well_formed
        {
            if last_used_step.is_some_and(|l| s <= l) {
                replayed = true;
            } else {
                fresh = Some(s);
            }
        }
    }
    match (fresh, replayed) {
        (Some(s), _) => Ok(s),
        (None, true) => Err(Error::Replayed),
        (None, false) => Err(Error::SignatureInvalid),
    }
}
