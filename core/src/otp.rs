//! One-time codes (email/SMS login codes, confirmations).
//!
//! A code is 6 uniform random digits, valid 15 minutes, usable once, with at most 5
//! attempts. The code itself is returned once, to be sent to the user; what the
//! caller stores is a [`CodeRecord`] (as JSON text) holding only
//! `HMAC-SHA256(pepper, subject || 0x00 || code)`, with `pepper =
//! derive(keycustody/v1/otp, "keycustody/otp")` under a root key whose kid the record
//! names. A leaked table therefore yields no code, and 10^6 guesses per row need
//! the keyring.
//!
//! Verification is a pure function: record in, [`CodeCheck`] out, whose `record`
//! the caller writes back (attempt counts and the `used` flag live in it). To be
//! safe against two concurrent verifications, write it back with compare-and-swap
//! on the old record text.

use crate::ct::constant_time_equal;
use crate::error::{Error, MalformedKind, Result};
use crate::kdf::LABEL_OTP;
use crate::keyring::Keyring;
use crate::secret::SecretString;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Number of digits of a code.
pub const CODE_DIGITS: usize = 6;
/// Lifetime of a code, in seconds (15 minutes).
pub const CODE_TTL: i64 = 15 * 60;
/// Failed attempts after which a code is locked.
pub const MAX_ATTEMPTS: u32 = 5;
/// The owner under which the pepper is derived.
pub const OTP_OWNER: &str = "keycustody/otp";
/// The largest subject (user id, email), in bytes.
pub const MAX_SUBJECT_LEN: usize = 1024;
/// The largest record text accepted, in bytes.
pub const MAX_RECORD_LEN: usize = 1024;

/// What the caller stores for an issued code (serialized as JSON text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CodeRecord {
    /// Record format version, 1.
    pub v: u32,
    /// The root key id of the pepper.
    pub kid: u32,
    /// Lowercase hex of `HMAC-SHA256(pepper, subject || 0x00 || code)`.
    pub hash: String,
    /// Unix time (seconds) at which the code stops being valid.
    pub expires_at: i64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Whether the code was used.
    pub used: bool,
}

impl CodeRecord {
    /// Parses the stored JSON text of a record.
    ///
    /// # Errors
    /// [`Error::TooLarge`]; [`Error::Malformed`] ([`MalformedKind::Other`]) for text
    /// that is not a version-1 record.
    pub fn parse(text: &str) -> Result<CodeRecord> {
        if text.len() > MAX_RECORD_LEN {
            return Err(Error::TooLarge {
                limit: MAX_RECORD_LEN,
            });
        }
        let r: CodeRecord =
            serde_json::from_str(text).map_err(|_| Error::Malformed(MalformedKind::Other))?;
        if r.v != 1
            || r.kid == 0
            || r.hash.len() != 64
            || !r
                .hash
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(Error::Malformed(MalformedKind::Other));
        }
        Ok(r)
    }

    /// The JSON text to store.
    ///
    /// # Errors
    /// Never in practice; [`Error::InvalidArgument`] if serialization failed.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|_| Error::InvalidArgument("record"))
    }
}

/// A freshly issued code: send `code` to the user, store `record`.
#[non_exhaustive]
pub struct IssuedCode {
    /// The 6-digit code (secret: send it, never log it).
    pub code: SecretString,
    /// The JSON text of the [`CodeRecord`] to store.
    pub record: String,
    /// When the code expires (Unix seconds), for the message to the user.
    pub expires_at: i64,
}

impl core::fmt::Debug for IssuedCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IssuedCode")
            .field("code", &self.code)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The outcome of a verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeStatus {
    /// The code matched; the record is now marked used.
    Valid,
    /// The code did not match; `attempts_left` more tries remain.
    Wrong,
    /// The code expired (nothing was counted).
    Expired,
    /// Too many failed attempts (this one may have been the last).
    Locked,
    /// The code was already used.
    Used,
}

