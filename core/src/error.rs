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
    /// The named environment variable is not set (or its name cannot be one: empty,
    /// containing `=` or NUL). The name is kept: a variable's name is not a secret.
    MissingEnvVar(EnvVarName),
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
    /// The key-encryption key of a wrapped keyring cannot be used here: unreachable,
    /// refusing, or not configured. The text is the KEK type (`"aws-kms"`, `"pkcs11"`,
    /// `"passphrase"`; `"external"` for a type the application unwraps itself), never the
    /// key reference.
    KekUnavailable(&'static str),
    /// The tenant's keyring was shredded: its data can no longer be opened.
    TenantShredded,
    /// The tenant key store holds no keyring for this tenant.
    UnknownTenant,
    /// A compare-and-swap lost (e.g. two concurrent rotations of one tenant keyring):
    /// nothing was written; reload and retry.
    Conflict,
    /// The tenant already has a keyring (a second create).
    TenantExists,
    /// An audit chain or checkpoint does not verify: an entry was edited, removed, reordered
    /// or inserted, or the log is shorter than, diverges from or is older than a checkpoint.
    /// `seq` is where the chain breaks (the seq the first bad entry should have; a
    /// checkpoint's seq for a checkpoint that does not verify), `reason` a fixed text.
    AuditBroken {
        /// The seq of the first bad entry (see above).
        seq: u64,
        /// What is wrong (`"MAC mismatch"`, `"sequence gap"`, `"prev does not link"`, ...).
        reason: &'static str,
    },
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
    /// A Standard Webhooks header (`webhook-id`, `webhook-timestamp` or
    /// `webhook-signature`) is missing from the request's headers.
    WebhookHeaderMissing,
    /// A Standard Webhooks header appears more than once (names compared ASCII
    /// case-insensitively): which one was signed is ambiguous, so neither is used.
    WebhookHeaderRepeated,
    /// A wrapped keyring is not the JSON of the §7 text form: an unknown or missing field,
    /// bad base64url, a nonce that is not 12 bytes, a malformed passphrase key string.
    WrappedKeyring,
    /// A wrapped keyring's version is not one this library reads.
    WrappedKeyringVersion,
    /// A wrapped keyring's KEK type is not a valid name, or not the one an operation needs
    /// (e.g. opening a non-`passphrase` keyring with a passphrase).
    KekType,
    /// An audit entry is not one canonical JSON object of the entry schema.
    AuditEntry,
    /// An audit checkpoint is not one canonical JSON object of the v1 checkpoint schema.
    AuditCheckpoint,
}

