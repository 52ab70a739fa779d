//! Wrapped keyrings (DESIGN §7) in the CLI: `keys wrap` / `keys unwrap`, and the unwrapping
//! every keyring load does when it is handed a wrapped keyring (through keycustody-kms:
//! one KMS `Decrypt`, one `C_Decrypt`, or Argon2id).
//!
//! Secrets never come from argv: a passphrase comes from `--passphrase-file`,
//! `KEYCUSTODY_PASSPHRASE_FILE`, `KEYCUSTODY_PASSPHRASE` or the terminal; a PKCS#11 PIN from
//! the URI's `pin-source=file:`, `KEYCUSTODY_PKCS11_PIN_FILE` or `KEYCUSTODY_PKCS11_PIN`.

use crate::common::{print_json, read_stdin, save_text, CliError, KeyringArg, EXIT_REFUSED};
use keycustody::{
    is_wrapped_keyring, Argon2Params, Error, Keyring, WrappedKeyring, KEK_PASSPHRASE,
    MAX_KEYRING_TEXT, MAX_WRAPPED_KEYRING_TEXT,
};
use keycustody_kms::{Kek, KekConfig, KmsError};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

impl From<KmsError> for CliError {
    fn from(e: KmsError) -> Self {
        match e {
            KmsError::Core(inner) => CliError::from(inner),
            // The KEK could not be reached or refused: nothing was written.
            KmsError::KekUnavailable { .. } => CliError {
                code: EXIT_REFUSED,
                msg: e.to_string(),
            },
            _ => CliError::usage(e.to_string()),
        }
    }
}

/// Where the keyring to wrap or unwrap comes from.
#[derive(clap::Args, Debug)]
pub struct Source {
    #[command(flatten)]
    keyring: KeyringArg,
    /// Read the keyring (or wrapped keyring) text from stdin.
    #[arg(long, conflicts_with = "keyring")]
    stdin: bool,
}

#[derive(clap::Args, Debug)]
pub struct WrapArgs {
    /// The key-encryption key: aws-kms:<key ARN, id or alias>, pkcs11:<RFC 7512 URI>, or
    /// passphrase.
    #[arg(long, value_name = "KEK")]
    kek: String,
    /// The owner bound into the wrapped keyring (a tenant id; empty for the platform keyring).
    #[arg(long, default_value = "", value_name = "T")]
    owner: String,
    #[command(flatten)]
    source: Source,
    /// For --kek passphrase: the file holding it (0600). Else KEYCUSTODY_PASSPHRASE_FILE,
    /// KEYCUSTODY_PASSPHRASE, or the terminal (asked twice).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// For --kek passphrase: Argon2id parameters, m=<KiB>,t=<passes>,p=<lanes>.
    #[arg(long, value_name = "m=65536,t=3,p=1")]
    argon2: Option<String>,
    /// Write the wrapped keyring to FILE (created, mode 0600, never overwritten) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct UnwrapArgs {
    #[command(flatten)]
    source: Source,
    /// For a passphrase-wrapped keyring: the file holding the passphrase (0600).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Write the plain keyring to FILE (created, mode 0600, never overwritten).
    #[arg(long, value_name = "FILE", required_unless_present = "to_stdout")]
    out: Option<PathBuf>,
    /// Print the plain keyring (its root secrets) on stdout.
    #[arg(long, conflicts_with = "out")]
    to_stdout: bool,
}

fn parse_argon2(s: &str) -> Result<Argon2Params, CliError> {
    let bad = || CliError::usage("--argon2: expected m=<KiB>,t=<passes>,p=<lanes>");
    let mut p = Argon2Params::default();
    let (mut m, mut t, mut l) = (false, false, false);
    for part in s.split(',') {
        let (k, v) = part.split_once('=').ok_or_else(bad)?;
        let n: u32 = v.parse().map_err(|_| bad())?;
        match k {
            "m" if !m => (p.m_kib, m) = (n, true),
            "t" if !t => (p.t, t) = (n, true),
            "p" if !l => (p.p, l) = (n, true),
            _ => return Err(bad()),
        }
    }
    Ok(p)
}

/// A passphrase is asked only in an interactive session: stdin is a terminal.
fn is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal()
}

fn no_passphrase() -> CliError {
    CliError::usage(
        "no passphrase: pass --passphrase-file FILE, set KEYCUSTODY_PASSPHRASE_FILE or KEYCUSTODY_PASSPHRASE, or run on a terminal",
    )
}

fn prompt(confirm: bool) -> Result<Zeroizing<Vec<u8>>, CliError> {
    if !is_terminal() {
        return Err(no_passphrase());
    }
    let p =
        Zeroizing::new(rpassword::prompt_password("Passphrase: ").map_err(|_| no_passphrase())?);
    if p.is_empty() {
        return Err(CliError::usage("empty passphrase"));
    }
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("Passphrase again: ").map_err(|_| no_passphrase())?,
        );
        if !keycustody::constant_time_equal(p.as_bytes(), again.as_bytes()) {
            return Err(CliError::usage("the two passphrases differ"));
        }
    }
    Ok(Zeroizing::new(p.as_bytes().to_vec()))
}

