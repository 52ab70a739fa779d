//! Browser-direct delivery: HPKE (RFC 9180) to a tenant VM's `kcpk1.` public key.
//! Whoever serves the public key could serve its own: pin the VM's fingerprint
//! (`delivery_key_fingerprint`) with `seal_for_delivery(..., expected_fingerprint=...)`.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args::{run, Data, Text};
use crate::errors::ToPyResult;

/// A delivery keypair: publish `public_key`, keep `private_key` on the receiving machine.
/// repr() shows the public key only.
#[pyclass(module = "keycustody", frozen, name = "DeliveryKeypair")]
pub(crate) struct PyDeliveryKeypair {
    inner: keycustody::DeliveryKeypair,
}

#[pymethods]
impl PyDeliveryKeypair {
    /// `kcsk1.<base64url>` (secret).
    #[getter]
    fn private_key(&self) -> &str {
        self.inner.private_key.expose_secret()
    }

    /// `kcpk1.<base64url>`.
    #[getter]
    fn public_key(&self) -> &str {
        &self.inner.public_key
    }

    fn __repr__(&self) -> String {
        format!("DeliveryKeypair(public_key='{}')", self.inner.public_key)
    }
}

/// A fresh random delivery keypair.
#[pyfunction]
fn generate_delivery_keypair() -> PyResult<PyDeliveryKeypair> {
    Ok(PyDeliveryKeypair {
        inner: keycustody::generate_delivery_keypair().to_py()?,
    })
}

/// A keypair derived from at least 32 bytes of key material (RFC 9180 DeriveKeyPair).
#[pyfunction]
fn derive_delivery_keypair(ikm: Data<'_>) -> PyResult<PyDeliveryKeypair> {
    Ok(PyDeliveryKeypair {
        inner: keycustody::derive_delivery_keypair(ikm.as_slice()).to_py()?,
    })
}

/// The `kcpk1.` public key of a `kcsk1.` private key.
#[pyfunction]
fn delivery_public_key(private_key: Text) -> PyResult<String> {
    keycustody::delivery_public_key(&private_key).to_py()
}

/// The `kcfp1.` fingerprint of a `kcpk1.` public key: show it on the receiving VM and
/// pin it with `seal_for_delivery(..., expected_fingerprint=...)`.
#[pyfunction]
fn delivery_key_fingerprint(public_key: Text) -> PyResult<String> {
    keycustody::delivery_key_fingerprint(&public_key).to_py()
}

/// Seals plaintext to a `kcpk1.` public key for `owner` (the AAD); returns a `kcd1.` blob.
/// With `expected_fingerprint`, a key whose fingerprint differs is refused
/// (ClaimMismatchError) before anything is sealed.
#[pyfunction]
#[pyo3(signature = (public_key, owner, plaintext, expected_fingerprint = None), text_signature = "(public_key, owner, plaintext, expected_fingerprint=None)")]
fn seal_for_delivery(
    py: Python<'_>,
    public_key: Text,
    owner: Text,
    plaintext: Data<'_>,
    expected_fingerprint: Option<Text>,
) -> PyResult<String> {
    let p = plaintext.as_slice();
    run(py, p.len(), || match &expected_fingerprint {
        Some(fp) => keycustody::seal_for_delivery_pinned(&public_key, &owner, p, fp),
        None => keycustody::seal_for_delivery(&public_key, &owner, p),
    })
    .to_py()
}

/// Opens a `kcd1.` blob with a `kcsk1.` private key for `owner`.
#[pyfunction]
fn open_delivery<'py>(
    py: Python<'py>,
    private_key: Text,
    owner: Text,
    blob: Text,
) -> PyResult<Bound<'py, PyBytes>> {
    let plain = run(py, blob.len(), || {
        keycustody::open_delivery(&private_key, &owner, &blob)
    })
    .to_py()?;
    Ok(PyBytes::new(py, plain.expose_secret()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDeliveryKeypair>()?;
    m.add_function(wrap_pyfunction!(generate_delivery_keypair, m)?)?;
    m.add_function(wrap_pyfunction!(derive_delivery_keypair, m)?)?;
    m.add_function(wrap_pyfunction!(delivery_public_key, m)?)?;
    m.add_function(wrap_pyfunction!(delivery_key_fingerprint, m)?)?;
    m.add_function(wrap_pyfunction!(seal_for_delivery, m)?)?;
    m.add_function(wrap_pyfunction!(open_delivery, m)?)?;
    Ok(())
}
