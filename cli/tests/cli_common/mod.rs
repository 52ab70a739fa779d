//! Shared helpers of the CLI integration tests (store side).
#![allow(dead_code)]

use keycustody::Keyring;
use keycustody_store::{postgres, rusqlite};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keycustody"));
    c.env_remove("KEYCUSTODY_KEYRING")
        .env_remove("KEYCUSTODY_KEYRING_FILE");
    c
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("spawn keycustody")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Generates a keyring file with the CLI.
pub fn new_keyring(dir: &Path) -> PathBuf {
    let p = dir.join("keyring.json");
    let o = run(&["keys", "generate", "--keyring", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    p
}

/// A temporary directory and a keyring file generated in it with the CLI.
pub fn temp_keyring() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let kp = new_keyring(dir.path());
    (dir, kp)
}

pub fn load(p: &Path) -> Keyring {
    Keyring::from_file(p).unwrap()
}

pub fn plaintext(id: i64) -> String {
    format!("secret-value-{id}-{}", id.wrapping_mul(7919))
}

pub fn owner(id: i64, tenants: i64) -> String {
    format!("tenant-{}", id % tenants)
}

/// The rows `(id, owner, envelope)` sealed under the keyring's primary, context "value".
pub fn sealed_rows(kr: &Keyring, n: i64, tenants: i64) -> Vec<(i64, String, String)> {
    (1..=n)
        .into_par_iter()
        .map(|id| {
            let o = owner(id, tenants);
            let e = kr.seal(&o, plaintext(id).as_bytes(), b"value").unwrap();
            (id, o, e)
        })
        .collect()
}

pub fn sqlite_db(dir: &Path, kr: &Keyring, n: i64, tenants: i64) -> (PathBuf, String) {
    let p = dir.join("app.db");
    let mut c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch(
        "CREATE TABLE secrets (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, value TEXT)",
    )
    .unwrap();
    let tx = c.transaction().unwrap();
    {
        let mut st = tx
            .prepare("INSERT INTO secrets (id, tenant, value) VALUES (?1, ?2, ?3)")
            .unwrap();
        for (id, o, e) in sealed_rows(kr, n, tenants) {
            st.execute(rusqlite::params![id, o, e]).unwrap();
        }
    }
    tx.commit().unwrap();
    let url = format!("sqlite:{}", p.display());
    (p, url)
}

/// The PostgreSQL URL, or None (skip) unless the make target says PG is required.
pub fn pg_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => Some(u),
        _ => {
            assert!(
                std::env::var("KEYCUSTODY_REQUIRE_PG").as_deref() != Ok("1"),
                "KEYCUSTODY_REQUIRE_PG=1 but DATABASE_URL is not a postgres:// URL"
            );
            eprintln!(
                "skipping: no DATABASE_URL (make test-store runs this against a real server)"
            );
            None
        }
    }
}

/// Creates (replacing) a PG table `name` with n rows.
pub fn pg_table(url: &str, name: &str, kr: &Keyring, n: i64, tenants: i64) {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "DROP TABLE IF EXISTS {name}; CREATE TABLE {name} (id BIGINT PRIMARY KEY, tenant TEXT NOT NULL, value TEXT)"
    ))
    .unwrap();
    let rows = sealed_rows(kr, n, tenants);
    for chunk in rows.chunks(10_000) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.0).collect();
        let owners: Vec<&str> = chunk.iter().map(|r| r.1.as_str()).collect();
        let vals: Vec<&str> = chunk.iter().map(|r| r.2.as_str()).collect();
        c.execute(
            &format!("INSERT INTO {name} SELECT * FROM unnest($1::int8[], $2::text[], $3::text[])"),
            &[&ids, &owners, &vals],
        )
        .unwrap();
    }
}

/// All rows `(id, owner, value)` of a table, in id order.
pub fn read_all(url: &str, table: &str) -> Vec<(i64, String, Option<String>)> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let c = rusqlite::Connection::open(path).unwrap();
        let mut st = c
            .prepare(&format!(
                "SELECT id, tenant, value FROM {table} ORDER BY id"
            ))
            .unwrap();
        let rows = st
            .query_map([], |r| {
                let v = match r.get_ref(2)? {
                    rusqlite::types::ValueRef::Blob(b) => Some(format!("blob:{b:?}")),
                    _ => r.get(2)?,
                };
                Ok((r.get(0)?, r.get(1)?, v))
            })
            .unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    } else {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        c.query(
            &format!("SELECT id, tenant, value FROM {table} ORDER BY id"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
    }
}

/// Every row present, opening to its exact plaintext, under `kid`.
pub fn verify_all(url: &str, table: &str, kr: &Keyring, n: i64, kid: u32) {
    let rows = read_all(url, table);
    assert_eq!(rows.len() as i64, n, "row count");
    rows.par_iter().enumerate().for_each(|(i, (id, o, v))| {
        assert_eq!(*id, i as i64 + 1, "ids are 1..=n, none lost or duplicated");
        let v = v.as_deref().expect("no NULL written");
        assert_eq!(
            keycustody::inspect(v).unwrap().kid,
            kid,
            "row {id} under kid {kid}"
        );
        let p = kr.open(o, v, b"value").unwrap();
        assert_eq!(p.expose_secret(), plaintext(*id).as_bytes(), "row {id}");
    });
}

pub fn rewrap_args<'a>(keyring: &'a str, url: &'a str, table: &'a str) -> Vec<&'a str> {
    vec![
        "rewrap",
        "--keyring",
        keyring,
        "--db",
        url,
        "--table",
        table,
        "--owner-column",
        "tenant",
        "--column",
        "value",
        "--context",
        "value",
    ]
}
