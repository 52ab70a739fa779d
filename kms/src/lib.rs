//! KEK clients for wrapped keyrings (`../shared/DESIGN.md` §7): AWS KMS through the official
//! `aws-sdk-kms` crate and PKCS#11 HSMs through `cryptoki`, beside core's `passphrase`.
//!
//! Core (crate `keycustody`) owns the wrapped-keyring format and does no I/O; this crate
//! makes the one KEK call that wrapping or unwrapping needs. The API is synchronous: the
//! AWS client runs on an internal current-thread tokio runtime (on a helper thread when it
//! is called from inside another runtime).
//!
//! Configuration ([`KekConfig::from_env`]): the standard AWS chain (`AWS_REGION`,
//! credentials, profiles, `AWS_ENDPOINT_URL_KMS`, ...), `KEYCUSTODY_PKCS11_MODULE`,
//! `KEYCUSTODY_PKCS11_PIN` / `KEYCUSTODY_PKCS11_PIN_FILE`, `KEYCUSTODY_PASSPHRASE` /
//! `KEYCUSTODY_PASSPHRASE_FILE`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(feature = "aws-kms")]
pub mod aws;
#[cfg(not(feature = "aws-kms"))]
#[path = "aws_off.rs"]
pub mod aws;
mod error;
pub mod hsm;
mod uri;
mod wrap;

pub use error::KmsError;
pub use uri::{Pkcs11Uri, MAX_URI_LEN};
pub use wrap::{
    kek_of, keyring_from_env, keyring_from_file, load_keyring_text, open_cmek_keyring, rewrap_like,
    unwrap_keyring, wrap_keyring,
};

use keycustody::Argon2Params;

use std::path::PathBuf;
use zeroize::Zeroizing;

/// Environment variable holding the passphrase of a `passphrase` KEK.
pub const PASSPHRASE_ENV: &str = "KEYCUSTODY_PASSPHRASE";
/// Environment variable naming a file holding the passphrase of a `passphrase` KEK.
pub const PASSPHRASE_FILE_ENV: &str = "KEYCUSTODY_PASSPHRASE_FILE";

/// A key-encryption key named by a spec: `aws-kms:<key ARN, id or alias>`,
/// `pkcs11:<RFC 7512 URI>` or `passphrase`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kek {
    /// An AWS KMS key (ARN, key id, or `alias/...`).
    AwsKms {
        /// The `KeyId` KMS is given.
        key: String,
    },
    /// An AES-256 secret key in a PKCS#11 token, named by an RFC 7512 URI.
    Pkcs11 {
        /// The full `pkcs11:` URI (validated by [`Pkcs11Uri::parse`]).
        uri: String,
    },
    /// A passphrase (Argon2id with these parameters); the passphrase itself comes from
    /// [`KekConfig`].
    Passphrase(Argon2Params),
}

impl Kek {
    /// Parses a KEK spec.
    ///
    /// # Errors
    /// [`KmsError::InvalidKekSpec`] naming what is wrong; [`KmsError::KeyNotFound`] for a
    /// PKCS#11 URI that names no key object.
    pub fn parse_spec(spec: &str) -> Result<Kek, KmsError> {
        if spec == "passphrase" {
            return Ok(Kek::Passphrase(Argon2Params::default()));
        }
        if let Some(key) = spec.strip_prefix("aws-kms:") {
            if key.is_empty() {
                return Err(KmsError::InvalidKekSpec(
                    "aws-kms: needs a key ARN, id or alias",
                ));
            }
            if key.len() > 2048 || key.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(KmsError::InvalidKekSpec(
                    "aws-kms key reference is too long or has spaces or control characters",
                ));
            }
            return Ok(Kek::AwsKms {
                key: key.to_owned(),
            });
        }
        if spec.starts_with("pkcs11:") {
            Pkcs11Uri::parse(spec)?;
            return Ok(Kek::Pkcs11 {
                uri: spec.to_owned(),
            });
        }
        Err(KmsError::InvalidKekSpec(
            "KEK must be aws-kms:<key>, pkcs11:<uri> or passphrase",
        ))
    }

    /// The §7 type name: `aws-kms`, `pkcs11` or `passphrase`.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Kek::AwsKms { .. } => aws::KEK_TYPE,
            Kek::Pkcs11 { .. } => hsm::KEK_TYPE,
            Kek::Passphrase(_) => keycustody::KEK_PASSPHRASE,
        }
    }
}

/// Where the KEKs' settings and secrets come from. Debug shows which are set, never a value.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct KekConfig {
    /// KMS endpoint override (else `AWS_ENDPOINT_URL_KMS` / `AWS_ENDPOINT_URL` / the region's).
    pub aws_endpoint_url: Option<String>,
    /// The PKCS#11 module to load (`KEYCUSTODY_PKCS11_MODULE`).
    pub pkcs11_module: Option<PathBuf>,
    pub(crate) pkcs11_pin: Option<Zeroizing<String>>,
    pub(crate) pkcs11_pin_file: Option<PathBuf>,
    pub(crate) passphrase: Option<Zeroizing<Vec<u8>>>,
}

