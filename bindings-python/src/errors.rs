//! The one place where `keycustody::Error` becomes a Python exception.
//!
//! The classes live in `keycustody/_errors.py` (so that they can also derive from `ValueError`,
//! `PermissionError`, `OSError`, ...); this module picks the class and sets `kind`, `code` and
//! the non-secret details (`kid`, `detail`, `limit`, `claim`). The message is core's `Display`,
//! which never contains input bytes or key material.

use keycustody::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// The Python class name for a core error.
fn class_name(e: &Error) -> &'static str {
    match e {
        Error::DecryptFailed => "DecryptError",
        Error::Malformed(_) => "MalformedError",
        Error::UnknownKey(_) => "UnknownKeyError",
        Error::KeyRetired(_) => "KeyRetiredError",
        Error::PrimaryKey(_) => "PrimaryKeyError",
        Error::InvalidOwner => "InvalidOwnerError",
        Error::InvalidArgument(_) => "InvalidArgumentError",
        Error::TooLarge { .. } => "TooLargeError",
        Error::InsecurePermissions => "InsecurePermissionsError",
        Error::MissingEnvVar(_) => "MissingEnvVarError",
        Error::Io(_) => "IoError",
        Error::RandomUnavailable => "RandomUnavailableError",
        Error::SignatureInvalid => "SignatureError",
        Error::TimestampOutOfTolerance => "TimestampError",
        Error::Expired => "ExpiredError",
        Error::NotYetValid => "NotYetValidError",
        Error::Replayed => "ReplayError",
        Error::Locked => "LockedError",
        Error::ClaimMismatch(_) => "ClaimMismatchError",
        // `Error` is non_exhaustive: a kind added to core later still maps, to the base class.
        _ => "Error",
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module = py.import("keycustody._errors")?;
    let cls = module.getattr(class_name(e))?.cast_into::<PyType>()?;
    let err = PyErr::from_type(cls, (e.to_string(),));
    let value = err.value(py);
    value.setattr("kind", e.kind())?;
    value.setattr("code", e.code())?;
    match e {
        Error::UnknownKey(kid) | Error::KeyRetired(kid) | Error::PrimaryKey(kid) => {
            value.setattr("kid", *kid)?;
        }
        Error::Malformed(k) => value.setattr("detail", format!("{k:?}"))?,
        Error::Io(k) => value.setattr("detail", format!("{k:?}"))?,
        Error::TooLarge { limit } => value.setattr("limit", *limit)?,
        Error::ClaimMismatch(claim) => value.setattr("claim", *claim)?,
        _ => {}
    }
    Ok(err)
}

/// Maps a core error to its Python exception (the binding's one mapping function).
pub(crate) fn to_py(e: Error) -> PyErr {
    Python::attach(|py| match build(py, &e) {
        Ok(err) => err,
        // Only reachable if the package's own `_errors` module is missing or broken.
        Err(_) => PyRuntimeError::new_err(format!("keycustody error {}: {e}", e.code())),
    })
}

/// `Result<T, keycustody::Error>` to `PyResult<T>`.
pub(crate) trait ToPyResult<T> {
    fn to_py(self) -> PyResult<T>;
}

impl<T> ToPyResult<T> for keycustody::Result<T> {
    fn to_py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
