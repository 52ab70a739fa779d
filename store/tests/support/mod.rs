//! Test support shared by the store's and the CLI's integration tests (cli/tests include
//! this file by path).

use keycustody_store::postgres;

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
