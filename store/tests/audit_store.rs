//! The audit chain in a table (store/src/audit.rs) on real SQLite and, when DATABASE_URL is
//! given (`make test-store` starts a throwaway server and requires it), on PostgreSQL:
//! 4 concurrent appenders × 2,500 entries, each on its own connection (threads; on PostgreSQL
//! also separate processes) — all present, seq 1..=10000, the chain verifies; a row tampered
//! with by SQL (a field edited, a row deleted, two rows swapped, the tail cut) is named by
//! `verify`; checkpoints catch erasure and rollback.

#[allow(dead_code)]
mod support;

use keycustody::{AuditEvent, AuditOutcome, Error, Keyring};
use keycustody_store::{AuditStore, Database, StoreError};
use std::collections::BTreeSet;

const SCOPE: &str = "acme/dashboard";
const PER: usize = 2500;
const WRITERS: usize = 4;

fn ring() -> Keyring {
    Keyring::from_secret(&[7u8; 32], 1).unwrap()
}

use support::{pg_db, sqlite_db, TestDb as Db};

impl Db {
    fn store(&self) -> AuditStore {
        let mut s = AuditStore::new(Database::connect(&self.url).unwrap(), &ring()).unwrap();
        if let Some(c) = s.database().sqlite() {
            // Tests only: no fsync per commit (WAL stays crash-consistent, just not durable).
            c.pragma_update(None, "synchronous", "NORMAL").unwrap();
        }
        s
    }
    fn exec(&self, sql: &str) {
        support::exec(&mut Database::connect(&self.url).unwrap(), sql);
    }
}

fn event(writer: usize, i: usize) -> AuditEvent {
    AuditEvent::new("secret.view")
        .name(&format!("SECRET_{i}"))
        .actor(&format!("app-{writer}"))
        .tenant("acme")
        .outcome(AuditOutcome::Ok)
}

fn audit_broken(r: Result<impl std::fmt::Debug, StoreError>, seq: u64, why: &str) {
    match r {
        Err(StoreError::Core(e @ Error::AuditBroken { .. })) => {
            assert_eq!(e.audit_position(), Some(seq), "{e}");
            assert!(e.audit_reason().unwrap().contains(why), "{e}");
        }
        other => panic!("expected AuditBroken at {seq} ({why}), got {other:?}"),
    }
}

/// 4 threads × 2,500 appends, each thread its own connection; then everything is checked.
fn concurrent_appends(db: &Db) {
    // Create the tables once before the writers race.
    drop(db.store());
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            s.spawn(move || {
                let mut st = db.store();
                for i in 0..PER {
                    st.append(SCOPE, &event(w, i), 1_800_000_000 + i as u64)
                        .unwrap();
                }
            });
        }
    });
    check_all_present(db, WRITERS * PER);
}

fn check_all_present(db: &Db, n: usize) {
    let mut st = db.store();
    let r = st.verify(SCOPE).unwrap();
    assert_eq!(
        (r.entries, r.first_seq, r.last_seq),
        (n as u64, 1, n as u64)
    );
    let all = st.read(SCOPE, 1, n + 10).unwrap();
    assert_eq!(all.len(), n);
    assert!(all.iter().enumerate().all(|(i, e)| e.seq() == i as u64 + 1));
    // Every (writer, i) exactly once, and nothing else.
    let got: BTreeSet<(String, String)> = all
        .iter()
        .map(|e| (e.actor().unwrap().to_owned(), e.names()[0].clone()))
        .collect();
    assert_eq!(got.len(), n, "an entry was lost or written twice");
    // Never a value in the table: the entries hold names only.
    assert!(all.iter().all(|e| e.names()[0].starts_with("SECRET_")));
}

fn small_chain(db: &Db, n: usize) -> AuditStore {
    let mut st = db.store();
    for i in 0..n {
        st.append(SCOPE, &event(0, i), 1_800_000_000 + i as u64)
            .unwrap();
    }
    // Another scope in the same table is its own chain.
    st.append("other-tenant", &event(9, 0), 1).unwrap();
    assert_eq!(st.verify(SCOPE).unwrap().last_seq, n as u64);
    st
}