impl Error {
    /// Every value [`Error::kind`] can return, in declaration order: the list a binding
    /// checks its exception classes (or error kinds) against.
    pub const KINDS: &'static [&'static str] = &[
        "DecryptFailed",
        "Malformed",
        "UnknownKey",
        "KeyRetired",
        "PrimaryKey",
        "InvalidOwner",
        "InvalidArgument",
        "TooLarge",
        "InsecurePermissions",
        "MissingEnvVar",
        "Io",
        "RandomUnavailable",
        "SignatureInvalid",
        "TimestampOutOfTolerance",
        "Expired",
        "Replayed",
        "Locked",
        "NotYetValid",
        "ClaimMismatch",
        "KekUnavailable",
        "TenantShredded",
        "UnknownTenant",
        "Conflict",
        "TenantExists",
        "AuditBroken",
    ];

    /// Every value [`Error::code`] can return, in the order of [`Error::KINDS`]
    /// (`CODES[i]` is the code of `KINDS[i]`).
    pub const CODES: &'static [&'static str] = &[
        "KC_DECRYPT_FAILED",
        "KC_MALFORMED",
        "KC_UNKNOWN_KEY",
        "KC_KEY_RETIRED",
        "KC_PRIMARY_KEY",
        "KC_INVALID_OWNER",
        "KC_INVALID_ARGUMENT",
        "KC_TOO_LARGE",
        "KC_INSECURE_PERMISSIONS",
        "KC_MISSING_ENV_VAR",
        "KC_IO",
        "KC_RANDOM_UNAVAILABLE",
        "KC_SIGNATURE_INVALID",
        "KC_TIMESTAMP_OUT_OF_TOLERANCE",
        "KC_EXPIRED",
        "KC_REPLAYED",
        "KC_LOCKED",
        "KC_NOT_YET_VALID",
        "KC_CLAIM_MISMATCH",
        "KC_KEK_UNAVAILABLE",
        "KC_TENANT_SHREDDED",
        "KC_UNKNOWN_TENANT",
        "KC_CONFLICT",
        "KC_TENANT_EXISTS",
        "KC_AUDIT_BROKEN",
    ];

    /// The key id of [`Error::UnknownKey`], [`Error::KeyRetired`] and [`Error::PrimaryKey`].
    #[must_use]
    pub fn kid(&self) -> Option<u32> {
        match self {
            Error::UnknownKey(kid) | Error::KeyRetired(kid) | Error::PrimaryKey(kid) => Some(*kid),
            _ => None,
        }
    }

    /// The seq where the chain breaks, of [`Error::AuditBroken`].
    #[must_use]
    pub fn audit_position(&self) -> Option<u64> {
        match self {
            Error::AuditBroken { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    /// The fixed reason of [`Error::AuditBroken`] (`"MAC mismatch"`, `"sequence gap"`, ...).
    #[must_use]
    pub fn audit_reason(&self) -> Option<&'static str> {
        match self {
            Error::AuditBroken { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The size limit (in bytes) of [`Error::TooLarge`].
    #[must_use]
    pub fn limit(&self) -> Option<usize> {
        match self {
            Error::TooLarge { limit } => Some(*limit),
            _ => None,
        }
    }

    /// The claim name of [`Error::ClaimMismatch`] (`"aud"`, `"iss"`, ...).
    #[must_use]
    pub fn claim(&self) -> Option<&'static str> {
        match self {
            Error::ClaimMismatch(claim) => Some(claim),
            _ => None,
        }
    }

    /// The KEK type of [`Error::KekUnavailable`] (`"aws-kms"`, `"pkcs11"`, `"passphrase"`,
    /// `"external"`).
    #[must_use]
    pub fn kek_type(&self) -> Option<&'static str> {
        match self {
            Error::KekUnavailable(t) => Some(t),
            _ => None,
        }
    }

    /// The fixed text of [`Error::InvalidArgument`], which names the argument.
    #[must_use]
    pub fn argument(&self) -> Option<&'static str> {
        match self {
            Error::InvalidArgument(what) => Some(what),
            _ => None,
        }
    }

    /// Which part of the input [`Error::Malformed`] refers to.
    #[must_use]
    pub fn malformed_kind(&self) -> Option<MalformedKind> {
        match self {
            Error::Malformed(k) => Some(*k),
            _ => None,
        }
    }

    /// The variable name of [`Error::MissingEnvVar`] (possibly truncated, see [`EnvVarName`]).
    #[must_use]
    pub fn env_var(&self) -> Option<&str> {
        match self {
            Error::MissingEnvVar(name) => Some(name.as_str()),
            _ => None,
        }
    }

    /// The I/O error kind of [`Error::Io`].
    #[must_use]
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            Error::Io(k) => Some(*k),
            _ => None,
        }
    }

    /// The name of the I/O error kind (`"NotFound"`, `"PermissionDenied"`, ...) for
    /// [`Error::Io`], the same in every binding.
    #[must_use]
    pub fn io_kind_name(&self) -> Option<&'static str> {
        self.io_kind().map(io_kind_name)
    }

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
            Error::MissingEnvVar(_) => "MissingEnvVar",
            Error::Io(_) => "Io",
            Error::RandomUnavailable => "RandomUnavailable",
            Error::SignatureInvalid => "SignatureInvalid",
            Error::TimestampOutOfTolerance => "TimestampOutOfTolerance",
            Error::Expired => "Expired",
            Error::Replayed => "Replayed",
            Error::Locked => "Locked",
            Error::NotYetValid => "NotYetValid",
            Error::ClaimMismatch(_) => "ClaimMismatch",
            Error::KekUnavailable(_) => "KekUnavailable",
            Error::TenantShredded => "TenantShredded",
            Error::UnknownTenant => "UnknownTenant",
            Error::Conflict => "Conflict",
            Error::TenantExists => "TenantExists",
            Error::AuditBroken { .. } => "AuditBroken",
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
            Error::MissingEnvVar(_) => "KC_MISSING_ENV_VAR",
            Error::Io(_) => "KC_IO",
            Error::RandomUnavailable => "KC_RANDOM_UNAVAILABLE",
            Error::SignatureInvalid => "KC_SIGNATURE_INVALID",
            Error::TimestampOutOfTolerance => "KC_TIMESTAMP_OUT_OF_TOLERANCE",
            Error::Expired => "KC_EXPIRED",
            Error::Replayed => "KC_REPLAYED",
            Error::Locked => "KC_LOCKED",
            Error::NotYetValid => "KC_NOT_YET_VALID",
            Error::ClaimMismatch(_) => "KC_CLAIM_MISMATCH",
            Error::KekUnavailable(_) => "KC_KEK_UNAVAILABLE",
            Error::TenantShredded => "KC_TENANT_SHREDDED",
            Error::UnknownTenant => "KC_UNKNOWN_TENANT",
            Error::Conflict => "KC_CONFLICT",
            Error::TenantExists => "KC_TENANT_EXISTS",
            Error::AuditBroken { .. } => "KC_AUDIT_BROKEN",
        }
    }
}

