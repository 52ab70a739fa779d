//! The error type of the KEK clients.

use core::fmt;
use keycustody::Error;

/// What can go wrong wrapping or unwrapping under an external KEK.
///
/// No variant carries a key reference's secret parts, a PIN, a passphrase or a DEK: the
/// texts are fixed and name what is wrong. [`KmsError::core`] gives the core [`Error`] a
/// binding or a caller reporting one error kind uses.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KmsError {
    /// A core error: [`Error::DecryptFailed`] for every unwrap failure, a malformed wrapped
    /// keyring, a keyring that does not parse, ...
    Core(Error),
    /// The KEK could not be reached or refused the request. `kek` is the type (`"aws-kms"`,
    /// `"pkcs11"`); `reason` is a fixed text ("unreachable", "PIN incorrect", ...).
    KekUnavailable {
        /// The KEK type.
        kek: &'static str,
        /// Why, in a fixed text.
        reason: &'static str,
    },
    /// The KEK spec (`aws-kms:<key>`, `pkcs11:<uri>`, `passphrase`) or the PKCS#11 URI is
    /// malformed; the text names what is wrong.
    InvalidKekSpec(&'static str),
    /// The PKCS#11 URI (or the HSM) names no usable key; the text names what is missing.
    KeyNotFound(&'static str),
    /// A setting the KEK needs is not configured; the text names the environment variable
    /// or option (never its value).
    MissingConfig(&'static str),
}

impl KmsError {
    /// The core error this maps to: [`Error::KekUnavailable`] for an unreachable or
    /// refusing KEK, [`Error::InvalidArgument`] for a bad spec, a missing key or setting.
    #[must_use]
    pub fn core(&self) -> Error {
        match *self {
            KmsError::Core(e) => e,
            KmsError::KekUnavailable { kek, .. } => core_kek_unavailable(kek),
            KmsError::InvalidKekSpec(what)
            | KmsError::KeyNotFound(what)
            | KmsError::MissingConfig(what) => Error::InvalidArgument(what),
        }
    }
}

/// Core's `KekUnavailable(type)`.
fn core_kek_unavailable(kek: &'static str) -> Error {
    Error::KekUnavailable(kek)
}

impl From<Error> for KmsError {
    fn from(e: Error) -> Self {
        KmsError::Core(e)
    }
}

impl fmt::Display for KmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KmsError::Core(e) => write!(f, "{e}"),
            KmsError::KekUnavailable { kek, reason } => {
                write!(f, "KEK {kek} unavailable: {reason}")
            }
            KmsError::InvalidKekSpec(what) => write!(f, "invalid KEK: {what}"),
            KmsError::KeyNotFound(what) => write!(f, "KEK key not found: {what}"),
            KmsError::MissingConfig(what) => write!(f, "KEK not configured: set {what}"),
        }
    }
}

impl std::error::Error for KmsError {}
