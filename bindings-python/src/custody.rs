//! Custody (DESIGN §7): wrapped keyrings (opened with a DEK the application unwrapped with
//! its own KMS SDK, or a passphrase), the two-step wrap, and the tenant keyring cache.
//! `Keyring.seal_keyring` / `open_keyring` are in keyring.rs. No call here reaches a
//! network service; the Argon2id calls release the GIL.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use keycustody::Error;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args::{Binary, Data, Len, Seconds, Text};
use crate::errors::{to_py, ToPyResult};
use crate::keyring::PyKeyring;

/// Core's AWS KMS encryption context (DESIGN §7) as a dict.
fn encryption_context(pairs: [(&'static str, &str); 2]) -> HashMap<&'static str, String> {
    pairs.into_iter().map(|(k, v)| (k, v.to_owned())).collect()
}

/// An Argon2id parameter: an `int`; one over 2**32-1 is out of core's bounds too.
#[derive(Clone, Copy)]
struct Param(u32);

impl<'a, 'py> FromPyObject<'a, 'py> for Param {
    type Error = PyErr;

    fn extract(ob: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let Len(n) = Len::extract(ob)?;
        Ok(Param(u32::try_from(n).unwrap_or(u32::MAX)))
    }
}

fn keyring(inner: keycustody::Keyring) -> PyKeyring {
    PyKeyring { inner }
}

/// A keyring wrapped under a key-encryption key (KEK). Parse the text with
/// `WrappedKeyring.parse`, unwrap `wrapped_dek` with your KMS (passing
/// `encryption_context` to AWS KMS, or `header` as AAD elsewhere), then `open_with_dek`.
#[pyclass(module = "keycustody", frozen, name = "WrappedKeyring")]
pub(crate) struct PyWrappedKeyring {
    inner: keycustody::WrappedKeyring,
}

#[pymethods]
impl PyWrappedKeyring {
    /// Parses the text form; refuses unknown fields, versions and KEK type names.
    #[staticmethod]
    fn parse(text: Text) -> PyResult<Self> {
        Ok(PyWrappedKeyring {
            inner: keycustody::WrappedKeyring::parse(&text).to_py()?,
        })
    }

    /// The text form (field order as in the specification).
    fn to_text(&self) -> String {
        self.inner.to_text()
    }

    /// The KEK type (`"aws-kms"`, `"pkcs11"`, `"passphrase"` or an application type).
    #[getter]
    fn kek_type(&self) -> &str {
        self.inner.kek_type()
    }

    /// The KEK reference (key ARN or alias, PKCS#11 URI, Argon2id parameters and salt).
    #[getter]
    fn kek_key(&self) -> &str {
        self.inner.kek_key()
    }

    /// The owner: a tenant id, or "" for the platform keyring.
    #[getter]
    fn owner(&self) -> &str {
        self.inner.owner()
    }

    /// The DEK as the KEK encrypted it (e.g. the AWS KMS CiphertextBlob).
    #[getter]
    fn wrapped_dek<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.wrapped_dek())
    }

    /// The header: the AAD to bind the DEK to where the KEK takes one.
    #[getter]
    fn header<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.header())
    }

    /// The AWS KMS EncryptionContext for Decrypt.
    #[getter]
    fn encryption_context(&self) -> HashMap<&'static str, String> {
        encryption_context(self.inner.aws_kms_encryption_context())
    }

    /// Raises DecryptError unless the owner is `expected` (call it before the KEK).
    fn expect_owner(&self, expected: Text) -> PyResult<()> {
        self.inner.expect_owner(&expected).to_py()
    }

    /// Opens the keyring with the 32-byte DEK your KEK unwrapped.
    fn open_with_dek(&self, dek: Binary<'_>) -> PyResult<PyKeyring> {
        Ok(keyring(self.inner.open_with_dek(dek.0.as_slice()).to_py()?))
    }

    /// Opens a passphrase-wrapped keyring (Argon2id; releases the GIL).
    fn open_with_passphrase(&self, py: Python<'_>, passphrase: Data<'_>) -> PyResult<PyKeyring> {
        let pw = passphrase.as_slice();
        let inner = &self.inner;
        Ok(keyring(
            py.detach(|| inner.open_with_passphrase(pw)).to_py()?,
        ))
    }

    fn __repr__(&self) -> String {
        format!("WrappedKeyring(kek_type={:?})", self.inner.kek_type())
    }
}