impl MalformedKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [MalformedKind] = &[
        MalformedKind::EnvelopePrefix,
        MalformedKind::EnvelopeLength,
        MalformedKind::EnvelopeVersion,
        MalformedKind::EnvelopeKid,
        MalformedKind::Base64,
        MalformedKind::Hex,
        MalformedKind::Utf8,
        MalformedKind::KeyringJson,
        MalformedKind::KeyringVersion,
        MalformedKind::KeyringKid,
        MalformedKind::KeyringPrimary,
        MalformedKind::KeyringSecret,
        MalformedKind::ApiKeyPrefix,
        MalformedKind::ApiKeyLength,
        MalformedKind::ApiKeyCharset,
        MalformedKind::ApiKeyChecksum,
        MalformedKind::ApiKeyHash,
        MalformedKind::SignatureHeader,
        MalformedKind::Timestamp,
        MalformedKind::Jwt,
        MalformedKind::DeliveryKey,
        MalformedKind::Legacy,
        MalformedKind::Totp,
        MalformedKind::Other,
        MalformedKind::WebhookHeaderMissing,
        MalformedKind::WebhookHeaderRepeated,
        MalformedKind::WrappedKeyring,
        MalformedKind::WrappedKeyringVersion,
        MalformedKind::KekType,
        MalformedKind::AuditEntry,
        MalformedKind::AuditCheckpoint,
    ];

    /// A stable, language-neutral name of the kind: the variant's name (`"Base64"`,
    /// `"ApiKeyChecksum"`, ...), as bindings show it in `detail`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            MalformedKind::EnvelopePrefix => "EnvelopePrefix",
            MalformedKind::EnvelopeLength => "EnvelopeLength",
            MalformedKind::EnvelopeVersion => "EnvelopeVersion",
            MalformedKind::EnvelopeKid => "EnvelopeKid",
            MalformedKind::Base64 => "Base64",
            MalformedKind::Hex => "Hex",
            MalformedKind::Utf8 => "Utf8",
            MalformedKind::KeyringJson => "KeyringJson",
            MalformedKind::KeyringVersion => "KeyringVersion",
            MalformedKind::KeyringKid => "KeyringKid",
            MalformedKind::KeyringPrimary => "KeyringPrimary",
            MalformedKind::KeyringSecret => "KeyringSecret",
            MalformedKind::ApiKeyPrefix => "ApiKeyPrefix",
            MalformedKind::ApiKeyLength => "ApiKeyLength",
            MalformedKind::ApiKeyCharset => "ApiKeyCharset",
            MalformedKind::ApiKeyChecksum => "ApiKeyChecksum",
            MalformedKind::ApiKeyHash => "ApiKeyHash",
            MalformedKind::SignatureHeader => "SignatureHeader",
            MalformedKind::Timestamp => "Timestamp",
            MalformedKind::Jwt => "Jwt",
            MalformedKind::DeliveryKey => "DeliveryKey",
            MalformedKind::Legacy => "Legacy",
            MalformedKind::Totp => "Totp",
            MalformedKind::Other => "Other",
            MalformedKind::WebhookHeaderMissing => "WebhookHeaderMissing",
            MalformedKind::WebhookHeaderRepeated => "WebhookHeaderRepeated",
            MalformedKind::WrappedKeyring => "WrappedKeyring",
            MalformedKind::WrappedKeyringVersion => "WrappedKeyringVersion",
            MalformedKind::KekType => "KekType",
            MalformedKind::AuditEntry => "AuditEntry",
            MalformedKind::AuditCheckpoint => "AuditCheckpoint",
        }
    }

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
            MalformedKind::WebhookHeaderMissing => {
                "webhook-id, webhook-timestamp or webhook-signature header is missing"
            }
            MalformedKind::WebhookHeaderRepeated => {
                "webhook-id, webhook-timestamp or webhook-signature header appears more than once"
            }
            MalformedKind::WrappedKeyring => "wrapped keyring is not valid wrapped-keyring JSON",
            MalformedKind::WrappedKeyringVersion => "unsupported wrapped keyring version",
            MalformedKind::KekType => {
                "wrapped keyring KEK type is invalid or not the one this operation needs"
            }
            MalformedKind::AuditEntry => "audit entry is not a canonical entry JSON object",
            MalformedKind::AuditCheckpoint => {
                "audit checkpoint is not a canonical v1 checkpoint JSON object"
            }
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
            Error::MissingEnvVar(name) => write!(f, "environment variable {name} is not set"),
            Error::Io(kind) => write!(f, "I/O error: {kind}"),
            Error::RandomUnavailable => f.write_str("the OS random number generator failed"),
            Error::SignatureInvalid => f.write_str("signature verification failed"),
            Error::TimestampOutOfTolerance => f.write_str("timestamp outside the tolerance window"),
            Error::Expired => f.write_str("expired"),
            Error::Replayed => f.write_str("already used (replay)"),
            Error::Locked => f.write_str("locked after too many failed attempts"),
            Error::NotYetValid => f.write_str("not yet valid"),
            Error::ClaimMismatch(claim) => write!(f, "claim mismatch: {claim}"),
            Error::KekUnavailable(kek) => write!(
                f,
                "key-encryption key of type {kek} is unavailable (unreachable, refused or not \
                 configured): load a KMS- or HSM-wrapped keyring through keycustody-kms, or \
                 unwrap its DEK yourself and call WrappedKeyring::open_with_dek"
            ),
            Error::TenantShredded => {
                f.write_str("the tenant's keyring was shredded: its data cannot be opened")
            }
            Error::UnknownTenant => f.write_str("no keyring is stored for this tenant"),
            Error::Conflict => f.write_str(
                "concurrent update (compare-and-swap lost): nothing was written; reload and retry",
            ),
            Error::TenantExists => f.write_str("the tenant already has a keyring"),
            Error::AuditBroken { seq, reason } => {
                write!(f, "audit chain broken at seq {seq}: {reason}")
            }
        }
    }
}