impl CodeStatus {
    /// `"valid"`, `"wrong"`, `"expired"`, `"locked"` or `"used"`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            CodeStatus::Valid => "valid",
            CodeStatus::Wrong => "wrong",
            CodeStatus::Expired => "expired",
            CodeStatus::Locked => "locked",
            CodeStatus::Used => "used",
        }
    }
}

/// The result of [`Keyring::verify_code_at`]: a status, the attempts left, and the
/// record to write back.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodeCheck {
    /// What happened.
    pub status: CodeStatus,
    /// Failed attempts still allowed.
    pub attempts_left: u32,
    /// The record's new JSON text (unchanged for `Expired`, `Locked` from before, `Used`).
    pub record: String,
    /// Whether `record` differs from the input and must be written back.
    pub changed: bool,
}

impl CodeCheck {
    /// `Ok(())` for [`CodeStatus::Valid`], else the matching error:
    /// `Wrong` → [`Error::SignatureInvalid`], `Expired` → [`Error::Expired`],
    /// `Locked` → [`Error::Locked`], `Used` → [`Error::Replayed`].
    ///
    /// # Errors
    /// As above.
    pub fn into_result(&self) -> Result<()> {
        match self.status {
            CodeStatus::Valid => Ok(()),
            CodeStatus::Wrong => Err(Error::SignatureInvalid),
            CodeStatus::Expired => Err(Error::Expired),
            CodeStatus::Locked => Err(Error::Locked),
            CodeStatus::Used => Err(Error::Replayed),
        }
    }
}

fn check_subject(subject: &str) -> Result<()> {
    if subject.is_empty() || subject.len() > MAX_SUBJECT_LEN || subject.contains('\0') {
        return Err(Error::InvalidArgument(
            "subject must be 1 to 1024 bytes without NUL",
        ));
    }
    Ok(())
}

fn code_hash(
    keyring: &Keyring,
    kid: Option<u32>,
    subject: &str,
    code: &str,
) -> Result<(u32, [u8; 32])> {
    let (kid, pepper) = keyring.derive_labeled(kid, LABEL_OTP, OTP_OWNER, 32)?;
    let mut m = Hmac::<Sha256>::new_from_slice(pepper.expose_secret())
        .map_err(|_| Error::InvalidArgument("key"))?;
    m.update(subject.as_bytes());
    m.update(&[0u8]);
    m.update(code.as_bytes());
    Ok((kid, m.finalize().into_bytes().into()))
}

fn hex32(b: &[u8; 32]) -> String {
    base16ct::lower::encode_string(b)
}

/// 64 lowercase hex characters as 32 bytes (constant-time decoding); `None` otherwise.
fn unhex32(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 2 * out.len() {
        return None;
    }
    base16ct::lower::decode(s, &mut out).ok()?;
    Some(out)
}

impl Keyring {
    /// Issues a code for `subject` at time `now`: 6 uniform digits valid until
    /// `now + 900`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty, over-long or NUL-containing subject
    /// or a `now` out of range; [`Error::RandomUnavailable`]; key errors.
    pub fn issue_code_at(&self, subject: &str, now: i64) -> Result<IssuedCode> {
        check_subject(subject)?;
        let expires_at = now
            .checked_add(CODE_TTL)
            .ok_or(Error::InvalidArgument("now out of range"))?;
        let code = crate::random::random_string(b"0123456789", CODE_DIGITS)?;
        let (kid, hash) = code_hash(self, None, subject, code.expose_secret())?;
        let record = CodeRecord {
            v: 1,
            kid,
            hash: hex32(&hash),
            expires_at,
            attempts: 0,
            used: false,
        }
        .to_json()?;
        Ok(IssuedCode {
            code,
            record,
            expires_at,
        })
    }

