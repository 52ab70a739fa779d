//! `make bench-audit`: audit appends/s to SQLite and PostgreSQL with 1 and 4 concurrent
//! appenders (each its own connection), beside a baseline in the same run and database (a plain
//! INSERT of the same row in its own transaction: no head lock, no MAC); and core's `next` and
//! `verify` per entry beside one HMAC-SHA256 of the entry's text with a derived key. Writes
//! Markdown.
//!
//! Usage: audit_bench POSTGRES_URL OUT.md
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keycustody::{AuditChain, AuditEvent, AuditOutcome, Keyring};
use keycustody_store::{postgres, AuditStore, Database};
use std::fmt::Write as _;
use std::time::Instant;

const N: usize = 2000;
const CORE_N: usize = 20_000;
const SCOPE: &str = "acme/dashboard";

fn ring() -> Keyring {
    Keyring::from_secret(&[9u8; 32], 1).unwrap()
}

fn event(w: usize, i: usize) -> AuditEvent {
    AuditEvent::new("secret.view")
        .name(&format!("SECRET_{i}"))
        .actor(&format!("app-{w}"))
        .tenant("acme")
        .outcome(AuditOutcome::Ok)
}

/// Entries per second with `writers` threads, each appending `N / writers` entries on its own
/// connection from `connect`.
fn chain_rate(connect: &(dyn Fn() -> Database + Sync), writers: usize) -> f64 {
    drop(AuditStore::new(connect(), &ring()).unwrap());
    let per = N / writers;
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            s.spawn(move || {
                let mut st = AuditStore::new(connect(), &ring()).unwrap();
                for i in 0..per {
                    st.append(SCOPE, &event(w, i), 1_800_000_000).unwrap();
                }
            });
        }
    });
    let rate = (per * writers) as f64 / t.elapsed().as_secs_f64();
    let mut st = AuditStore::new(connect(), &ring()).unwrap();
    assert_eq!(st.verify(SCOPE).unwrap().entries, (per * writers) as u64);
    rate
}

/// The baseline: the same rows (an entry built once, outside the timing) inserted with a plain
/// INSERT, one transaction each, no head and no chain.
fn plain_rate(connect: &(dyn Fn() -> Database + Sync), writers: usize) -> f64 {
    let c = AuditChain::new(&ring(), SCOPE).unwrap();
    let text = c.next(None, &event(0, 0), 1_800_000_000).unwrap().to_json();
    const DDL: &str =
        "CREATE TABLE IF NOT EXISTS plain_audit (id BIGINT NOT NULL, w BIGINT NOT NULL, \
         ts BIGINT NOT NULL, op TEXT NOT NULL, actor TEXT, tenant TEXT, outcome TEXT, \
         entry TEXT NOT NULL, PRIMARY KEY (w, id))";
    {
        let mut db = connect();
        match db.sqlite() {
            Some(s) => s.execute_batch(DDL).unwrap(),
            None => db.postgres().unwrap().batch_execute(DDL).unwrap(),
        }
    }
    let per = N / writers;
    let text = &text;
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            s.spawn(move || {
                let mut db = connect();
                let w = w as i64;
                for i in 0..per as i64 {
                    if let Some(c) = db.sqlite() {
                        let tx = c.transaction().unwrap();
                        tx.execute(
                            "INSERT INTO plain_audit VALUES (?1, ?2, 1800000000, 'secret.view', 'app', 'acme', 'ok', ?3)",
                            keycustody_store::rusqlite::params![i, w, text],
                        )
                        .unwrap();
                        tx.commit().unwrap();
                    } else {
                        let c = db.postgres().unwrap();
                        let mut tx = c.transaction().unwrap();
                        tx.execute(
                            "INSERT INTO plain_audit VALUES ($1, $2, 1800000000, 'secret.view', 'app', 'acme', 'ok', $3)",
                            &[&i, &w, text],
                        )
                        .unwrap();
                        tx.commit().unwrap();
                    }
                }
            });
        }
    });
    (per * writers) as f64 / t.elapsed().as_secs_f64()
}