/// The name of an environment variable, as [`Error::MissingEnvVar`] carries it.
///
/// [`Error`] is `Copy` and owns no heap text, so the name is kept inline: up to
/// [`EnvVarName::CAPACITY`] bytes, cut at a character boundary beyond that
/// ([`EnvVarName::is_truncated`]; `Display` then ends in `…`). `Display` escapes
/// control characters (a name given by a caller may hold a NUL or a newline).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnvVarName {
    len: u8,
    truncated: bool,
    bytes: [u8; EnvVarName::CAPACITY],
}

impl EnvVarName {
    /// The longest name kept whole, in bytes.
    pub const CAPACITY: usize = 48;

    /// Keeps `name`, truncated to [`EnvVarName::CAPACITY`] bytes at a character boundary.
    #[must_use]
    pub fn new(name: &str) -> EnvVarName {
        let mut cut = name.len().min(Self::CAPACITY);
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut bytes = [0u8; Self::CAPACITY];
        bytes[..cut].copy_from_slice(&name.as_bytes()[..cut]);
        EnvVarName {
            // cut <= CAPACITY = 48 < 256.
            len: u8::try_from(cut).unwrap_or(0),
            truncated: cut < name.len(),
            bytes,
        }
    }

    /// The name (its first [`EnvVarName::CAPACITY`] bytes if it was longer).
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Always valid: `new` copies a prefix that ends at a character boundary.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// Whether the name was longer than [`EnvVarName::CAPACITY`] bytes.
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Debug for EnvVarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvVarName({self})")
    }
}

