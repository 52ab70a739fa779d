//! One-time codes (`Keyring.issue_code` / `verify_code`) and TOTP (RFC 6238) helpers.

use keycustody::Keyring;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::args::{secret_str, Data, Len, Seconds, Text, UnixTime};
use crate::errors::{to_py, ToPyResult};

/// A freshly issued code: send `code`, store `record`. repr() hides the code.
#[pyclass(module = "keycustody", frozen, name = "IssuedCode")]
pub(crate) struct PyIssuedCode {
    inner: keycustody::IssuedCode,
}

#[pymethods]
impl PyIssuedCode {
    /// The 6-digit code (secret: send it to the user, never log it).
    #[getter]
    fn code(&self) -> &str {
        self.inner.code.expose_secret()
    }

    /// The JSON text to store (a hash of the code, never the code).
    #[getter]
    fn record(&self) -> &str {
        &self.inner.record
    }

    /// When the code expires (Unix seconds).
    #[getter]
    fn expires_at(&self) -> i64 {
        self.inner.expires_at
    }

    fn __repr__(&self) -> String {
        format!("IssuedCode(expires_at={})", self.inner.expires_at)
    }
}

/// The outcome of verify_code(): a status, the attempts left, and the record to write back.
#[pyclass(module = "keycustody", frozen, name = "CodeCheck")]
pub(crate) struct PyCodeCheck {
    inner: keycustody::CodeCheck,
}

#[pymethods]
impl PyCodeCheck {
    /// "valid", "wrong", "expired", "locked" or "used".
    #[getter]
    fn status(&self) -> &'static str {
        self.inner.status.as_str()
    }

    /// Whether the code was accepted.
    #[getter]
    fn ok(&self) -> bool {
        self.inner.status == keycustody::CodeStatus::Valid
    }

    /// Failed attempts still allowed.
    #[getter]
    fn attempts_left(&self) -> u32 {
        self.inner.attempts_left
    }

    /// The record's new JSON text.
    #[getter]
    fn record(&self) -> &str {
        &self.inner.record
    }

    /// Whether `record` changed and must be written back.
    #[getter]
    fn changed(&self) -> bool {
        self.inner.changed
    }

    /// Returns None when valid, else raises SignatureError (wrong), ExpiredError,
    /// LockedError or ReplayError (used).
    fn raise_for_status(&self) -> PyResult<()> {
        self.inner.into_result().map_err(to_py)
    }

    fn __repr__(&self) -> String {
        format!(
            "CodeCheck(status='{}', attempts_left={}, changed={})",
            self.inner.status.as_str(),
            self.inner.attempts_left,
            if self.inner.changed { "True" } else { "False" }
        )
    }
}

pub(crate) fn issue(kr: &Keyring, subject: &str, now: Option<UnixTime>) -> PyResult<PyIssuedCode> {
    let inner = match now {
        Some(t) => kr.issue_code_at(subject, t.0),
        None => kr.issue_code(subject),
    }
    .to_py()?;
    Ok(PyIssuedCode { inner })
}

pub(crate) fn verify(
    kr: &Keyring,
    subject: &str,
    code: &str,
    record: &str,
    now: Option<UnixTime>,
) -> PyResult<PyCodeCheck> {
    let inner = match now {
        Some(t) => kr.verify_code_at(subject, code, record, t.0),
        None => kr.verify_code(subject, code, record),
    }
    .to_py()?;
    Ok(PyCodeCheck { inner })
}

/// A fresh TOTP secret: base32 of 20 random bytes.
#[pyfunction]
fn generate_totp_secret(py: Python<'_>) -> PyResult<Bound<'_, PyString>> {
    Ok(secret_str(py, &keycustody::generate_totp_secret().to_py()?))
}

/// The `otpauth://totp/...` URI for a QR code (contains the secret).
#[pyfunction]
fn totp_uri<'py>(
    py: Python<'py>,
    secret: Text,
    account: Text,
    issuer: Text,
) -> PyResult<Bound<'py, PyString>> {
    let uri = keycustody::totp_uri(&secret, &account, &issuer).to_py()?;
    Ok(secret_str(py, &uri))
}

/// The 6-digit code of a base32 secret at Unix time `now` (default the wall clock).
#[pyfunction]
#[pyo3(signature = (secret, now = None))]
fn totp_at(py: Python<'_>, secret: Text, now: Option<UnixTime>) -> PyResult<Bound<'_, PyString>> {
    Ok(secret_str(
        py,
        &keycustody::totp_at(&secret, now_or_clock(now)?).to_py()?,
    ))
}

/// RFC 6238 in general: raw key, `now` (default the wall clock), period, 6 to 8 digits,
/// "SHA1" / "SHA256" / "SHA512".
#[pyfunction]
#[pyo3(signature = (key, now = None, period = Seconds(keycustody::TOTP_PERIOD), digits = Len(keycustody::TOTP_DIGITS as usize), algorithm = Text::from("SHA1")), text_signature = "(key, now=None, period=30, digits=6, algorithm='SHA1')")]
fn totp_raw_at<'py>(
    py: Python<'py>,
    key: Data<'_>,
    now: Option<UnixTime>,
    period: Seconds,
    digits: Len,
    algorithm: Text,
) -> PyResult<Bound<'py, PyString>> {
    // Digits beyond u32 are out of core's range (6 to 8) too.
    let digits = u32::try_from(digits.0).unwrap_or(0);
    let code = keycustody::totp_raw_at(
        key.as_slice(),
        now_or_clock(now)?,
        period.0,
        digits,
        &algorithm,
    )
    .to_py()?;
    Ok(secret_str(py, &code))
}

/// The step (floor(now / 30)) of a Unix time (default the wall clock).
#[pyfunction]
#[pyo3(signature = (now = None))]
fn totp_step(now: Option<UnixTime>) -> PyResult<u64> {
    keycustody::totp_step(now_or_clock(now)?).to_py()
}

/// Verifies a code in the window (previous, current, next step) and returns the matched
/// step: store it and pass it back as `last_used_step` so no code is used twice.
#[pyfunction]
#[pyo3(signature = (secret, code, now = None, last_used_step = None))]
fn verify_totp_at(
    secret: Text,
    code: Text,
    now: Option<UnixTime>,
    last_used_step: Option<Seconds>,
) -> PyResult<u64> {
    keycustody::verify_totp_at(
        &secret,
        &code,
        now_or_clock(now)?,
        last_used_step.map(|s| s.0),
    )
    .to_py()
}

/// `now` as given, else the wall clock (one rule in every binding: `None` is "now").
fn now_or_clock(now: Option<UnixTime>) -> PyResult<i64> {
    match now {
        Some(t) => Ok(t.0),
        None => keycustody::unix_now().to_py(),
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyIssuedCode>()?;
    m.add_class::<PyCodeCheck>()?;
    m.add_function(wrap_pyfunction!(generate_totp_secret, m)?)?;
    m.add_function(wrap_pyfunction!(totp_uri, m)?)?;
    m.add_function(wrap_pyfunction!(totp_at, m)?)?;
    m.add_function(wrap_pyfunction!(totp_raw_at, m)?)?;
    m.add_function(wrap_pyfunction!(totp_step, m)?)?;
    m.add_function(wrap_pyfunction!(verify_totp_at, m)?)?;
    Ok(())
}
