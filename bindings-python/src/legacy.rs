//! Legacy decoders, decrypt-only, for migration to kc1. PBKDF2 runs with the GIL released.

use keycustody::DEFAULT_ITERATIONS;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args::{Binary, Data, Len, Text};
use crate::errors::ToPyResult;

/// An iteration count (`int`, 1 to 10,000,000 checked by core).
#[derive(Clone, Copy)]
struct Iterations(u32);

impl<'a, 'py> FromPyObject<'a, 'py> for Iterations {
    type Error = PyErr;

    fn extract(ob: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        // Any int that does not fit u32 is out of core's range too: 0 gets core's message.
        let Len(n) = Len::extract(ob)?;
        Ok(Iterations(u32::try_from(n).unwrap_or(0)))
    }
}

/// Decrypts `base64(salt || iv12 || ciphertext || tag16)` with PBKDF2-HMAC-SHA256 + AES-256-GCM.
#[pyfunction]
#[pyo3(signature = (blob, password, iterations = Iterations(DEFAULT_ITERATIONS), salt_len = Len(16)), text_signature = "(blob, password, iterations=100000, salt_len=16)")]
fn decrypt_legacy_pbkdf2_gcm<'py>(
    py: Python<'py>,
    blob: Text,
    password: Data<'_>,
    iterations: Iterations,
    salt_len: Len,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut params = keycustody::Pbkdf2GcmParams::default();
    params.iterations = iterations.0;
    params.salt_len = salt_len.0;
    let pw = password.as_slice();
    let plain = py
        .detach(|| keycustody::decrypt_legacy_pbkdf2_gcm(&blob, pw, params))
        .to_py()?;
    Ok(PyBytes::new(py, plain.expose_secret()))
}

/// Decrypts an `openssl enc -aes-256-cbc -pbkdf2 -iter N` file (binary `Salted__` form).
#[pyfunction]
#[pyo3(signature = (data, password, iterations = Iterations(DEFAULT_ITERATIONS)), text_signature = "(data, password, iterations=100000)")]
fn decrypt_openssl_enc<'py>(
    py: Python<'py>,
    data: Binary<'_>,
    password: Data<'_>,
    iterations: Iterations,
) -> PyResult<Bound<'py, PyBytes>> {
    let (d, pw) = (data.0.as_slice(), password.as_slice());
    let plain = py
        .detach(|| keycustody::decrypt_openssl_enc(d, pw, iterations.0))
        .to_py()?;
    Ok(PyBytes::new(py, plain.expose_secret()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decrypt_legacy_pbkdf2_gcm, m)?)?;
    m.add_function(wrap_pyfunction!(decrypt_openssl_enc, m)?)?;
    Ok(())
}
