//! API keys: `generate_api_key`, `parse_api_key`, `hash_api_key`, `verify_api_key`.

use pyo3::prelude::*;

use crate::args::Text;
use crate::errors::ToPyResult;

/// A freshly generated API key: show `key` once, store `hash`, display `hint`.
/// Its repr shows the hint only.
#[pyclass(module = "keycustody", frozen, name = "GeneratedApiKey")]
pub(crate) struct PyGeneratedApiKey {
    inner: keycustody::GeneratedApiKey,
}

#[pymethods]
impl PyGeneratedApiKey {
    /// The key itself (secret): show it to the user once, never store it.
    #[getter]
    fn key(&self) -> &str {
        self.inner.key.expose_secret()
    }

    /// Lowercase SHA-256 hex of the key: what the database stores.
    #[getter]
    fn hash(&self) -> &str {
        &self.inner.hash
    }

    /// `prefix_` + first 4 + `…` + last 4 characters of the body, for UIs.
    #[getter]
    fn hint(&self) -> &str {
        &self.inner.hint
    }

    fn __repr__(&self) -> String {
        format!("GeneratedApiKey(hint='{}')", self.inner.hint)
    }
}

/// A syntactically valid API key (prefix, charset and checksum checked). Its repr shows the hint only.
#[pyclass(module = "keycustody", frozen, name = "ApiKey")]
pub(crate) struct PyApiKey {
    inner: keycustody::ApiKey,
}

#[pymethods]
impl PyApiKey {
    /// The key text (secret).
    #[getter]
    fn key(&self) -> &str {
        self.inner.expose_secret()
    }

    /// The prefix (before `_`).
    #[getter]
    fn prefix(&self) -> &str {
        self.inner.prefix()
    }

    /// `prefix_` + first 4 + `…` + last 4 characters of the body.
    #[getter]
    fn hint(&self) -> String {
        self.inner.hint()
    }

    /// Lowercase SHA-256 hex of the whole key.
    #[getter]
    fn hash(&self) -> String {
        self.inner.hash()
    }

    fn __repr__(&self) -> String {
        format!("ApiKey(hint='{}')", self.inner.hint())
    }
}

/// Generates `<prefix>_<30 base62><6 base62 checksum>`; prefix `[a-z][a-z0-9]{1,15}`.
#[pyfunction]
fn generate_api_key(prefix: Text) -> PyResult<PyGeneratedApiKey> {
    Ok(PyGeneratedApiKey {
        inner: keycustody::generate_api_key(&prefix).to_py()?,
    })
}

/// Parses a key, rejecting typos by checksum before any database lookup.
#[pyfunction]
fn parse_api_key(key: Text) -> PyResult<PyApiKey> {
    Ok(PyApiKey {
        inner: keycustody::parse_api_key(&key).to_py()?,
    })
}

/// The stored form of a key: lowercase SHA-256 hex (the key is parsed first).
#[pyfunction]
fn hash_api_key(key: Text) -> PyResult<String> {
    keycustody::hash_api_key(&key).to_py()
}

/// Whether `key` hashes to `stored_hash`, compared in constant time.
#[pyfunction]
fn verify_api_key(key: Text, stored_hash: Text) -> PyResult<bool> {
    keycustody::verify_api_key(&key, &stored_hash).to_py()
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGeneratedApiKey>()?;
    m.add_class::<PyApiKey>()?;
    m.add_function(wrap_pyfunction!(generate_api_key, m)?)?;
    m.add_function(wrap_pyfunction!(parse_api_key, m)?)?;
    m.add_function(wrap_pyfunction!(hash_api_key, m)?)?;
    m.add_function(wrap_pyfunction!(verify_api_key, m)?)?;
    Ok(())
}
