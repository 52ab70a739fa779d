//! The one place where failures become JavaScript errors.
//!
//! Every error thrown (or every promise rejected) by this package is an
//! `Error` (or `TypeError`/`RangeError` for a wrong argument type or an
//! out-of-range number) with two stable properties:
//! - `code`: `keycustody::Error::code()`, e.g. `"KC_DECRYPT_FAILED"`;
//! - `kind`: `keycustody::Error::kind()`, e.g. `"DecryptFailed"` (the name used
//!   by the test vectors' `expect` field);
//!
//! and, where the core error carries one (read from core's accessors, the same
//! details as the Python and wasm bindings): `kid` (`UnknownKey`, `KeyRetired`,
//! `PrimaryKey`), `limit` (`TooLarge`), `claim` (`ClaimMismatch`), `argument`
//! (`InvalidArgument`: core's fixed text, or the argument's name for a
//! `TypeError`/`RangeError`), `malformedKind` (`Malformed`, e.g. `"Base64"`),
//! `envVar` (`MissingEnvVar`), `ioKind` (`Io`, e.g. `"NotFound"`) and `auditPosition`
//! (`AuditBroken`: the seq where the chain breaks). Messages
//! are core's `Display` texts or name the argument; they never contain an input value.

use napi::bindgen_prelude::{JsObjectValue, JsRangeError, JsTypeError, JsValue};
use napi::{Env, JsError, Status};

/// Why a binding call failed, before it becomes a JavaScript value.
#[derive(Debug)]
pub(crate) enum Fail {
    /// A core error.
    Core(keycustody::Error),
    /// An argument has the wrong JavaScript type (`TypeError`).
    Type {
        /// The argument's name as documented.
        arg: &'static str,
        /// What it must be, e.g. `"a string"`.
        expected: &'static str,
    },
    /// A number argument is not an integer in range (`RangeError`).
    Range {
        /// The argument's name as documented.
        arg: &'static str,
        /// What it must be, e.g. `"an integer from 1 to 4294967295"`.
        expected: &'static str,
    },
    /// An argument that must not be given at all (a `never` guard, e.g. `addKey(secret)`):
    /// a `TypeError` with this message.
    Refused {
        /// The argument's name as documented.
        arg: &'static str,
        /// The whole message (names what to call instead).
        message: &'static str,
    },
    /// The JavaScript engine itself failed (e.g. while creating a value).
    Napi(napi::Error),
}

impl From<keycustody::Error> for Fail {
    fn from(e: keycustody::Error) -> Self {
        Fail::Core(e)
    }
}

impl From<napi::Error> for Fail {
    fn from(e: napi::Error) -> Self {
        Fail::Napi(e)
    }
}

/// The `Result` of binding code before error mapping.
pub(crate) type Res<T> = Result<T, Fail>;

const CODE_INVALID_ARGUMENT: &str = "KC_INVALID_ARGUMENT";
const KIND_INVALID_ARGUMENT: &str = "InvalidArgument";

/// Maps a failure to the JavaScript error object that is thrown or rejected.
pub(crate) fn to_js(env: &Env, fail: Fail) -> napi::Error {
    match build(env, fail) {
        Ok(e) => e,
        // Creating the error object failed (the environment is shutting down):
        // fall back to napi's own error, which still carries the code.
        Err(e) => e,
    }
}

/// The non-secret details of a failure, set as properties of the thrown error.
#[derive(Default)]
struct Details {
    kid: Option<u32>,
    limit: Option<usize>,
    claim: Option<&'static str>,
    argument: Option<&'static str>,
    malformed_kind: Option<&'static str>,
    env_var: Option<String>,
    io_kind: Option<&'static str>,
    audit_position: Option<u64>,
}

impl Details {
    /// Read from core's accessors (never from `Debug` text).
    fn of(e: &keycustody::Error) -> Details {
        Details {
            kid: e.kid(),
            limit: e.limit(),
            claim: e.claim(),
            argument: e.argument(),
            malformed_kind: e.malformed_kind().map(|k| k.name()),
            env_var: e.env_var().map(str::to_owned),
            io_kind: e.io_kind_name(),
            audit_position: e.audit_position(),
        }
    }
}

fn build(env: &Env, fail: Fail) -> napi::Result<napi::Error> {
    let (value, kind, details) = match fail {
        Fail::Napi(e) => return Ok(e),
        Fail::Type { arg, expected } => {
            let msg = format!("the \"{arg}\" argument must be {expected}");
            let v =
                JsTypeError::from(napi::Error::new(CODE_INVALID_ARGUMENT, msg)).into_unknown(*env);
            let details = Details {
                argument: Some(arg),
                ..Details::default()
            };
            (v, KIND_INVALID_ARGUMENT, details)
        }
        Fail::Refused { arg, message } => {
            let v = JsTypeError::from(napi::Error::new(CODE_INVALID_ARGUMENT, message))
                .into_unknown(*env);
            let details = Details {
                argument: Some(arg),
                ..Details::default()
            };
            (v, KIND_INVALID_ARGUMENT, details)
        }
        Fail::Range { arg, expected } => {
            let msg = format!("the \"{arg}\" argument must be {expected}");
            let v =
                JsRangeError::from(napi::Error::new(CODE_INVALID_ARGUMENT, msg)).into_unknown(*env);
            let details = Details {
                argument: Some(arg),
                ..Details::default()
            };
            (v, KIND_INVALID_ARGUMENT, details)
        }
        Fail::Core(e) => {
            let v = JsError::from(napi::Error::new(e.code(), e.to_string())).into_unknown(*env);
            (v, e.kind(), Details::of(&e))
        }
    };
    let mut obj = value.coerce_to_object()?;
    obj.set_named_property("kind", kind)?;
    if let Some(kid) = details.kid {
        obj.set_named_property("kid", kid)?;
    }
    if let Some(limit) = details.limit {
        // Limits are at most 64 MiB or u32::MAX: exact as a JS number.
        obj.set_named_property("limit", limit as f64)?;
    }
    if let Some(claim) = details.claim {
        obj.set_named_property("claim", claim)?;
    }
    if let Some(argument) = details.argument {
        obj.set_named_property("argument", argument)?;
    }
    if let Some(malformed) = details.malformed_kind {
        obj.set_named_property("malformedKind", malformed)?;
    }
    if let Some(name) = details.env_var {
        obj.set_named_property("envVar", name.as_str())?;
    }
    if let Some(io) = details.io_kind {
        obj.set_named_property("ioKind", io)?;
    }
    if let Some(seq) = details.audit_position {
        // A seq is below 2^53 in any chain that can exist: exact as a JS number.
        obj.set_named_property("auditPosition", seq as f64)?;
    }
    Ok(napi::Error::from(obj.to_unknown()))
}

/// Runs `f`, mapping its failure with [`to_js`].
pub(crate) fn run<T>(env: &Env, f: impl FnOnce() -> Res<T>) -> napi::Result<T> {
    f().map_err(|fail| to_js(env, fail))
}

/// A napi error for a state that cannot happen (kept instead of a panic).
pub(crate) fn internal(what: &'static str) -> Fail {
    Fail::Napi(napi::Error::new(Status::GenericFailure, what))
}