/// The first step of wrapping a keyring under any KEK: encrypt `dek` with your KEK (AWS KMS:
/// Encrypt with `encryption_context`; elsewhere `header` as AAD), then `finish(wrapped_dek)`.
/// The DEK is wiped when the wrap is finished or collected.
#[pyclass(module = "keycustody", frozen, name = "PendingWrap")]
pub(crate) struct PyPendingWrap {
    inner: Mutex<Option<keycustody::PendingWrap>>,
}

type Guard<'a> = MutexGuard<'a, Option<keycustody::PendingWrap>>;

impl PyPendingWrap {
    fn lock(&self) -> Guard<'_> {
        // A poisoned lock still holds a consistent Option (every use is one take or read).
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&keycustody::PendingWrap) -> T) -> PyResult<T> {
        match self.lock().as_ref() {
            Some(p) => Ok(f(p)),
            None => Err(finished()),
        }
    }
}

fn finished() -> PyErr {
    to_py(Error::InvalidArgument(
        "the pending wrap was already finished",
    ))
}

#[pymethods]
impl PyPendingWrap {
    /// Encrypts `keyring` under a fresh DEK for the KEK `kek_type` / `kek_key`, owned by `owner`.
    #[new]
    #[pyo3(text_signature = "(keyring, kek_type, kek_key, owner)")]
    fn new(
        keyring: &Bound<'_, PyKeyring>,
        kek_type: Text,
        kek_key: Text,
        owner: Text,
    ) -> PyResult<Self> {
        let p = keycustody::PendingWrap::new(&keyring.get().inner, &kek_type, &kek_key, &owner)
            .to_py()?;
        Ok(PyPendingWrap {
            inner: Mutex::new(Some(p)),
        })
    }

    /// The 32-byte DEK to hand to your KEK (a secret: never log or store it).
    #[getter]
    fn dek<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.with(|p| PyBytes::new(py, p.dek()))
    }

    /// The header: the AAD to bind the wrapped DEK to where the KEK takes one.
    #[getter]
    fn header<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.with(|p| PyBytes::new(py, p.header()))
    }

    /// The AWS KMS EncryptionContext for Encrypt.
    #[getter]
    fn encryption_context(&self) -> PyResult<HashMap<&'static str, String>> {
        self.with(|p| encryption_context(p.aws_kms_encryption_context()))
    }

    /// The KEK type.
    #[getter]
    fn kek_type(&self) -> PyResult<String> {
        self.with(|p| p.kek_type().to_owned())
    }

    /// The KEK reference.
    #[getter]
    fn kek_key(&self) -> PyResult<String> {
        self.with(|p| p.kek_key().to_owned())
    }

    /// The owner.
    #[getter]
    fn owner(&self) -> PyResult<String> {
        self.with(|p| p.owner().to_owned())
    }

    /// The wrapped keyring, given your KEK's encryption of `dek`; the DEK is wiped.
    fn finish(&self, wrapped_dek: Binary<'_>) -> PyResult<PyWrappedKeyring> {
        let blob = wrapped_dek.0.as_slice();
        let mut g = self.lock();
        if g.is_none() {
            return Err(finished());
        }
        // Checked before the DEK is given up, so a refused wrapped_dek can be retried.
        if blob.is_empty() || blob.len() > keycustody::MAX_WRAPPED_DEK_LEN {
            return Err(to_py(Error::InvalidArgument(
                "wrapped_dek must be 1 to 4096 bytes",
            )));
        }
        let p = g.take().ok_or_else(finished)?;
        drop(g);
        Ok(PyWrappedKeyring {
            inner: p.finish(blob).to_py()?,
        })
    }

    fn __repr__(&self) -> String {
        match self.lock().as_ref() {
            Some(p) => format!("PendingWrap(kek_type={:?})", p.kek_type()),
            None => "PendingWrap(finished)".to_owned(),
        }
    }
}

