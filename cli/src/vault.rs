//! `keycustody vault`: an encrypted per-VM vault of secrets, with environment injection.
//!
//! One JSON file holds the vault's id and one `kc1` envelope per secret (owner =
//! the vault id, context = the secret's name), plus a MAC over the whole index so
//! that a removed, swapped or renamed entry is detected. The key file beside it
//! holds a keyring (0400, refused if group/other-readable or owned by another
//! user), so the vault key rotates like any other keyring. Writes are atomic and
//! serialised by a lock; every read and write appends an audit entry (through
//! [`crate::vm::log`]; this module does not import the `audit` commands).
//!
//! A change is recorded as an `intent` entry before the vault file is replaced and an
//! `ok` entry after; the vault file records the intent's seq (`audit_seq`, under the
//! index MAC), so a writer killed in between is resolved exactly on the next open, and a
//! log erased or truncated below that seq is refused instead of restarting at seq 1. The
//! log is verified before anything is written: on refusal the vault file is unchanged.

use crate::vm::log::{Event, Log, Outcome};
pub use crate::vm::MAX_NAME;
// The proxy's import paths (crate::vault::{Location, VmError, fsutil, finish}) are kept;
// these items live in crate::vm.
pub use crate::vm::{finish, fsutil, Location, VmError};
use hmac::{Hmac, KeyInit, Mac};
use keycustody::{Error, Keyring, SecretBytes};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

/// The largest vault file.
pub const MAX_VAULT_FILE: u64 = 64 * 1024 * 1024;
/// The largest secret value.
pub const MAX_VALUE: usize = 1024 * 1024;
const FORMAT: &str = "keycustody-vault";
/// The custom purpose of the index MAC key (`keycustody/v1/custom/vault-index`).
// Label `keycustody/v1/custom/vault-index`: a custom purpose of the keyring.
const INDEX_PURPOSE: &str = "vault-index";

/// Subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Create an empty vault (and its key file, 0400, unless it exists).
    Init {
        #[command(flatten)]
        loc: Location,
        /// The vault id (envelope owner) [default: random].
        #[arg(long)]
        id: Option<String>,
    },
    /// Store a secret; the value comes from stdin or --from-file, never argv.
    Set {
        #[command(flatten)]
        loc: Location,
        /// The secret's name (an environment variable name).
        name: String,
        /// Read the value from this file instead of stdin.
        #[arg(long)]
        from_file: Option<PathBuf>,
        /// Keep a trailing newline (by default one trailing "\n" or "\r\n" is removed).
        #[arg(long)]
        keep_newline: bool,
    },
    /// Print a secret to stdout (refused on a terminal without --reveal).
    Get {
        #[command(flatten)]
        loc: Location,
        /// The secret's name.
        name: String,
        /// Allow printing to a terminal.
        #[arg(long)]
        reveal: bool,
    },
    /// List secret names (never values).
    List {
        #[command(flatten)]
        loc: Location,
    },
    /// Remove a secret.
    Rm {
        #[command(flatten)]
        loc: Location,
        /// The secret's name.
        name: String,
    },
    /// Run a command with the secrets in its environment (and nowhere else).
    Run {
        #[command(flatten)]
        loc: Location,
        /// Inject only these secrets (repeatable) [default: all].
        #[arg(long = "only")]
        only: Vec<String>,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<std::ffi::OsString>,
    },
    /// Import a legacy credential file as a secret.
    Import {
        #[command(flatten)]
        loc: Location,
        /// An `openssl enc -aes-256-cbc -pbkdf2` file.
        #[arg(long)]
        openssl_enc: PathBuf,
        /// The secret's name [default: the file name without extension, upper-cased].
        #[arg(long)]
        name: Option<String>,
        /// Environment variable holding the password.
        #[arg(long, conflicts_with = "password_file")]
        password_env: Option<String>,
        /// File holding the password (first line).
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// PBKDF2 iterations used by `openssl enc -iter`.
        #[arg(long, default_value_t = 100_000)]
        iter: u32,
        /// Replace an existing secret of that name.
        #[arg(long)]
        force: bool,
    },
}

