//! `keycustody tenants create | rotate | shred | list | census | rewrap`: the tenant key
//! store (DESIGN §7) from the command line. `--keyring` is the platform keyring.

use crate::common::{print_json, thousands, CliError, KeyringArg, EXIT_REFUSED, EXIT_USAGE};
use crate::jobs::{report, run_job, scan_json, scan_line};
use keycustody::Error;
use keycustody_store::{
    census, tenant_table_spec, CensusTable, Database, StoreError, TableCensus, TenantForm,
    TenantKeys, Transform, TENANT_TABLE,
};
use serde_json::json;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Create a tenant: a fresh keyring sealed under the platform keyring (or, with
    /// --cmek-file, a keyring already wrapped under the tenant's own KEK). Refused if the
    /// tenant exists (shredded tenants included: ids are never reused).
    Create(CreateArgs),
    /// Rotate a tenant's keyring (add + promote; the old key stays decrypt-only until
    /// `rewrap --tenant-keys` has moved the tenant's data). Compare-and-swap on the row:
    /// a concurrent rotation makes this one fail with Conflict, nothing written.
    Rotate(TenantArgs),
    /// Shred a tenant: erase its keyring, keep a tombstone. Prints the census of the
    /// tenant's rows first and asks for confirmation (unless --yes).
    Shred(ShredArgs),
    /// List tenants and how each keyring is held (never a key).
    List(ListArgs),
    /// Rows per tenant per kid in the named tables (kc1 headers only).
    Census(CensusArgs),
    /// Platform-root rotation: re-seal every tenant keyring under the platform primary (the
    /// rewrap job over keycustody_tenant_keys.keyring; CMEK rows counted apart).
    Rewrap(RewrapArgs),
}

