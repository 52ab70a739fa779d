//! The one error type of the library.
//!
//! Variants carry no input bytes, no key material and no free-form text: a value
//! of [`Error`] can be logged, shown to a user or sent across FFI without leaking
//! anything. Wrong owner, wrong context, wrong key and tampering are deliberately
//! one variant, [`Error::DecryptFailed`], so that `open` is not an oracle.

use core::fmt;

/// Everything that can go wrong in keycustody.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// Authentication failed: wrong owner, wrong context, wrong key, or tampering.
    DecryptFailed,
    /// The input is not in the expected format; the kind says which part.
    Malformed(MalformedKind),
    /// The envelope or token names a key id that the keyring does not hold.
    UnknownKey(u32),
    /// The key id exists but is retired: nothing opens under it any more.
    KeyRetired(u32),
    /// The operation is refused for the primary (active) key, e.g. retiring it.
    PrimaryKey(u32),
    /// The owner is empty or longer than 1024 bytes.
    InvalidOwner,
    /// An argument is out of range; the text is fixed and names the argument.
    InvalidArgument(&'static str),
    /// The input exceeds a size limit (in bytes).
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A key file is readable or writable by group or others (or owned by someone else).
    InsecurePermissions,
    /// The named environment variable is not set or is not UTF-8.
    MissingEnvVar,
    /// An I/O operation failed; only the kind is kept.
    Io(std::io::ErrorKind),
    /// The operating system's random number generator failed.
    RandomUnavailable,
    /// A signature, MAC or token did not verify.
    SignatureInvalid,
    /// A timestamp is outside the allowed window (too old or too far in the future).
    TimestampOutOfTolerance,
    /// A token or code has expired.
    Expired,
    /// A token, event or code was already used.
    Replayed,
    /// Too many failed attempts; the code is locked.
    Locked,
    /// A token is not yet valid (`nbf` in the future).
    NotYetValid,
    /// A claim (audience, issuer, ...) did not match; the text names the claim.
    ClaimMismatch(&'static str),
}

/// Which part of an input was malformed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MalformedKind {
    /// The envelope text does not start with `kc1.`.
    EnvelopePrefix,
    /// The envelope is shorter than a header and a tag, or longer than the limit.
    EnvelopeLength,
    /// The envelope version byte is not one this library reads.
    EnvelopeVersion,
    /// The key id in a header is zero.
    EnvelopeKid,
    /// Base64 (or base64url) text could not be decoded.
    Base64,
    /// Hex text could not be decoded.
    Hex,
    /// Bytes that must be UTF-8 are not.
    Utf8,
    /// The keyring text is not valid JSON of the keyring schema.
    KeyringJson,
    /// The keyring version is not 1.
    KeyringVersion,
    /// The keyring names a key id twice, or a key id of zero.
    KeyringKid,
    /// The keyring's `primary` is not its one `active` key.
    KeyringPrimary,
    /// A keyring secret is not base64url or is shorter than 32 bytes.
    KeyringSecret,
    /// An API key's prefix is not `[a-z][a-z0-9]{1,15}` followed by `_`.
    ApiKeyPrefix,
    /// An API key's body is not 36 characters.
    ApiKeyLength,
    /// An API key's body has a character outside base62.
    ApiKeyCharset,
    /// An API key's checksum does not match (a typo).
    ApiKeyChecksum,
    /// A stored API key hash is not 64 lowercase hex characters.
    ApiKeyHash,
    /// A signature header (webhook) could not be parsed.
    SignatureHeader,
    /// A timestamp is not a decimal integer in range.
    Timestamp,
    /// A JSON Web Token is not three base64url parts of the expected JSON.
    Jwt,
    /// A public key, private key or sealed delivery blob is malformed.
    DeliveryKey,
    /// A legacy (PBKDF2 or OpenSSL) blob is malformed.
    Legacy,
    /// A TOTP secret or `otpauth://` URI is malformed.
    Totp,
    /// Any other structured text (routes file, vault file, audit line, ...).
    Other,
}

