//! `make bench-store` (tenant part): platform-root rotation with 10,000 tenants over 100,000
//! data rows on SQLite and PostgreSQL: rows written (= tenants, no data row) and the time,
//! beside the rewrap of the same 100,000 data rows under a flat platform key (what a
//! design without tenant keyrings rewrites), measured in the same run. Writes Markdown.
//!
//! Usage: tenant_bench POSTGRES_URL OUT.md
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keycustody::Keyring;
use keycustody_store::{
    postgres, rusqlite, tenant_table_spec, ContextSource, Database, Job, JobSpec, TenantKeys,
    Transform,
};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::sync::Arc;

const TENANTS: usize = 10_000;
const ROWS: usize = 100_000;

fn plain(id: usize) -> String {
    format!("sk-bench-{id:08}-padding-to-a-realistic-length")
}

/// Creates the tenants and the data table; returns the data values (to check none changes).
fn populate(db: &mut Database, platform: &Keyring) -> Vec<String> {
    TenantKeys::ensure_table(db).unwrap();
    let tk = TenantKeys::new(platform);
    let names: Vec<String> = (0..TENANTS).map(|t| format!("tenant-{t:05}")).collect();
    if let Some(c) = db.sqlite() {
        c.execute_batch("BEGIN").unwrap();
    }
    let krs: Vec<Arc<Keyring>> = names.iter().map(|t| tk.create(db, t).unwrap()).collect();
    if let Some(c) = db.sqlite() {
        c.execute_batch("COMMIT").unwrap();
    }
    let rows: Vec<(i64, String, String)> = (0..ROWS)
        .into_par_iter()
        .map(|i| {
            let t = i % TENANTS;
            let v = krs[t].seal(&names[t], plain(i).as_bytes(), b"").unwrap();
            (i as i64 + 1, names[t].clone(), v)
        })
        .collect();
    create_table(db, "data", &rows);
    rows.into_iter().map(|r| r.2).collect()
}

/// Creates `table (id, tenant, value)` and inserts `rows` into it.
fn create_table(db: &mut Database, table: &str, rows: &[(i64, String, String)]) {
    let ddl =
        format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, tenant TEXT NOT NULL, value TEXT)");
    if let Some(c) = db.sqlite() {
        c.execute_batch(&ddl).unwrap();
        let tx = c.transaction().unwrap();
        {
            let mut st = tx
                .prepare(&format!("INSERT INTO {table} VALUES (?1, ?2, ?3)"))
                .unwrap();
            for (id, t, v) in rows {
                st.execute(rusqlite::params![id, t, v]).unwrap();
            }
        }
        tx.commit().unwrap();
    } else {
        let c = db.postgres().unwrap();
        c.batch_execute(&ddl).unwrap();
        let sql =
            format!("INSERT INTO {table} SELECT * FROM unnest($1::int8[], $2::text[], $3::text[])");
        for chunk in rows.chunks(10_000) {
            let ids: Vec<i64> = chunk.iter().map(|r| r.0).collect();
            let ts: Vec<&str> = chunk.iter().map(|r| r.1.as_str()).collect();
            let vs: Vec<&str> = chunk.iter().map(|r| r.2.as_str()).collect();
            c.execute(sql.as_str(), &[&ids, &ts, &vs]).unwrap();
        }
    }
}

