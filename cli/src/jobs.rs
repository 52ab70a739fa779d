//! `keycustody rewrap | migrate | scan`: the bulk jobs over a database table.

use crate::common::{print_json, read_stdin, thousands, CliError, KeyringArg, EXIT_FAILURES};
use keycustody::{Keyring, Pbkdf2GcmParams, SecretBytes};
use keycustody_store::{
    ContextSource, Database, Job, JobReport, JobSpec, LegacyFormat, Progress, ScanReport, Transform,
};
use serde_json::json;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// The table and columns a job walks.
#[derive(clap::Args, Debug)]
pub struct TableArgs {
    /// Database URL: sqlite:PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, value_name = "URL")]
    pub db: String,
    /// The table.
    #[arg(long)]
    pub table: String,
    /// Its integer primary key.
    #[arg(long, default_value = "id")]
    pub id_column: String,
    /// The column holding each row's owner (tenant id).
    #[arg(long)]
    pub owner_column: String,
    /// The column holding the secret.
    #[arg(long)]
    pub column: String,
    /// A column holding each row's envelope context.
    #[arg(long, conflicts_with = "context")]
    pub context_column: Option<String>,
    /// A fixed envelope context for every row (default empty).
    #[arg(long)]
    pub context: Option<String>,
    /// Rows per batch (one transaction each).
    #[arg(long, default_value_t = 2000)]
    pub batch: usize,
    /// Open and re-seal everything, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
}

impl TableArgs {
    fn spec(&self) -> JobSpec {
        let context = match (&self.context_column, &self.context) {
            (Some(c), _) => ContextSource::Column(c.clone()),
            (None, Some(s)) => ContextSource::Fixed(s.as_bytes().to_vec()),
            (None, None) => ContextSource::Fixed(Vec::new()),
        };
        let mut spec = JobSpec::new(
            &self.table,
            &self.id_column,
            &self.owner_column,
            &self.column,
            context,
        );
        spec.batch = self.batch;
        spec.dry_run = self.dry_run;
        spec
    }
}

/// `rewrap`: re-seal every envelope not under the primary key.
#[derive(clap::Args, Debug)]
pub struct RewrapArgs {
    #[command(flatten)]
    keyring: KeyringArg,
    /// Seal each row under its owner's tenant keyring, loaded from keycustody_tenant_keys in
    /// the same database (--keyring is then the platform keyring); rows of shredded tenants
    /// are counted, not rewritten.
    #[arg(long)]
    tenant_keys: bool,
    #[command(flatten)]
    t: TableArgs,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// base64(salt16 || iv12 || ciphertext || tag16), PBKDF2-HMAC-SHA256 + AES-256-GCM.
    Pbkdf2Gcm,
    /// `openssl enc -aes-256-cbc -pbkdf2 -iter N` (base64 `-a` text in a column; binary on stdin).
    OpensslEnc,
}

/// `migrate`: turn legacy ciphertexts into kc1 envelopes under the primary key.
/// With --db, converts a table column in place (same job engine as rewrap);
/// without, converts one value from stdin to stdout (needs --owner).
#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    #[command(flatten)]
    keyring: KeyringArg,
    /// The legacy format.
    #[arg(long, value_enum)]
    from: From,
    /// Name of the environment variable holding the legacy password.
    #[arg(long, value_name = "VAR", required_unless_present = "password_file")]
    password_env: Option<String>,
    /// File holding the legacy password (one trailing newline is ignored).
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    password_file: Option<PathBuf>,
    /// PBKDF2 iterations of the legacy data.
    #[arg(long, default_value_t = 100_000)]
    iterations: u32,
    /// Salt length of pbkdf2-gcm blobs.
    #[arg(long, default_value_t = 16)]
    salt_len: usize,
    /// Single-value mode: the owner to seal the kc1 envelope for.
    #[arg(long, conflicts_with = "db")]
    owner: Option<String>,
    /// Single-value mode: the context to seal with (table mode: see --context).
    #[arg(long = "value-context", default_value = "", conflicts_with = "db")]
    value_context: String,
    /// Table mode: database URL (sqlite:PATH or postgres://...).
    #[arg(long, value_name = "URL", requires_all = ["table", "owner_column", "column"])]
    db: Option<String>,
    /// Table mode: the table.
    #[arg(long, requires = "db")]
    table: Option<String>,
    /// Table mode: its integer primary key.
    #[arg(long, default_value = "id")]
    id_column: String,
    /// Table mode: the column holding each row's owner (tenant id).
    #[arg(long, requires = "db")]
    owner_column: Option<String>,
    /// Table mode: the column holding the legacy values (replaced by kc1 envelopes).
    #[arg(long, requires = "db")]
    column: Option<String>,
    /// Table mode: a column holding each row's envelope context.
    #[arg(long, conflicts_with = "context", requires = "db")]
    context_column: Option<String>,
    /// Table mode: a fixed envelope context for every row (default empty).
    #[arg(long, requires = "db")]
    context: Option<String>,
    /// Table mode: rows per batch (one transaction each).
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    /// Table mode: convert and verify everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Table mode: machine-readable report on stdout.
    #[arg(long)]
    json: bool,
}

