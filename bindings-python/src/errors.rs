//! The one place where `keycustody::Error` becomes a Python exception.
//!
//! The classes live in `keycustody/_errors.py` (so that they can also derive from `ValueError`,
//! `PermissionError`, `OSError`, ...); this module picks the class and sets `kind`, `code` and
//! the non-secret details from core's accessors, each `None` when the kind has none: `kid`,
//! `limit`, `claim`, `argument`, `malformed_kind` (`MalformedKind::name()`), `env_var`,
//! `io_kind`, `audit_position` (AuditBroken: the seq where the chain breaks) (the same details, under the same names in camelCase, as the Node and wasm
//! bindings). The message is core's `Display`, which never contains input bytes or key material.

use keycustody::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// The one list of the binding's exceptions: every core error kind, in the order of
/// `Error::KINDS`, with the Python class it raises. The build fails if it and core's list
/// differ (a kind added, removed, renamed or moved); codes are core's (`Error::CODES`).
/// `_errors.py` reads it (`_native._ERROR_CLASSES`) to give every class its `kind` and `code`,
/// and refuses to import when a class and the list disagree; `tests/test_errors_list.py`
/// checks it against the vectors, the module, the stubs and the README.
const CLASSES: &[(&str, &str)] = &[
    ("DecryptFailed", "DecryptError"),
    ("Malformed", "MalformedError"),
    ("UnknownKey", "UnknownKeyError"),
    ("KeyRetired", "KeyRetiredError"),
    ("PrimaryKey", "PrimaryKeyError"),
    ("InvalidOwner", "InvalidOwnerError"),
    ("InvalidArgument", "InvalidArgumentError"),
    ("TooLarge", "TooLargeError"),
    ("InsecurePermissions", "InsecurePermissionsError"),
    ("MissingEnvVar", "MissingEnvVarError"),
    ("Io", "IoError"),
    ("RandomUnavailable", "RandomUnavailableError"),
    ("SignatureInvalid", "SignatureError"),
    ("TimestampOutOfTolerance", "TimestampError"),
    ("Expired", "ExpiredError"),
    ("Replayed", "ReplayError"),
    ("Locked", "LockedError"),
    ("NotYetValid", "NotYetValidError"),
    ("ClaimMismatch", "ClaimMismatchError"),
    ("KekUnavailable", "KekUnavailableError"),
    ("TenantShredded", "TenantShreddedError"),
    ("UnknownTenant", "UnknownTenantError"),
    ("Conflict", "ConflictError"),
    ("TenantExists", "TenantExistsError"),
    ("AuditBroken", "AuditBrokenError"),
];

const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn same_kinds(classes: &[(&str, &str)], kinds: &[&str]) -> bool {
    if classes.len() != kinds.len() || Error::CODES.len() != kinds.len() {
        return false;
    }
    let mut i = 0;
    while i < kinds.len() {
        if !same_str(classes[i].0, kinds[i]) {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = assert!(
    same_kinds(CLASSES, Error::KINDS),
    "bindings-python/src/errors.rs CLASSES differs from keycustody::Error::KINDS"
);

/// The Python class name for a core error.
fn class_name(e: &Error) -> &'static str {
    let kind = e.kind();
    CLASSES
        .iter()
        .find(|(k, _)| *k == kind)
        // `Error` is non_exhaustive, but the assertion above fails the build on a new kind.
        .map_or("Error", |(_, class)| class)
}

/// Adds `_ERROR_CLASSES` (`(class, kind, code)` tuples, kinds and codes from core) and
/// `_CORE_ERROR_KINDS` (core's `Error::KINDS`, for the tests) to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let list: Vec<(&str, &str, &str)> = CLASSES
        .iter()
        .zip(Error::CODES)
        .zip(Error::KINDS)
        .map(|(((_, class), code), kind)| (*class, *kind, *code))
        .collect();
    m.add("_ERROR_CLASSES", list)?;
    m.add("_CORE_ERROR_KINDS", Error::KINDS.to_vec())?;
    Ok(())
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module = py.import("keycustody._errors")?;
    let cls = module.getattr(class_name(e))?.cast_into::<PyType>()?;
    let err = PyErr::from_type(cls, (e.to_string(),));
    let value = err.value(py);
    value.setattr("kind", e.kind())?;
    value.setattr("code", e.code())?;
    // Every detail attribute is set (None when the kind has none), from core's accessors.
    value.setattr("kid", e.kid())?;
    value.setattr("limit", e.limit())?;
    value.setattr("claim", e.claim())?;
    value.setattr("argument", e.argument())?;
    value.setattr("malformed_kind", e.malformed_kind().map(|k| k.name()))?;
    value.setattr("env_var", e.env_var())?;
    value.setattr("io_kind", e.io_kind_name())?;
    value.setattr("audit_position", e.audit_position())?;
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