/// Every tampering shape, each on a fresh chain of 10.
fn tampering(fresh: &dyn Fn() -> Db) {
    let id = "scope = 'acme/dashboard'";
    let cases: Vec<(String, u64, &str)> = vec![
        // The MACed entry edited (the actor inside the entry, and its column to match).
        (
            format!(
                "UPDATE keycustody_audit SET entry = REPLACE(entry, 'app-0', 'app-X'), \
                 actor = 'app-X' WHERE {id} AND seq = 4"
            ),
            4,
            "MAC mismatch",
        ),
        // Only a query column edited: what a dashboard shows no longer matches the entry.
        (
            format!("UPDATE keycustody_audit SET actor = 'someone-else' WHERE {id} AND seq = 6"),
            6,
            "columns differ",
        ),
        (
            format!("UPDATE keycustody_audit SET ts = ts + 1 WHERE {id} AND seq = 2"),
            2,
            "columns differ",
        ),
        // A row deleted.
        (
            format!("DELETE FROM keycustody_audit WHERE {id} AND seq = 5"),
            5,
            "sequence gap",
        ),
        // Two rows swapped (their contents, under each other's seq).
        (
            format!(
                "UPDATE keycustody_audit SET seq = -1 WHERE {id} AND seq = 7; \
                 UPDATE keycustody_audit SET seq = 7 WHERE {id} AND seq = 8; \
                 UPDATE keycustody_audit SET seq = 8 WHERE {id} AND seq = -1"
            ),
            7,
            "columns differ",
        ),
        // The tail cut (the head row still names entry 10).
        (
            format!("DELETE FROM keycustody_audit WHERE {id} AND seq > 8"),
            9,
            "truncated",
        ),
        // The tail cut and the head row moved back to match: only a checkpoint can tell
        // (see checkpoints()); the head row naming another entry is caught.
        (
            format!("UPDATE keycustody_audit_head SET seq = 9 WHERE {id}"),
            9,
            "head row",
        ),
        // An entry from another scope's chain moved in.
        (
            format!(
                "DELETE FROM keycustody_audit WHERE {id} AND seq = 1; \
                 UPDATE keycustody_audit SET scope = 'acme/dashboard' \
                   WHERE scope = 'other-tenant' AND seq = 1"
            ),
            1,
            "MAC mismatch",
        ),
    ];
    for (sql, seq, why) in cases {
        let db = fresh();
        let mut st = small_chain(&db, 10);
        db.exec(&sql);
        audit_broken(st.verify(SCOPE), seq, why);
        // The chain refuses to grow on a tampered head; elsewhere appends still work but the
        // damage stays visible.
        let _ = st.append(SCOPE, &event(1, 1), 2);
        assert!(st.verify(SCOPE).is_err(), "{sql}");
    }
}

fn checkpoints(db: &Db) {
    let mut st = small_chain(db, 10);
    let cp = st.checkpoint(SCOPE, 1_900_000_000).unwrap();
    assert_eq!(cp.seq(), 10);
    st.check_against(SCOPE, &cp).unwrap();
    // The chain grows: still consistent.
    st.append(SCOPE, &event(1, 1), 3).unwrap();
    st.check_against(SCOPE, &cp).unwrap();
    // Rolled back to 8 entries with the head row rewritten to match: verify alone passes,
    // the checkpoint does not.
    db.exec(
        "DELETE FROM keycustody_audit WHERE scope = 'acme/dashboard' AND seq > 8; \
         UPDATE keycustody_audit_head SET seq = 8, \
           mac = (SELECT substr(entry, length(entry) - 65, 64) FROM keycustody_audit \
                  WHERE scope = 'acme/dashboard' AND seq = 8) \
         WHERE scope = 'acme/dashboard'",
    );
    assert_eq!(st.verify(SCOPE).unwrap().last_seq, 8);
    audit_broken(
        st.check_against(SCOPE, &cp),
        9,
        "shorter than the checkpoint",
    );
    // Erased: no rows at all, no head.
    db.exec(
        "DELETE FROM keycustody_audit WHERE scope = 'acme/dashboard'; \
         DELETE FROM keycustody_audit_head WHERE scope = 'acme/dashboard'",
    );
    assert_eq!(st.verify(SCOPE).unwrap().entries, 0);
    audit_broken(st.check_against(SCOPE, &cp), 1, "erased");
    // Rewritten from scratch by a key holder up to seq 11: diverges at the checkpoint's seq.
    for i in 0..11 {
        st.append(SCOPE, &AuditEvent::new("rewritten").name(&i.to_string()), 5)
            .unwrap();
    }
    audit_broken(st.check_against(SCOPE, &cp), 10, "diverges");
}

