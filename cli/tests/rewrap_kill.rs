//! Crash safety: SIGKILL the rewrap job at random points of a 100k-row table several
//! times, then rerun it to completion: every row opens, every row is on the new kid,
//! none lost or duplicated. On SQLite, and on PostgreSQL when DATABASE_URL is given
//! (`make test-store` starts a throwaway server and requires it).

mod cli_common;
use cli_common::*;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

const N: i64 = 100_000;
const KILLS: usize = 5;

fn random_below(n: u64) -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n
}

/// Kid counts (kid 1, kid 2) after checking every row is still present and a kc1 envelope.
fn kid_counts(url: &str, table: &str) -> (usize, usize) {
    let rows = read_all(url, table);
    assert_eq!(rows.len() as i64, N, "no row lost or added by a killed job");
    let mut c = (0, 0);
    for (id, _, v) in &rows {
        let v = v
            .as_deref()
            .unwrap_or_else(|| panic!("row {id} became NULL"));
        match keycustody::inspect(v)
            .unwrap_or_else(|e| panic!("row {id}: {e}"))
            .kid
        {
            1 => c.0 += 1,
            2 => c.1 += 1,
            k => panic!("row {id} under unexpected kid {k}"),
        }
    }
    c
}

fn kill_and_resume(url: &str, table: &str, keyring: &std::path::Path) {
    let kp = keyring.to_str().unwrap();
    let mut args = rewrap_args(kp, url, table);
    args.extend(["--batch", "500"]);
    let mut interrupted_mid_way = 0;
    for round in 0..KILLS {
        let mut child = bin().args(&args).spawn().expect("spawn rewrap");
        // A random kill point, earlier rounds earlier; the job runs a few seconds in total.
        std::thread::sleep(Duration::from_millis(
            20 + random_below(150 + 100 * round as u64),
        ));
        child.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
        let status = child.wait().unwrap();
        let (old, new) = kid_counts(url, table);
        eprintln!("kill {round}: status {status:?}, kid1 {old}, kid2 {new}");
        if old > 0 && new > 0 {
            interrupted_mid_way += 1;
        }
    }
    assert!(
        interrupted_mid_way > 0,
        "no kill landed in the middle of the job; the test did not test anything"
    );
    let o = run(&args);
    assert!(o.status.success(), "rerun failed: {}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("failed             0"), "{out}");
    verify_all(url, table, &load(keyring), N, 2);
    // Rerunning once more is a no-op: nothing left under kid 1.
    let o = run(&[&args[..], &["--json"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rewritten"], 0);
    assert_eq!(v["already_current"], N);
    assert_eq!(v["after"]["by_kid"]["2"], N);
}

fn setup_keyring(dir: &std::path::Path) -> (std::path::PathBuf, keycustody::Keyring) {
    let kp = new_keyring(dir);
    let kr = load(&kp);
    (kp, kr)
}

fn rotate(kp: &std::path::Path) {
    let o = run(&["keys", "rotate", "--keyring", kp.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn rewrap_survives_sigkill_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (kp, kr) = setup_keyring(dir.path());
    let (_p, url) = sqlite_db(dir.path(), &kr, N, 10_000);
    rotate(&kp);
    kill_and_resume(&url, "secrets", &kp);
}

#[test]
fn rewrap_survives_sigkill_postgres() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (kp, kr) = setup_keyring(dir.path());
    pg_table(&url, "kill_test", &kr, N, 10_000);
    rotate(&kp);
    kill_and_resume(&url, "kill_test", &kp);
}
