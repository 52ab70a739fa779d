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

/// Whether `name` is one of our temp names for the file `target`:
/// `.<target>.tmp-<pid>-<16 hex>` (see `temp_path`).
fn is_our_temp(name: &str, target: &str) -> bool {
    let Some(rest) = name
        .strip_prefix('.')
        .and_then(|r| r.strip_prefix(target))
        .and_then(|r| r.strip_prefix(".tmp-"))
    else {
        return false;
    };
    let Some((pid, rnd)) = rest.split_once('-') else {
        return false;
    };
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && rnd.len() == 16
        && rnd.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Removes the temp files a killed [`write_atomic`] of `path` left beside it (only our own
/// name pattern, only in `path`'s directory). Call it while holding the lock that
/// serialises writers of `path`, so no live writer's temp file is removed. Returns how
/// many were removed; errors are ignored (the next open tries again).
pub fn remove_stale_temps(path: &Path) -> usize {
    let Some(target) = path.file_name().and_then(|n| n.to_str()) else {
        return 0;
    };
    let Ok(dir) = std::fs::read_dir(parent_dir(path)) else {
        return 0;
    };
    let mut n = 0;
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_our_temp(name, target)
            && e.file_type().is_ok_and(|t| t.is_file())
            && std::fs::remove_file(e.path()).is_ok()
        {
            n += 1;
        }
    }
    n
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
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, crate::vm::VmError> {
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

    #[test]
    fn stale_temps_are_removed_and_nothing_else() {
        let d = tempdir();
        let p = d.join("v.json");
        write_atomic(&p, b"one", 0o600).unwrap();
        let ours = [
            ".v.json.tmp-123-0123456789abcdef",
            ".v.json.tmp-9-ffffffffffffffff",
        ];
        let others = [
            ".v.json.tmp-123-0123456789abcde",  // 15 hex
            ".v.json.tmp-12x-0123456789abcdef", // not a pid
            ".w.json.tmp-123-0123456789abcdef", // another file's
            "v.json.tmp-123-0123456789abcdef",  // no leading dot
            ".v.json.tmp-123-0123456789ABCDEF", // not our hex
            "unrelated",
        ];
        for n in ours.iter().chain(others.iter()) {
            std::fs::write(d.join(n), b"x").unwrap();
        }
        assert_eq!(remove_stale_temps(&p), 2);
        for n in ours {
            assert!(!d.join(n).exists(), "{n}");
        }
        for n in others {
            assert!(d.join(n).exists(), "{n}");
        }
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        // A real temp name of ours matches the pattern.
        let t = temp_path(&p).unwrap();
        assert!(is_our_temp(
            t.file_name().unwrap().to_str().unwrap(),
            "v.json"
        ));
    }

    pub(crate) fn tempdir() -> PathBuf {
        let mut r = [0u8; 8];
        keycustody::fill_random(&mut r).unwrap();
        let d = std::env::temp_dir().join(format!("kc-vm-unit-{}", hex(&r)));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