fn bad_input(db: &Db) {
    let mut st = db.store();
    for ev in [
        AuditEvent::new(""),
        AuditEvent::new("x").actor("a\nb"),
        AuditEvent::new("x").names(&vec!["n"; 65]),
    ] {
        assert!(matches!(
            st.append(SCOPE, &ev, 1),
            Err(StoreError::Core(Error::InvalidArgument(_)))
        ));
    }
    assert!(matches!(
        st.append(SCOPE, &event(0, 0), u64::MAX),
        Err(StoreError::Core(Error::InvalidArgument(_)))
    ));
    assert!(matches!(
        st.append("", &event(0, 0), 1),
        Err(StoreError::Core(Error::InvalidOwner))
    ));
    // Nothing was written by any refusal.
    assert_eq!(st.verify(SCOPE).unwrap().entries, 0);
    assert!(st.read(SCOPE, 1, 10).unwrap().is_empty());
    // Another keyring does not verify the chain.
    st.append(SCOPE, &event(0, 0), 1).unwrap();
    let mut other = AuditStore::new(
        Database::connect(&db.url).unwrap(),
        &Keyring::from_secret(&[8u8; 32], 1).unwrap(),
    )
    .unwrap();
    audit_broken(other.verify(SCOPE), 1, "MAC mismatch");
    assert!(matches!(
        other.append(SCOPE, &event(0, 1), 1),
        Err(StoreError::Core(Error::AuditBroken { .. }))
    ));
}

#[test]
fn sqlite_concurrent_appenders_lose_nothing() {
    concurrent_appends(&sqlite_db());
}

#[test]
fn sqlite_tampered_rows_are_named() {
    tampering(&sqlite_db);
}

#[test]
fn sqlite_checkpoints_catch_erase_and_rollback() {
    checkpoints(&sqlite_db());
}

#[test]
fn sqlite_bad_input_writes_nothing() {
    bad_input(&sqlite_db());
}

#[test]
fn postgres_concurrent_appenders_lose_nothing() {
    let Some(db) = pg_db("audit_conc") else {
        return;
    };
    concurrent_appends(&db);
}

#[test]
fn postgres_tampered_rows_are_named() {
    let Some(_) = pg_db("audit_tamper_probe") else {
        return;
    };
    let n = std::sync::atomic::AtomicUsize::new(0);
    tampering(&|| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        pg_db(&format!("audit_tamper_{i}")).unwrap()
    });
}

#[test]
fn postgres_checkpoints_catch_erase_and_rollback() {
    let Some(db) = pg_db("audit_cp") else { return };
    checkpoints(&db);
}

#[test]
fn postgres_bad_input_writes_nothing() {
    let Some(db) = pg_db("audit_bad") else { return };
    bad_input(&db);
}

/// 4 separate processes (this test binary re-run as a child, see
/// `postgres_child_appender_process`) × 500 appends on one chain.
#[test]
fn postgres_concurrent_processes_lose_nothing() {
    let Some(db) = pg_db("audit_procs") else {
        return;
    };
    drop(db.store());
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..WRITERS)
        .map(|w| {
            std::process::Command::new(&exe)
                .args(["--exact", "postgres_child_appender_process", "--nocapture"])
                .env("KC_AUDIT_CHILD_URL", &db.url)
                .env("KC_AUDIT_CHILD_WRITER", w.to_string())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    check_all_present(&db, WRITERS * 500);
}

/// A child of `postgres_concurrent_processes_lose_nothing`; does nothing on its own.
#[test]
fn postgres_child_appender_process() {
    let Ok(url) = std::env::var("KC_AUDIT_CHILD_URL") else {
        return;
    };
    let w: usize = std::env::var("KC_AUDIT_CHILD_WRITER")
        .unwrap()
        .parse()
        .unwrap();
    let mut st = AuditStore::new(Database::connect(&url).unwrap(), &ring()).unwrap();
    for i in 0..500 {
        st.append(SCOPE, &event(w, i), 1_800_000_000).unwrap();
    }
}
