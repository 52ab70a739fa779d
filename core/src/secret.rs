//! Secret-holding types: wiped on drop, never printed, bytes out only through
//! `expose_secret()`.

use core::fmt;
use zeroize::{Zeroize, Zeroizing};

/// Secret bytes (a plaintext, a derived key, a root key).
///
/// Zeroized on drop. `Debug` prints only the length; there is no `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are wiped when the value is dropped.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// The secret bytes. Callers should not copy them out of a zeroizing buffer.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Consumes the value, returning the zeroizing buffer.
    #[must_use]
    pub fn into_zeroizing(self) -> Zeroizing<Vec<u8>> {
        self.0
    }

    /// Converts to a [`SecretString`] if the bytes are UTF-8.
    ///
    /// # Errors
    /// [`crate::Error::Malformed`] with [`crate::MalformedKind::Utf8`]; the bytes are wiped.
    pub fn into_string(self) -> crate::Result<SecretString> {
        let mut v = self.0;
        let inner = core::mem::take(&mut *v);
        match String::from_utf8(inner) {
            Ok(s) => Ok(SecretString::new(s)),
            Err(e) => {
                let mut bytes = e.into_bytes();
                bytes.zeroize();
                Err(crate::Error::Malformed(crate::MalformedKind::Utf8))
            }
        }
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(v: Vec<u8>) -> Self {
        SecretBytes::new(v)
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {} bytes])", self.0.len())
    }
}

/// A secret string (a token, an API key, a keyring's text form).
///
/// Zeroized on drop. `Debug` prints only the length; there is no `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Takes ownership of `s`; it is wiped when the value is dropped.
    #[must_use]
    pub fn new(s: String) -> Self {
        SecretString(Zeroizing::new(s))
    }

    /// The secret text.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Number of bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString::new(s)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretString([REDACTED; {} bytes])", self.0.len())
    }
}