impl core::fmt::Debug for KekConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KekConfig")
            .field("aws_endpoint_url", &self.aws_endpoint_url)
            .field("pkcs11_module", &self.pkcs11_module)
            .field("pkcs11_pin", &self.pkcs11_pin.is_some())
            .field("pkcs11_pin_file", &self.pkcs11_pin_file.is_some())
            .field("passphrase", &self.passphrase.is_some())
            .finish()
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl KekConfig {
    /// An empty configuration (the AWS chain still reads its own environment).
    #[must_use]
    pub fn new() -> KekConfig {
        KekConfig::default()
    }

    /// Reads `KEYCUSTODY_PKCS11_MODULE`, `KEYCUSTODY_PKCS11_PIN` and
    /// `KEYCUSTODY_PKCS11_PIN_FILE` (the passphrase variables are read only when a passphrase
    /// is needed: [`KekConfig::passphrase`]).
    #[must_use]
    pub fn from_env() -> KekConfig {
        KekConfig {
            aws_endpoint_url: None,
            pkcs11_module: env_nonempty(hsm::MODULE_ENV).map(PathBuf::from),
            pkcs11_pin: env_nonempty(hsm::PIN_ENV).map(Zeroizing::new),
            pkcs11_pin_file: env_nonempty(hsm::PIN_FILE_ENV).map(PathBuf::from),
            passphrase: None,
        }
    }

    /// Sets the passphrase (wiped on drop).
    #[must_use]
    pub fn with_passphrase(mut self, passphrase: &[u8]) -> KekConfig {
        self.passphrase = Some(Zeroizing::new(passphrase.to_vec()));
        self
    }

    /// Sets the PKCS#11 user PIN (wiped on drop).
    #[must_use]
    pub fn with_pkcs11_pin(mut self, pin: &str) -> KekConfig {
        self.pkcs11_pin = Some(Zeroizing::new(pin.to_owned()));
        self
    }

    /// Sets the PKCS#11 module path.
    #[must_use]
    pub fn with_pkcs11_module(mut self, module: impl Into<PathBuf>) -> KekConfig {
        self.pkcs11_module = Some(module.into());
        self
    }

    /// Sets the KMS endpoint (instead of `AWS_ENDPOINT_URL_KMS`).
    #[must_use]
    pub fn with_aws_endpoint_url(mut self, url: impl Into<String>) -> KekConfig {
        self.aws_endpoint_url = Some(url.into());
        self
    }

    /// Whether a passphrase is set.
    #[must_use]
    pub fn has_passphrase(&self) -> bool {
        self.passphrase.is_some()
    }

    /// The passphrase: the one set, else the content of the file named by
    /// `KEYCUSTODY_PASSPHRASE_FILE` (0600 or stricter, less one trailing newline), else
    /// `KEYCUSTODY_PASSPHRASE`; both variables set is refused (as core does).
    ///
    /// # Errors
    /// [`KmsError::MissingConfig`] when there is none; `InsecurePermissions` / `Io` for the
    /// file; `InvalidArgument` when both variables are set.
    pub fn passphrase(&self) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        if let Some(p) = &self.passphrase {
            return Ok(p.clone());
        }
        let file = std::env::var_os(PASSPHRASE_FILE_ENV).filter(|v| !v.is_empty());
        let var = std::env::var_os(PASSPHRASE_ENV).filter(|v| !v.is_empty());
        match (file, var) {
            (Some(_), Some(_)) => Err(KmsError::Core(keycustody::Error::InvalidArgument(
                "both KEYCUSTODY_PASSPHRASE_FILE and KEYCUSTODY_PASSPHRASE are set",
            ))),
            (Some(f), None) => read_secret_file(std::path::Path::new(&f)),
            (None, Some(v)) => Ok(Zeroizing::new(
                v.into_string()
                    .map_err(|_| {
                        KmsError::Core(keycustody::Error::Malformed(
                            keycustody::MalformedKind::Utf8,
                        ))
                    })?
                    .into_bytes(),
            )),
            (None, None) => Err(KmsError::MissingConfig(
                "KEYCUSTODY_PASSPHRASE_FILE or KEYCUSTODY_PASSPHRASE",
            )),
        }
    }
}

/// Reads a secret file (a passphrase or a PIN): its bytes less one trailing newline,
/// refusing a file that group or others can access.
///
/// # Errors
/// `InsecurePermissions`; `Io` (the kind only) when it cannot be read.
pub fn read_secret_file(p: &std::path::Path) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    use std::io::Read;
    let io = |e: std::io::Error| KmsError::Core(keycustody::Error::Io(e.kind()));
    let mut f = std::fs::File::open(p).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = f.metadata().map_err(io)?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(KmsError::Core(keycustody::Error::InsecurePermissions));
        }
    }
    let mut b = Zeroizing::new(Vec::with_capacity(64 * 1024));
    (&mut f).take(64 * 1024).read_to_end(&mut b).map_err(io)?;
    if b.last() == Some(&b'\n') {
        b.pop();
        if b.last() == Some(&b'\r') {
            b.pop();
        }
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kek_specs() {
        assert_eq!(
            Kek::parse_spec("passphrase").unwrap(),
            Kek::Passphrase(Argon2Params::default())
        );
        assert_eq!(
            Kek::parse_spec("aws-kms:alias/root").unwrap(),
            Kek::AwsKms {
                key: "alias/root".into()
            }
        );
        assert_eq!(
            Kek::parse_spec("pkcs11:token=t;object=k")
                .unwrap()
                .type_name(),
            "pkcs11"
        );
        for bad in [
            "",
            "aws-kms:",
            "aws-kms:a b",
            "gcp-kms:x",
            "Passphrase",
            "pkcs11:token=t",
        ] {
            let e = Kek::parse_spec(bad).unwrap_err();
            assert!(
                matches!(e, KmsError::InvalidKekSpec(_) | KmsError::KeyNotFound(_)),
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn config_debug_shows_no_secret() {
        let c = KekConfig::new()
            .with_passphrase(b"hunter2-passphrase")
            .with_pkcs11_pin("987654");
        let d = format!("{c:?}");
        assert!(!d.contains("hunter2") && !d.contains("987654"), "{d}");
        assert!(d.contains("passphrase: true"));
    }
}