/// Wraps `keyring` under a passphrase (Argon2id m_kib KiB, t passes, p lanes, random salt),
/// owned by `owner` (a tenant, or ""). Releases the GIL.
#[pyfunction]
#[pyo3(signature = (keyring, passphrase, owner, m_kib = Param(65536), t = Param(3), p = Param(1)), text_signature = "(keyring, passphrase, owner, m_kib=65536, t=3, p=1)")]
fn wrap_with_passphrase(
    py: Python<'_>,
    keyring: &Bound<'_, PyKeyring>,
    passphrase: Data<'_>,
    owner: Text,
    m_kib: Param,
    t: Param,
    p: Param,
) -> PyResult<PyWrappedKeyring> {
    let kr = &keyring.get().inner;
    let pw = passphrase.as_slice();
    let params = keycustody::Argon2Params {
        m_kib: m_kib.0,
        t: t.0,
        p: p.0,
    };
    let owner: &str = &owner;
    let inner = py
        .detach(|| keycustody::wrap_with_passphrase(kr, pw, owner, params))
        .to_py()?;
    Ok(PyWrappedKeyring { inner })
}

/// Whether `text` looks like a wrapped keyring rather than a plain keyring (a sniff, not a parse).
#[pyfunction]
fn is_wrapped_keyring(text: Text) -> bool {
    keycustody::is_wrapped_keyring(&text)
}

/// A bounded cache of unwrapped tenant keyrings (LRU + TTL); `now` in seconds, default the
/// Unix time. Thread-safe.
#[pyclass(module = "keycustody", frozen, name = "TenantKeyringCache")]
pub(crate) struct PyTenantKeyringCache {
    inner: keycustody::TenantKeyringCache,
}

fn now_or_clock(now: Option<Seconds>) -> PyResult<u64> {
    match now {
        Some(s) => Ok(s.0),
        // A clock before 1970 counts as 0 (a clock that went back is no time passed).
        None => Ok(u64::try_from(keycustody::unix_now().to_py()?).unwrap_or(0)),
    }
}

#[pymethods]
impl PyTenantKeyringCache {
    #[new]
    #[pyo3(signature = (capacity = Len(keycustody::DEFAULT_TENANT_CACHE_CAPACITY), ttl_secs = Seconds(keycustody::DEFAULT_TENANT_CACHE_TTL)), text_signature = "(capacity=10000, ttl_secs=300)")]
    fn new(capacity: Len, ttl_secs: Seconds) -> Self {
        PyTenantKeyringCache {
            inner: keycustody::TenantKeyringCache::new(capacity.0, ttl_secs.0),
        }
    }

    /// The cached keyring of `tenant`, or None if none was inserted less than the TTL before `now`.
    #[pyo3(signature = (tenant, now = None))]
    fn get(&self, tenant: Text, now: Option<Seconds>) -> PyResult<Option<PyKeyring>> {
        let now = now_or_clock(now)?;
        Ok(self.inner.get(&tenant, now).map(|k| keyring((*k).clone())))
    }

    /// Caches a snapshot of `keyring` as `tenant`'s, loaded at `now`; returns the cached keyring.
    #[pyo3(signature = (tenant, keyring, now = None))]
    fn insert(
        &self,
        tenant: Text,
        keyring: &Bound<'_, PyKeyring>,
        now: Option<Seconds>,
    ) -> PyResult<PyKeyring> {
        let now = now_or_clock(now)?;
        let k = self.inner.insert(&tenant, keyring.get().inner.clone(), now);
        Ok(self::keyring((*k).clone()))
    }

    /// Removes `tenant`'s keyring (after a rotation or a shred).
    fn invalidate(&self, tenant: Text) {
        self.inner.invalidate(&tenant);
    }

    /// Removes every keyring.
    fn clear(&self) {
        self.inner.clear();
    }

    /// The most keyrings held.
    #[getter]
    fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The TTL in seconds.
    #[getter]
    fn ttl(&self) -> u64 {
        self.inner.ttl()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "TenantKeyringCache(capacity={}, ttl_secs={}, len={})",
            self.inner.capacity(),
            self.inner.ttl(),
            self.inner.len()
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWrappedKeyring>()?;
    m.add_class::<PyPendingWrap>()?;
    m.add_class::<PyTenantKeyringCache>()?;
    m.add_function(wrap_pyfunction!(wrap_with_passphrase, m)?)?;
    m.add_function(wrap_pyfunction!(is_wrapped_keyring, m)?)?;
    Ok(())
}