impl Error {
    /// A stable, language-neutral name of the error kind, as used in the test
    /// vectors' `expect` field (`"DecryptFailed"`, `"Malformed"`, ...).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Error::DecryptFailed => "DecryptFailed",
            Error::Malformed(_) => "Malformed",
            Error::UnknownKey(_) => "UnknownKey",
            Error::KeyRetired(_) => "KeyRetired",
            Error::PrimaryKey(_) => "PrimaryKey",
            Error::InvalidOwner => "InvalidOwner",
            Error::InvalidArgument(_) => "InvalidArgument",
            Error::TooLarge { .. } => "TooLarge",
            Error::InsecurePermissions => "InsecurePermissions",
            Error::MissingEnvVar => "MissingEnvVar",
            Error::Io(_) => "Io",
            Error::RandomUnavailable => "RandomUnavailable",
            Error::SignatureInvalid => "SignatureInvalid",
            Error::TimestampOutOfTolerance => "TimestampOutOfTolerance",
            Error::Expired => "Expired",
            Error::Replayed => "Replayed",
            Error::Locked => "Locked",
            Error::NotYetValid => "NotYetValid",
            Error::ClaimMismatch(_) => "ClaimMismatch",
        }
    }

    /// A stable code for bindings (`KC_DECRYPT_FAILED`, `KC_MALFORMED`, ...).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Error::DecryptFailed => "KC_DECRYPT_FAILED",
            Error::Malformed(_) => "KC_MALFORMED",
            Error::UnknownKey(_) => "KC_UNKNOWN_KEY",
            Error::KeyRetired(_) => "KC_KEY_RETIRED",
            Error::PrimaryKey(_) => "KC_PRIMARY_KEY",
            Error::InvalidOwner => "KC_INVALID_OWNER",
            Error::InvalidArgument(_) => "KC_INVALID_ARGUMENT",
            Error::TooLarge { .. } => "KC_TOO_LARGE",
            Error::InsecurePermissions => "KC_INSECURE_PERMISSIONS",
            Error::MissingEnvVar => "KC_MISSING_ENV_VAR",
            Error::Io(_) => "KC_IO",
            Error::RandomUnavailable => "KC_RANDOM_UNAVAILABLE",
            Error::SignatureInvalid => "KC_SIGNATURE_INVALID",
            Error::TimestampOutOfTolerance => "KC_TIMESTAMP_OUT_OF_TOLERANCE",
            Error::Expired => "KC_EXPIRED",
            Error::Replayed => "KC_REPLAYED",
            Error::Locked => "KC_LOCKED",
            Error::NotYetValid => "KC_NOT_YET_VALID",
            Error::ClaimMismatch(_) => "KC_CLAIM_MISMATCH",
        }
    }
}

impl MalformedKind {
    /// A short fixed description of the defect.
    #[must_use]
    pub fn describe(&self) -> &'static str {
        match self {
            MalformedKind::EnvelopePrefix => "envelope does not start with \"kc1.\"",
            MalformedKind::EnvelopeLength => "envelope length is out of range",
            MalformedKind::EnvelopeVersion => "unsupported envelope version",
            MalformedKind::EnvelopeKid => "key id zero in header",
            MalformedKind::Base64 => "invalid base64",
            MalformedKind::Hex => "invalid hex",
            MalformedKind::Utf8 => "invalid UTF-8",
            MalformedKind::KeyringJson => "keyring is not valid keyring JSON",
            MalformedKind::KeyringVersion => "unsupported keyring version",
            MalformedKind::KeyringKid => "keyring key id is zero or duplicated",
            MalformedKind::KeyringPrimary => "keyring primary is not its one active key",
            MalformedKind::KeyringSecret => "keyring secret is not base64url of at least 32 bytes",
            MalformedKind::ApiKeyPrefix => "API key prefix is invalid",
            MalformedKind::ApiKeyLength => "API key has the wrong length",
            MalformedKind::ApiKeyCharset => "API key has a character outside base62",
            MalformedKind::ApiKeyChecksum => "API key checksum does not match",
            MalformedKind::ApiKeyHash => "stored API key hash is not 64 lowercase hex characters",
            MalformedKind::SignatureHeader => "signature header is malformed",
            MalformedKind::Timestamp => "timestamp is malformed",
            MalformedKind::Jwt => "token is not a well-formed JWT",
            MalformedKind::DeliveryKey => "delivery key or blob is malformed",
            MalformedKind::Legacy => "legacy ciphertext is malformed",
            MalformedKind::Totp => "TOTP secret or URI is malformed",
            MalformedKind::Other => "input is malformed",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::DecryptFailed => f.write_str(
                "decryption failed: wrong owner, context or key, or the data was tampered with",
            ),
            Error::Malformed(k) => write!(f, "malformed input: {}", k.describe()),
            Error::UnknownKey(kid) => write!(f, "unknown key id {kid}"),
            Error::KeyRetired(kid) => write!(f, "key id {kid} is retired"),
            Error::PrimaryKey(kid) => write!(f, "not allowed on the primary key (kid {kid})"),
            Error::InvalidOwner => f.write_str("owner must be 1 to 1024 bytes of UTF-8"),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Error::TooLarge { limit } => write!(f, "input exceeds the limit of {limit} bytes"),
            Error::InsecurePermissions => f.write_str(
                "key file is accessible by group or others, or not owned by this user (chmod 600)",
            ),
            Error::MissingEnvVar => f.write_str("environment variable is not set or not UTF-8"),
            Error::Io(kind) => write!(f, "I/O error: {kind}"),
            Error::RandomUnavailable => f.write_str("the OS random number generator failed"),
            Error::SignatureInvalid => f.write_str("signature verification failed"),
            Error::TimestampOutOfTolerance => f.write_str("timestamp outside the tolerance window"),
            Error::Expired => f.write_str("expired"),
            Error::Replayed => f.write_str("already used (replay)"),
            Error::Locked => f.write_str("locked after too many failed attempts"),
            Error::NotYetValid => f.write_str("not yet valid"),
            Error::ClaimMismatch(claim) => write!(f, "claim mismatch: {claim}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.kind())
    }
}

impl From<MalformedKind> for Error {
    fn from(k: MalformedKind) -> Self {
        Error::Malformed(k)
    }
}

/// `Result<T, keycustody::Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;