/// Checks a secret name: `[A-Za-z_][A-Za-z0-9_]*`, 1 to 128 bytes.
///
/// # Errors
/// [`VmError::InvalidName`].
pub fn check_name(name: &str) -> Result<(), VmError> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= MAX_NAME
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    if ok {
        Ok(())
    } else {
        Err(VmError::InvalidName)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VaultJson {
    format: String,
    version: u32,
    id: String,
    secrets: BTreeMap<String, String>,
    /// The seq of the audit log's `intent` entry of the change that wrote this file
    /// (absent in files written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audit_seq: Option<u64>,
    mac_kid: u32,
    mac: String,
}

/// An opened vault: its keyring, id and envelopes.
pub struct Vault {
    keyring: Keyring,
    id: String,
    secrets: BTreeMap<String, String>,
    audit_seq: Option<u64>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("id", &self.id)
            .field("names", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn index_mac(
    keyring: &Keyring,
    kid: Option<u32>,
    id: &str,
    secrets: &BTreeMap<String, String>,
    audit_seq: Option<u64>,
) -> Result<(u32, Hmac<Sha256>), VmError> {
    let (kid, key) = keyring.derive_key_with_kid(kid, INDEX_PURPOSE, id, 32)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose_secret())
        .map_err(|_| Error::InvalidArgument("mac key"))?;
    match audit_seq {
        // Files written before the audit record existed keep their MAC input.
        None => mac.update(b"keycustody-vault/v1\0"),
        Some(seq) => {
            mac.update(b"keycustody-vault/v1+audit_seq\0");
            mac.update(seq.to_string().as_bytes());
            mac.update(b"\0");
        }
    }
    mac.update(id.as_bytes());
    mac.update(b"\0");
    for (name, env) in secrets {
        mac.update(name.as_bytes());
        mac.update(b"\0");
        mac.update(env.as_bytes());
        mac.update(b"\0");
    }
    Ok((kid, mac))
}

impl Vault {
    /// Opens the vault at `loc`, checking the key file's permissions and the index MAC.
    ///
    /// # Errors
    /// [`VmError::NoVault`], [`VmError::VaultTampered`], key-file errors.
    pub fn open(loc: &Location) -> Result<Vault, VmError> {
        // No vault is "not found", whatever the key file's state.
        if std::fs::symlink_metadata(&loc.vault)
            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            return Err(VmError::NoVault(loc.vault.clone()));
        }
        let keyring = load_key_file(&loc.key_path())?;
        Vault::open_with(&loc.vault, keyring)
    }

    /// Opens the vault file with a loaded keyring.
    ///
    /// # Errors
    /// As [`Vault::open`].
    pub fn open_with(path: &Path, keyring: Keyring) -> Result<Vault, VmError> {
        let data = match fsutil::read_limited(path, MAX_VAULT_FILE) {
            Err(VmError::Core(Error::Io(std::io::ErrorKind::NotFound))) => {
                return Err(VmError::NoVault(path.to_path_buf()))
            }
            r => r?,
        };
        let j: VaultJson = serde_json::from_slice(&data).map_err(|_| VmError::VaultTampered)?;
        if j.format != FORMAT || j.version != 1 {
            return Err(VmError::VaultTampered);
        }
        keycustody::validate_owner(&j.id).map_err(|_| VmError::VaultTampered)?;
        if j.secrets.keys().any(|n| check_name(n).is_err()) {
            return Err(VmError::VaultTampered);
        }
        let want = fsutil::unhex(&j.mac).ok_or(VmError::VaultTampered)?;
        let (_, mac) = match index_mac(&keyring, Some(j.mac_kid), &j.id, &j.secrets, j.audit_seq) {
            Ok(m) => m,
            Err(VmError::Core(Error::UnknownKey(k))) => return Err(Error::UnknownKey(k).into()),
            Err(VmError::Core(Error::KeyRetired(k))) => return Err(Error::KeyRetired(k).into()),
            Err(_) => return Err(VmError::VaultTampered),
        };
        mac.verify_slice(&want)
            .map_err(|_| VmError::VaultTampered)?;
        Ok(Vault {
            keyring,
            id: j.id,
            secrets: j.secrets,
            audit_seq: j.audit_seq,
        })
    }

    fn create(
        path: &Path,
        keyring: Keyring,
        id: String,
        audit_seq: Option<u64>,
    ) -> Result<Vault, VmError> {
        let v = Vault {
            keyring,
            id,
            secrets: BTreeMap::new(),
            audit_seq,
        };
        let bytes = v.serialize()?;
        match fsutil::create_atomic(path, &bytes, 0o600) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(VmError::Exists(path.to_path_buf()))
            }
            r => Ok(r.map(|_| v)?),
        }
    }

    fn serialize(&self) -> Result<Vec<u8>, VmError> {
        let (kid, mac) = index_mac(&self.keyring, None, &self.id, &self.secrets, self.audit_seq)?;
        let j = VaultJson {
            format: FORMAT.into(),
            version: 1,
            id: self.id.clone(),
            secrets: self.secrets.clone(),
            audit_seq: self.audit_seq,
            mac_kid: kid,
            mac: fsutil::hex(&mac.finalize().into_bytes()),
        };
        let mut out =
            serde_json::to_vec_pretty(&j).map_err(|_| Error::InvalidArgument("serialize"))?;
        out.push(b'\n');
        Ok(out)
    }

    /// Writes the vault atomically (temp, fsync, rename, fsync dir).
    ///
    /// # Errors
    /// I/O errors; the file on disk is then unchanged.
    pub fn save(&self, path: &Path) -> Result<(), VmError> {
        let bytes = self.serialize()?;
        fsutil::write_atomic(path, &bytes, 0o600)?;
        Ok(())
    }

    /// The vault id (owner of every envelope).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The secret names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.secrets.keys().map(String::as_str)
    }

    /// Opens one secret.
    ///
    /// # Errors
    /// [`VmError::NoSuchSecret`]; `DecryptFailed` when the envelope was tampered with.
    pub fn get(&self, name: &str) -> Result<SecretBytes, VmError> {
        let env = self
            .secrets
            .get(name)
            .ok_or_else(|| VmError::NoSuchSecret(name.to_string()))?;
        Ok(self.keyring.open(&self.id, env, name.as_bytes())?)
    }

    /// Seals and stores a secret (in memory; call [`Vault::save`]).
    ///
    /// # Errors
    /// [`VmError::InvalidName`], [`Error::TooLarge`].
    pub fn set(&mut self, name: &str, value: &[u8]) -> Result<(), VmError> {
        check_name(name)?;
        if value.len() > MAX_VALUE {
            return Err(Error::TooLarge { limit: MAX_VALUE }.into());
        }
        let env = self.keyring.seal(&self.id, value, name.as_bytes())?;
        self.secrets.insert(name.to_string(), env);
        Ok(())
    }

    /// Removes a secret (in memory).
    ///
    /// # Errors
    /// [`VmError::NoSuchSecret`].
    pub fn remove(&mut self, name: &str) -> Result<(), VmError> {
        self.secrets
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| VmError::NoSuchSecret(name.to_string()))
    }

    /// The seq of the audit log's intent entry of the change that wrote the file.
    pub fn audit_seq(&self) -> Option<u64> {
        self.audit_seq
    }

    /// The audit log of this vault, bound to the vault file's record of its last change
    /// (re-read from `loc.vault` each time the log is opened for appending or verified).
    pub fn audit_log(&self, loc: &Location) -> Log {
        let keyring = self.keyring.clone();
        let path = loc.vault.clone();
        Log::new(loc.audit_path(), self.keyring.clone(), self.id.clone()).with_binding(Box::new(
            move || match Vault::open_with(&path, keyring.clone()) {
                Ok(v) => Ok(v.audit_seq),
                Err(VmError::NoVault(_)) => Ok(None),
                Err(e) => Err(e),
            },
        ))
    }

    /// Records and commits a change made in memory: verifies the log first (nothing is
    /// written when it does not verify), appends an `intent` entry, replaces the vault
    /// file (which records the intent's seq), then appends an `ok` entry, all under the
    /// log's lock. The caller holds the vault's lock.
    ///
    /// # Errors
    /// [`VmError::AuditBroken`] before anything is written; I/O errors (a failure after
    /// the intent leaves it for the next open to resolve from the vault file).
    fn commit(&mut self, loc: &Location, op: &str, names: &[&str]) -> Result<(), VmError> {
        let log = self.audit_log(loc);
        let mut txn = log.begin()?;
        fsutil::remove_stale_temps(&loc.vault);
        let ev = Event::new(op, names);
        let now = now_secs();
        let seq = txn.append(std::slice::from_ref(&ev), Some(Outcome::Intent), now)?;
        let before = self.audit_seq.replace(seq);
        if let Err(e) = self.save(&loc.vault) {
            self.audit_seq = before;
            return Err(e);
        }
        txn.append(&[ev], Some(Outcome::Ok), now)?;
        Ok(())
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn strip_newline(v: &mut Zeroizing<Vec<u8>>) {
    if v.last() == Some(&b'\n') {
        v.pop();
        if v.last() == Some(&b'\r') {
            v.pop();
        }
    }
}

fn read_value(from_file: Option<&Path>, keep_newline: bool) -> Result<Zeroizing<Vec<u8>>, VmError> {
    let mut buf = Zeroizing::new(Vec::new());
    let limit = MAX_VALUE as u64 + 2;
    match from_file {
        Some(p) => {
            std::fs::File::open(p)?
                .take(limit + 1)
                .read_to_end(&mut buf)?;
        }
        None => {
            std::io::stdin()
                .lock()
                .take(limit + 1)
                .read_to_end(&mut buf)?;
        }
    }
    if !keep_newline {
        strip_newline(&mut buf);
    }
    if buf.len() > MAX_VALUE {
        return Err(Error::TooLarge { limit: MAX_VALUE }.into());
    }
    Ok(buf)
}

/// Loads the vault's key file: a keyring, or a wrapped keyring (passphrase, `aws-kms`,
/// `pkcs11`) unwrapped through keycustody-kms with the KEK configured in the environment,
/// like every keyring the CLI loads. Core's permission and I/O checks come first.
fn load_key_file(path: &Path) -> Result<Keyring, VmError> {
    keycustody_kms::keyring_from_file(path, &keycustody_kms::KekConfig::from_env())
        .map_err(|e| VmError::Core(e.core()))
}

fn ensure_key_file(path: &Path) -> Result<Keyring, VmError> {
    match load_key_file(path) {
        Ok(k) => Ok(k),
        Err(VmError::Core(Error::Io(std::io::ErrorKind::NotFound))) => {
            let k = Keyring::generate()?;
            let text = k.export()?;
            match fsutil::create_atomic(path, text.expose_secret().as_bytes(), 0o400) {
                Ok(()) => Ok(k),
                // Lost a race with another init: use the winner's key.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_key_file(path),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e),
    }
}

fn default_name(p: &Path) -> Result<String, VmError> {
    let stem = p
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or(VmError::InvalidName)?;
    let n: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    check_name(&n)?;
    Ok(n)
}

fn read_password(env: Option<&str>, file: Option<&Path>) -> Result<Zeroizing<Vec<u8>>, VmError> {
    match (env, file) {
        (Some(var), None) => {
            let v = std::env::var_os(var).ok_or(Error::MissingEnvVar(keycustody::EnvVarName::new(var)))?;
            use std::os::unix::ffi::OsStrExt;
            Ok(Zeroizing::new(v.as_bytes().to_vec()))
        }
        (None, Some(p)) => {
            let mut v = Zeroizing::new(fsutil::read_limited(p, 64 * 1024)?);
            // openssl -pass file: reads the first line.
            if let Some(i) = v.iter().position(|b| *b == b'\n') {
                v.truncate(i);
                if v.last() == Some(&b'\r') {
                    v.pop();
                }
            }
            Ok(v)
        }
        _ => Err(VmError::Usage(
            "give the password with --password-env VAR or --password-file PATH (never on the command line)".into(),
        )),
    }
}

/// Runs a `vault` subcommand.
///
/// # Errors
/// Never in practice: errors are reported and turned into an exit code.
pub fn run(c: Command) -> Result<ExitCode, Error> {
    crate::vm::finish(run_inner(c))
}

fn run_inner(c: Command) -> Result<ExitCode, VmError> {
    match c {
        Command::Init { loc, id } => {
            let keyring = ensure_key_file(&loc.key_path())?;
            let id = match id {
                Some(i) => i,
                None => format!("vault-{}", keycustody::random_token(8)?.expose_secret()),
            };
            keycustody::validate_owner(&id)
                .map_err(|_| VmError::Usage("the vault id must be 1 to 1024 bytes".into()))?;
            let _lock = fsutil::lock(&loc.vault)?;
            if loc.vault.exists() {
                return Err(VmError::Exists(loc.vault.clone()));
            }
            fsutil::remove_stale_temps(&loc.vault);
            // Intent first, then the file (recording the intent's seq), then ok.
            let probe = Vault {
                keyring: keyring.clone(),
                id: id.clone(),
                secrets: BTreeMap::new(),
                audit_seq: None,
            };
            let log = probe.audit_log(&loc);
            let mut txn = log.begin()?;
            let ev = Event::new("vault.init", &[]);
            let now = now_secs();
            let seq = txn.append(std::slice::from_ref(&ev), Some(Outcome::Intent), now)?;
            let v = Vault::create(&loc.vault, keyring, id, Some(seq))?;
            txn.append(&[ev], Some(Outcome::Ok), now)?;
            eprintln!(
                "keycustody: created vault {} (id {})",
                loc.vault.display(),
                v.id()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Set {
            loc,
            name,
            from_file,
            keep_newline,
        } => {
            check_name(&name)?;
            let value = read_value(from_file.as_deref(), keep_newline)?;
            let _lock = fsutil::lock(&loc.vault)?;
            let mut v = Vault::open(&loc)?;
            v.set(&name, &value)?;
            v.commit(&loc, "vault.set", &[&name])?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Get { loc, name, reveal } => {
            let mut out = std::io::stdout().lock();
            if out.is_terminal() && !reveal {
                return Err(VmError::Refused(
                    "not printing a secret to a terminal; pipe it or pass --reveal",
                ));
            }
            let v = Vault::open(&loc)?;
            let value = v.get(&name)?;
            v.audit_log(&loc).append("vault.get", &[&name], None)?;
            out.write_all(value.expose_secret())?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::List { loc } => {
            let v = Vault::open(&loc)?;
            v.audit_log(&loc).append("vault.list", &[], None)?;
            let mut out = std::io::stdout().lock();
            for n in v.names() {
                writeln!(out, "{n}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rm { loc, name } => {
            let _lock = fsutil::lock(&loc.vault)?;
            let mut v = Vault::open(&loc)?;
            v.remove(&name)?;
            v.commit(&loc, "vault.rm", &[&name])?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { loc, only, command } => run_command(&loc, &only, &command),
        Command::Import {
            loc,
            openssl_enc,
            name,
            password_env,
            password_file,
            iter,
            force,
        } => {
            let name = match name {
                Some(n) => n,
                None => default_name(&openssl_enc)?,
            };
            check_name(&name)?;
            let password = read_password(password_env.as_deref(), password_file.as_deref())?;
            let data = fsutil::read_limited(&openssl_enc, MAX_VALUE as u64 * 2)?;
            let value = keycustody::decrypt_openssl_enc(&data, &password, iter)?;
            let _lock = fsutil::lock(&loc.vault)?;
            let mut v = Vault::open(&loc)?;
            if !force && v.secrets.contains_key(&name) {
                return Err(VmError::Usage(format!(
                    "a secret named {name:?} exists; pass --force to replace it"
                )));
            }
            v.set(&name, value.expose_secret())?;
            v.commit(&loc, "vault.import", &[&name])?;
            eprintln!("keycustody: imported {name}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_command(
    loc: &Location,
    only: &[String],
    command: &[std::ffi::OsString],
) -> Result<ExitCode, VmError> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    let v = Vault::open(loc)?;
    let names: Vec<&str> = if only.is_empty() {
        v.names().collect()
    } else {
        only.iter().map(String::as_str).collect()
    };
    let mut values = Vec::with_capacity(names.len());
    for n in &names {
        let value = v.get(n)?;
        if value.expose_secret().contains(&0) {
            return Err(VmError::Usage(format!(
                "secret {n:?} contains a NUL byte and cannot go into an environment variable"
            )));
        }
        values.push((*n, value));
    }
    v.audit_log(loc).append("vault.run", &names, None)?;
    let (prog, args) = command
        .split_first()
        .ok_or(VmError::Usage("no command given after --".into()))?;
    let mut cmd = std::process::Command::new(prog);
    cmd.args(args);
    // The vault's own configuration does not leak into the child.
    for var in [keycustody::KEYRING_ENV_VAR, "KEYCUSTODY_VAULT_KEY"] {
        cmd.env_remove(var);
    }
    for (n, value) in &values {
        cmd.env(n, std::ffi::OsStr::from_bytes(value.expose_secret()));
    }
    drop(values);
    // exec only returns on failure.
    let e = cmd.exec();
    Err(VmError::Usage(format!(
        "could not run {:?}: {}",
        prog,
        e.kind()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Location {
        let d = crate::vm::fsutil::tests::tempdir();
        Location {
            vault: d.join("v.json"),
            key: None,
            audit: None,
        }
    }

    fn new_vault(l: &Location) -> Vault {
        let k = ensure_key_file(&l.key_path()).unwrap();
        Vault::create(&l.vault, k, "vm-1".into(), None).unwrap()
    }

    #[test]
    fn names_are_checked() {
        for ok in ["A", "_x", "OPENAI_API_KEY", "a1"] {
            check_name(ok).unwrap();
        }
        for bad in ["", "1A", "A-B", "A B", "É", "A=B"] {
            assert!(
                matches!(check_name(bad), Err(VmError::InvalidName)),
                "{bad}"
            );
        }
        check_name(&"A".repeat(128)).unwrap();
        assert!(check_name(&"A".repeat(129)).is_err());
    }

    #[test]
    fn set_get_rm_round_trip() {
        let l = loc();
        let mut v = new_vault(&l);
        v.set("K", b"value").unwrap();
        v.save(&l.vault).unwrap();
        let v2 = Vault::open(&l).unwrap();
        assert_eq!(v2.get("K").unwrap().expose_secret(), b"value");
        assert!(matches!(v2.get("X"), Err(VmError::NoSuchSecret(_))));
        let mut v3 = v2;
        v3.remove("K").unwrap();
        assert!(matches!(v3.remove("K"), Err(VmError::NoSuchSecret(_))));
        assert!(matches!(
            v3.set("K", &vec![0u8; MAX_VALUE + 1]),
            Err(VmError::Core(Error::TooLarge { .. }))
        ));
        // The value never appears in the file.
        let text = std::fs::read_to_string(&l.vault).unwrap();
        assert!(!text.contains("value"));
    }

    #[test]
    fn key_file_is_0400_and_insecure_ones_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let l = loc();
        new_vault(&l);
        let kp = l.key_path();
        assert_eq!(
            std::fs::metadata(&kp).unwrap().permissions().mode() & 0o777,
            0o400
        );
        std::fs::set_permissions(&kp, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Vault::open(&l),
            Err(VmError::Core(Error::InsecurePermissions))
        ));
    }

    #[test]
    fn second_create_is_refused() {
        let l = loc();
        new_vault(&l);
        let k = Keyring::from_file(l.key_path()).unwrap();
        assert!(matches!(
            Vault::create(&l.vault, k, "vm-1".into(), None),
            Err(VmError::Exists(_))
        ));
    }

    fn tamper(l: &Location, f: impl FnOnce(&mut serde_json::Value)) -> Result<Vault, VmError> {
        let mut j: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&l.vault).unwrap()).unwrap();
        f(&mut j);
        std::fs::write(&l.vault, serde_json::to_vec(&j).unwrap()).unwrap();
        Vault::open(l)
    }

    #[test]
    fn tampering_is_detected() {
        type Edit = fn(&mut serde_json::Value);
        let edits: [(&str, Edit); 6] = [
            ("remove entry", |j| {
                j["secrets"].as_object_mut().unwrap().remove("A");
            }),
            ("swap values", |j| {
                let a = j["secrets"]["A"].clone();
                j["secrets"]["A"] = j["secrets"]["B"].clone();
                j["secrets"]["B"] = a;
            }),
            ("change id", |j| j["id"] = "vm-2".into()),
            ("bad mac hex", |j| j["mac"] = "zz".into()),
            ("unknown field", |j| j["extra"] = 1.into()),
            ("wrong format", |j| j["format"] = "x".into()),
        ];
        for (what, edit) in edits {
            let l = loc();
            let mut v = new_vault(&l);
            v.set("A", b"a").unwrap();
            v.set("B", b"b").unwrap();
            v.save(&l.vault).unwrap();
            assert!(
                matches!(tamper(&l, edit), Err(VmError::VaultTampered)),
                "{what}"
            );
        }
        // Not JSON at all.
        let l = loc();
        new_vault(&l);
        std::fs::write(&l.vault, b"{trunc").unwrap();
        assert!(matches!(Vault::open(&l), Err(VmError::VaultTampered)));
        // A missing vault.
        std::fs::remove_file(&l.vault).unwrap();
        assert!(matches!(Vault::open(&l), Err(VmError::NoVault(_))));
    }

    #[test]
    fn index_mac_follows_key_rotation() {
        let l = loc();
        let mut v = new_vault(&l);
        v.set("A", b"a").unwrap();
        v.save(&l.vault).unwrap();
        // Rotate the keyring: the old file still opens; a save re-MACs under the new key.
        let k = Keyring::from_file(l.key_path()).unwrap();
        let new_kid = k.rotate().unwrap();
        let v2 = Vault::open_with(&l.vault, k).unwrap();
        assert_eq!(v2.get("A").unwrap().expose_secret(), b"a");
        v2.save(&l.vault).unwrap();
        let j: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&l.vault).unwrap()).unwrap();
        assert_eq!(j["mac_kid"], new_kid);
    }

    #[test]
    fn newline_stripping() {
        let mut v = Zeroizing::new(b"abc\r\n".to_vec());
        strip_newline(&mut v);
        assert_eq!(&v[..], b"abc");
        let mut v = Zeroizing::new(b"abc\n\n".to_vec());
        strip_newline(&mut v);
        assert_eq!(&v[..], b"abc\n");
    }

    #[test]
    fn default_import_names() {
        assert_eq!(
            default_name(Path::new("/x/openai-key.enc")).unwrap(),
            "OPENAI_KEY"
        );
        assert!(default_name(Path::new("/x/1key.enc")).is_err());
    }
}
