//! Webhooks: Stripe, Standard Webhooks, Telegram, and the in-memory replay guard.
//!
//! Every verifier takes `now=None` (wall clock) or an explicit Unix time, so tests
//! never depend on the clock.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::args::{run, secret_str, Data, Len, Seconds, Text, UnixTime};
use crate::errors::ToPyResult;

const DEFAULT_TOLERANCE: Seconds = Seconds(keycustody::DEFAULT_TOLERANCE);

/// Verifies a `Stripe-Signature` header over the raw payload; returns the signed timestamp.
#[pyfunction]
#[pyo3(signature = (payload, header, secret, tolerance = DEFAULT_TOLERANCE, now = None), text_signature = "(payload, header, secret, tolerance=300, now=None)")]
fn verify_stripe_signature(
    py: Python<'_>,
    payload: Data<'_>,
    header: Text,
    secret: Text,
    tolerance: Seconds,
    now: Option<UnixTime>,
) -> PyResult<i64> {
    let p = payload.as_slice();
    run(py, p.len(), || match now {
        Some(t) => keycustody::verify_stripe_signature_at(p, &header, &secret, tolerance.0, t.0),
        None => keycustody::verify_stripe_signature(p, &header, &secret, tolerance.0),
    })
    .to_py()
}

/// Signs a payload as Stripe does; returns the `Stripe-Signature` header value.
#[pyfunction]
fn sign_stripe_payload(
    py: Python<'_>,
    payload: Data<'_>,
    secret: Text,
    timestamp: UnixTime,
) -> PyResult<String> {
    let p = payload.as_slice();
    run(py, p.len(), || {
        keycustody::sign_stripe_payload(p, &secret, timestamp.0)
    })
    .to_py()
}

/// The `TypeError` text for a `headers` argument that is not a header mapping.
const HEADERS_EXPECTED: &str =
    "headers: expected a mapping of header names to str values (a dict, starlette Headers, ...)";

/// The three Standard Webhooks headers from a request's header mapping, as `(name, value)`
/// pairs for core: every occurrence (`items()` of a multi-dict such as Starlette's `Headers`
/// yields a repeated header once per occurrence, and two dict keys differing only in case
/// are two occurrences), so core refuses a repeated one. Other headers are not read.
fn header_pairs(headers: &Bound<'_, PyAny>) -> PyResult<Vec<(String, Text)>> {
    // `str` and `bytes` have no `items`; neither do lists, numbers and None.
    if headers.is_instance_of::<PyString>() || !headers.hasattr("items")? {
        return Err(PyTypeError::new_err(HEADERS_EXPECTED));
    }
    let items = headers
        .call_method0("items")
        .map_err(|_| PyTypeError::new_err(HEADERS_EXPECTED))?;
    let iter = items
        .try_iter()
        .map_err(|_| PyTypeError::new_err(HEADERS_EXPECTED))?;
    let mut pairs = Vec::new();
    for item in iter {
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?
            .extract()
            .map_err(|_| PyTypeError::new_err(HEADERS_EXPECTED))?;
        let name = name
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err(HEADERS_EXPECTED))?;
        // A name that is not UTF-8 (a lone surrogate) is none of the three.
        let Ok(name) = name.to_cow() else { continue };
        if !keycustody::STANDARD_HEADER_NAMES
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&name))
        {
            continue;
        }
        if !value.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(HEADERS_EXPECTED));
        }
        pairs.push((name.into_owned(), value.extract::<Text>()?));
    }
    Ok(pairs)
}

