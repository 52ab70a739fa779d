//! `keycustody demo`: the main job end to end on the embedded default (SQLite).
//!
//! Creates a SQLite database of secrets for many tenants under kid 1, rotates the
//! keyring, runs the rewrap job (progress bar on a TTY), verifies every row, retires
//! kid 1 once a scan finds nothing under it, and prints the report.

use crate::common::{save_file, thousands, CliError};
use crate::jobs::{report, rows_per_sec, run_job, scan_line};
use keycustody::{Error, Keyring};
use keycustody_store::{ContextSource, Database, JobSpec, Transform};
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;
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
    Ok(code)
}

fn rusqlite_params<'a>(
    id: i64,
    owner: &'a str,
    name: &'a str,
    env: &'a str,
) -> impl keycustody_store::rusqlite::Params + 'a {
    (id, owner, name, env)
}
