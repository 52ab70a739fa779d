//! One-time codes (6 digits, 15 minutes, single use, 5 attempts; stored hashed)
//! and TOTP (RFC 6238) with replay prevention.
//!
//! Time is a parameter: every function takes an optional `now` (Unix seconds)
//! that defaults to the system clock.

use crate::conv::{self, secret_js_string, SecretText};
use crate::error::run;
use crate::keyring::Keyring;
use napi::bindgen_prelude::Unknown;
use napi::{Env, JsString};
use napi_derive::napi;

/// A freshly issued one-time code: send `code` to the user, store `record`.
#[napi(object, object_from_js = false)]
pub struct IssuedCode {
    /// The 6-digit code. Send it (email, SMS); never store or log it.
    #[napi(ts_type = "string")]
    pub code: SecretText,
    /// The JSON record to store for the subject (holds only a keyed hash of the code).
    pub record: String,
    /// When the code expires (Unix seconds).
    pub expires_at: i64,
}

/// The outcome of `verifyCode`. Write `record` back whenever `changed` is true.
#[napi(object)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCheck {
    /// `"valid"`, `"wrong"`, `"expired"`, `"locked"` or `"used"`.
    pub status: String,
    /// Failed attempts still allowed.
    pub attempts_left: u32,
    /// The record's new JSON text.
    pub record: String,
    /// Whether `record` differs from the one passed in and must be stored.
    pub changed: bool,
}

impl std::fmt::Debug for IssuedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCode")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[napi]
impl Keyring {
    /// Issues a one-time code for `subject` (e.g. an email address): 6 uniform digits,
    /// valid 15 minutes, single use, at most 5 attempts.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` for an empty, over-long or NUL-containing subject.
    #[napi]
    pub fn issue_code(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] subject: Unknown<'_>,
        #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
    ) -> napi::Result<IssuedCode> {
        run(env, || {
            let subject = conv::string(subject, "subject")?;
            let now = conv::now_or_clock(conv::opt_i64(now, "now")?)?;
            let issued = self.inner.issue_code_at(&subject, now)?;
            Ok(IssuedCode {
                code: SecretText(issued.code),
                record: issued.record,
                expires_at: issued.expires_at,
            })
        })
    }

    /// Checks `code` against the stored `record`. A wrong, expired, locked or used code
    /// is a normal outcome (see `status`), not an error; errors are for unusable input.
    ///
    /// @throws {Error} `KC_MALFORMED` / `KC_TOO_LARGE` (record), `KC_INVALID_ARGUMENT` (subject), `KC_UNKNOWN_KEY`.
    #[napi]
    pub fn verify_code(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] subject: Unknown<'_>,
        #[napi(ts_arg_type = "string")] code: Unknown<'_>,
        #[napi(ts_arg_type = "string")] record: Unknown<'_>,
        #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
    ) -> napi::Result<CodeCheck> {
        run(env, || {
            let subject = conv::string(subject, "subject")?;
            let code = conv::secret_string(code, "code")?;
            let record = conv::string(record, "record")?;
            let now = conv::now_or_clock(conv::opt_i64(now, "now")?)?;
            let c = self.inner.verify_code_at(&subject, &code, &record, now)?;
            Ok(CodeCheck {
                status: c.status.as_str().to_owned(),
                attempts_left: c.attempts_left,
                record: c.record,
                changed: c.changed,
            })
        })
    }
}

/// A fresh TOTP secret: 20 random bytes as base32 (for authenticator apps).
///
/// @throws {Error} `KC_RANDOM_UNAVAILABLE`.
#[napi]
pub fn generate_totp_secret<'e>(env: &'e Env) -> napi::Result<JsString<'e>> {
    run(env, || {
        secret_js_string(env, &keycustody::generate_totp_secret()?)
    })
}

/// The `otpauth://totp/...` URI for a QR code (SHA-1, 6 digits, 30 s).
///
/// @throws {Error} `KC_MALFORMED` (secret), `KC_INVALID_ARGUMENT` (empty, over-long or `:`-containing account or issuer).
#[napi]
pub fn totp_uri<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "string")] secret: Unknown<'_>,
    #[napi(ts_arg_type = "string")] account: Unknown<'_>,
    #[napi(ts_arg_type = "string")] issuer: Unknown<'_>,
) -> napi::Result<JsString<'e>> {
    run(env, || {
        let secret = conv::secret_string(secret, "secret")?;
        let account = conv::string(account, "account")?;
        let issuer = conv::string(issuer, "issuer")?;
        secret_js_string(env, &keycustody::totp_uri(&secret, &account, &issuer)?)
    })
}