/// Verifies a Standard Webhooks message and returns the signed timestamp. `headers` is the
/// request's header mapping as it comes (a dict, Starlette's / FastAPI's `request.headers`,
/// Django's `request.headers`, ...): `webhook-id`, `webhook-timestamp` and
/// `webhook-signature` are looked up case-insensitively, like the official
/// `standardwebhooks` library; a missing or repeated one raises `MalformedError`.
#[pyfunction]
#[pyo3(signature = (payload, headers, secret, tolerance = DEFAULT_TOLERANCE, now = None), text_signature = "(payload, headers, secret, tolerance=300, now=None)")]
fn verify_standard_webhook(
    py: Python<'_>,
    payload: Data<'_>,
    headers: &Bound<'_, PyAny>,
    secret: Text,
    tolerance: Seconds,
    now: Option<UnixTime>,
) -> PyResult<i64> {
    let pairs = header_pairs(headers)?;
    let p = payload.as_slice();
    let headers = || pairs.iter().map(|(n, v)| (n.as_str(), &**v));
    run(py, p.len(), || match now {
        Some(t) => {
            keycustody::verify_standard_webhook_headers_at(p, headers(), &secret, tolerance.0, t.0)
        }
        None => keycustody::verify_standard_webhook_headers(p, headers(), &secret, tolerance.0),
    })
    .to_py()
}

/// Signs a Standard Webhooks message; returns the `webhook-signature` value (`v1,<base64>`).
#[pyfunction]
fn sign_standard_webhook(
    py: Python<'_>,
    payload: Data<'_>,
    msg_id: Text,
    timestamp: UnixTime,
    secret: Text,
) -> PyResult<String> {
    let p = payload.as_slice();
    run(py, p.len(), || {
        keycustody::sign_standard_webhook(p, &msg_id, timestamp.0, &secret)
    })
    .to_py()
}

/// A fresh Standard Webhooks secret: `whsec_` + base64 of 32 random bytes.
#[pyfunction]
fn generate_standard_webhook_secret(py: Python<'_>) -> PyResult<Bound<'_, PyString>> {
    Ok(secret_str(
        py,
        &keycustody::generate_standard_webhook_secret().to_py()?,
    ))
}

/// Checks Telegram's `X-Telegram-Bot-Api-Secret-Token` header in constant time.
#[pyfunction]
fn verify_telegram_secret(header: Text, expected: Text) -> PyResult<()> {
    keycustody::verify_telegram_secret(&header, &expected).to_py()
}

/// Accepts each event id once (until it expires): bounded, in memory, thread-safe.
#[pyclass(module = "keycustody", frozen, name = "ReplayGuard")]
pub(crate) struct PyReplayGuard {
    inner: keycustody::ReplayGuard,
}

#[pymethods]
impl PyReplayGuard {
    #[new]
    #[pyo3(signature = (capacity = Len(keycustody::DEFAULT_REPLAY_CAPACITY), ttl_seconds = Seconds(keycustody::DEFAULT_REPLAY_TTL)), text_signature = "(capacity=100000, ttl_seconds=600)")]
    fn new(capacity: Len, ttl_seconds: Seconds) -> PyResult<Self> {
        Ok(PyReplayGuard {
            inner: keycustody::ReplayGuard::new(capacity.0, ttl_seconds.0).to_py()?,
        })
    }

    /// Records `event_id` (at `now`, default the wall clock) or raises ReplayError.
    #[pyo3(signature = (event_id, now = None))]
    fn check_and_record(&self, event_id: Text, now: Option<UnixTime>) -> PyResult<()> {
        match now {
            Some(t) => self.inner.check_and_record_at(&event_id, t.0),
            None => self.inner.check_and_record(&event_id),
        }
        .to_py()
    }

    /// The capacity given to the constructor.
    #[getter]
    fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "ReplayGuard(capacity={}, len={})",
            self.inner.capacity(),
            self.inner.len()
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyReplayGuard>()?;
    m.add_function(wrap_pyfunction!(verify_stripe_signature, m)?)?;
    m.add_function(wrap_pyfunction!(sign_stripe_payload, m)?)?;
    m.add_function(wrap_pyfunction!(verify_standard_webhook, m)?)?;
    m.add_function(wrap_pyfunction!(sign_standard_webhook, m)?)?;
    m.add_function(wrap_pyfunction!(generate_standard_webhook_secret, m)?)?;
    m.add_function(wrap_pyfunction!(verify_telegram_secret, m)?)?;
    Ok(())
}
