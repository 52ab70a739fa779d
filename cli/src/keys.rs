//! `keycustody keys`: generate, add, promote, rotate, retire, list, wrap, unwrap.

use crate::common::{load_file, print_json, save_file, CliError, KeyringArg};
use keycustody::Keyring;
use keycustody_store::Database;
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

/// Key management over a keyring file.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Create a new keyring file (mode 0600) with one fresh active key, kid 1; with
    /// --stdout, print the new keyring's text instead (for an environment variable).
    Generate {
        /// Print the new keyring's JSON text (its secret) to stdout and write no file,
        /// e.g. export KEYCUSTODY_KEYRING="$(keycustody keys generate --stdout)".
        #[arg(long)]
        stdout: bool,
        #[command(flatten)]
        c: Common,
    },
    /// Add a fresh key as decrypt-only (roll it out everywhere, then `promote` it).
    Add(Common),
    /// Make KID the primary (sealing) key; the old primary becomes decrypt-only.
    Promote {
        /// The key id.
        kid: u32,
        #[command(flatten)]
        c: Common,
    },
    /// Add and promote a fresh key (for a single instance).
    Rotate(Common),
    /// Retire KID (its secret is destroyed). Refused while a scan of the --check
    /// columns still finds envelopes under it; run `keycustody rewrap` first.
    Retire {
        /// The key id.
        kid: u32,
        /// Database to scan, e.g. sqlite:app.db or postgres://user@host/db.
        #[arg(long, value_name = "URL", required_unless_present = "unchecked")]
        db: Option<String>,
        /// TABLE.COLUMN to scan before retiring (repeatable).
        #[arg(long, value_name = "TABLE.COLUMN", requires = "db")]
        check: Vec<String>,
        /// Retire without scanning (only if no data anywhere was sealed under KID).
        #[arg(long, conflicts_with_all = ["db", "check"])]
        unchecked: bool,
        #[command(flatten)]
        c: Common,
    },
    /// List key ids, states and public fingerprints (never a secret).
    List(Common),
    /// Wrap the keyring under a KEK (aws-kms:<key>, pkcs11:<uri>, passphrase): the
    /// wrapped keyring (DESIGN §7) on stdout or in --out FILE.
    Wrap(crate::kek::WrapArgs),
    /// Unwrap a wrapped keyring to a new 0600 file (--out), or to stdout with --to-stdout.
    Unwrap(crate::kek::UnwrapArgs),
}

#[derive(clap::Args, Debug)]
pub struct Common {
    #[command(flatten)]
    keyring: KeyringArg,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

fn list_json(kr: &Keyring) -> serde_json::Value {
    json!({
        "primary": kr.primary_kid(),
        "keys": kr.kids().iter().map(|k| json!({
            "kid": k.kid, "state": k.state.as_str(), "fingerprint": k.fingerprint,
        })).collect::<Vec<_>>(),
    })
}

fn say(c: &Common, kr: &Keyring, msg: String) {
    if c.json {
        print_json(&list_json(kr));
    } else {
        println!("{msg}");
    }
}

/// `keys generate --stdout`: the new keyring's text on stdout, only when asked for by
/// that flag (it is the keyring's secret); no file is written, so `--keyring` (or
/// KEYCUSTODY_KEYRING_FILE) and `--json` are refused rather than ignored.
fn generate_to_stdout(c: &Common) -> Result<(), CliError> {
    if c.keyring.keyring.is_some() {
        return Err(CliError::usage(
            "--stdout writes no file: drop --keyring (and unset KEYCUSTODY_KEYRING_FILE)",
        ));
    }
    if c.json {
        return Err(CliError::usage(
            "--stdout prints the keyring's own JSON text: drop --json",
        ));
    }
    let text = Keyring::generate()?.export()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", text.expose_secret())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::usage(format!("could not write to stdout: {}", e.kind())))
}

pub fn run(cmd: Command) -> Result<ExitCode, CliError> {
    match cmd {
        Command::Wrap(a) => return crate::kek::wrap(a),
        Command::Unwrap(a) => return crate::kek::unwrap(a),
        Command::Generate { stdout: true, c } => generate_to_stdout(&c)?,
        Command::Generate { stdout: false, c } => {
            let p = c.keyring.file()?;
            let kr = Keyring::generate()?;
            save_file(p, &kr, true)?;
            say(
                &c,
                &kr,
                format!("created {} with key 1 (active)", p.display()),
            );
        }
        Command::Add(c) => {
            let p = c.keyring.file()?;
            let kr = load_file(p)?;
            let kid = kr.add_key()?;
            save_file(p, &kr, false)?;
            say(
                &c,
                &kr,
                format!("added key {kid} (decrypt-only); roll the keyring out, then: keys promote {kid}"),
            );
        }
        Command::Promote { kid, c } => {
            let p = c.keyring.file()?;
            let kr = load_file(p)?;
            kr.promote(kid)?;
            save_file(p, &kr, false)?;
            say(&c, &kr, format!("key {kid} is now the primary"));
        }
        Command::Rotate(c) => {
            let p = c.keyring.file()?;
            let kr = load_file(p)?;
            let old = kr.primary_kid();
            let kid = kr.rotate()?;
            save_file(p, &kr, false)?;
            say(
                &c,
                &kr,
                format!("key {kid} is now the primary; key {old} is decrypt-only until you rewrap and retire it"),
            );
        }
        Command::Retire {
            kid,
            db,
            check,
            unchecked,
            c,
        } => {
            let p = c.keyring.file()?;
            let kr = load_file(p)?;
            kr.state_of(kid)?;
            if kid == kr.primary_kid() {
                return Err(keycustody::Error::PrimaryKey(kid).into());
            }
            if !unchecked {
                let Some(url) = db else {
                    return Err(CliError::usage(
                        "pass --db URL --check TABLE.COLUMN, or --unchecked",
                    ));
                };
                if check.is_empty() {
                    return Err(CliError::usage(
                        "pass at least one --check TABLE.COLUMN to scan before retiring",
                    ));
                }
                let mut database = Database::connect(&url)?;
                for tc in &check {
                    let (t, col) = tc.split_once('.').ok_or_else(|| {
                        CliError::usage(format!("--check {tc:?}: expected TABLE.COLUMN"))
                    })?;
                    let r = keycustody_store::scan(&mut database, t, col)?;
                    let left = r.by_kid.get(&kid).copied().unwrap_or(0);
                    if left > 0 {
                        return Err(CliError::refused(format!(
                            "refusing to retire key {kid}: {left} envelope(s) in {t}.{col} are still sealed under it; run `keycustody rewrap` first"
                        )));
                    }
                }
            }
            kr.retire(kid)?;
            save_file(p, &kr, false)?;
            say(
                &c,
                &kr,
                format!("key {kid} retired; its secret is destroyed"),
            );
        }
        Command::List(c) => {
            let kr = c.keyring.load()?;
            if c.json {
                print_json(&list_json(&kr));
            } else {
                println!("{:>6}  {:<13} fingerprint", "kid", "state");
                for k in kr.kids() {
                    println!("{:>6}  {:<13} {}", k.kid, k.state.as_str(), k.fingerprint);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