/// The TOTP code for `secret` (base32) at `now` (Unix seconds; default the clock).
///
/// @throws {Error} `KC_MALFORMED` (secret), `KC_INVALID_ARGUMENT` (negative time).
#[napi]
pub fn totp_at<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "string")] secret: Unknown<'_>,
    #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
) -> napi::Result<JsString<'e>> {
    run(env, || {
        let secret = conv::secret_string(secret, "secret")?;
        let now = conv::now_or_clock(conv::opt_i64(now, "now")?)?;
        secret_js_string(env, &keycustody::totp_at(&secret, now)?)
    })
}

/// A TOTP/HOTP code with explicit parameters, for authenticators that are not the
/// default (SHA-1, 6 digits, 30 s): `key` is the raw secret (a string is taken as its
/// UTF-8 bytes, as in keycustody-wasm and Python), `algorithm` is `"SHA1"`, `"SHA256"` or
/// `"SHA512"`, `digits` 6 to 8.
///
/// @throws {Error} `KC_INVALID_ARGUMENT` for a bad period, digits, algorithm, empty key or negative time.
#[napi]
pub fn totp_raw_at<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "string | Uint8Array")] key: Unknown<'_>,
    #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
    #[napi(ts_arg_type = "number")] period: Option<Unknown<'_>>,
    #[napi(ts_arg_type = "number")] digits: Option<Unknown<'_>>,
    #[napi(ts_arg_type = "string")] algorithm: Option<Unknown<'_>>,
) -> napi::Result<JsString<'e>> {
    run(env, || {
        let key = conv::bytes(key, "key")?;
        let now = conv::now_or_clock(conv::opt_i64(now, "now")?)?;
        let period = conv::opt_u64(period, "period")?.unwrap_or(keycustody::TOTP_PERIOD);
        let digits = conv::opt_kid(digits, "digits", keycustody::TOTP_DIGITS)?;
        let algorithm = conv::opt_string(algorithm, "algorithm")?;
        let code = keycustody::totp_raw_at(
            key.as_slice(),
            now,
            period,
            digits,
            algorithm.as_deref().unwrap_or("SHA1"),
        )?;
        secret_js_string(env, &code)
    })
}

/// The TOTP time step (`floor(now / 30)`) at `now` (Unix seconds; default the clock).
///
/// @throws {Error} `KC_INVALID_ARGUMENT` for a negative time.
#[napi]
pub fn totp_step(
    env: &Env,
    #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
) -> napi::Result<i64> {
    run(env, || {
        let now = conv::now_or_clock(conv::opt_i64(now, "now")?)?;
        let step = keycustody::totp_step(now)?;
        Ok(i64::try_from(step).unwrap_or(i64::MAX))
    })
}

/// Verifies a TOTP `code` (window ±1 step) and returns the matched time step. Store it
/// and pass it back as `lastUsedStep` so the same code cannot be used twice.
///
/// @throws {Error} `KC_SIGNATURE_INVALID` (no match), `KC_REPLAYED` (step at or before lastUsedStep), `KC_MALFORMED` (secret).
#[napi]
pub fn verify_totp_at(
    env: &Env,
    #[napi(ts_arg_type = "string")] secret: Unknown<'_>,
    #[napi(ts_arg_type = "string")] code: Unknown<'_>,
    #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
    #[napi(ts_arg_type = "number")] last_used_step: Option<Unknown<'_>>,
) -> napi::Result<i64> {
    run(env, || {
        let secret = conv::secret_string(secret, "secret")?;
        let code = conv::secret_string(code, "code")?;
        let now = conv::now_or_clock(conv::opt_i64(now, "now")?)?;
        let last = conv::opt_u64(last_used_step, "lastUsedStep")?;
        let step = keycustody::verify_totp_at(&secret, &code, now, last)?;
        // A step is now / 30: far below 2^53.
        Ok(i64::try_from(step).unwrap_or(i64::MAX))
    })
}
