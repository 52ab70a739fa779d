//! Argument conversion: `bytes | bytearray | str` data and range-checked integers.
//!
//! A value of the wrong Python type raises `TypeError`; an integer out of range raises
//! `InvalidArgumentError` (through the one error mapping). Messages never echo the value.

use std::borrow::Cow;

use keycustody::{Error, MalformedKind, SecretBytes, SecretString};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyInt, PyString};
use pyo3::Borrowed;
use zeroize::Zeroizing;

use crate::errors::to_py;

/// A secret string as a Python `str`, made straight from the zeroizing buffer (no Rust copy
/// that would outlive it unwiped; the `str` itself is CPython's, see the README).
pub(crate) fn secret_str<'py>(py: Python<'py>, s: &SecretString) -> Bound<'py, PyString> {
    PyString::new(py, s.expose_secret())
}

/// Secret bytes as Python `bytes`, made straight from the zeroizing buffer.
pub(crate) fn secret_bytes<'py>(py: Python<'py>, s: &SecretBytes) -> Bound<'py, PyBytes> {
    PyBytes::new(py, s.expose_secret())
}

/// Bytes given as `bytes` (borrowed, no copy), `bytearray` (copied) or `str` (its UTF-8 bytes,
/// copied). Copies are zeroized on drop.
pub(crate) enum Data<'a> {
    Borrowed(&'a [u8]),
    Owned(Zeroizing<Vec<u8>>),
}

impl Data<'_> {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Data::Borrowed(b) => b,
            Data::Owned(v) => v.as_slice(),
        }
    }
}

impl Default for Data<'_> {
    fn default() -> Self {
        Data::Borrowed(&[])
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Data<'a> {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = <&'a [u8] as FromPyObject<'a, 'py>>::extract(ob) {
            return Ok(Data::Borrowed(b));
        }
        if let Ok(s) = ob.cast::<PyString>() {
            let text: Cow<'_, str> = s
                .to_cow()
                .map_err(|_| to_py(Error::Malformed(MalformedKind::Utf8)))?;
            return Ok(Data::Owned(Zeroizing::new(text.into_owned().into_bytes())));
        }
        if let Ok(a) = ob.cast::<PyByteArray>() {
            return Ok(Data::Owned(Zeroizing::new(a.to_vec())));
        }
        Err(PyTypeError::new_err("expected bytes, bytearray or str"))
    }
}

/// A `str` argument, held as UTF-8 in a zeroizing buffer (keys, envelopes and passwords come
/// in as `str`). A string that cannot be UTF-8 (a lone surrogate) raises `MalformedError`
/// without echoing any of it.
pub(crate) struct Text(Zeroizing<String>);

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Zeroizing::new(s.to_owned()))
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Text {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let s = ob
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("expected str"))?;
        match s.to_cow() {
            Ok(text) => Ok(Text(Zeroizing::new(text.into_owned()))),
            Err(_) => Err(to_py(Error::Malformed(MalformedKind::Utf8))),
        }
    }
}

/// A `str` argument that is not secret (an envelope, an owner): read through CPython's own
/// UTF-8 encoding of it (`str.encode()`), with no Rust copy and so nothing to wipe: a 1 MiB
/// envelope is neither copied again nor wiped byte by byte. A string that cannot be UTF-8 (a
/// lone surrogate) raises `MalformedError`, as [`Text`] does. (With an abi3 floor of 3.10,
/// `PyString::to_str` would borrow the `str`'s own UTF-8 buffer instead.)
pub(crate) struct PublicStr<'py>(Bound<'py, PyBytes>);

impl PublicStr<'_> {
    pub(crate) fn as_str(&self) -> PyResult<&str> {
        // CPython's encoder produced it, so this holds; checked, since the core takes `&str`.
        std::str::from_utf8(self.0.as_bytes())
            .map_err(|_| to_py(Error::Malformed(MalformedKind::Utf8)))
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for PublicStr<'py> {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let s = ob
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("expected str"))?;
        s.encode_utf8()
            .map(PublicStr)
            .map_err(|_| to_py(Error::Malformed(MalformedKind::Utf8)))
    }
}

/// Bytes only (`bytes` or `bytearray`): for binary envelopes, where a `str` is a mistake.
pub(crate) struct Binary<'a>(pub(crate) Data<'a>);

impl<'a, 'py> FromPyObject<'a, 'py> for Binary<'a> {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = <&'a [u8] as FromPyObject<'a, 'py>>::extract(ob) {
            return Ok(Binary(Data::Borrowed(b)));
        }
        if let Ok(a) = ob.cast::<PyByteArray>() {
            return Ok(Binary(Data::Owned(Zeroizing::new(a.to_vec()))));
        }
        Err(PyTypeError::new_err("expected bytes or bytearray"))
    }
}

fn int_arg<'py, T: for<'a> FromPyObject<'a, 'py>>(
    ob: Borrowed<'_, 'py, PyAny>,
    range_msg: &'static str,
) -> PyResult<T> {
    if !ob.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err("expected int"));
    }
    ob.extract::<T>()
        .map_err(|_| to_py(Error::InvalidArgument(range_msg)))
}

/// A key id: an `int` from 0 to 2**32-1 (0 is then refused by core where it matters).
#[derive(Clone, Copy)]
pub(crate) struct Kid(pub(crate) u32);

impl<'a, 'py> FromPyObject<'a, 'py> for Kid {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        int_arg::<u32>(ob, "kid must be 1 to 4294967295").map(Kid)
    }
}

/// A non-negative length or count (`int`).
#[derive(Clone, Copy)]
pub(crate) struct Len(pub(crate) usize);

impl<'a, 'py> FromPyObject<'a, 'py> for Len {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        int_arg::<usize>(ob, "length must be a non-negative int in range").map(Len)
    }
}

/// Payloads at least this long are processed with the GIL released.
pub(crate) const DETACH_THRESHOLD: usize = 16 * 1024;

/// Runs `f` with the GIL released when `len` is large, else directly (releasing and
/// re-taking the GIL costs more than sealing a few bytes).
pub(crate) fn run<T, F>(py: Python<'_>, len: usize, f: F) -> T
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    if len >= DETACH_THRESHOLD {
        py.detach(f)
    } else {
        f()
    }
}

/// A non-negative `int` of seconds (a tolerance or a TTL).
#[derive(Clone, Copy)]
pub(crate) struct Seconds(pub(crate) u64);

impl<'a, 'py> FromPyObject<'a, 'py> for Seconds {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        int_arg::<u64>(ob, "seconds must be a non-negative int in range").map(Seconds)
    }
}

/// A Unix time in seconds (`int`, signed 64-bit).
#[derive(Clone, Copy)]
pub(crate) struct UnixTime(pub(crate) i64);

impl<'a, 'py> FromPyObject<'a, 'py> for UnixTime {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        int_arg::<i64>(ob, "timestamp must fit a signed 64-bit int").map(UnixTime)
    }
}