fn values(db: &mut Database) -> Vec<String> {
    let sql = "SELECT value FROM data ORDER BY id";
    if let Some(c) = db.sqlite() {
        let mut st = c.prepare(sql).unwrap();
        let it = st.query_map([], |r| r.get(0)).unwrap();
        it.collect::<Result<_, _>>().unwrap()
    } else {
        db.postgres()
            .unwrap()
            .query(sql, &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

/// (tenant rows written, data rows written, seconds) of the platform-root rotation, and
/// (rows, seconds) of the flat rewrap of the same data under one platform key.
fn run(mut db: Database, mut flat_db: Database) -> ((u64, u64, f64), (u64, f64)) {
    let platform = Keyring::generate().unwrap();
    let before = populate(&mut db, &platform);
    platform.rotate().unwrap();
    let r = Job::new(&mut db, tenant_table_spec(), Transform::Rewrap(&platform))
        .unwrap()
        .run(&mut |_| {})
        .unwrap();
    assert!(r.is_complete());
    assert_eq!(r.rewritten, TENANTS as u64);
    let changed = before
        .iter()
        .zip(values(&mut db))
        .filter(|(a, b)| *a != b)
        .count() as u64;
    assert_eq!(changed, 0);
    // Baseline: the same 100,000 rows sealed under the platform keyring itself, rewrapped.
    let flat = Keyring::generate().unwrap();
    let rows: Vec<(i64, String, String)> = (0..ROWS)
        .into_par_iter()
        .map(|i| {
            let t = format!("tenant-{:05}", i % TENANTS);
            let v = flat.seal(&t, plain(i).as_bytes(), b"").unwrap();
            (i as i64 + 1, t, v)
        })
        .collect();
    create_table(&mut flat_db, "flat", &rows);
    flat.rotate().unwrap();
    let spec = JobSpec::new(
        "flat",
        "id",
        "tenant",
        "value",
        ContextSource::Fixed(Vec::new()),
    );
    let f = Job::new(&mut flat_db, spec, Transform::Rewrap(&flat))
        .unwrap()
        .run(&mut |_| {})
        .unwrap();
    assert_eq!(f.rewritten, ROWS as u64);
    (
        (r.rewritten, changed, r.elapsed.as_secs_f64()),
        (f.rewritten, f.elapsed.as_secs_f64()),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, out) = (
        args.get(1).expect("POSTGRES_URL"),
        args.get(2).expect("OUT.md"),
    );
    let dir = std::env::temp_dir().join(format!("kc-tenant-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let s = run(
        Database::open_sqlite(dir.join("tenants.db"), true).unwrap(),
        Database::open_sqlite(dir.join("flat.db"), true).unwrap(),
    );
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("sqlite: {s:?}");
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute("DROP SCHEMA IF EXISTS kc_tenant_bench CASCADE; CREATE SCHEMA kc_tenant_bench")
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let purl = format!("{url}{sep}options=-csearch_path%3Dkc_tenant_bench");
    let p = run(
        Database::connect(&purl).unwrap(),
        Database::connect(&purl).unwrap(),
    );
    c.batch_execute("DROP SCHEMA kc_tenant_bench CASCADE")
        .unwrap();
    eprintln!("postgres: {p:?}");
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## store: platform-root rotation with tenant keyrings\n"
    );
    let _ = writeln!(
        md,
        "{TENANTS} tenants, each with its own keyring sealed under the platform keyring \
         (`keycustody_tenant_keys`), {ROWS} data rows sealed under their tenants' keyrings; \
         the platform root is rotated and the rewrap job runs over the tenant key table \
         (2000-row transactions, {cores} cores). Baseline, same run and database: the same \
         {ROWS} rows sealed directly under a platform keyring, rewrapped after its rotation \
         (what a design without tenant keyrings rewrites). Data rows written is checked by \
         comparing every data value before and after.\n"
    );
    let _ = writeln!(
        md,
        "| figure | rows written | data rows written | time (s) | baseline rows | baseline time (s) | goal | met |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---|:-:|");
    for (name, ((w, d, t), (bw, bt))) in [("SQLite", s), ("PostgreSQL", p)] {
        let met = if w == TENANTS as u64 && d == 0 {
            "yes"
        } else {
            "**no**"
        };
        let _ = writeln!(
            md,
            "| platform-root rotation, {name} | {w} | {d} | {t:.3} | {bw} | {bt:.3} | rows written = {TENANTS} | {met} |"
        );
    }
    std::fs::write(out, md).unwrap();
    eprintln!("wrote {out}");
}
