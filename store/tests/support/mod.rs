//! Test support shared by the store's and the CLI's integration tests (cli/tests include
//! this file by path).

use keycustody_store::{postgres, rusqlite, Database};

/// Creates the PostgreSQL schema `schema` afresh (dropped first when present) on the server
/// at `url`; returns the URL whose connections use it as their search_path.
pub fn fresh_schema(url: &str, schema: &str) -> String {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))
    .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

/// Runs `sql` (one or more statements) on either backend.
pub fn exec(db: &mut Database, sql: &str) {
    match db.sqlite() {
        Some(c) => c.execute_batch(sql).unwrap(),
        None => db.postgres().unwrap().batch_execute(sql).unwrap(),
    }
}

/// The `(id, owner, value)` rows that `sql` selects, on either backend.
pub fn rows<V>(db: &mut Database, sql: &str) -> Vec<(i64, String, V)>
where
    V: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>,
{
    if let Some(c) = db.sqlite() {
        let mut st = c.prepare(sql).unwrap();
        let it = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        it.collect::<Result<_, _>>().unwrap()
    } else {
        db.postgres()
            .unwrap()
            .query(sql, &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }
}

/// A database per test: a SQLite file in its own temp dir, or a fresh PostgreSQL schema (tables
/// have fixed names, so parallel tests each get their own search_path).
pub struct TestDb {
    /// The URL `Database::connect` takes.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// A new SQLite database file.
pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("test.db");
    rusqlite::Connection::open(&p).unwrap();
    TestDb {
        url: format!("sqlite:{}", p.display()),
        _dir: Some(dir),
    }
}

/// Schema `schema` afresh on the server of DATABASE_URL; `None` (the test skips) without one,
/// unless KEYCUSTODY_REQUIRE_PG=1 (`make test-store`), which makes a missing server a failure.
pub fn pg_db(schema: &str) -> Option<TestDb> {
    let url = match std::env::var("DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => u,
        _ => {
            assert!(
                std::env::var("KEYCUSTODY_REQUIRE_PG").as_deref() != Ok("1"),
                "KEYCUSTODY_REQUIRE_PG=1 but DATABASE_URL is not a postgres:// URL"
            );
            eprintln!(
                "skipping: no DATABASE_URL (make test-store runs this against a real server)"
            );
            return None;
        }
    };
    Some(TestDb {
        url: fresh_schema(&url, schema),
        _dir: None,
    })
}
