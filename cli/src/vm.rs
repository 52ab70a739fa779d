//! What the tenant-VM commands (`vault`, `audit`, `proxy`) share: one error type, one
//! exit-code policy (also used by the store-side commands through [`core_exit_code`]),
//! [`finish`], and [`Location`], where the vault, its key file and its audit log live.
//!
//! Imports go one way: `vault` and `audit` and `proxy` use this module; this module uses
//! neither. The audit log writer ([`log`]) is here too, so the vault writes its audit
//! entries without importing the `audit` commands.

use keycustody::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub mod fsutil;
pub mod log;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: a job finished with failures (rows that would not open, rows left unsettled).
/// Only the jobs (`rewrap`, `migrate`, `demo`) use it.
pub const EXIT_FAILURES: u8 = 1;
/// Exit code: usage or bad input (flags, malformed input, a wrong key or passphrase,
/// `DecryptFailed`, an invalid name, a file that already exists, a malformed checkpoint).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: refused. Either an integrity failure of a file keycustody keeps (the vault's
/// index MAC, the audit chain, a checkpoint that the log does not match), or a safety
/// refusal (an insecure key file, a secret to a terminal, a job already running, a KEK
/// that is unavailable).
pub const EXIT_REFUSED: u8 = 3;
/// Exit code: not found (no secret of that name, no vault at that path).
pub const EXIT_NOT_FOUND: u8 = 4;
/// Exit code: an I/O error (disk full, unreadable file, ...).
pub const EXIT_IO: u8 = 5;

/// The exit-code table, as printed by `keycustody --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes (every command):
  0  ok
  1  a job (rewrap, migrate, demo) finished with failures
  2  usage or bad input (flags, malformed input, wrong key or passphrase: DecryptFailed)
  3  refused: integrity failure (vault tampered, audit log or checkpoint does not verify)
     or a safety refusal (insecure key file, secret to a terminal, job already running)
  4  not found (no such secret, no vault)
  5  I/O error";

/// The exit code of a core error, the same for every command family.
pub fn core_exit_code(e: &Error) -> u8 {
    match e {
        Error::InsecurePermissions
        | Error::PrimaryKey(_)
        | Error::KekUnavailable(_)
        | Error::AuditBroken { .. } => EXIT_REFUSED,
        Error::Io(_) => EXIT_IO,
        _ => EXIT_USAGE,
    }
}

/// Errors of the vault, audit and proxy commands. No variant holds a secret value;
/// secret names and file paths are not secret and may be shown.
#[derive(Debug)]
pub enum VmError {
    /// A core error (crypto, key file, I/O kind).
    Core(Error),
    /// No secret of that name.
    NoSuchSecret(String),
    /// A secret name that is not `[A-Za-z_][A-Za-z0-9_]{0,127}`.
    InvalidName,
    /// The vault or key file already exists.
    Exists(PathBuf),
    /// The vault file does not exist.
    NoVault(PathBuf),
    /// The vault file was modified outside keycustody (index MAC or structure).
    VaultTampered,
    /// Refused for safety; the text says why.
    Refused(&'static str),
    /// The audit log failed verification at a 1-based line.
    AuditBroken {
        /// The line number (1-based; 0 when no line is to blame, e.g. the head file).
        line: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A checkpoint (from `audit checkpoint`) that is not one: what is wrong with it.
    BadCheckpoint(&'static str),
    /// A usage or configuration error; the text is fixed or names a file/route.
    Usage(String),
}

impl VmError {
    /// The process exit code (see [`EXIT_CODES_HELP`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            VmError::Core(e) => core_exit_code(e),
            VmError::Refused(_) | VmError::VaultTampered | VmError::AuditBroken { .. } => {
                EXIT_REFUSED
            }
            VmError::NoSuchSecret(_) | VmError::NoVault(_) => EXIT_NOT_FOUND,
            VmError::InvalidName
            | VmError::Exists(_)
            | VmError::BadCheckpoint(_)
            | VmError::Usage(_) => EXIT_USAGE,
        }
    }
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmError::Core(e) => write!(f, "{e} [{}]", e.code()),
            VmError::NoSuchSecret(n) => write!(f, "no secret named {n:?} in the vault"),
            VmError::InvalidName => write!(
                f,
                "secret names must match [A-Za-z_][A-Za-z0-9_]* and be at most {MAX_NAME} bytes"
            ),
            VmError::Exists(p) => write!(f, "{} already exists", p.display()),
            VmError::NoVault(p) => write!(
                f,
                "no vault at {} (create one with `keycustody vault init`)",
                p.display()
            ),
            VmError::VaultTampered => f.write_str(
                "the vault file was modified outside keycustody (index MAC mismatch or bad structure)",
            ),
            VmError::Refused(why) => write!(f, "refused: {why}"),
            VmError::AuditBroken { line, what } => {
                if *line == 0 {
                    write!(f, "audit log verification failed: {what}")
                } else {
                    write!(f, "audit log verification failed at line {line}: {what}")
                }
            }
            VmError::BadCheckpoint(what) => write!(f, "malformed checkpoint: {what}"),
            VmError::Usage(s) => f.write_str(s),
        }
    }
}

/// The longest secret name.
pub const MAX_NAME: usize = 128;

impl std::error::Error for VmError {}

impl From<Error> for VmError {
    fn from(e: Error) -> Self {
        VmError::Core(e)
    }
}

impl From<std::io::Error> for VmError {
    fn from(e: std::io::Error) -> Self {
        VmError::Core(Error::Io(e.kind()))
    }
}

/// Runs a command body and turns its error into a message and exit code.
pub fn finish(r: Result<ExitCode, VmError>) -> Result<ExitCode, Error> {
    match r {
        Ok(c) => Ok(c),
        Err(e) => {
            eprintln!("keycustody: {e}");
            Ok(ExitCode::from(e.exit_code()))
        }
    }
}

/// Where the vault, its key file and its audit log live.
#[derive(clap::Args, Debug, Clone)]
pub struct Location {
    /// The vault file.
    #[arg(long, env = "KEYCUSTODY_VAULT")]
    pub vault: PathBuf,
    /// The key file (a keyring, mode 0400/0600) [default: <vault>.key].
    #[arg(long, env = "KEYCUSTODY_VAULT_KEY")]
    pub key: Option<PathBuf>,
    /// The audit log [default: <vault>.audit].
    #[arg(long, env = "KEYCUSTODY_AUDIT_LOG")]
    pub audit: Option<PathBuf>,
}

/// `p` with `suffix` appended to its file name.
pub fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl Location {
    /// The key file path.
    pub fn key_path(&self) -> PathBuf {
        self.key
            .clone()
            .unwrap_or_else(|| with_suffix(&self.vault, ".key"))
    }
    /// The audit log path.
    pub fn audit_path(&self) -> PathBuf {
        self.audit
            .clone()
            .unwrap_or_else(|| with_suffix(&self.vault, ".audit"))
    }
}
