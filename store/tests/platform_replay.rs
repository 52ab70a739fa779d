//! The shared replay guard on SQLite: two guards on one database file behave as one.
use keycustody::{Error, ReplayStore};
use keycustody_store::replay::SqliteReplayGuard;

const T: i64 = 1_700_000_000;

/// Finding 5: the webhook verifier accepts `|now - t| == tolerance`. An event first seen
/// at `t - tolerance` and recorded with the documented ttl (2 x tolerance) must still be
/// refused when replayed at `t + tolerance`, and the guard lets it go one second later.
fn boundary(g: &dyn ReplayStore, id: &str) {
    let tol = keycustody::DEFAULT_TOLERANCE;
    let tol_i = i64::try_from(tol).unwrap();
    let header = keycustody::sign_stripe_payload(b"{}", "whsec_x", T).unwrap();
    let verify = |now| keycustody::verify_stripe_signature_at(b"{}", &header, "whsec_x", tol, now);
    verify(T - tol_i).unwrap();
    assert_eq!(g.check_and_record_at(id, T - tol_i), Ok(()));
    verify(T + tol_i).unwrap();
    assert_eq!(g.check_and_record_at(id, T + tol_i), Err(Error::Replayed));
    assert_eq!(verify(T + tol_i + 1), Err(Error::TimestampOutOfTolerance));
    assert_eq!(g.check_and_record_at(id, T + tol_i + 1), Ok(()));
}

#[test]
fn sqlite_guard_refuses_a_replay_at_the_tolerance_boundary() {
    let g = SqliteReplayGuard::new(
        rusqlite::Connection::open_in_memory().unwrap(),
        "replay",
        2 * keycustody::DEFAULT_TOLERANCE,
    )
    .unwrap();
    boundary(&g, "evt_boundary");
}

#[test]
fn sqlite_guard_is_shared_and_expires() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.db");
    let a =
        SqliteReplayGuard::new(rusqlite::Connection::open(&path).unwrap(), "replay", 600).unwrap();
    let b =
        SqliteReplayGuard::new(rusqlite::Connection::open(&path).unwrap(), "replay", 600).unwrap();
    assert_eq!(a.check_and_record_at("evt_1", T), Ok(()));
    // Another instance sees it.
    assert_eq!(b.check_and_record_at("evt_1", T + 10), Err(Error::Replayed));
    assert_eq!(b.check_and_record_at("evt_2", T + 10), Ok(()));
    assert_eq!(
        a.check_and_record_at("evt_2", T + 609),
        Err(Error::Replayed)
    );
    // Held through T + ttl inclusive; expired ids are accepted again, once.
    assert_eq!(
        a.check_and_record_at("evt_1", T + 600),
        Err(Error::Replayed)
    );
    assert_eq!(a.check_and_record_at("evt_1", T + 601), Ok(()));
    assert_eq!(
        b.check_and_record_at("evt_1", T + 602),
        Err(Error::Replayed)
    );
    assert_eq!(a.prune_at(T + 610).unwrap(), 0); // evt_2 expires at T + 610: still held
    assert_eq!(a.prune_at(T + 611).unwrap(), 1);
    assert!(matches!(
        a.check_and_record_at("", T),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        SqliteReplayGuard::new(rusqlite::Connection::open_in_memory().unwrap(), "r", 0),
        Err(Error::InvalidArgument(_))
    ));
    // A hostile table name is quoted, not executed.
    let odd = SqliteReplayGuard::new(
        rusqlite::Connection::open(&path).unwrap(),
        "x\"; DROP TABLE replay; --",
        60,
    )
    .unwrap();
    assert_eq!(odd.check_and_record_at("evt_1", T), Ok(()));
    assert_eq!(
        a.check_and_record_at("evt_1", T + 602),
        Err(Error::Replayed)
    );
}

/// The same guarantees on PostgreSQL: two app instances (two connections) share one guard.
/// Runs against a real server when DATABASE_URL is set (`make test-store` starts a throwaway
/// cluster and sets KEYCUSTODY_REQUIRE_PG=1, which turns a missing URL into a failure).
#[test]
fn postgres_guard_is_shared_and_expires() {
    let url = match std::env::var("DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => u,
        _ => {
            assert_ne!(
                std::env::var("KEYCUSTODY_REQUIRE_PG").as_deref(),
                Ok("1"),
                "KEYCUSTODY_REQUIRE_PG=1 but DATABASE_URL is not a postgres:// URL"
            );
            eprintln!(
                "skipping: no DATABASE_URL (make test-store runs this against a real server)"
            );
            return;
        }
    };
    let connect = || postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let table = format!("replay_{}", std::process::id());
    let a = keycustody_store::replay::PgReplayGuard::new(connect(), &table, 600).unwrap();
    let b = keycustody_store::replay::PgReplayGuard::new(connect(), &table, 600).unwrap();
    boundary(&a, "evt_boundary");
    assert_eq!(a.check_and_record_at("evt_1", T), Ok(()));
    assert_eq!(b.check_and_record_at("evt_1", T + 10), Err(Error::Replayed));
    assert_eq!(b.check_and_record_at("evt_2", T + 10), Ok(()));
    assert_eq!(
        a.check_and_record_at("evt_2", T + 609),
        Err(Error::Replayed)
    );
    // Held through T + ttl inclusive; expired ids are accepted again, once.
    assert_eq!(
        a.check_and_record_at("evt_1", T + 600),
        Err(Error::Replayed)
    );
    assert_eq!(a.check_and_record_at("evt_1", T + 601), Ok(()));
    assert_eq!(
        b.check_and_record_at("evt_1", T + 602),
        Err(Error::Replayed)
    );
    assert_eq!(a.prune_at(T + 610).unwrap(), 0);
    assert_eq!(a.prune_at(T + 611).unwrap(), 1);
    assert!(matches!(
        a.check_and_record_at("", T),
        Err(Error::InvalidArgument(_))
    ));
    // Concurrent instances racing on one id: exactly one wins.
    let winners: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let g =
                    keycustody_store::replay::PgReplayGuard::new(connect(), &table, 600).unwrap();
                s.spawn(move || usize::from(g.check_and_record_at("evt_race", T).is_ok()))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(winners, 1);
}
