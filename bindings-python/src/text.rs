//! Text helpers: `scrub`, `validate_slug`, `validate_email`.

use pyo3::prelude::*;

use crate::args::{run, Text};
use crate::errors::ToPyResult;

/// Replaces known secret shapes (provider keys, tokens, JWTs, PEM keys, ...) with `[REDACTED:<kind>]`.
#[pyfunction]
fn scrub(py: Python<'_>, text: Text) -> String {
    run(py, text.len(), || keycustody::scrub(&text))
}

/// Checks a slug (3 to 32 of `[a-z0-9-]`, alphanumeric at both ends); raises InvalidArgumentError.
#[pyfunction]
fn validate_slug(s: Text) -> PyResult<()> {
    keycustody::validate_slug(&s).to_py()
}

/// Checks an email address (`local@domain`, dot-atom local part); raises InvalidArgumentError.
#[pyfunction]
fn validate_email(s: Text) -> PyResult<()> {
    keycustody::validate_email(&s).to_py()
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(scrub, m)?)?;
    m.add_function(wrap_pyfunction!(validate_slug, m)?)?;
    m.add_function(wrap_pyfunction!(validate_email, m)?)?;
    Ok(())
}