/// The passphrase: the file given, else the environment, else the terminal.
fn passphrase(file: Option<&Path>, confirm: bool) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let p = match file {
        Some(f) => keycustody_kms::read_secret_file(f).map_err(|e| CliError {
            code: CliError::from(e).code,
            msg: format!("passphrase file {}: {e}", f.display()),
        })?,
        None => match KekConfig::from_env().passphrase() {
            Ok(p) => p,
            Err(KmsError::MissingConfig(_)) => prompt(confirm)?,
            Err(e) => return Err(e.into()),
        },
    };
    if p.is_empty() {
        return Err(CliError::usage("empty passphrase"));
    }
    Ok(p)
}

/// A keyring from loaded text: plain, or wrapped (unwrapped through its KEK).
pub fn load_text(text: &str, passphrase_file: Option<&Path>) -> Result<Keyring, CliError> {
    let mut cfg = KekConfig::from_env();
    if is_wrapped_keyring(text) {
        let w = WrappedKeyring::parse(text)?;
        if w.kek_type() == KEK_PASSPHRASE {
            cfg = cfg.with_passphrase(&passphrase(passphrase_file, false)?);
        }
        return Ok(keycustody_kms::unwrap_keyring(&w, &cfg)?);
    }
    Ok(Keyring::parse(text)?)
}

fn load_source(s: &Source, passphrase_file: Option<&Path>) -> Result<Keyring, CliError> {
    if s.stdin {
        let buf = Zeroizing::new(read_stdin(MAX_WRAPPED_KEYRING_TEXT.max(MAX_KEYRING_TEXT))?);
        let text = std::str::from_utf8(&buf).map_err(|_| CliError::usage("stdin is not UTF-8"))?;
        return load_text(text, passphrase_file);
    }
    s.keyring.load_with(passphrase_file)
}

pub fn wrap(a: WrapArgs) -> Result<ExitCode, CliError> {
    let mut kek = Kek::parse_spec(&a.kek)?;
    if a.argon2.is_some() && !matches!(kek, Kek::Passphrase(_)) {
        return Err(CliError::usage("--argon2 is only for --kek passphrase"));
    }
    if let (Some(s), Kek::Passphrase(p)) = (&a.argon2, &mut kek) {
        *p = parse_argon2(s)?;
    }
    if let Some(out) = &a.out {
        if out.exists() {
            return Err(CliError::refused(format!(
                "{} already exists; not overwriting it",
                out.display()
            )));
        }
    }
    let kr = load_source(&a.source, None)?;
    let mut cfg = KekConfig::from_env();
    if matches!(kek, Kek::Passphrase(_)) {
        cfg = cfg.with_passphrase(&passphrase(a.passphrase_file.as_deref(), true)?);
    }
    let w = keycustody_kms::wrap_keyring(&kr, &kek, &a.owner, &cfg)?;
    let text = w.to_text();
    match &a.out {
        Some(out) => {
            save_text(out, &text, true)?;
            print_json(
                &json!({"wrapped": out.display().to_string(), "kek": kek.type_name(), "owner": a.owner}),
            );
        }
        None => println!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn unwrap(a: UnwrapArgs) -> Result<ExitCode, CliError> {
    if let Some(out) = &a.out {
        if out.exists() {
            return Err(CliError::refused(format!(
                "{} already exists; not overwriting it",
                out.display()
            )));
        }
    }
    let kr = load_source(&a.source, a.passphrase_file.as_deref())?;
    let text = kr.export()?;
    match &a.out {
        Some(out) => save_text(out, text.expose_secret(), true)?,
        None => {
            use std::io::Write;
            let mut o = std::io::stdout().lock();
            o.write_all(text.expose_secret().as_bytes())
                .and_then(|()| o.write_all(b"\n"))
                .and_then(|()| o.flush())
                .map_err(|e| CliError::usage(format!("writing stdout: {e}")))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a core error from loading may mean "wrapped under a KEK core does not call, or
/// a passphrase core did not find": then the text is looked at and, if it is wrapped,
/// unwrapped here. Permission, I/O and size refusals stand.
pub fn may_be_wrapped(e: Error) -> bool {
    !matches!(
        e,
        Error::InsecurePermissions | Error::Io(_) | Error::TooLarge { .. }
    )
}

/// The changed keyring wrapped again like the wrapped text it was loaded from (same KEK,
/// same owner; a passphrase is asked again from the usual sources).
pub fn rewrap(kr: &Keyring, old: &str) -> Result<String, CliError> {
    let w = WrappedKeyring::parse(old)?;
    let mut cfg = KekConfig::from_env();
    if w.kek_type() == KEK_PASSPHRASE {
        cfg = cfg.with_passphrase(&passphrase(None, false)?);
    }
    Ok(keycustody_kms::rewrap_like(kr, &w, &cfg)?.to_text())
}

/// The unwrapper of CMEK rows for the tenant key store (a tenant keyring wrapped under the
/// tenant's own KEK): through keycustody-kms with the environment's KEK configuration
/// ([`KekConfig::from_env`]: `AWS_*` for aws-kms, `KEYCUSTODY_PKCS11_*` for pkcs11). One
/// KEK call per tenant and cache TTL (the store caches the keyring); a KEK that cannot be
/// reached or refuses is core's `KekUnavailable`, an application-type KEK
/// `KekUnavailable("external")`.
pub fn cmek_unwrapper() -> Box<keycustody_store::Unwrapper> {
    let cfg = KekConfig::from_env();
    Box::new(move |_tenant: &str, w: &WrappedKeyring| {
        keycustody_kms::unwrap_keyring(w, &cfg).map_err(|e| e.core())
    })
}
