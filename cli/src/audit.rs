//! `keycustody audit`: verify, show and checkpoint the vault's audit log.
//!
//! The log itself (format, chain, head file, intents) is [`crate::vm::log`]; this module
//! is the commands. It opens the vault for its keyring, its id (the audit key's scope) and
//! its record of the last change's seq; the vault does not import this module.

use crate::vault::Vault;
// The proxy's import path (crate::audit::{Event, Log}) is kept; the log lives in crate::vm::log.
use crate::vm::log::{parse_checkpoint, Report, MAX_CHECKPOINT};
pub use crate::vm::log::{Event, Log};
use crate::vm::{fsutil, Location, VmError};
use keycustody::{AuditCheckpoint, AuditEntry, Error};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Verify the whole chain, its head file and the vault's record; exit 3 on any
    /// tampering. With --checkpoint, also that the log extends that checkpoint.
    Verify {
        #[command(flatten)]
        loc: Location,
        /// A checkpoint printed earlier by `audit checkpoint` (a file, or - for stdin):
        /// fails on a log shorter than it (erased, truncated, rolled back) or diverging.
        #[arg(long, value_name = "FILE|-")]
        checkpoint: Option<PathBuf>,
    },
    /// Verify, then print the entries (RFC 3339 UTC times; --json: the entries as JSON lines).
    Show {
        #[command(flatten)]
        loc: Location,
        /// Print each entry as the JSON line stored in the log.
        #[arg(long)]
        json: bool,
    },
    /// Verify, then print a MACed checkpoint (seq, head MAC, time) of the log on stdout,
    /// to be kept off the VM (see `audit verify --checkpoint`).
    Checkpoint {
        #[command(flatten)]
        loc: Location,
    },
}

/// Runs an `audit` subcommand.
///
/// # Errors
/// Never in practice: errors are reported and turned into an exit code.
pub fn run(c: Command) -> Result<ExitCode, Error> {
    crate::vm::finish(run_inner(c))
}

fn open_log(loc: &Location) -> Result<Log, VmError> {
    Ok(Vault::open(loc)?.audit_log(loc))
}

fn read_checkpoint(p: &Path) -> Result<AuditCheckpoint, VmError> {
    let data = if p == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_CHECKPOINT as u64 + 3)
            .read_to_end(&mut buf)?;
        buf
    } else {
        match fsutil::read_limited(p, MAX_CHECKPOINT as u64 + 2) {
            Err(VmError::Core(Error::TooLarge { .. })) => {
                return Err(VmError::BadCheckpoint("longer than 8192 bytes"))
            }
            r => r?,
        }
    };
    let text = std::str::from_utf8(&data).map_err(|_| VmError::BadCheckpoint("not UTF-8"))?;
    parse_checkpoint(text)
}

/// An RFC 3339 UTC time of Unix seconds `ts` (the number itself if out of range).
pub fn rfc3339(ts: u64) -> String {
    i64::try_from(ts)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ts.to_string())
}

fn show_line(e: &AuditEntry) -> String {
    let mut s = format!(
        "{}\t{}\t{}\t{}",
        e.seq(),
        rfc3339(e.ts()),
        e.op(),
        e.names().join(",")
    );
    if let Some(r) = e.route() {
        s.push_str(&format!("\troute={r}"));
    }
    if let Some(a) = e.actor() {
        s.push_str(&format!("\tactor={a}"));
    }
    if let Some(t) = e.tenant() {
        s.push_str(&format!("\ttenant={t}"));
    }
    if let Some(o) = e.outcome() {
        s.push_str(&format!("\toutcome={}", o.as_str()));
    }
    s
}

fn run_inner(c: Command) -> Result<ExitCode, VmError> {
    match c {
        Command::Verify { loc, checkpoint } => {
            // Parse the checkpoint before anything else: a malformed one is bad input.
            let cp = checkpoint.as_deref().map(read_checkpoint).transpose()?;
            let log = open_log(&loc)?;
            let r = match &cp {
                Some(cp) => log.verify_against(cp)?,
                None => log.verify()?,
            };
            report(&loc.audit_path(), &r);
            if let Some(cp) = cp {
                eprintln!(
                    "keycustody: the log extends the checkpoint of seq {} ({})",
                    cp.seq(),
                    rfc3339(cp.ts())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { loc, json } => {
            let mut lines = Vec::new();
            let r = open_log(&loc)?.verify_with(|e, text| {
                lines.push(if json {
                    String::from_utf8_lossy(text).into_owned()
                } else {
                    show_line(e)
                })
            })?;
            let mut out = std::io::stdout().lock();
            for l in lines {
                writeln!(out, "{l}")?;
            }
            report(&loc.audit_path(), &r);
            Ok(ExitCode::SUCCESS)
        }
        Command::Checkpoint { loc } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let cp = open_log(&loc)?.checkpoint(now)?;
            writeln!(std::io::stdout().lock(), "{}", cp.to_text())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn report(path: &Path, r: &Report) {
    let mut notes = String::new();
    if r.after_checkpoint > 0 {
        notes.push_str(&format!(
            " ({} after the head file: not yet synced by a running proxy, or left by an interrupted append)",
            r.after_checkpoint
        ));
    }
    if r.pending_intent {
        notes.push_str(" (the last entry is an intent whose writer died; the next command records its outcome)");
    }
    eprintln!(
        "keycustody: audit log {} verified: {} entries{notes}",
        path.display(),
        r.entries,
    );
}
