//! The one place where `keycustody::Error` becomes a Python exception.
//!
//! The classes live in `keycustody/_errors.py` (so that they can also derive from `ValueError`,
//! `PermissionError`, `OSError`, ...); this module picks the class and sets `kind`, `code` and
//! the non-secret details (`kid`, `detail`, `limit`, `claim`). The message is core's `Display`,
//! which never contains input bytes or key material.

use keycustody::{Error, MalformedKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// The one list of the binding's exceptions: one value of every core error kind, with the
/// Python class it raises. Its kind and code are core's (`Error::kind()`, `Error::code()`),
/// never restated here. `_errors.py` reads the list (`_native._ERROR_CLASSES`) to give every
/// class its `kind` and `code`, and refuses to import when a class and the list disagree;
/// `tests/test_errors_list.py` checks the list against core's kinds, the stubs and the README.
fn table() -> [(Error, &'static str); 19] {
    [
        (Error::DecryptFailed, "DecryptError"),
        (Error::Malformed(MalformedKind::Other), "MalformedError"),
        (Error::UnknownKey(1), "UnknownKeyError"),
        (Error::KeyRetired(1), "KeyRetiredError"),
        (Error::PrimaryKey(1), "PrimaryKeyError"),
        (Error::InvalidOwner, "InvalidOwnerError"),
        (Error::InvalidArgument(""), "InvalidArgumentError"),
        (Error::TooLarge { limit: 0 }, "TooLargeError"),
        (Error::InsecurePermissions, "InsecurePermissionsError"),
        (Error::MissingEnvVar, "MissingEnvVarError"),
        (Error::Io(std::io::ErrorKind::Other), "IoError"),
        (Error::RandomUnavailable, "RandomUnavailableError"),
        (Error::SignatureInvalid, "SignatureError"),
        (Error::TimestampOutOfTolerance, "TimestampError"),
        (Error::Expired, "ExpiredError"),
        (Error::NotYetValid, "NotYetValidError"),
        (Error::Replayed, "ReplayError"),
        (Error::Locked, "LockedError"),
        (Error::ClaimMismatch(""), "ClaimMismatchError"),
    ]
}

/// The kinds core itself declares, for the test that checks [`table`] against them. Core has
/// no such list yet: `None`, and the test checks the table against the kinds the vectors
/// produce instead. When core exports one (e.g. `keycustody::Error::KINDS`), this becomes
/// `Some(keycustody::Error::KINDS)` and the test then requires the same set.
const CORE_KINDS: Option<&[&str]> = None;

/// The Python class name for a core error.
fn class_name(e: &Error) -> &'static str {
    let kind = e.kind();
    table()
        .into_iter()
        .find(|(sample, _)| sample.kind() == kind)
        // `Error` is non_exhaustive: a kind added to core later still maps, to the base class
        // (and the list test fails until it has a class).
        .map_or("Error", |(_, class)| class)
}

/// Adds `_ERROR_CLASSES` (`(class, kind, code)` tuples) and `_CORE_ERROR_KINDS` to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let list: Vec<(&str, &str, &str)> = table()
        .iter()
        .map(|(e, class)| (*class, e.kind(), e.code()))
        .collect();
    m.add("_ERROR_CLASSES", list)?;
    m.add("_CORE_ERROR_KINDS", CORE_KINDS.map(<[&str]>::to_vec))?;
    Ok(())
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
