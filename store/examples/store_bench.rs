//! `make bench-store`: rewrap rows/s on SQLite and PostgreSQL, and legacy PBKDF2-100k
//! import per row, each beside a baseline measured in the same run. Writes Markdown.
//!
//! Usage: store_bench POSTGRES_URL OUT.md
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keycustody::{Keyring, Pbkdf2GcmParams, SecretBytes};
use keycustody_store::{
    postgres, rusqlite, ContextSource, Database, Job, JobSpec, LegacyFormat, Transform,
};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::time::Instant;

const ROWS: i64 = 100_000;
const LEGACY_ROWS: usize = 400;

fn rows(kr: &Keyring) -> Vec<(i64, String, String)> {
    (1..=ROWS)
        .into_par_iter()
        .map(|id| {
            let o = format!("tenant-{}", id % 10_000);
            let v = kr
                .seal(
                    &o,
                    format!("sk-bench-{id:08}-padding-to-a-realistic-length").as_bytes(),
                    b"",
                )
                .unwrap();
            (id, o, v)
        })
        .collect()
}

fn job(db: &mut Database, table: &str, kr: &Keyring) -> f64 {
    let spec = JobSpec::new(
        table,
        "id",
        "tenant",
        "value",
        ContextSource::Fixed(Vec::new()),
    );
    let r = Job::new(db, spec, Transform::Rewrap(kr))
        .unwrap()
        .run(&mut |_| {})
        .unwrap();
    assert_eq!(r.rewritten, ROWS as u64);
    assert!(r.is_complete());
    ROWS as f64 / r.elapsed.as_secs_f64()
}

