//! Free functions over envelopes and bytes: `inspect`, `inspect_binary`, `constant_time_equal`.

use pyo3::prelude::*;

use crate::args::{Binary, Data, PublicStr};
use crate::errors::ToPyResult;

/// What the header of a kc1 envelope says (no key needed).
#[pyclass(module = "keycustody", frozen, name = "EnvelopeInfo", eq)]
#[derive(PartialEq, Eq)]
pub(crate) struct PyEnvelopeInfo {
    #[pyo3(get)]
    version: u8,
    #[pyo3(get)]
    kid: u32,
    #[pyo3(get)]
    plaintext_len: usize,
}

#[pymethods]
impl PyEnvelopeInfo {
    fn __repr__(&self) -> String {
        format!(
            "EnvelopeInfo(version={}, kid={}, plaintext_len={})",
            self.version, self.kid, self.plaintext_len
        )
    }
}

impl From<keycustody::EnvelopeInfo> for PyEnvelopeInfo {
    fn from(i: keycustody::EnvelopeInfo) -> Self {
        PyEnvelopeInfo {
            version: i.version,
            kid: i.kid,
            plaintext_len: i.plaintext_len,
        }
    }
}

/// Reads the header of a "kc1." envelope: version, kid, plaintext length.
#[pyfunction]
fn inspect(envelope: PublicStr<'_>) -> PyResult<PyEnvelopeInfo> {
    Ok(keycustody::inspect(envelope.as_str()?).to_py()?.into())
}

/// inspect() for the binary form.
#[pyfunction]
fn inspect_binary(envelope: Binary<'_>) -> PyResult<PyEnvelopeInfo> {
    Ok(keycustody::inspect_binary(envelope.0.as_slice())
        .to_py()?
        .into())
}

/// Compares two byte strings in constant time (a length mismatch is False).
#[pyfunction]
fn constant_time_equal(a: Data<'_>, b: Data<'_>) -> bool {
    keycustody::constant_time_equal(a.as_slice(), b.as_slice())
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEnvelopeInfo>()?;
    m.add_function(wrap_pyfunction!(inspect, m)?)?;
    m.add_function(wrap_pyfunction!(inspect_binary, m)?)?;
    m.add_function(wrap_pyfunction!(constant_time_equal, m)?)?;
    m.add("MAX_PLAINTEXT", keycustody::MAX_PLAINTEXT)?;
    Ok(())
}