impl MigrateArgs {
    fn table_args(&self) -> Option<TableArgs> {
        Some(TableArgs {
            db: self.db.clone()?,
            table: self.table.clone()?,
            id_column: self.id_column.clone(),
            owner_column: self.owner_column.clone()?,
            column: self.column.clone()?,
            context_column: self.context_column.clone(),
            context: self.context.clone(),
            batch: self.batch,
            dry_run: self.dry_run,
            json: self.json,
        })
    }
}

/// `scan`: envelopes per kid in a column.
#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Database URL: sqlite:PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, value_name = "URL")]
    db: String,
    /// The table.
    #[arg(long)]
    table: String,
    /// The column holding envelopes.
    #[arg(long)]
    column: String,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

fn progress_bar(label: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {pos}/{len} rows  {per_sec}  eta {eta}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(label.to_owned());
    pb
}

pub fn scan_json(s: &ScanReport) -> serde_json::Value {
    json!({
        "by_kid": s.by_kid.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "nulls": s.nulls, "not_kc1": s.not_kc1, "rows": s.rows(),
    })
}

pub fn scan_line(s: &ScanReport) -> String {
    let mut parts: Vec<String> = s
        .by_kid
        .iter()
        .map(|(k, v)| format!("kid {k}: {}", thousands(*v)))
        .collect();
    if s.nulls > 0 {
        parts.push(format!("null: {}", thousands(s.nulls)));
    }
    if s.not_kc1 > 0 {
        parts.push(format!("not kc1: {}", thousands(s.not_kc1)));
    }
    if parts.is_empty() {
        "empty".into()
    } else {
        parts.join(", ")
    }
}

/// Runs a job with a progress bar on a TTY, returns the report.
pub fn run_job(
    db: &mut Database,
    spec: JobSpec,
    transform: Transform<'_>,
    label: &str,
) -> Result<JobReport, CliError> {
    let job = Job::new(db, spec, transform)?;
    let pb = progress_bar(label);
    let report = job.run(&mut |p: Progress| {
        pb.set_length(p.total);
        pb.set_position(p.done);
    });
    pb.finish_and_clear();
    Ok(report?)
}

pub fn rows_per_sec(r: &JobReport) -> f64 {
    let s = r.elapsed.as_secs_f64();
    if s > 0.0 {
        r.rows as f64 / s
    } else {
        0.0
    }
}

/// Prints the report and returns the exit code.
pub fn report(what: &str, table: &str, column: &str, r: &JobReport, as_json: bool) -> ExitCode {
    const LIST_MAX: usize = 1000;
    if as_json {
        print_json(&json!({
            "job": what, "table": table, "column": column, "dry_run": r.dry_run,
            "rows": r.rows, "rewritten": r.rewritten, "already_current": r.already_current,
            "nulls": r.nulls,
            "rewritten_from": r.rewritten_from.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "concurrent_changes": r.concurrent_changes,
            "unsettled": r.unsettled,
            "failed": r.failed.iter().take(LIST_MAX).map(|f| json!({"id": f.id, "kind": f.kind, "reason": f.reason})).collect::<Vec<_>>(),
            "failed_count": r.failed.len(),
            "wrapped": r.wrapped,
            "shredded": r.shredded.values().sum::<u64>(),
            "shredded_tenants": r.shredded,
            "after": scan_json(&r.after),
            "elapsed_ms": r.elapsed.as_millis() as u64,
            "rows_per_sec": rows_per_sec(r).round(),
        }));
    } else {
        let dry = if r.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        };
        println!(
            "{what} {table}.{column}{dry}: {} rows in {:.2} s ({} rows/s)",
            thousands(r.rows),
            r.elapsed.as_secs_f64(),
            thousands(rows_per_sec(r) as u64)
        );
        let from: Vec<String> = r
            .rewritten_from
            .iter()
            .map(|(k, v)| format!("from kid {k}: {}", thousands(*v)))
            .collect();
        let verb = if r.dry_run {
            "would rewrite"
        } else {
            "rewritten"
        };
        let from = if from.is_empty() {
            String::new()
        } else {
            format!("  ({})", from.join(", "))
        };
        println!("  {verb:<19}{}{from}", thousands(r.rewritten));
        println!(
            "  {:<19}{}",
            "already current",
            thousands(r.already_current)
        );
        if r.nulls > 0 {
            println!("  {:<19}{}", "null (left alone)", thousands(r.nulls));
        }
        if r.concurrent_changes > 0 {
            println!(
                "  {:<19}{} (changed by another writer meanwhile; revisited, never overwritten)",
                "concurrent",
                thousands(r.concurrent_changes)
            );
        }
        if r.wrapped > 0 {
            println!(
                "  {:<19}{} (keyrings wrapped under a tenant's own KEK; left alone)",
                "cmek",
                thousands(r.wrapped)
            );
        }
        if !r.shredded.is_empty() {
            println!(
                "  {:<19}{} rows of {} shredded tenant(s) (unreadable by design; left alone)",
                "shredded",
                thousands(r.shredded.values().sum::<u64>()),
                r.shredded.len()
            );
        }
        println!("  {:<19}{}", "failed", thousands(r.failed.len() as u64));
        println!("  now in the column: {}", scan_line(&r.after));
        for f in r.failed.iter().take(LIST_MAX) {
            eprintln!("  row id {}: {} ({})", f.id, f.reason, f.kind);
        }
        if r.failed.len() > LIST_MAX {
            eprintln!("  ... and {} more (use --json)", r.failed.len() - LIST_MAX);
        }
        if !r.unsettled.is_empty() {
            eprintln!(
                "  {} row(s) kept changing under the job (ids {:?}); rerun to finish them",
                r.unsettled.len(),
                &r.unsettled[..r.unsettled.len().min(20)]
            );
        }
        if !r.failed.is_empty() {
            eprintln!("  rows that would not open were left as they are; nothing was deleted");
        }
    }
    if r.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURES)
    }
}

