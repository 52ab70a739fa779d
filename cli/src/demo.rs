//! `keycustody demo`: the main job end to end on the embedded default (SQLite).
//!
//! Creates a SQLite database of secrets for many tenants under kid 1, rotates the
//! keyring, runs the rewrap job (progress bar on a TTY), verifies every row, retires
//! kid 1 once a scan finds nothing under it, and prints the report.
//!
//! Then the custody hierarchy (DESIGN §7) on the same database: one keyring per tenant,
//! sealed under the platform keyring in `keycustody_tenant_keys`, the secrets sealed under
//! their tenant's keyring; a platform-root rotation rewrites one row per tenant and no data;
//! rotating one tenant moves only its rows; shredding one tenant (census first) makes
//! exactly its rows unreadable, in the table and in a copy of it, and no other tenant's.

use crate::common::{save_file, thousands, CliError};
use crate::jobs::{report, rows_per_sec, run_job, scan_line};
use keycustody::{Error, Keyring};
use keycustody_store::{
    census, tenant_table_spec, CensusTable, ContextSource, Database, JobSpec, StoreError,
    TenantKeys, Transform,
};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Secrets to create.
    #[arg(long, default_value_t = 100_000)]
    rows: u64,
    /// Tenants they belong to.
    #[arg(long, default_value_t = 10_000)]
    tenants: u64,
    /// Directory for the database and keyring (default: a fresh temporary directory, removed at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
}

const NAMES: [&str; 5] = [
    "openrouter_key",
    "anthropic_key",
    "telegram_bot_token",
    "ssh_private_key",
    "webhook_secret",
];

