//! What the store-side commands share: exit codes, errors, keyring loading and saving.

use keycustody::{Error, Keyring, KEYRING_ENV_VAR};
use keycustody_store::StoreError;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

// The exit codes: one policy for every command family (keycustody_cli::vm).
pub use keycustody_cli::vm::{core_exit_code, EXIT_FAILURES, EXIT_REFUSED, EXIT_USAGE};

/// An error the CLI reports: a message (no secret in it) and an exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub msg: String,
}

impl CliError {
    pub fn usage(msg: impl Into<String>) -> CliError {
        CliError {
            code: EXIT_USAGE,
            msg: msg.into(),
        }
    }

    pub fn refused(msg: impl Into<String>) -> CliError {
        CliError {
            code: EXIT_REFUSED,
            msg: msg.into(),
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError {
            code: core_exit_code(&e),
            msg: e.to_string(),
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        let code = match e {
            StoreError::JobRunning(_) => EXIT_REFUSED,
            StoreError::Core(inner) => return CliError::from(inner),
            _ => EXIT_USAGE,
        };
        CliError {
            code,
            msg: e.to_string(),
        }
    }
}

/// The keyring option every key-using command takes.
#[derive(clap::Args, Debug, Clone)]
pub struct KeyringArg {
    /// Keyring file (must be 0600 or stricter). Without it, the keyring's text is read
    /// from the KEYCUSTODY_KEYRING environment variable.
    #[arg(long, env = "KEYCUSTODY_KEYRING_FILE", value_name = "FILE")]
    pub keyring: Option<PathBuf>,
}

impl KeyringArg {
    /// Loads the keyring from the file or the environment; a wrapped keyring is unwrapped
    /// through its KEK (crate::kek).
    pub fn load(&self) -> Result<Keyring, CliError> {
        self.load_with(None)
    }

    /// As [`KeyringArg::load`], with a passphrase file for a passphrase-wrapped keyring.
    pub fn load_with(&self, passphrase_file: Option<&Path>) -> Result<Keyring, CliError> {
        match &self.keyring {
            Some(p) => load_file_with(p, passphrase_file),
            None => match Keyring::from_env(KEYRING_ENV_VAR) {
                Ok(k) if passphrase_file.is_none() => Ok(k),
                // (Core also says MissingEnvVar for a wrapped keyring's missing passphrase.)
                Err(Error::MissingEnvVar(_)) if std::env::var_os(KEYRING_ENV_VAR).is_none() => {
                    Err(CliError::usage(format!(
                        "no keyring: pass --keyring FILE or set {KEYRING_ENV_VAR}"
                    )))
                }
                r => {
                    let text = Zeroizing::new(std::env::var(KEYRING_ENV_VAR).unwrap_or_default());
                    if keycustody::is_wrapped_keyring(&text) {
                        return crate::kek::load_text(&text, passphrase_file)
                            .map_err(|e| prefix(e, &format!("keyring in {KEYRING_ENV_VAR}")));
                    }
                    r.map_err(|e| CliError {
                        code: CliError::from(e).code,
                        msg: format!("keyring in {KEYRING_ENV_VAR}: {e}"),
                    })
                }
            },
        }
    }

    /// The file, for commands that change the keyring.
    pub fn file(&self) -> Result<&Path, CliError> {
        self.keyring
            .as_deref()
            .ok_or_else(|| CliError::usage("this command changes the keyring: pass --keyring FILE"))
    }
}

fn prefix(e: CliError, what: &str) -> CliError {
    CliError {
        code: e.code,
        msg: format!("{what}: {}", e.msg),
    }
}

pub fn load_file(p: &Path) -> Result<Keyring, CliError> {
    load_file_with(p, None)
}

fn load_file_with(p: &Path, passphrase_file: Option<&Path>) -> Result<Keyring, CliError> {
    let what = format!("keyring file {}", p.display());
    let first = match Keyring::from_file(p) {
        Ok(k) if passphrase_file.is_none() => return Ok(k),
        r => r,
    };
    // Not opened by core (or a passphrase file was given): a wrapped keyring goes through
    // the KEK clients. Core has checked the file's permissions; a refusal there stands.
    if first
        .as_ref()
        .err()
        .is_none_or(|&e| crate::kek::may_be_wrapped(e))
    {
        if let Ok(bytes) = std::fs::read(p).map(Zeroizing::new) {
            if let Ok(text) = std::str::from_utf8(&bytes) {
                if keycustody::is_wrapped_keyring(text) {
                    return crate::kek::load_text(text, passphrase_file)
                        .map_err(|e| prefix(e, &what));
                }
            }
        }
    }
    first.map_err(|e| {
        let hint = match e {
            Error::InsecurePermissions => format!(" (fix with: chmod 600 {})", p.display()),
            _ => String::new(),
        };
        CliError {
            code: CliError::from(e).code,
            msg: format!("{what}: {e}{hint}"),
        }
    })
}

/// Writes the keyring atomically with mode 0600: temp file, fsync, rename, fsync dir.
/// With `create_new`, refuses to replace an existing file. An existing wrapped keyring file
/// gets the keyring wrapped again under its KEK, never the plain text.
pub fn save_file(p: &Path, kr: &Keyring, create_new: bool) -> Result<(), CliError> {
    if !create_new {
        // A wrapped keyring file stays wrapped: the changed keyring is wrapped again under
        // the same KEK and owner (one KEK call), never written in clear.
        if let Ok(old) = std::fs::read(p).map(Zeroizing::new) {
            if let Ok(old) = std::str::from_utf8(&old) {
                if keycustody::is_wrapped_keyring(old) {
                    let text = crate::kek::rewrap(kr, old).map_err(|e| CliError {
                        code: e.code,
                        msg: format!(
                            "keyring file {} (wrapped): {}; nothing written",
                            p.display(),
                            e.msg
                        ),
                    })?;
                    return save_text(p, &text, false);
                }
            }
        }
    }
    let text = kr.export()?;
    save_text(p, text.expose_secret(), create_new)
}

/// Writes `text` (and a newline) atomically with mode 0600: temp file, fsync, rename,
/// fsync dir. With `create_new`, refuses to replace an existing file.
pub fn save_text(p: &Path, text: &str, create_new: bool) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::usage(format!("keyring file {}: {e}", p.display()));
    if create_new && p.exists() {
        return Err(CliError::refused(format!(
            "keyring file {} already exists; not overwriting it",
            p.display()
        )));
    }
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = p
        .file_name()
        .ok_or_else(|| CliError::usage("keyring path has no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io)?;
        let r = f
            .write_all(text.as_bytes())
            .and_then(|()| f.write_all(b"\n"))
            .and_then(|()| f.sync_all());
        if let Err(e) = r {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
    }
    if create_new {
        // hard_link fails if the target exists: no race with another creator.
        let r = std::fs::hard_link(&tmp, p);
        let _ = std::fs::remove_file(&tmp);
        r.map_err(io)?;
    } else {
        std::fs::rename(&tmp, p).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })?;
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Prints a JSON value on stdout.
pub fn print_json(v: &serde_json::Value) {
    println!("{v}");
}

/// Reads all of stdin, up to `limit` bytes.
pub fn read_stdin(limit: usize) -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| CliError::usage(format!("reading stdin: {e}")))?;
    if buf.len() > limit {
        return Err(Error::TooLarge { limit }.into());
    }
    Ok(buf)
}

/// Formats a number with thousands separators.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
