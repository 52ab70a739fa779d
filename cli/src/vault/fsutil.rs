//! Crash-safe file writes and advisory locks.
//!
//! A file is replaced by writing a temporary file in the same directory,
//! `fsync`ing it, renaming it over the target and `fsync`ing the directory: after
//! a crash at any point the target is either the old file or the new one.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let mut r = [0u8; 8];
    keycustody::fill_random(&mut r).map_err(|_| io::Error::other("random"))?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".tmp-{}-{}", std::process::id(), hex(&r)));
    Ok(parent_dir(path).join(tmp))
}

/// Lowercase hex (constant-time `base16ct`: the MACs it encodes are compared as secrets).
pub fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// Decodes lowercase or uppercase hex (constant-time `base16ct`); `None` on anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    base16ct::mixed::decode_vec(s).ok()
}

fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(parent_dir(path))?.sync_all()
}

fn write_temp(path: &Path, data: &[u8], mode: u32) -> io::Result<PathBuf> {
    let tmp = temp_path(path)?;
    let res = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Replaces `path` with `data` atomically and durably (temp, fsync, rename, fsync dir).
///
/// # Errors
/// Any I/O error; the target is then untouched.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let tmp = write_temp(path, data, mode)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path)
}

/// Creates `path` with `data` atomically, failing with `AlreadyExists` if it exists
/// (never clobbers: the temp file is hard-linked into place).
///
/// # Errors
/// `AlreadyExists`, or any I/O error.
pub fn create_atomic(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let tmp = write_temp(path, data, mode)?;
    let res = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    res?;
    sync_dir(path)
}

/// An exclusive advisory lock on a side file `<path>.lock`, released on drop.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes the exclusive lock of `path` (blocking until it is free).
///
/// # Errors
/// Any I/O error opening or locking the lock file.
pub fn lock(path: &Path) -> io::Result<Lock> {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(PathBuf::from(p))?;
    file.lock()?;
    Ok(Lock { _file: file })
}

/// Reads a whole file, refusing one larger than `limit` bytes.
///
/// # Errors
/// I/O errors; `keycustody::Error::TooLarge` as `InvalidData`.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, crate::vault::VmError> {
    use std::io::Read;
    let f = File::open(path)?;
    let mut buf = Vec::new();
    f.take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(keycustody::Error::TooLarge {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        }
        .into());
    }
    Ok(buf)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejects() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00abff"), Some(vec![0, 0xab, 0xff]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é0"), None);
        assert_eq!(unhex("00ABff"), Some(vec![0, 0xab, 0xff]));
        // u8::from_str_radix took a sign: "+f" decoded to 0x0f.
        assert_eq!(unhex("+f"), None);
        assert_eq!(unhex(""), Some(vec![]));
    }

    #[test]
    fn create_atomic_never_clobbers() {
        let d = tempdir();
        let p = d.join("k");
        create_atomic(&p, b"one", 0o400).unwrap();
        let e = create_atomic(&p, b"two", 0o400).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o400
        );
        // No temp files left behind.
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
    }

    #[test]
    fn write_atomic_replaces() {
        let d = tempdir();
        let p = d.join("v");
        write_atomic(&p, b"one", 0o600).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
    }

    pub(crate) fn tempdir() -> PathBuf {
        let mut r = [0u8; 8];
        keycustody::fill_random(&mut r).unwrap();
        let d = std::env::temp_dir().join(format!("kc-vm-unit-{}", hex(&r)));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