    /// [`Keyring::issue_code_at`] at the current wall-clock time (native targets only).
    ///
    /// # Errors
    /// As [`Keyring::issue_code_at`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn issue_code(&self, subject: &str) -> Result<IssuedCode> {
        self.issue_code_at(subject, crate::clock::unix_now()?)
    }

    /// Checks `code` for `subject` against a stored record at time `now`.
    ///
    /// Order: a used record gives `Used`, a locked one `Locked`, an expired one
    /// `Expired` (none of these counts an attempt); then the code is compared in
    /// constant time: a match marks the record used (`Valid`), a mismatch counts an
    /// attempt (`Wrong`, or `Locked` on the fifth). Anything that is not 6 ASCII
    /// digits is a wrong attempt.
    ///
    /// Presentation and data errors: nothing about the presented `code` is an error
    /// (a malformed code is `Wrong` and counts an attempt, like a wrong one); errors come
    /// only from the caller's data: the subject, the stored record, the keyring.
    ///
    /// # Errors
    /// Only for unusable inputs: [`Error::InvalidArgument`] (subject),
    /// [`Error::Malformed`] / [`Error::TooLarge`] (record), key errors
    /// ([`Error::UnknownKey`] when the record's kid was removed).
    pub fn verify_code_at(
        &self,
        subject: &str,
        code: &str,
        record: &str,
        now: i64,
    ) -> Result<CodeCheck> {
        check_subject(subject)?;
        let mut r = CodeRecord::parse(record)?;
        let left = |r: &CodeRecord| MAX_ATTEMPTS.saturating_sub(r.attempts);
        let unchanged = |status, r: &CodeRecord| CodeCheck {
            status,
            attempts_left: left(r),
            record: record.to_owned(),
            changed: false,
        };
        if r.used {
            return Ok(unchanged(CodeStatus::Used, &r));
        }
        if r.attempts >= MAX_ATTEMPTS {
            return Ok(unchanged(CodeStatus::Locked, &r));
        }
        if now >= r.expires_at {
            return Ok(unchanged(CodeStatus::Expired, &r));
        }
        let stored = unhex32(&r.hash).ok_or(Error::Malformed(MalformedKind::Other))?;
        let well_formed = code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit());
        let matched = if well_formed {
            let (_, h) = code_hash(self, Some(r.kid), subject, code)?;
            constant_time_equal(&h, &stored)
        } else {
            // Still derive, so a malformed guess costs the same as a wrong one.
            let _ = code_hash(self, Some(r.kid), subject, "")?;
            false
        };
        let status = if matched {
            r.used = true;
            CodeStatus::Valid
        } else {
            r.attempts = r.attempts.saturating_add(1);
            if r.attempts >= MAX_ATTEMPTS {
                CodeStatus::Locked
            } else {
                CodeStatus::Wrong
            }
        };
        Ok(CodeCheck {
            status,
            attempts_left: left(&r),
            record: r.to_json()?,
            changed: true,
        })
    }

    /// [`Keyring::verify_code_at`] at the current wall-clock time (native targets only).
    ///
    /// # Errors
    /// As [`Keyring::verify_code_at`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn verify_code(&self, subject: &str, code: &str, record: &str) -> Result<CodeCheck> {
        self.verify_code_at(subject, code, record, crate::clock::unix_now()?)
    }

    /// Issues a record for a given code (for test vectors and migrations of codes
    /// already sent). Never use it to choose codes: [`Keyring::issue_code_at`] draws
    /// them uniformly.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `code` is not 6 ASCII digits or the subject is bad.
    #[cfg(any(test, feature = "internal"))]
    pub(crate) fn dangerous_code_record_for(
        &self,
        subject: &str,
        code: &str,
        now: i64,
    ) -> Result<String> {
        check_subject(subject)?;
        if code.len() != CODE_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidArgument("code must be 6 ASCII digits"));
        }
        let expires_at = now
            .checked_add(CODE_TTL)
            .ok_or(Error::InvalidArgument("now out of range"))?;
        let (kid, hash) = code_hash(self, None, subject, code)?;
        CodeRecord {
            v: 1,
            kid,
            hash: hex32(&hash),
            expires_at,
            attempts: 0,
            used: false,
        }
        .to_json()
    }
}
