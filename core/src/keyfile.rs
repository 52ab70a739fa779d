//! Loading a keyring from an environment variable or a key file, and the key file's
//! permission and owner checks (as ssh does).

use crate::error::{EnvVarName, Error, MalformedKind, Result};
use crate::keyring::{Keyring, MAX_KEYRING_TEXT};
use zeroize::Zeroizing;

/// The environment variable a keyring is read from by default (the CLI, the bindings'
/// `from_env()` without an argument, the quickstarts).
pub const KEYRING_ENV_VAR: &str = "KEYCUSTODY_KEYRING";

impl Keyring {
    /// Reads the text form from an environment variable (usually [`KEYRING_ENV_VAR`]), or a
    /// wrapped keyring (DESIGN §7, [`crate::WrappedKeyring`]): one of type `passphrase` is
    /// unwrapped with the passphrase read from the file named by
    /// [`crate::PASSPHRASE_FILE_ENV_VAR`] (checked like a key file; one trailing newline
    /// dropped) or else from [`crate::PASSPHRASE_ENV_VAR`] (never from argv); any other KEK type
    /// is [`Error::KekUnavailable`]: load it through `keycustody-kms` or the two-step API.
    ///
    /// # Errors
    /// [`Error::MissingEnvVar`] naming `var` when it is not set (or `var` cannot name a
    /// variable: empty, with `=` or NUL), or naming `KEYCUSTODY_PASSPHRASE` when a
    /// passphrase-wrapped keyring has no passphrase configured; [`Error::Malformed`] with
    /// [`MalformedKind::Utf8`] when it is set but not UTF-8; [`Error::KekUnavailable`];
    /// [`Error::DecryptFailed`] for a wrong passphrase; [`Error::InvalidArgument`] when both
    /// passphrase variables are set; or as [`Keyring::parse`] / [`crate::WrappedKeyring::parse`].
    pub fn from_env(var: &str) -> Result<Keyring> {
        let text = Zeroizing::new(std::env::var(var).map_err(|e| match e {
            std::env::VarError::NotPresent => Error::MissingEnvVar(EnvVarName::new(var)),
            std::env::VarError::NotUnicode(_) => Error::Malformed(MalformedKind::Utf8),
        })?);
        crate::wrapped::keyring_from_loaded_text(&text, &|name| std::env::var_os(name))
    }

    /// Reads the text form from a file, refusing one that group or others can
    /// access, or (on Unix) one owned by another user, as ssh does. A wrapped keyring is
    /// accepted as by [`Keyring::from_env`].
    ///
    /// # Errors
    /// [`Error::InsecurePermissions`], [`Error::Io`], [`Error::TooLarge`];
    /// [`Error::InvalidArgument`]`("key file grew while it was read")`; or as [`Keyring::parse`].
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Keyring> {
        let buf = read_secret_file(path.as_ref(), MAX_KEYRING_TEXT)?;
        let text = std::str::from_utf8(&buf).map_err(|_| Error::Malformed(MalformedKind::Utf8))?;
        crate::wrapped::keyring_from_loaded_text(text, &|name| std::env::var_os(name))
    }
}

/// Reads a secret file (a key file, a passphrase file) of at most `limit` bytes, refusing
/// one that group or others can access or that another user owns.
pub(crate) fn read_secret_file(path: &std::path::Path, limit: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    check_key_file_metadata(&meta)?;
    let too_large = Error::TooLarge { limit };
    // The buffer is allocated once, never grown: growing a Vec frees its old block
    // unwiped, root secrets and all. A regular file gets exactly its length; anything
    // else (a pipe, `<(...)`) has no length, so it gets the limit plus one byte.
    let cap = if meta.is_file() {
        usize::try_from(meta.len())
            .ok()
            .filter(|&n| n <= limit)
            .ok_or(too_large)?
    } else {
        limit + 1
    };
    let (mut buf, n) = read_once(&mut f, cap, meta.is_file(), limit)?;
    buf.truncate(n);
    Ok(buf)
}

/// Reads a key file into one buffer of `cap` bytes, allocated once and never grown;
/// returns it and the bytes read. With `exact` (`cap` is the length the file had when
/// measured) a file that has more refuses; otherwise more than the limit refuses.
fn read_once(
    r: &mut impl std::io::Read,
    cap: usize,
    exact: bool,
    limit: usize,
) -> Result<(Zeroizing<Vec<u8>>, usize)> {
    let mut buf = Zeroizing::new(vec![0u8; cap]);
    let n = read_full(r, &mut buf[..])?;
    if n > limit {
        return Err(Error::TooLarge { limit });
    }
    if n == cap && exact {
        // The file grew after it was measured: refuse rather than grow the buffer.
        let mut probe = Zeroizing::new([0u8; 1]);
        if read_full(r, &mut probe[..])? != 0 {
            return Err(Error::InvalidArgument("key file grew while it was read"));
        }
    }
    Ok((buf, n))
}

