//! A concurrent writer updates rows while the rewrap job runs: none of its writes is
//! overwritten (compare-and-swap), and every row ends on the new kid.

mod cli_common;
use cli_common::*;
use keycustody_store::{postgres, rusqlite};
use std::collections::HashMap;

const N: i64 = 5_000;

enum Writer {
    Sqlite(rusqlite::Connection),
    Pg(postgres::Client),
}

impl Writer {
    fn update(&mut self, table: &str, id: i64, v: &str) {
        match self {
            Writer::Sqlite(c) => {
                c.execute(
                    &format!("UPDATE {table} SET value = ?1 WHERE id = ?2"),
                    rusqlite::params![v, id],
                )
                .unwrap();
            }
            Writer::Pg(c) => {
                c.execute(
                    &format!("UPDATE {table} SET value = $1 WHERE id = $2"),
                    &[&v, &id],
                )
                .unwrap();
            }
        }
    }
}

fn concurrent(url: &str, table: &str, kp: &std::path::Path, mut w: Writer) {
    let kr = load(kp); // already rotated: the writer is an app instance sealing under kid 2
    let mut args = rewrap_args(kp.to_str().unwrap(), url, table);
    args.extend(["--batch", "200", "--json"]);
    let child = bin()
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut last: HashMap<i64, String> = HashMap::new();
    let mut i: i64 = 0;
    // Write until the job has exited (at least a few hundred writes).
    let mut child = child;
    loop {
        let done = child.try_wait().unwrap().is_some();
        if done && i > 300 {
            break;
        }
        // Paced like an app, not a flood that starves the job of the SQLite write lock.
        std::thread::sleep(std::time::Duration::from_micros(500));
        i += 1;
        // Spread over the table, also ahead of the job.
        let id = (i.wrapping_mul(7_919) % N) + 1;
        let o = owner(id, 1000);
        let p = format!("writer-{id}-{i}");
        let v = kr.seal(&o, p.as_bytes(), b"value").unwrap();
        w.update(table, id, &v);
        last.insert(id, p);
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let rep: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!(
        "writes {i}, concurrent_changes {}, rewritten {}",
        rep["concurrent_changes"], rep["rewritten"]
    );
    let rows = read_all(url, table);
    assert_eq!(rows.len() as i64, N);
    for (id, o, v) in rows {
        let v = v.unwrap();
        assert_eq!(keycustody::inspect(&v).unwrap().kid, 2, "row {id}");
        let got = kr.open(&o, &v, b"value").unwrap();
        let want = last.get(&id).cloned().unwrap_or_else(|| plaintext(id));
        assert_eq!(
            got.expose_secret(),
            want.as_bytes(),
            "row {id}: a write was lost"
        );
    }
}

#[test]
fn concurrent_writer_is_never_overwritten_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let kp = new_keyring(dir.path());
    let (path, url) = sqlite_db(dir.path(), &load(&kp), N, 1000);
    assert!(run(&["keys", "rotate", "--keyring", kp.to_str().unwrap()])
        .status
        .success());
    let c = rusqlite::Connection::open(path).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    concurrent(&url, "secrets", &kp, Writer::Sqlite(c));
}

#[test]
fn concurrent_writer_is_never_overwritten_postgres() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let kp = new_keyring(dir.path());
    pg_table(&url, "concurrent_test", &load(&kp), N, 1000);
    assert!(run(&["keys", "rotate", "--keyring", kp.to_str().unwrap()])
        .status
        .success());
    let c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    concurrent(&url, "concurrent_test", &kp, Writer::Pg(c));
}
