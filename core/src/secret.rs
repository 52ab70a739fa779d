//! Secret-holding types: wiped on drop, never printed, bytes out only through
//! `expose_secret()`.

use core::fmt;
use zeroize::{Zeroize, Zeroizing};

/// Secret bytes (a plaintext, a derived key, a root key).
///
/// Zeroized on drop. `Debug` prints only the length; there is no `Display`.
/// `==` compares in constant time (see [`crate::constant_time_equal`]).
#[derive(Clone, Default)]
pub struct SecretBytes(Vec<u8>);

/// Wipes a byte vector, spare capacity included, with zeroize's bulk slice path
/// (`fill` + optimization barrier). `Zeroizing<Vec<u8>>` wipes element by element
/// with volatile writes, which made opening a 1 MiB envelope twice as slow as the cipher.
fn wipe(v: &mut Vec<u8>) {
    v.as_mut_slice().zeroize();
    v.spare_capacity_mut().zeroize();
    v.clear();
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        crate::constant_time_equal(&self.0, &other.0)
    }
}

impl Eq for SecretBytes {}

impl SecretBytes {
    /// Takes ownership of `bytes`; they are wiped when the value is dropped.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }

    /// The secret bytes. Callers should not copy them out of a zeroizing buffer.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// In-place access for the crate (decrypting into the buffer that will be returned).
    pub(crate) fn expose_secret_mut(&mut self) -> &mut [u8] {
        &mut self.0
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
    pub fn into_zeroizing(mut self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(core::mem::take(&mut self.0))
    }

    /// Converts to a [`SecretString`] if the bytes are UTF-8.
    ///
    /// # Errors
    /// [`crate::Error::Malformed`] with [`crate::MalformedKind::Utf8`]; the bytes are wiped.
    pub fn into_string(mut self) -> crate::Result<SecretString> {
        let inner = core::mem::take(&mut self.0);
        match String::from_utf8(inner) {
            Ok(s) => Ok(SecretString::new(s)),
            Err(e) => {
                wipe(&mut e.into_bytes());
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
/// `==` compares in constant time (see [`crate::constant_time_equal`]).
#[derive(Clone, Default)]
pub struct SecretString(Zeroizing<String>);

impl PartialEq for SecretString {
    fn eq(&self, other: &Self) -> bool {
        crate::constant_time_equal(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for SecretString {}

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