fn sqlite(kr: &Keyring, data: &[(i64, String, String)]) -> (f64, f64) {
    let dir = std::env::temp_dir().join(format!("kc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.db");
    let _ = std::fs::remove_file(&path);
    let mut db = Database::open_sqlite(path.clone(), true).unwrap();
    {
        let c = db.sqlite().unwrap();
        c.execute_batch("CREATE TABLE s (id INTEGER PRIMARY KEY, tenant TEXT, value TEXT)")
            .unwrap();
        let tx = c.transaction().unwrap();
        {
            let mut st = tx.prepare("INSERT INTO s VALUES (?1, ?2, ?3)").unwrap();
            for (id, o, v) in data {
                st.execute(rusqlite::params![id, o, v]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    // Baseline: the same walk and CAS writes with no crypto (each value written back unchanged,
    // in 2000-row transactions): the floor the database sets.
    let base = {
        let c = db.sqlite().unwrap();
        let t = Instant::now();
        let mut after = 0i64;
        loop {
            let batch: Vec<(i64, String)> = {
                let mut st = c
                    .prepare_cached("SELECT id, value FROM s WHERE id > ?1 ORDER BY id LIMIT 2000")
                    .unwrap();
                st.query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            };
            let Some(last) = batch.last() else { break };
            after = last.0;
            let tx =
                rusqlite::Transaction::new(c, rusqlite::TransactionBehavior::Immediate).unwrap();
            {
                let mut st = tx
                    .prepare_cached("UPDATE s SET value = ?1 WHERE id = ?2 AND value = ?3")
                    .unwrap();
                for (id, v) in &batch {
                    st.execute(rusqlite::params![v, id, v]).unwrap();
                }
            }
            tx.commit().unwrap();
        }
        ROWS as f64 / t.elapsed().as_secs_f64()
    };
    let got = job(&mut db, "s", kr);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    (got, base)
}

fn pg(url: &str, kr: &Keyring, data: &[(i64, String, String)]) -> (f64, f64) {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(
        "DROP TABLE IF EXISTS s; CREATE TABLE s (id BIGINT PRIMARY KEY, tenant TEXT, value TEXT)",
    )
    .unwrap();
    for chunk in data.chunks(10_000) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.0).collect();
        let os: Vec<&str> = chunk.iter().map(|r| r.1.as_str()).collect();
        let vs: Vec<&str> = chunk.iter().map(|r| r.2.as_str()).collect();
        c.execute(
            "INSERT INTO s SELECT * FROM unnest($1::int8[], $2::text[], $3::text[])",
            &[&ids, &os, &vs],
        )
        .unwrap();
    }
    c.batch_execute("VACUUM ANALYZE s").unwrap();
    // Baseline: the same keyset walk and batched CAS update, no crypto.
    let base = {
        let t = Instant::now();
        let mut after = 0i64;
        loop {
            let batch = c
                .query(
                    "SELECT id, value FROM s WHERE id > $1 ORDER BY id LIMIT 2000",
                    &[&after],
                )
                .unwrap();
            let Some(last) = batch.last() else { break };
            after = last.get(0);
            let ids: Vec<i64> = batch.iter().map(|r| r.get(0)).collect();
            let olds: Vec<String> = batch.iter().map(|r| r.get(1)).collect();
            let news: Vec<String> = olds.clone();
            let mut tx = c.transaction().unwrap();
            tx.query("UPDATE s SET value = u.new FROM unnest($1::int8[], $2::text[], $3::text[]) AS u(id, old, new) \
                      WHERE s.id = u.id AND s.value = u.old RETURNING u.id", &[&ids, &olds, &news]).unwrap();
            tx.commit().unwrap();
        }
        ROWS as f64 / t.elapsed().as_secs_f64()
    };
    c.batch_execute("VACUUM s").unwrap();
    let mut db = Database::connect(url).unwrap();
    let got = job(&mut db, "s", kr);
    (got, base)
}

fn legacy(kr: &Keyring) -> (f64, f64) {
    use base64::Engine;
    let pw = SecretBytes::new(b"legacy-password".to_vec());
    let blobs: Vec<(i64, String, String)> = (1..=LEGACY_ROWS as i64)
        .into_par_iter()
        .map(|id| {
            let salt = [id as u8; 16];
            let mut key = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw.expose_secret(), &salt, 100_000, &mut key);
            let iv = [7u8; 12];
            let ct = keycustody::internal::aes256gcm_seal(
                keycustody::internal::Backend::RustCrypto,
                &key,
                &iv,
                b"",
                b"legacy-secret",
            )
            .unwrap();
            let mut bin = salt.to_vec();
            bin.extend_from_slice(&iv);
            bin.extend_from_slice(&ct);
            (
                id,
                format!("t{id}"),
                base64::engine::general_purpose::STANDARD.encode(bin),
            )
        })
        .collect();
    // Baseline: the pbkdf2 crate alone, the same derivations on the same cores.
    let t = Instant::now();
    blobs.par_iter().for_each(|(id, _, _)| {
        let mut key = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            pw.expose_secret(),
            &[*id as u8; 16],
            100_000,
            &mut key,
        );
        std::hint::black_box(key);
    });
    let base = t.elapsed().as_secs_f64() / LEGACY_ROWS as f64;
    let dir = std::env::temp_dir().join(format!("kc-bench-legacy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("l.db");
    let _ = std::fs::remove_file(&path);
    let mut db = Database::open_sqlite(path, true).unwrap();
    {
        let c = db.sqlite().unwrap();
        c.execute_batch("CREATE TABLE l (id INTEGER PRIMARY KEY, tenant TEXT, value TEXT)")
            .unwrap();
        for (id, o, v) in &blobs {
            c.execute(
                "INSERT INTO l VALUES (?1, ?2, ?3)",
                rusqlite::params![id, o, v],
            )
            .unwrap();
        }
    }
    let spec = JobSpec::new(
        "l",
        "id",
        "tenant",
        "value",
        ContextSource::Fixed(Vec::new()),
    );
    let t = Transform::Migrate {
        keyring: kr,
        format: LegacyFormat::Pbkdf2Gcm(Pbkdf2GcmParams::default()),
        password: &pw,
    };
    let r = Job::new(&mut db, spec, t)
        .unwrap()
        .run(&mut |_| {})
        .unwrap();
    assert_eq!(r.rewritten, LEGACY_ROWS as u64);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    (r.elapsed.as_secs_f64() / LEGACY_ROWS as f64, base)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, out) = (
        args.get(1).expect("POSTGRES_URL"),
        args.get(2).expect("OUT.md"),
    );
    let kr = Keyring::generate().unwrap();
    let data = rows(&kr);
    kr.rotate().unwrap();
    let (s, sb) = sqlite(&kr, &data);
    eprintln!("sqlite: {s:.0} rows/s (baseline {sb:.0})");
    let (p, pb) = pg(url, &kr, &data);
    eprintln!("postgres: {p:.0} rows/s (baseline {pb:.0})");
    let (l, lb) = legacy(&kr);
    eprintln!(
        "legacy: {:.2} ms/row (pbkdf2 alone {:.2})",
        l * 1e3,
        lb * 1e3
    );
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut md = String::new();
    let _ = writeln!(md, "## store: bulk rewrap and legacy import\n");
    let _ = writeln!(md, "{} rows, 10,000 tenants, 2000-row transactions, {cores} cores; crypto on all cores. \
        Baselines, measured in the same run: the same keyset walk and compare-and-swap UPDATEs without any crypto \
        (the database's floor); for legacy import, the `pbkdf2` crate alone doing the same PBKDF2-HMAC-SHA256 \
        100,000-iteration derivations on the same cores. PostgreSQL is a local throwaway cluster (default durability settings).\n", ROWS);
    let _ = writeln!(
        md,
        "| figure | keycustody | baseline | ratio | goal | met |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|:-:|");
    let yes = |b: bool| if b { "yes" } else { "**no**" };
    let _ = writeln!(
        md,
        "| rewrap, SQLite (rows/s) | {s:.0} | {sb:.0} (no crypto) | {:.2} | ≥ 50,000 rows/s | {} |",
        s / sb,
        yes(s >= 50_000.0)
    );
    let _ = writeln!(md, "| rewrap, PostgreSQL (rows/s) | {p:.0} | {pb:.0} (no crypto) | {:.2} | ≥ 20,000 rows/s | {} |", p / pb, yes(p >= 20_000.0));
    let _ = writeln!(md, "| legacy PBKDF2-100k import (ms/row, {cores} cores) | {:.3} | {:.3} (`pbkdf2` crate) | {:.3}× | ≤ 1.05× | {} |", l * 1e3, lb * 1e3, l / lb, yes(l / lb <= 1.05));
    std::fs::write(out, md).unwrap();
    eprintln!("wrote {out}");
}