pub fn rewrap(a: RewrapArgs) -> Result<ExitCode, CliError> {
    let kr: Keyring = a.keyring.load()?;
    let mut db = Database::connect(&a.t.db)?;
    let tk;
    let transform = if a.tenant_keys {
        tk = keycustody_store::TenantKeys::new(&kr).with_unwrapper(crate::kek::cmek_unwrapper());
        Transform::RewrapTenants(&tk)
    } else {
        Transform::Rewrap(&kr)
    };
    let r = run_job(&mut db, a.t.spec(), transform, "rewrap")?;
    Ok(report("rewrap", &a.t.table, &a.t.column, &r, a.t.json))
}

fn password(a: &MigrateArgs) -> Result<SecretBytes, CliError> {
    if let Some(var) = &a.password_env {
        let v = std::env::var_os(var)
            .ok_or_else(|| CliError::usage(format!("environment variable {var} is not set")))?;
        return Ok(SecretBytes::new(v.into_encoded_bytes()));
    }
    if let Some(p) = &a.password_file {
        let mut bytes = std::fs::read(p)
            .map_err(|e| CliError::usage(format!("password file {}: {e}", p.display())))?;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        return Ok(SecretBytes::new(bytes));
    }
    Err(CliError::usage(
        "pass --password-env VAR or --password-file FILE",
    ))
}

pub fn migrate(a: MigrateArgs) -> Result<ExitCode, CliError> {
    let kr: Keyring = a.keyring.load()?;
    let pw = password(&a)?;
    let format = match a.from {
        From::Pbkdf2Gcm => LegacyFormat::Pbkdf2Gcm({
            let mut p = Pbkdf2GcmParams::default();
            p.iterations = a.iterations;
            p.salt_len = a.salt_len;
            p
        }),
        From::OpensslEnc => LegacyFormat::OpensslEnc {
            iterations: a.iterations,
        },
    };
    match &a.table_args() {
        Some(t) => {
            let mut db = Database::connect(&t.db)?;
            let transform = Transform::Migrate {
                keyring: &kr,
                format,
                password: &pw,
            };
            let r = run_job(&mut db, t.spec(), transform, "migrate")?;
            Ok(report("migrate", &t.table, &t.column, &r, t.json))
        }
        None => {
            let owner = a.owner.as_deref().ok_or_else(|| {
                CliError::usage("pass --db ... for a table, or --owner for one value on stdin")
            })?;
            let input = read_stdin(keycustody::MAX_LEGACY_LEN * 2)?;
            let plain = match format {
                LegacyFormat::Pbkdf2Gcm(p) => {
                    let text = std::str::from_utf8(&input).map_err(|_| {
                        keycustody::Error::Malformed(keycustody::MalformedKind::Utf8)
                    })?;
                    keycustody::decrypt_legacy_pbkdf2_gcm(text, pw.expose_secret(), p)?
                }
                LegacyFormat::OpensslEnc { iterations } => {
                    keycustody::decrypt_openssl_enc(&input, pw.expose_secret(), iterations)?
                }
            };
            let env = kr.seal(owner, plain.expose_secret(), a.value_context.as_bytes())?;
            println!("{env}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn scan(a: ScanArgs) -> Result<ExitCode, CliError> {
    let mut db = Database::connect(&a.db)?;
    let s = keycustody_store::scan(&mut db, &a.table, &a.column)?;
    if a.json {
        print_json(&scan_json(&s));
    } else {
        println!("{}.{}: {}", a.table, a.column, scan_line(&s));
    }
    Ok(ExitCode::SUCCESS)
}
