//! `keycustody seal | open | inspect`, on stdin and stdout.

use crate::common::{print_json, read_stdin, CliError, KeyringArg};
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

/// The largest input read from stdin (the kc1 plaintext limit, and its envelope text).
const MAX_INPUT: usize = 90 * 1024 * 1024;

/// Owner and context of an envelope.
#[derive(clap::Args, Debug)]
pub struct Binding {
    /// The owner (tenant id) the envelope is bound to.
    #[arg(long)]
    pub owner: String,
    /// The context (e.g. the field name) the envelope is bound to; default empty.
    #[arg(long, default_value = "")]
    pub context: String,
}

/// `seal`: plaintext on stdin, envelope on stdout.
#[derive(clap::Args, Debug)]
pub struct SealArgs {
    #[command(flatten)]
    keyring: KeyringArg,
    #[command(flatten)]
    b: Binding,
}

/// `open`: envelope on stdin, plaintext on stdout.
#[derive(clap::Args, Debug)]
pub struct OpenArgs {
    #[command(flatten)]
    keyring: KeyringArg,
    #[command(flatten)]
    b: Binding,
}

/// `inspect`: envelope on stdin; prints version, kid and plaintext length (no key needed).
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

fn envelope_text(buf: &[u8]) -> Result<&str, CliError> {
    std::str::from_utf8(buf)
        .map(str::trim)
        .map_err(|_| keycustody::Error::Malformed(keycustody::MalformedKind::Utf8).into())
}

fn write_out(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::usage(format!("writing stdout: {e}")))
}

pub fn seal(a: SealArgs) -> Result<ExitCode, CliError> {
    let kr = a.keyring.load()?;
    let plain = zeroize::Zeroizing::new(read_stdin(MAX_INPUT)?);
    let env = kr.seal(&a.b.owner, &plain, a.b.context.as_bytes())?;
    write_out(format!("{env}\n").as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

pub fn open(a: OpenArgs) -> Result<ExitCode, CliError> {
    let kr = a.keyring.load()?;
    let buf = read_stdin(MAX_INPUT)?;
    let plain = kr.open(&a.b.owner, envelope_text(&buf)?, a.b.context.as_bytes())?;
    write_out(plain.expose_secret())?;
    Ok(ExitCode::SUCCESS)
}

pub fn inspect(a: InspectArgs) -> Result<ExitCode, CliError> {
    let buf = read_stdin(MAX_INPUT)?;
    let info = keycustody::inspect(envelope_text(&buf)?)?;
    if a.json {
        print_json(&json!({
            "version": info.version, "kid": info.kid, "plaintext_len": info.plaintext_len,
        }));
    } else {
        println!(
            "kc1 envelope: version {}, kid {}, plaintext {} bytes",
            info.version, info.kid, info.plaintext_len
        );
    }
    Ok(ExitCode::SUCCESS)
}
