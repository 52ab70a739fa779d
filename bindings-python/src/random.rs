//! Random tokens: `random_token`, `random_base62`, `random_string`, `invite_code`.

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::args::{secret_str, Len, Text};
use crate::errors::ToPyResult;

/// `nbytes` random bytes as lowercase hex (64 characters by default).
#[pyfunction]
#[pyo3(signature = (nbytes = Len(32)), text_signature = "(nbytes=32)")]
fn random_token(py: Python<'_>, nbytes: Len) -> PyResult<Bound<'_, PyString>> {
    Ok(secret_str(py, &keycustody::random_token(nbytes.0).to_py()?))
}

/// `length` (default 32) uniform characters over 0-9A-Za-z.
#[pyfunction]
#[pyo3(signature = (length = Len(32)), text_signature = "(length=32)")]
fn random_base62(py: Python<'_>, length: Len) -> PyResult<Bound<'_, PyString>> {
    Ok(secret_str(
        py,
        &keycustody::random_base62(length.0).to_py()?,
    ))
}

/// `length` characters (1 to 1024) drawn uniformly from `alphabet` (2 to 128 distinct ASCII
/// symbols) by rejection sampling.
#[pyfunction]
fn random_string(py: Python<'_>, alphabet: Text, length: Len) -> PyResult<Bound<'_, PyString>> {
    Ok(secret_str(
        py,
        &keycustody::random_string(alphabet.as_bytes(), length.0).to_py()?,
    ))
}

/// `length` uniform characters over ABCDEFGHJKLMNPQRSTUVWXYZ23456789.
#[pyfunction]
fn invite_code(py: Python<'_>, length: Len) -> PyResult<Bound<'_, PyString>> {
    Ok(secret_str(py, &keycustody::invite_code(length.0).to_py()?))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(random_token, m)?)?;
    m.add_function(wrap_pyfunction!(random_base62, m)?)?;
    m.add_function(wrap_pyfunction!(random_string, m)?)?;
    m.add_function(wrap_pyfunction!(invite_code, m)?)?;
    Ok(())
}
