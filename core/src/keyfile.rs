//! Loading a keyring from an environment variable or a key file, and the key file's
//! permission and owner checks (as ssh does).

use crate::error::{Error, MalformedKind, Result};
use crate::keyring::{Keyring, MAX_KEYRING_TEXT};
use zeroize::Zeroizing;

impl Keyring {
    /// Reads the text form from an environment variable (e.g. `KEYCUSTODY_KEYRING`).
    ///
    /// # Errors
    /// [`Error::MissingEnvVar`], or as [`Keyring::parse`].
    pub fn from_env(var: &str) -> Result<Keyring> {
        let text = Zeroizing::new(std::env::var(var).map_err(|_| Error::MissingEnvVar)?);
        Keyring::parse(&text)
    }

    /// Reads the text form from a file, refusing one that group or others can
    /// access, or (on Unix) one owned by another user, as ssh does.
    ///
    /// # Errors
    /// [`Error::InsecurePermissions`], [`Error::Io`], [`Error::TooLarge`], or as [`Keyring::parse`].
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Keyring> {
        use std::io::Read;
        let mut f = std::fs::File::open(path.as_ref())?;
        let meta = f.metadata()?;
        check_key_file_metadata(&meta)?;
        if meta.len() > MAX_KEYRING_TEXT as u64 {
            return Err(Error::TooLarge {
                limit: MAX_KEYRING_TEXT,
            });
        }
        let mut buf = Zeroizing::new(Vec::new());
        f.by_ref()
            .take(MAX_KEYRING_TEXT as u64 + 1)
            .read_to_end(&mut buf)?;
        if buf.len() > MAX_KEYRING_TEXT {
            return Err(Error::TooLarge {
                limit: MAX_KEYRING_TEXT,
            });
        }
        let text = std::str::from_utf8(&buf).map_err(|_| Error::Malformed(MalformedKind::Utf8))?;
        Keyring::parse(text)
    }
}

/// Refuses key-file metadata that lets group or others in, or (Unix) another owner.
///
/// # Errors
/// [`Error::InsecurePermissions`].
pub fn check_key_file_metadata(meta: &std::fs::Metadata) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.mode() & 0o077 != 0 {
            return Err(Error::InsecurePermissions);
        }
        // std has no geteuid; on Linux /proc/self is owned by the effective uid.
        if let Ok(me) = std::fs::metadata("/proc/self") {
            if me.uid() != meta.uid() {
                return Err(Error::InsecurePermissions);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}