#[derive(clap::Args, Debug)]
pub struct TenantArgs {
    #[command(flatten)]
    keyring: KeyringArg,
    /// Database URL: sqlite:PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, value_name = "URL")]
    db: String,
    /// The tenant id (the owner of its envelopes).
    #[arg(long)]
    tenant: String,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Test hook (rotate): sleep this long between reading the row and writing it, so that
    /// tests can make two rotations overlap.
    #[arg(long, hide = true, default_value_t = 0)]
    test_pause_before_write_ms: u64,
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    t: TenantArgs,
    /// A file holding the tenant's keyring wrapped under its own KEK (CMEK, owner = the tenant).
    #[arg(long, value_name = "FILE")]
    cmek_file: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ShredArgs {
    /// Database URL.
    #[arg(long, value_name = "URL")]
    db: String,
    /// The tenant id.
    #[arg(long)]
    tenant: String,
    /// A table to count first, as TABLE:ID_COLUMN:OWNER_COLUMN:VALUE_COLUMN (repeatable).
    #[arg(long = "census", value_name = "SPEC")]
    census: Vec<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    /// Machine-readable output (needs --yes).
    #[arg(long, requires = "yes")]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Database URL.
    #[arg(long, value_name = "URL")]
    db: String,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct CensusArgs {
    /// Database URL.
    #[arg(long, value_name = "URL")]
    db: String,
    /// A table to count, as TABLE:ID_COLUMN:OWNER_COLUMN:VALUE_COLUMN (repeatable).
    #[arg(long = "census", value_name = "SPEC", required = true)]
    census: Vec<String>,
    /// Count this tenant only.
    #[arg(long)]
    tenant: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct RewrapArgs {
    #[command(flatten)]
    keyring: KeyringArg,
    /// Database URL.
    #[arg(long, value_name = "URL")]
    db: String,
    /// Rows per batch (one transaction each).
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    /// Open and re-seal everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Machine-readable report on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(c: Command) -> Result<ExitCode, CliError> {
    match c {
        Command::Create(a) => create(a),
        Command::Rotate(a) => rotate(a),
        Command::Shred(a) => shred(a),
        Command::List(a) => list(a),
        Command::Census(a) => census_cmd(a),
        Command::Rewrap(a) => rewrap(a),
    }
}

/// A store error about one tenant: the message names the tenant and the error kind;
/// a lost race and an existing tenant are refusals (exit 3).
fn tenant_err(tenant: &str, e: StoreError) -> CliError {
    match e {
        StoreError::Core(inner) => {
            let code = match inner {
                Error::Conflict | Error::TenantExists => EXIT_REFUSED,
                _ => CliError::from(inner).code,
            };
            CliError {
                code,
                msg: format!("tenant {tenant:?}: {inner} [{}]", inner.kind()),
            }
        }
        other => CliError::from(other),
    }
}

fn create(a: CreateArgs) -> Result<ExitCode, CliError> {
    let t = &a.t;
    let platform = t.keyring.load()?;
    let mut db = Database::connect(&t.db)?;
    TenantKeys::ensure_table(&mut db)?;
    let tk = TenantKeys::new(&platform).with_unwrapper(crate::kek::cmek_unwrapper());
    let form = match &a.cmek_file {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| CliError::usage(format!("CMEK file {}: {e}", p.display())))?;
            tk.create_wrapped(&mut db, &t.tenant, text.trim())
                .map_err(|e| tenant_err(&t.tenant, e))?;
            "cmek"
        }
        None => {
            tk.create(&mut db, &t.tenant)
                .map_err(|e| tenant_err(&t.tenant, e))?;
            "platform"
        }
    };
    if t.json {
        print_json(&json!({"tenant": t.tenant, "created": true, "form": form, "kid": 1}));
    } else if form == "cmek" {
        println!(
            "created tenant {:?} (keyring wrapped under its own KEK)",
            t.tenant
        );
    } else {
        println!(
            "created tenant {:?}: keyring kid 1, sealed under platform kid {}",
            t.tenant,
            platform.primary_kid()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn rotate(t: TenantArgs) -> Result<ExitCode, CliError> {
    let platform = t.keyring.load()?;
    let mut db = Database::connect(&t.db)?;
    let tk = TenantKeys::new(&platform).with_unwrapper(crate::kek::cmek_unwrapper());
    let pause = std::time::Duration::from_millis(t.test_pause_before_write_ms);
    let kid = tk
        .rotate_with_pause(&mut db, &t.tenant, &mut || std::thread::sleep(pause))
        .map_err(|e| tenant_err(&t.tenant, e))?;
    if t.json {
        print_json(&json!({"tenant": t.tenant, "rotated": true, "kid": kid}));
    } else {
        println!(
            "rotated tenant {:?}: kid {kid} is the primary, the previous key is decrypt-only; \
             run `keycustody rewrap --tenant-keys` to move its data",
            t.tenant
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_tables(specs: &[String]) -> Result<Vec<CensusTable>, CliError> {
    specs
        .iter()
        .map(|s| CensusTable::parse(s).map_err(CliError::from))
        .collect()
}

fn census_json(cs: &[TableCensus]) -> serde_json::Value {
    json!(cs
        .iter()
        .map(|c| json!({
            "table": c.table, "column": c.column,
            "tenants": c.by_tenant.iter().map(|(t, n)| (t.clone(), scan_json(n))).collect::<serde_json::Map<_, _>>(),
        }))
        .collect::<Vec<_>>())
}

/// One line per (table, tenant): `secrets.value  tenant-1: 12 rows (kid 1: 10, kid 2: 2)`.
pub fn census_lines(cs: &[TableCensus]) -> Vec<String> {
    let mut out = Vec::new();
    for c in cs {
        if c.by_tenant.is_empty() {
            out.push(format!("{}.{}: no rows", c.table, c.column));
        }
        for (t, n) in &c.by_tenant {
            out.push(format!(
                "{}.{} tenant {t:?}: {} rows ({})",
                c.table,
                c.column,
                thousands(n.rows()),
                scan_line(n)
            ));
        }
    }
    out
}

fn shred(a: ShredArgs) -> Result<ExitCode, CliError> {
    keycustody::validate_owner(&a.tenant)?;
    let tables = parse_tables(&a.census)?;
    let mut db = Database::connect(&a.db)?;
    let cs = census(&mut db, &tables, Some(&a.tenant))?;
    let rows: u64 = cs
        .iter()
        .flat_map(|c| c.by_tenant.values())
        .map(|n| n.rows())
        .sum();
    if !a.json {
        println!(
            "census before shredding tenant {:?} ({} rows become unreadable):",
            a.tenant,
            thousands(rows)
        );
        for l in census_lines(&cs) {
            println!("  {l}");
        }
        if tables.is_empty() {
            println!("  (no --census tables named: the rows are not counted)");
        }
    }
    if !a.yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(CliError::refused(
                "shredding is irreversible: pass --yes, or run on a terminal to confirm",
            ));
        }
        print!("type the tenant id to shred it for good: ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::usage(format!("reading stdin: {e}")))?;
        if line.trim_end_matches(['\r', '\n']) != a.tenant {
            return Err(CliError::refused("not confirmed; nothing shredded"));
        }
    }
    let now = keycustody::unix_now()?;
    // The platform keyring is not needed to erase a row.
    let dummy = keycustody::Keyring::generate()?;
    TenantKeys::new(&dummy)
        .shred(&mut db, &a.tenant, now)
        .map_err(|e| tenant_err(&a.tenant, e))?;
    if a.json {
        print_json(
            &json!({"tenant": a.tenant, "shredded": true, "shredded_at": now,
            "rows_unreadable": rows, "census": census_json(&cs)}),
        );
    } else {
        println!(
            "shredded tenant {:?}: its keyring is erased, the tombstone kept; {} rows are now unreadable",
            a.tenant,
            thousands(rows)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn list(a: ListArgs) -> Result<ExitCode, CliError> {
    let mut db = Database::connect(&a.db)?;
    let all = TenantKeys::list(&mut db)?;
    if a.json {
        print_json(&json!(all
            .iter()
            .map(|e| match &e.form {
                TenantForm::Platform { platform_kid } =>
                    json!({"tenant": e.tenant, "form": "platform", "platform_kid": platform_kid}),
                TenantForm::Wrapped { kek_type } =>
                    json!({"tenant": e.tenant, "form": "cmek", "kek_type": kek_type}),
                TenantForm::Shredded { at } =>
                    json!({"tenant": e.tenant, "form": "shredded", "shredded_at": at}),
                TenantForm::Unreadable => json!({"tenant": e.tenant, "form": "unreadable"}),
            })
            .collect::<Vec<_>>()));
    } else {
        for e in &all {
            let what = match &e.form {
                TenantForm::Platform { platform_kid } => {
                    format!("sealed under platform kid {platform_kid}")
                }
                TenantForm::Wrapped { kek_type } => format!("CMEK ({kek_type})"),
                TenantForm::Shredded { at } => format!("shredded at {at}"),
                TenantForm::Unreadable => "unreadable row".into(),
            };
            println!("{:<40} {what}", e.tenant);
        }
        println!("{} tenants in {TENANT_TABLE}", thousands(all.len() as u64));
    }
    Ok(ExitCode::SUCCESS)
}

fn census_cmd(a: CensusArgs) -> Result<ExitCode, CliError> {
    let tables = parse_tables(&a.census)?;
    let mut db = Database::connect(&a.db)?;
    let cs = census(&mut db, &tables, a.tenant.as_deref())?;
    if a.json {
        print_json(&census_json(&cs));
    } else {
        for l in census_lines(&cs) {
            println!("{l}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rewrap(a: RewrapArgs) -> Result<ExitCode, CliError> {
    if a.batch == 0 {
        return Err(CliError {
            code: EXIT_USAGE,
            msg: "--batch must be at least 1".into(),
        });
    }
    let platform = a.keyring.load()?;
    let mut db = Database::connect(&a.db)?;
    let mut spec = tenant_table_spec();
    spec.batch = a.batch;
    spec.dry_run = a.dry_run;
    let r = run_job(
        &mut db,
        spec,
        Transform::Rewrap(&platform),
        "rewrap tenant keys",
    )?;
    Ok(report("rewrap", TENANT_TABLE, "keyring", &r, a.json))
}