fn db_rows(name: &str, connect: &(dyn Fn() -> Database + Sync), reset: &dyn Fn()) -> String {
    let mut md = String::new();
    for writers in [1usize, 4] {
        reset();
        let chain = chain_rate(connect, writers);
        let plain = plain_rate(connect, writers);
        eprintln!("{name} x{writers}: chain {chain:.0}/s, plain {plain:.0}/s");
        let _ = writeln!(
            md,
            "| {name}, {writers} appender{} | {chain:.0} entries/s | {plain:.0} rows/s | {:.2}x |",
            if writers > 1 { "s" } else { "" },
            plain / chain
        );
    }
    md
}

fn core_rows() -> String {
    let kr = ring();
    let c = AuditChain::new(&kr, SCOPE).unwrap();
    let ev = event(0, 0);
    let t = Instant::now();
    let mut v = Vec::with_capacity(CORE_N);
    for i in 0..CORE_N {
        let e = c.next(v.last(), &ev, i as u64).unwrap();
        v.push(e);
    }
    let next_us = t.elapsed().as_secs_f64() * 1e6 / CORE_N as f64;
    let t = Instant::now();
    let r = c.verify_run(&v, None).unwrap();
    let verify_us = t.elapsed().as_secs_f64() * 1e6 / CORE_N as f64;
    assert_eq!(r.entries, CORE_N as u64);
    // Baseline: a derived key and one HMAC-SHA256 of the entry's text (core's per-tenant
    // pseudonym: HKDF-Expand + HMAC, the least an entry MAC can cost).
    let text = v[CORE_N / 2].to_json();
    let t = Instant::now();
    for _ in 0..CORE_N {
        std::hint::black_box(kr.pseudonymize_for(SCOPE, &text).unwrap());
    }
    let base_us = t.elapsed().as_secs_f64() * 1e6 / CORE_N as f64;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "| core `next` per entry (checks prev's MAC, builds and MACs the next) | {next_us:.2} µs | {base_us:.2} µs | {:.2}x |",
        next_us / base_us
    );
    let _ = writeln!(
        md,
        "| core `verify_run` per entry | {verify_us:.2} µs | {base_us:.2} µs | {:.2}x |",
        verify_us / base_us
    );
    md
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, out) = (
        args.get(1).expect("POSTGRES_URL"),
        args.get(2).expect("OUT.md"),
    );
    let core = core_rows();
    let dir = std::env::temp_dir().join(format!("kc-audit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.db");
    let sqlite_connect = || Database::open_sqlite(path.clone(), true).unwrap();
    let sqlite = db_rows("SQLite (WAL)", &sqlite_connect, &|| {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
    let sep = if url.contains('?') { '&' } else { '?' };
    let purl = format!("{url}{sep}options=-csearch_path%3Dkc_audit_bench");
    let pg_connect = || Database::connect(&purl).unwrap();
    let pg = db_rows("PostgreSQL", &pg_connect, &|| {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        c.batch_execute(
            "DROP SCHEMA IF EXISTS kc_audit_bench CASCADE; CREATE SCHEMA kc_audit_bench",
        )
        .unwrap();
    });
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## audit chain: appends to SQLite and PostgreSQL, core per entry\n"
    );
    let _ = writeln!(
        md,
        "{N} entries per run ({cores} cores, default durability: one fsync per commit on both). \
         An append is one transaction serialized on the chain's head row (PostgreSQL `SELECT .. \
         FOR UPDATE`, SQLite `BEGIN IMMEDIATE`); the appenders each hold their own connection. \
         Baseline, same run and database: a plain INSERT of the same row in its own transaction \
         (no head lock, no MAC, no chain). Core: {CORE_N} entries; baseline one derived key + \
         HMAC-SHA256 of the entry's text.\n"
    );
    let _ = writeln!(md, "| what | audit chain | baseline | chain cost |");
    let _ = writeln!(md, "|---|---|---|---|");
    md.push_str(&sqlite);
    md.push_str(&pg);
    md.push_str(&core);
    std::fs::write(out, md).unwrap();
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute("DROP SCHEMA IF EXISTS kc_audit_bench CASCADE")
        .unwrap();
}
