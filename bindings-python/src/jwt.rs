//! Per-tenant HS256 JWTs (`Keyring.sign_jwt` / `verify_jwt` / `jwt_secret`).
//!
//! Claims go in as a JSON `str` (kept byte for byte) or a `dict` (serialized with
//! `json.dumps`); verified claims come back as a `dict`.

use keycustody::{JwtVerifyOptions, Keyring};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::args::{Seconds, Text, UnixTime};
use crate::errors::ToPyResult;

fn claims_text(py: Python<'_>, claims: &Bound<'_, PyAny>) -> PyResult<Text> {
    if claims.is_instance_of::<PyString>() {
        return claims.extract::<Text>();
    }
    if claims.is_instance_of::<PyDict>() {
        let json = py.import("json")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("separators", (",", ":"))?;
        kwargs.set_item("allow_nan", false)?;
        return json
            .call_method("dumps", (claims,), Some(&kwargs))?
            .extract::<Text>();
    }
    Err(PyTypeError::new_err("claims must be a dict or a JSON str"))
}

pub(crate) fn sign(
    py: Python<'_>,
    kr: &Keyring,
    tenant: &str,
    claims: &Bound<'_, PyAny>,
    ttl: Seconds,
    now: Option<UnixTime>,
) -> PyResult<String> {
    let text = claims_text(py, claims)?;
    match now {
        Some(t) => kr.sign_jwt_at(tenant, &text, ttl.0, t.0),
        None => kr.sign_jwt(tenant, &text, ttl.0),
    }
    .to_py()
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn verify<'py>(
    py: Python<'py>,
    kr: &Keyring,
    tenant: &str,
    token: &str,
    audience: Option<Text>,
    issuer: Option<Text>,
    leeway: Seconds,
    now: Option<UnixTime>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut options = JwtVerifyOptions::default();
    options.audience = audience.map(|a| a.to_owned());
    options.issuer = issuer.map(|i| i.to_owned());
    options.leeway = leeway.0;
    let claims = match now {
        Some(t) => kr.verify_jwt_at(tenant, token, &options, t.0),
        None => kr.verify_jwt(tenant, token, &options),
    }
    .to_py()?;
    py.import("json")?.call_method1("loads", (claims,))
}

pub(crate) fn secret<'py>(
    py: Python<'py>,
    kr: &Keyring,
    tenant: &str,
) -> PyResult<(u32, Bound<'py, PyBytes>)> {
    let (kid, key) = kr.jwt_secret(tenant).to_py()?;
    Ok((kid, PyBytes::new(py, key.expose_secret())))
}