fn plaintext(id: i64) -> String {
    // Deterministic per row, so verification can check the exact bytes came back.
    format!(
        "sk-demo-{id:08}-{:016x}",
        (id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    )
}

fn row(id: i64, tenants: u64) -> (String, &'static str) {
    let t = (id as u64 - 1) % tenants;
    let name = NAMES[((id as u64 - 1) / tenants) as usize % NAMES.len()];
    (format!("tenant-{t:05}"), name)
}

struct TempDir(PathBuf, bool);
impl Drop for TempDir {
    fn drop(&mut self) {
        if self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn db_err(e: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("demo database: {e}"))
}

pub fn run(a: DemoArgs) -> Result<ExitCode, CliError> {
    if a.rows == 0 || a.tenants == 0 || a.rows > 10_000_000 {
        return Err(CliError::usage(
            "--rows must be 1 to 10,000,000 and --tenants at least 1",
        ));
    }
    let rows = i64::try_from(a.rows).map_err(|_| CliError::usage("--rows too large"))?;
    let dir = match &a.dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(db_err)?;
            TempDir(d.clone(), false)
        }
        None => {
            let d = std::env::temp_dir().join(format!("keycustody-demo-{}", std::process::id()));
            std::fs::create_dir_all(&d).map_err(db_err)?;
            TempDir(d, true)
        }
    };
    let db_path = dir.0.join("demo.db");
    let key_path = dir.0.join("keyring.json");
    for p in [&db_path, &key_path] {
        if p.exists() {
            std::fs::remove_file(p).map_err(db_err)?;
        }
    }
    println!(
        "keycustody demo: {} secrets for {} tenants in SQLite ({})",
        thousands(a.rows),
        thousands(a.tenants),
        db_path.display()
    );

    // 1. A keyring with kid 1, and the table sealed under it.
    let kr = Keyring::generate()?;
    save_file(&key_path, &kr, true)?;
    let t0 = Instant::now();
    let sealed: Vec<(i64, String, &str, String)> = (1..=rows)
        .into_par_iter()
        .map(|id| {
            let (owner, name) = row(id, a.tenants);
            let env = kr.seal(&owner, plaintext(id).as_bytes(), name.as_bytes())?;
            Ok((id, owner, name, env))
        })
        .collect::<Result<_, Error>>()?;
    let mut db = Database::open_sqlite(db_path.clone(), true)?;
    {
        let conn = db.sqlite().ok_or_else(|| CliError::usage("not SQLite"))?;
        conn.execute_batch(
            "CREATE TABLE secrets (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, \
             name TEXT NOT NULL, value TEXT)",
        )
        .map_err(db_err)?;
        let tx = conn.transaction().map_err(db_err)?;
        {
            let mut st = tx
                .prepare("INSERT INTO secrets (id, tenant_id, name, value) VALUES (?1, ?2, ?3, ?4)")
                .map_err(db_err)?;
            for (id, owner, name, env) in &sealed {
                st.execute(rusqlite_params(*id, owner, name, env))
                    .map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
    }
    let sample_old = sealed.first().map(|s| (s.1.clone(), s.2, s.3.clone()));
    drop(sealed);
    println!(
        "  1. sealed and stored under kid 1 in {:.2} s",
        t0.elapsed().as_secs_f64()
    );

    // 2. Rotate: kid 2 becomes the primary; kid 1 is decrypt-only.
    let new = kr.rotate()?;
    save_file(&key_path, &kr, false)?;
    println!("  2. rotated: kid {new} is the primary, kid 1 is decrypt-only");

    // 3. The rewrap job.
    let spec = JobSpec::new(
        "secrets",
        "id",
        "tenant_id",
        "value",
        ContextSource::Column("name".into()),
    );
    let r = run_job(&mut db, spec, Transform::Rewrap(&kr), "rewrap")?;
    println!("  3. rewrap job done:");
    let code = report("rewrap", "secrets", "value", &r, false);
    if !r.is_complete() {
        return Ok(code);
    }

    // 4. Verify every row: opens, under the new kid, with its exact plaintext.
    let t1 = Instant::now();
    let conn = db.sqlite().ok_or_else(|| CliError::usage("not SQLite"))?;
    let all: Vec<(i64, String, String, String)> = {
        let mut st = conn
            .prepare("SELECT id, tenant_id, name, value FROM secrets ORDER BY id")
            .map_err(db_err)?;
        let it = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(db_err)?;
        it.collect::<Result<_, _>>().map_err(db_err)?
    };
    let bad = all
        .par_iter()
        .filter(|(id, owner, name, env)| {
            let under_new = keycustody::inspect(env)
                .map(|i| i.kid == new)
                .unwrap_or(false);
            let opens = kr
                .open(owner, env, name.as_bytes())
                .map(|p| p.expose_secret() == plaintext(*id).as_bytes())
                .unwrap_or(false);
            !(under_new && opens)
        })
        .count();
    if bad > 0 || all.len() as u64 != a.rows {
        return Err(CliError {
            code: crate::common::EXIT_FAILURES,
            msg: format!(
                "verification failed: {bad} bad rows, {} of {} present",
                all.len(),
                a.rows
            ),
        });
    }
    println!(
        "  4. verified all {} rows: each opens to its exact plaintext under kid {new} ({:.2} s)",
        thousands(all.len() as u64),
        t1.elapsed().as_secs_f64()
    );

    // 5. Retire kid 1, after a scan finds nothing under it.
    let s = keycustody_store::scan(&mut db, "secrets", "value")?;
    if s.by_kid.get(&1).copied().unwrap_or(0) > 0 {
        return Err(CliError::refused("kid 1 still has envelopes; not retiring"));
    }
    kr.retire(1)?;
    save_file(&key_path, &kr, false)?;
    println!(
        "  5. scan: {}; kid 1 retired (its secret is destroyed)",
        scan_line(&s)
    );
    if let Some((owner, name, env)) = sample_old {
        match kr.open(&owner, &env, name.as_bytes()) {
            Err(Error::KeyRetired(1)) => {
                println!(
                    "     an old kid-1 envelope now fails with: {}",
                    Error::KeyRetired(1)
                );
            }
            _ => {
                return Err(CliError::usage(
                    "an old envelope still opened after retiring kid 1",
                ))
            }
        }
    }
    println!(
        "done: {} rows rewrapped at {} rows/s",
        thousands(r.rewritten),
        thousands(rows_per_sec(&r) as u64)
    );
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    hierarchy(&mut db, &kr, &a, rows)
}

fn verify_failed(msg: String) -> CliError {
    CliError {
        code: crate::common::EXIT_FAILURES,
        msg: format!("verification failed: {msg}"),
    }
}

/// `(id, tenant, name, value)` of a data table, in id order.
fn read_table(
    db: &mut Database,
    table: &str,
) -> Result<Vec<(i64, String, String, String)>, CliError> {
    let conn = db.sqlite().ok_or_else(|| CliError::usage("not SQLite"))?;
    let mut st = conn
        .prepare(&format!(
            "SELECT id, tenant_id, name, value FROM {table} ORDER BY id"
        ))
        .map_err(db_err)?;
    let it = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map_err(db_err)?;
    it.collect::<Result<_, _>>().map_err(db_err)
}

/// What opening every row of a data table through the tenant key store gave.
#[derive(Default)]
struct Opened {
    ok: u64,
    shredded: u64,
    other: u64,
    /// Rows that failed, per tenant.
    failed_tenants: HashMap<String, u64>,
}

/// Opens every row through the tenant key store `tk` (given with an empty cache, each
/// tenant's keyring is read from the table and unwrapped under the platform keyring once).
fn open_all(db: &mut Database, tk: &TenantKeys<'_>, table: &str) -> Result<Opened, CliError> {
    let all = read_table(db, table)?;
    let mut keyrings: HashMap<String, Result<Arc<Keyring>, Error>> = HashMap::new();
    for (_, t, _, _) in &all {
        if !keyrings.contains_key(t) {
            let k = match tk.load(db, t) {
                Ok(k) => Ok(k),
                Err(StoreError::Core(e)) => Err(e),
                Err(e) => return Err(e.into()),
            };
            keyrings.insert(t.clone(), k);
        }
    }
    let results: Vec<(Result<(), Error>, &String)> = all
        .par_iter()
        .map(|(id, t, name, env)| {
            let r = match &keyrings[t] {
                Ok(k) => k.open(t, env, name.as_bytes()).and_then(|p| {
                    if p.expose_secret() == plaintext(*id).as_bytes() {
                        Ok(())
                    } else {
                        Err(Error::DecryptFailed)
                    }
                }),
                Err(e) => Err(*e),
            };
            (r, t)
        })
        .collect();
    let mut o = Opened::default();
    for (r, t) in results {
        match r {
            Ok(()) => o.ok += 1,
            Err(e) => {
                if e == Error::TenantShredded {
                    o.shredded += 1;
                } else {
                    o.other += 1;
                }
                *o.failed_tenants.entry(t.clone()).or_default() += 1;
            }
        }
    }
    Ok(o)
}

fn hierarchy(
    db: &mut Database,
    platform: &Keyring,
    a: &DemoArgs,
    rows: i64,
) -> Result<ExitCode, CliError> {
    println!();
    println!(
        "custody hierarchy: {} tenants, each with its own keyring sealed under the platform keyring, {} secrets",
        thousands(a.tenants),
        thousands(a.rows)
    );
    // 6. One keyring per tenant, in keycustody_tenant_keys (one transaction).
    let t0 = Instant::now();
    TenantKeys::ensure_table(db)?;
    let tk = TenantKeys::new(platform);
    let names: Vec<String> = (0..a.tenants).map(|t| format!("tenant-{t:05}")).collect();
    let mut keyrings: HashMap<String, Arc<Keyring>> = HashMap::with_capacity(names.len());
    exec(db, "BEGIN IMMEDIATE")?;
    for t in &names {
        keyrings.insert(t.clone(), tk.create(db, t)?);
    }
    exec(db, "COMMIT")?;
    let before = keycustody_store::scan(db, keycustody_store::TENANT_TABLE, "keyring")?;
    println!(
        "  6. created {} tenant keyrings in {:.2} s; keycustody_tenant_keys.keyring: platform {}",
        thousands(names.len() as u64),
        t0.elapsed().as_secs_f64(),
        scan_line(&before)
    );

    // 7. The secrets, each sealed under its tenant's keyring (owner = tenant id).
    let t1 = Instant::now();
    let sealed: Vec<(i64, String, &str, String)> = (1..=rows)
        .into_par_iter()
        .map(|id| {
            let (owner, name) = row(id, a.tenants);
            let env = keyrings[&owner].seal(&owner, plaintext(id).as_bytes(), name.as_bytes())?;
            Ok((id, owner, name, env))
        })
        .collect::<Result<_, Error>>()?;
    drop(keyrings);
    {
        let conn = db.sqlite().ok_or_else(|| CliError::usage("not SQLite"))?;
        conn.execute_batch(
            "CREATE TABLE tenant_secrets (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, \
             name TEXT NOT NULL, value TEXT)",
        )
        .map_err(db_err)?;
        let tx = conn.transaction().map_err(db_err)?;
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO tenant_secrets (id, tenant_id, name, value) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db_err)?;
            for (id, owner, name, env) in &sealed {
                st.execute(rusqlite_params(*id, owner, name, env))
                    .map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
    }
    drop(sealed);
    let data = CensusTable::parse("tenant_secrets:id:tenant_id:value")?;
    let data_before: Vec<String> = read_table(db, "tenant_secrets")?
        .into_iter()
        .map(|r| r.3)
        .collect();
    println!(
        "  7. sealed {} secrets under their tenants' keyrings in {:.2} s",
        thousands(data_before.len() as u64),
        t1.elapsed().as_secs_f64()
    );

    // 8. Rotate the platform root: the rewrap job over the tenant key table only.
    let pkid = platform.rotate()?;
    let r = run_job(
        db,
        tenant_table_spec(),
        Transform::Rewrap(platform),
        "rewrap",
    )?;
    let data_after: Vec<String> = read_table(db, "tenant_secrets")?
        .into_iter()
        .map(|r| r.3)
        .collect();
    let data_changed = data_before
        .iter()
        .zip(&data_after)
        .filter(|(x, y)| x != y)
        .count()
        + data_before.len().abs_diff(data_after.len());
    let o = open_all(db, &TenantKeys::new(platform), "tenant_secrets")?;
    println!(
        "  8. platform root rotated to kid {pkid}: {} tenant rows rewritten in {:.2} s, {} data rows written; keyring column now: {}",
        thousands(r.rewritten),
        r.elapsed.as_secs_f64(),
        thousands(data_changed as u64),
        scan_line(&r.after)
    );
    println!(
        "     every secret still opens through its tenant keyring: {} of {} (failed: {})",
        thousands(o.ok),
        thousands(a.rows),
        thousands(o.shredded + o.other)
    );
    if !r.is_complete() || r.rewritten != a.tenants || data_changed != 0 || o.ok != a.rows {
        return Err(verify_failed(format!(
            "platform-root rotation: {} rewritten, {data_changed} data rows changed, {} rows open",
            r.rewritten, o.ok
        )));
    }

    // 9. Rotate one tenant, then `rewrap --tenant-keys`: only its rows move.
    let rotated = names[names.len() / 3].clone();
    let tkid = tk.rotate(db, &rotated)?;
    let tk2 = TenantKeys::new(platform);
    let spec = JobSpec::new(
        "tenant_secrets",
        "id",
        "tenant_id",
        "value",
        ContextSource::Column("name".into()),
    );
    let r = run_job(
        db,
        spec,
        Transform::RewrapTenants(&tk2),
        "rewrap --tenant-keys",
    )?;
    let c = census(db, std::slice::from_ref(&data), Some(&rotated))?;
    let moved = c[0].by_tenant.get(&rotated).cloned().unwrap_or_default();
    let o = open_all(db, &TenantKeys::new(platform), "tenant_secrets")?;
    println!(
        "  9. tenant {rotated:?} rotated to its kid {tkid}; rewrap --tenant-keys: {} rows rewritten, {} already current; its rows now: {}",
        thousands(r.rewritten),
        thousands(r.already_current),
        crate::tenants::census_lines(&c).join("; ")
    );
    println!(
        "     every secret opens: {} of {}",
        thousands(o.ok),
        thousands(a.rows)
    );
    if !r.is_complete()
        || r.rewritten != moved.rows()
        || moved.by_kid.get(&tkid).copied() != Some(moved.rows())
        || r.already_current + r.rewritten != a.rows
        || o.ok != a.rows
    {
        return Err(verify_failed(format!(
            "tenant rotation: {} rewritten for {} rows of the tenant",
            r.rewritten,
            moved.rows()
        )));
    }

    // 10. Shred one tenant: census first, a copy of the data table taken before, then shred.
    let victim = names[names.len() / 2].clone();
    exec(
        db,
        "CREATE TABLE tenant_secrets_backup AS SELECT * FROM tenant_secrets",
    )?;
    let c = census(db, std::slice::from_ref(&data), Some(&victim))?;
    let doomed = c[0].by_tenant.get(&victim).map_or(0, |n| n.rows());
    println!("  10. census before shredding tenant {victim:?}:");
    for l in crate::tenants::census_lines(&c) {
        println!("        {l}");
    }
    tk.shred(db, &victim, keycustody::unix_now()?)?;
    let mut all_ok = true;
    let fresh = TenantKeys::new(platform);
    for table in ["tenant_secrets", "tenant_secrets_backup"] {
        let o = open_all(db, &fresh, table)?;
        let only_victim = o.failed_tenants.len() == 1 && o.failed_tenants.contains_key(&victim);
        println!(
            "      {table}: {} rows fail with TenantShredded (census said {}), {} other failures; {} rows of the other {} tenants open",
            thousands(o.shredded),
            thousands(doomed),
            thousands(o.other),
            thousands(o.ok),
            thousands(a.tenants - 1)
        );
        all_ok &= only_victim && o.shredded == doomed && o.other == 0 && o.ok + doomed == a.rows;
    }
    match tk.load(db, &victim) {
        Err(StoreError::Core(Error::TenantShredded)) => {
            println!(
                "      loading its keyring now says: {}",
                Error::TenantShredded
            );
        }
        _ => all_ok = false,
    }
    if !all_ok {
        return Err(verify_failed("shredding".into()));
    }
    println!("done: hierarchy shown; every claim above was checked");
    Ok(ExitCode::SUCCESS)
}

fn exec(db: &mut Database, sql: &str) -> Result<(), CliError> {
    db.sqlite()
        .ok_or_else(|| CliError::usage("not SQLite"))?
        .execute_batch(sql)
        .map_err(db_err)
}

fn rusqlite_params<'a>(
    id: i64,
    owner: &'a str,
    name: &'a str,
    env: &'a str,
) -> impl keycustody_store::rusqlite::Params + 'a {
    (id, owner, name, env)
}