impl fmt::Display for EnvVarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.as_str().chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
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

/// A stable name for an I/O error kind (std's `Debug` text is not a stable interface).
fn io_kind_name(k: std::io::ErrorKind) -> &'static str {
    use std::io::ErrorKind as K;
    match k {
        K::NotFound => "NotFound",
        K::PermissionDenied => "PermissionDenied",
        K::ConnectionRefused => "ConnectionRefused",
        K::ConnectionReset => "ConnectionReset",
        K::HostUnreachable => "HostUnreachable",
        K::NetworkUnreachable => "NetworkUnreachable",
        K::ConnectionAborted => "ConnectionAborted",
        K::NotConnected => "NotConnected",
        K::AddrInUse => "AddrInUse",
        K::AddrNotAvailable => "AddrNotAvailable",
        K::NetworkDown => "NetworkDown",
        K::BrokenPipe => "BrokenPipe",
        K::AlreadyExists => "AlreadyExists",
        K::WouldBlock => "WouldBlock",
        K::NotADirectory => "NotADirectory",
        K::IsADirectory => "IsADirectory",
        K::DirectoryNotEmpty => "DirectoryNotEmpty",
        K::ReadOnlyFilesystem => "ReadOnlyFilesystem",
        K::StaleNetworkFileHandle => "StaleNetworkFileHandle",
        K::InvalidInput => "InvalidInput",
        K::InvalidData => "InvalidData",
        K::TimedOut => "TimedOut",
        K::WriteZero => "WriteZero",
        K::StorageFull => "StorageFull",
        K::NotSeekable => "NotSeekable",
        K::QuotaExceeded => "QuotaExceeded",
        K::FileTooLarge => "FileTooLarge",
        K::ResourceBusy => "ResourceBusy",
        K::ExecutableFileBusy => "ExecutableFileBusy",
        K::Deadlock => "Deadlock",
        K::CrossesDevices => "CrossesDevices",
        K::TooManyLinks => "TooManyLinks",
        K::InvalidFilename => "InvalidFilename",
        K::ArgumentListTooLong => "ArgumentListTooLong",
        K::Interrupted => "Interrupted",
        K::Unsupported => "Unsupported",
        K::UnexpectedEof => "UnexpectedEof",
        K::OutOfMemory => "OutOfMemory",
        _ => "Other",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn io_kind_names_are_stable() {
        use std::io::ErrorKind as K;
        assert_eq!(
            super::Error::Io(K::NotFound).io_kind_name(),
            Some("NotFound")
        );
        assert_eq!(
            super::Error::Io(K::PermissionDenied).io_kind_name(),
            Some("PermissionDenied")
        );
        assert_eq!(super::Error::DecryptFailed.io_kind_name(), None);
    }

    use super::*;

    /// One value of every variant. The exhaustive match makes a new variant a compile
    /// error here until it is added to the samples and to `Error::KINDS`/`CODES`.
    fn samples() -> Vec<Error> {
        let all = vec![
            Error::DecryptFailed,
            Error::Malformed(MalformedKind::Base64),
            Error::UnknownKey(7),
            Error::KeyRetired(8),
            Error::PrimaryKey(9),
            Error::InvalidOwner,
            Error::InvalidArgument("capacity"),
            Error::TooLarge { limit: 10 },
            Error::InsecurePermissions,
            Error::MissingEnvVar(EnvVarName::new("KEYCUSTODY_KEYRING")),
            Error::Io(std::io::ErrorKind::NotFound),
            Error::RandomUnavailable,
            Error::SignatureInvalid,
            Error::TimestampOutOfTolerance,
            Error::Expired,
            Error::Replayed,
            Error::Locked,
            Error::NotYetValid,
            Error::ClaimMismatch("aud"),
            Error::KekUnavailable("aws-kms"),
            Error::TenantShredded,
            Error::UnknownTenant,
            Error::Conflict,
            Error::TenantExists,
            Error::AuditBroken {
                seq: 3,
                reason: "MAC mismatch",
            },
        ];
        for e in &all {
            match e {
                Error::DecryptFailed
                | Error::Malformed(_)
                | Error::UnknownKey(_)
                | Error::KeyRetired(_)
                | Error::PrimaryKey(_)
                | Error::InvalidOwner
                | Error::InvalidArgument(_)
                | Error::TooLarge { .. }
                | Error::InsecurePermissions
                | Error::MissingEnvVar(_)
                | Error::Io(_)
                | Error::RandomUnavailable
                | Error::SignatureInvalid
                | Error::TimestampOutOfTolerance
                | Error::Expired
                | Error::Replayed
                | Error::Locked
                | Error::NotYetValid
                | Error::ClaimMismatch(_)
                | Error::KekUnavailable(_)
                | Error::TenantShredded
                | Error::UnknownTenant
                | Error::Conflict
                | Error::TenantExists
                | Error::AuditBroken { .. } => {}
            }
        }
        all
    }

    #[test]
    fn kinds_and_codes_list_every_variant_in_order() {
        let s = samples();
        let kinds: Vec<_> = s.iter().map(Error::kind).collect();
        let codes: Vec<_> = s.iter().map(Error::code).collect();
        assert_eq!(kinds, Error::KINDS);
        assert_eq!(codes, Error::CODES);
    }

    #[test]
    fn accessors_return_the_details_of_their_variant_only() {
        for e in samples() {
            assert_eq!(
                e.kid().is_some(),
                matches!(e.kind(), "UnknownKey" | "KeyRetired" | "PrimaryKey")
            );
            assert_eq!(e.limit().is_some(), e.kind() == "TooLarge");
            assert_eq!(e.claim().is_some(), e.kind() == "ClaimMismatch");
            assert_eq!(e.argument().is_some(), e.kind() == "InvalidArgument");
            assert_eq!(e.malformed_kind().is_some(), e.kind() == "Malformed");
            assert_eq!(e.env_var().is_some(), e.kind() == "MissingEnvVar");
            assert_eq!(e.io_kind().is_some(), e.kind() == "Io");
            assert_eq!(e.kek_type().is_some(), e.kind() == "KekUnavailable");
            assert_eq!(e.audit_position().is_some(), e.kind() == "AuditBroken");
            assert_eq!(e.audit_reason().is_some(), e.kind() == "AuditBroken");
        }
        assert_eq!(Error::KekUnavailable("pkcs11").kek_type(), Some("pkcs11"));
        let ab = Error::AuditBroken {
            seq: 42,
            reason: "sequence gap",
        };
        assert_eq!(ab.audit_position(), Some(42));
        assert_eq!(ab.audit_reason(), Some("sequence gap"));
        assert_eq!(ab.to_string(), "audit chain broken at seq 42: sequence gap");
        assert_eq!(Error::UnknownKey(7).kid(), Some(7));
        assert_eq!(Error::KeyRetired(8).kid(), Some(8));
        assert_eq!(Error::PrimaryKey(9).kid(), Some(9));
        assert_eq!(Error::TooLarge { limit: 10 }.limit(), Some(10));
        assert_eq!(Error::ClaimMismatch("aud").claim(), Some("aud"));
        assert_eq!(
            Error::InvalidArgument("capacity").argument(),
            Some("capacity")
        );
        assert_eq!(
            Error::Malformed(MalformedKind::Hex).malformed_kind(),
            Some(MalformedKind::Hex)
        );
        assert_eq!(
            Error::Io(std::io::ErrorKind::NotFound).io_kind(),
            Some(std::io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn malformed_kind_names_are_the_variant_names_and_all_lists_each_once() {
        for k in MalformedKind::ALL {
            assert_eq!(k.name(), format!("{k:?}"));
        }
        let mut names: Vec<_> = MalformedKind::ALL.iter().map(MalformedKind::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MalformedKind::ALL.len());
        // Exhaustive: a new kind is a compile error here until it is in ALL.
        for k in MalformedKind::ALL {
            match k {
                MalformedKind::EnvelopePrefix
                | MalformedKind::EnvelopeLength
                | MalformedKind::EnvelopeVersion
                | MalformedKind::EnvelopeKid
                | MalformedKind::Base64
                | MalformedKind::Hex
                | MalformedKind::Utf8
                | MalformedKind::KeyringJson
                | MalformedKind::KeyringVersion
                | MalformedKind::KeyringKid
                | MalformedKind::KeyringPrimary
                | MalformedKind::KeyringSecret
                | MalformedKind::ApiKeyPrefix
                | MalformedKind::ApiKeyLength
                | MalformedKind::ApiKeyCharset
                | MalformedKind::ApiKeyChecksum
                | MalformedKind::ApiKeyHash
                | MalformedKind::SignatureHeader
                | MalformedKind::Timestamp
                | MalformedKind::Jwt
                | MalformedKind::DeliveryKey
                | MalformedKind::Legacy
                | MalformedKind::Totp
                | MalformedKind::Other
                | MalformedKind::WebhookHeaderMissing
                | MalformedKind::WebhookHeaderRepeated
                | MalformedKind::WrappedKeyring
                | MalformedKind::WrappedKeyringVersion
                | MalformedKind::KekType
                | MalformedKind::AuditEntry
                | MalformedKind::AuditCheckpoint => {}
            }
        }
        assert_eq!(MalformedKind::ALL.len(), 31);
    }

    #[test]
    fn missing_env_var_names_the_variable() {
        let e = Error::MissingEnvVar(EnvVarName::new("KEYCUSTODY_KEYRING"));
        assert_eq!(
            e.to_string(),
            "environment variable KEYCUSTODY_KEYRING is not set"
        );
        assert_eq!(e.env_var(), Some("KEYCUSTODY_KEYRING"));
        let nul = Error::MissingEnvVar(EnvVarName::new("A\0B\nC"));
        assert_eq!(
            nul.to_string(),
            "environment variable A\\u{0}B\\nC is not set"
        );
        assert_eq!(nul.env_var(), Some("A\0B\nC"));
    }

    #[test]
    fn long_env_var_names_are_cut_at_a_char_boundary() {
        let long = "x".repeat(100_000);
        let n = EnvVarName::new(&long);
        assert_eq!(n.as_str(), &long[..EnvVarName::CAPACITY]);
        assert!(n.is_truncated());
        assert!(n.to_string().ends_with('…'));
        // 47 ASCII bytes then a 2-byte character straddling the capacity.
        let straddle = format!("{}é", "a".repeat(EnvVarName::CAPACITY - 1));
        let n = EnvVarName::new(&straddle);
        assert_eq!(n.as_str(), &straddle[..EnvVarName::CAPACITY - 1]);
        assert!(n.is_truncated());
        let exact = "b".repeat(EnvVarName::CAPACITY);
        assert!(!EnvVarName::new(&exact).is_truncated());
        assert_eq!(EnvVarName::new("").as_str(), "");
        // Error stays small enough to return by value everywhere.
        assert!(
            core::mem::size_of::<Error>() <= 64,
            "{}",
            core::mem::size_of::<Error>()
        );
    }
}
