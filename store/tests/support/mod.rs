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