/// Reads until `buf` is full or the end of the input; returns the bytes read.
fn read_full(r: &mut impl std::io::Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}

/// Refuses key-file metadata that lets group or others in, or that another user owns.
///
/// On Unix the file's owner must be the effective user (`geteuid()`, from rustix) and its
/// mode must give group and others nothing, as ssh requires of a private key. Elsewhere
/// (Windows; wasm32 has no files) neither can be checked with std, so a key file is
/// refused rather than loaded unchecked: use [`Keyring::from_env`] or [`Keyring::parse`].
///
/// # Errors
/// [`Error::InsecurePermissions`]; off Unix,
/// [`Error::InvalidArgument`]`("key file owner cannot be determined on this platform")`.
pub(crate) fn check_key_file_metadata(meta: &std::fs::Metadata) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        check_mode_and_owner(meta.mode(), meta.uid(), rustix::process::geteuid().as_raw())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Err(Error::InvalidArgument(
            "key file owner cannot be determined on this platform",
        ))
    }
}

/// The Unix rule: no permission bit for group or others, and owned by `euid`.
#[cfg_attr(not(unix), allow(dead_code))]
fn check_mode_and_owner(mode: u32, file_uid: u32, euid: u32) -> Result<()> {
    if mode & 0o077 != 0 || file_uid != euid {
        return Err(Error::InsecurePermissions);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_and_owner_rule() {
        assert_eq!(check_mode_and_owner(0o100600, 1000, 1000), Ok(()));
        assert_eq!(check_mode_and_owner(0o100400, 0, 0), Ok(()));
        // Owned by another user (root's file read by a user, or the other way round).
        for (file, me) in [(1000, 1001), (0, 1000), (1000, 0)] {
            assert_eq!(
                check_mode_and_owner(0o100600, file, me),
                Err(Error::InsecurePermissions)
            );
        }
        for mode in [0o100640, 0o100604, 0o100610, 0o100601, 0o100666] {
            assert_eq!(
                check_mode_and_owner(mode, 1000, 1000),
                Err(Error::InsecurePermissions),
                "{mode:o}"
            );
        }
    }

    /// The check compares the file's owner with the effective uid: a file this process
    /// creates passes; the same metadata judged as another user's refuses.
    #[cfg(unix)]
    #[test]
    fn own_file_passes_with_geteuid() {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let path = std::env::temp_dir().join(format!("kc-keyfile-owner-{}", std::process::id()));
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .unwrap();
        let meta = f.metadata().unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(meta.uid(), rustix::process::geteuid().as_raw());
        assert_eq!(check_key_file_metadata(&meta), Ok(()));
        let other = meta.uid().wrapping_add(1);
        assert_eq!(
            check_mode_and_owner(meta.mode(), meta.uid(), other),
            Err(Error::InsecurePermissions)
        );
    }

    #[test]
    fn read_once_sizes_and_refusals() {
        // Exact: the whole input, then the end.
        let (buf, n) = read_once(&mut &b"abc"[..], 3, true, MAX_KEYRING_TEXT).unwrap();
        assert_eq!((&buf[..n], buf.capacity()), (&b"abc"[..], 3));
        // Exact, but the input grew past the measured length: refused.
        assert_eq!(
            read_once(&mut &b"abcd"[..], 3, true, MAX_KEYRING_TEXT).unwrap_err(),
            Error::InvalidArgument("key file grew while it was read")
        );
        // Exact, and the input shrank: what is there.
        let (buf, n) = read_once(&mut &b"ab"[..], 3, true, MAX_KEYRING_TEXT).unwrap();
        assert_eq!(&buf[..n], b"ab");
        // Unknown length (a pipe): up to the limit, one byte more is too large.
        let big = vec![b' '; MAX_KEYRING_TEXT + 1];
        assert_eq!(
            read_once(&mut &big[..], MAX_KEYRING_TEXT + 1, false, MAX_KEYRING_TEXT).unwrap_err(),
            Error::TooLarge {
                limit: MAX_KEYRING_TEXT
            }
        );
        let (_, n) = read_once(
            &mut &big[1..],
            MAX_KEYRING_TEXT + 1,
            false,
            MAX_KEYRING_TEXT,
        )
        .unwrap();
        assert_eq!(n, MAX_KEYRING_TEXT);
    }
}
