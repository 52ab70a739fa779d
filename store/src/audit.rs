//! The audit chain (core's `AuditChain`, docs/audit.md) in a SQLite or PostgreSQL table, for
//! dashboards: many app instances append concurrently, each append one transaction that
//! serializes on the chain's head row, so entries are ordered, none is lost and the chain stays
//! intact.
//!
//! Two tables (docs/audit.md §7):
//! - `keycustody_audit (scope, seq, ts, op, actor, tenant, outcome, entry, PRIMARY KEY (scope, seq))`:
//!   `entry` is the canonical entry text (what the MAC covers); the other columns are copies for
//!   queries, checked against `entry` by [`AuditStore::verify`].
//! - `keycustody_audit_head (scope PRIMARY KEY, seq, mac)`: the chain's head. An append locks it
//!   (PostgreSQL `SELECT .. FOR UPDATE`; SQLite `BEGIN IMMEDIATE`), reads the head entry, builds
//!   the next with core, inserts it and moves the head, in one transaction; the primary key
//!   `(scope, seq)` is the last guard, and a serialization failure, deadlock or duplicate is
//!   retried.

use crate::{Database, StoreError};
use keycustody::{
    AuditChain, AuditCheckpoint, AuditEntry, AuditEvent, AuditReport, Error, Keyring, AUDIT_GENESIS,
};

/// The entries table.
pub const AUDIT_TABLE: &str = "keycustody_audit";
/// The head table.
pub const AUDIT_HEAD_TABLE: &str = "keycustody_audit_head";
/// How many times an append is retried after a conflict before [`StoreError::Busy`].
pub const AUDIT_APPEND_RETRIES: u32 = 50;
/// Rows per query when streaming a chain.
const PAGE: i64 = 1000;

/// The schema, the same text for both backends (BIGINT is an INTEGER to SQLite).
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS keycustody_audit (\
     scope TEXT NOT NULL, seq BIGINT NOT NULL, ts BIGINT NOT NULL, op TEXT NOT NULL, \
     actor TEXT, tenant TEXT, outcome TEXT, entry TEXT NOT NULL, PRIMARY KEY (scope, seq)); \
     CREATE TABLE IF NOT EXISTS keycustody_audit_head (\
     scope TEXT PRIMARY KEY, seq BIGINT NOT NULL, mac TEXT NOT NULL);";

/// An audit chain store on one connection (one per app instance or thread).
pub struct AuditStore {
    db: Database,
    keyring: Keyring,
    pg: Option<PgStatements>,
}

/// The append's statements, prepared once per PostgreSQL connection (a statement prepared
/// per call costs a round trip of its own).
struct PgStatements {
    head: postgres::Statement,
    create_head: postgres::Statement,
    entry: postgres::Statement,
    write: postgres::Statement,
}

/// The locked head and (when no other appender held the lock meanwhile) its entry, in one
/// round trip.
const PG_HEAD: &str = "SELECT h.seq, h.mac, a.entry FROM keycustody_audit_head h \
     LEFT JOIN keycustody_audit a ON a.scope = h.scope AND a.seq = h.seq \
     WHERE h.scope = $1 FOR UPDATE OF h";
const PG_CREATE_HEAD: &str = "INSERT INTO keycustody_audit_head (scope, seq, mac) \
     VALUES ($1, 0, $2) ON CONFLICT (scope) DO NOTHING";
/// The entry and the new head in one statement.
const PG_WRITE: &str = "WITH ins AS (INSERT INTO keycustody_audit \
     (scope, seq, ts, op, actor, tenant, outcome, entry) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq) \
     UPDATE keycustody_audit_head SET seq = (SELECT seq FROM ins), mac = $9 WHERE scope = $1";

impl std::fmt::Debug for AuditStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditStore")
            .field("kind", &self.db.kind())
            .finish_non_exhaustive()
    }
}

/// One stored row: the entry text and the query columns.
struct Row {
    seq: i64,
    ts: i64,
    op: String,
    actor: Option<String>,
    tenant: Option<String>,
    outcome: Option<String>,
    entry: String,
}

fn i64_of(v: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Core(Error::InvalidArgument(what)))
}

fn broken(seq: u64, reason: &'static str) -> StoreError {
    StoreError::Core(Error::AuditBroken { seq, reason })
}

/// Whether a PostgreSQL error is worth retrying (serialization failure, deadlock, duplicate key).
fn pg_retryable(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
    })
}

fn sqlite_retryable(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode;
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::ConstraintViolation)
    )
}

enum Attempt<T> {
    Done(T),
    Retry,
}

impl AuditStore {
    /// Uses (and creates if needed) the audit tables in `db`; entries are MACed under
    /// `keyring`'s audit key of each scope (a snapshot of the keyring is kept: after a rotation,
    /// make a new store).
    ///
    /// # Errors
    /// [`StoreError::Database`] when the tables cannot be created.
    pub fn new(mut db: Database, keyring: &Keyring) -> Result<AuditStore, StoreError> {
        if let Some(c) = db.sqlite() {
            // WAL lets readers (verify, dashboards) run beside the one writer.
            c.pragma_update(None, "journal_mode", "WAL")?;
            c.execute_batch(SCHEMA)?;
        }
        let pg = match db.postgres() {
            Some(c) => {
                c.batch_execute(SCHEMA)?;
                Some(PgStatements {
                    head: c.prepare(PG_HEAD)?,
                    create_head: c.prepare(PG_CREATE_HEAD)?,
                    entry: c.prepare(
                        "SELECT entry FROM keycustody_audit WHERE scope = $1 AND seq = $2",
                    )?,
                    write: c.prepare(PG_WRITE)?,
                })
            }
            None => None,
        };
        Ok(AuditStore {
            db,
            keyring: keyring.clone(),
            pg,
        })
    }

    /// The database connection (for setup code and tests).
    pub fn database(&mut self) -> &mut Database {
        &mut self.db
    }

    fn chain(&self, scope: &str) -> Result<AuditChain, StoreError> {
        Ok(AuditChain::new(&self.keyring, scope)?)
    }

    /// Appends `event` at time `ts` to the chain of `scope`, in one transaction serialized on
    /// the chain's head; returns the entry written. Conflicts are retried (up to
    /// [`AUDIT_APPEND_RETRIES`] times).
    ///
    /// # Errors
    /// `Core(InvalidArgument)` for an event outside the limits or a `ts` over `i64::MAX`
    /// (nothing written); `Core(AuditBroken)` when the head row and the head entry disagree
    /// or the head entry does not verify (the chain refuses to grow on a tampered head);
    /// [`StoreError::Busy`] after the retries; [`StoreError::Database`].
    pub fn append(
        &mut self,
        scope: &str,
        event: &AuditEvent,
        ts: u64,
    ) -> Result<AuditEntry, StoreError> {
        let chain = self.chain(scope)?;
        event.check()?;
        let ts_i = i64_of(ts, "audit ts must be at most i64::MAX")?;
        for _ in 0..AUDIT_APPEND_RETRIES {
            let attempt = if self.db.sqlite().is_some() {
                self.append_sqlite(&chain, event, ts, ts_i)?
            } else {
                self.append_pg(&chain, event, ts, ts_i)?
            };
            if let Attempt::Done(e) = attempt {
                return Ok(e);
            }
        }
        Err(StoreError::Busy)
    }

    fn append_sqlite(
        &mut self,
        chain: &AuditChain,
        event: &AuditEvent,
        ts: u64,
        ts_i: i64,
    ) -> Result<Attempt<AuditEntry>, StoreError> {
        let Some(c) = self.db.sqlite() else {
            return Err(StoreError::Database("not SQLite".into()));
        };
        let scope = chain.scope();
        let tx = match c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) if sqlite_retryable(&e) => return Ok(Attempt::Retry),
            Err(e) => return Err(e.into()),
        };
        let head: Option<(i64, String)> = {
            let mut st =
                tx.prepare_cached("SELECT seq, mac FROM keycustody_audit_head WHERE scope = ?1")?;
            let mut rows = st.query([scope])?;
            match rows.next()? {
                Some(r) => Some((r.get(0)?, r.get(1)?)),
                None => None,
            }
        };
        let prev = match &head {
            Some((seq, mac)) if *seq > 0 => {
                let text: String = tx
                    .query_row(
                        "SELECT entry FROM keycustody_audit WHERE scope = ?1 AND seq = ?2",
                        rusqlite::params![scope, seq],
                        |r| r.get(0),
                    )
                    .map_err(|_| {
                        broken(
                            u64::try_from(*seq).unwrap_or(0),
                            "the head entry is missing",
                        )
                    })?;
                Some(head_entry(&text, *seq, mac)?)
            }
            _ => None,
        };
        let e = chain.next(prev.as_ref(), event, ts)?;
        let seq = i64_of(e.seq(), "audit seq")?;
        let r = tx.execute(
            "INSERT INTO keycustody_audit (scope, seq, ts, op, actor, tenant, outcome, entry) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
                scope,
                seq,
                ts_i,
                e.op(),
                e.actor(),
                e.tenant(),
                e.outcome().map(|o| o.as_str()),
                e.to_json()
            ],
        );
        match r {
            Ok(_) => {}
            Err(err) if sqlite_retryable(&err) => return Ok(Attempt::Retry),
            Err(err) => return Err(err.into()),
        }
        tx.execute(
            "INSERT INTO keycustody_audit_head (scope, seq, mac) VALUES (?1, ?2, ?3) \
             ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq, mac = excluded.mac",
            rusqlite::params![scope, seq, e.mac()],
        )?;
        match tx.commit() {
            Ok(()) => Ok(Attempt::Done(e)),
            Err(err) if sqlite_retryable(&err) => Ok(Attempt::Retry),
            Err(err) => Err(err.into()),
        }
    }

    fn append_pg(
        &mut self,
        chain: &AuditChain,
        event: &AuditEvent,
        ts: u64,
        ts_i: i64,
    ) -> Result<Attempt<AuditEntry>, StoreError> {
        let (Some(c), Some(st)) = (self.db.postgres(), self.pg.as_ref()) else {
            return Err(StoreError::Database("not PostgreSQL".into()));
        };
        let scope = chain.scope();
        let mut tx = c.transaction()?;
        macro_rules! retry {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(err) if pg_retryable(&err) => return Ok(Attempt::Retry),
                    Err(err) => return Err(err.into()),
                }
            };
        }
        // The head row exists from the first append on (creating it is idempotent), and its
        // row lock serializes every appender of this scope.
        let mut row = retry!(tx.query_opt(&st.head, &[&scope]));
        if row.is_none() {
            retry!(tx.execute(&st.create_head, &[&scope, &AUDIT_GENESIS]));
            row = retry!(tx.query_opt(&st.head, &[&scope]));
        }
        let Some(row) = row else {
            return Ok(Attempt::Retry);
        };
        let (head_seq, head_mac, mut text): (i64, String, Option<String>) =
            (row.get(0), row.get(1), row.get(2));
        if head_seq > 0 && text.is_none() {
            // When the lock waited for another appender, the head row is re-read at its new
            // version but the joined entry is not (READ COMMITTED re-checks only the locked
            // row): read it now, in a statement that sees that appender's commit.
            text = retry!(tx.query_opt(&st.entry, &[&scope, &head_seq])).map(|r| r.get(0));
        }
        let prev = match (head_seq, text) {
            (0, _) => None,
            (_, None) => {
                return Err(broken(
                    u64::try_from(head_seq).unwrap_or(0),
                    "the head entry is missing",
                ))
            }
            (_, Some(text)) => Some(head_entry(&text, head_seq, &head_mac)?),
        };
        let e = chain.next(prev.as_ref(), event, ts)?;
        let seq = i64_of(e.seq(), "audit seq")?;
        let outcome = e.outcome().map(|o| o.as_str());
        let text = e.to_json();
        retry!(tx.execute(
            &st.write,
            &[
                &scope,
                &seq,
                &ts_i,
                &e.op(),
                &e.actor(),
                &e.tenant(),
                &outcome,
                &text,
                &e.mac()
            ],
        ));
        retry!(tx.commit());
        Ok(Attempt::Done(e))
    }

    /// One page of rows of `scope` with `seq > after`, in seq order.
    fn page(&mut self, scope: &str, after: i64, limit: i64) -> Result<Vec<Row>, StoreError> {
        const SQL: &str =
            "SELECT seq, ts, op, actor, tenant, outcome, entry FROM keycustody_audit \
                           WHERE scope = $1 AND seq > $2 ORDER BY seq LIMIT $3";
        if let Some(c) = self.db.sqlite() {
            let mut st = c.prepare_cached(&SQL.replace('$', "?"))?;
            let rows = st.query_map(rusqlite::params![scope, after, limit], |r| {
                Ok(Row {
                    seq: r.get(0)?,
                    ts: r.get(1)?,
                    op: r.get(2)?,
                    actor: r.get(3)?,
                    tenant: r.get(4)?,
                    outcome: r.get(5)?,
                    entry: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        } else if let Some(c) = self.db.postgres() {
            Ok(c.query(SQL, &[&scope, &after, &limit])?
                .iter()
                .map(|r| Row {
                    seq: r.get(0),
                    ts: r.get(1),
                    op: r.get(2),
                    actor: r.get(3),
                    tenant: r.get(4),
                    outcome: r.get(5),
                    entry: r.get(6),
                })
                .collect())
        } else {
            Ok(Vec::new())
        }
    }

    fn head(&mut self, scope: &str) -> Result<Option<(i64, String)>, StoreError> {
        if let Some(c) = self.db.sqlite() {
            let mut st =
                c.prepare_cached("SELECT seq, mac FROM keycustody_audit_head WHERE scope = ?1")?;
            let mut rows = st.query([scope])?;
            Ok(match rows.next()? {
                Some(r) => Some((r.get(0)?, r.get(1)?)),
                None => None,
            })
        } else if let Some(c) = self.db.postgres() {
            Ok(c.query_opt(
                "SELECT seq, mac FROM keycustody_audit_head WHERE scope = $1",
                &[&scope],
            )?
            .map(|r| (r.get(0), r.get(1))))
        } else {
            Ok(None)
        }
    }

    /// Verifies the whole chain of `scope`, streaming its rows in seq order: each row's
    /// entry parses, its query columns match it, its MAC verifies, seq is contiguous from 1
    /// and `prev` links; then the head row must name the last entry.
    ///
    /// # Errors
    /// `Core(AuditBroken)` naming the seq of the first bad row (the seq it should have) and
    /// why; [`StoreError::Database`].
    pub fn verify(&mut self, scope: &str) -> Result<AuditReport, StoreError> {
        Ok(self.verify_keeping(scope, None)?.0)
    }

    /// [`AuditStore::verify`], also returning the verified entry at `keep` (if the chain has it).
    fn verify_keeping(
        &mut self,
        scope: &str,
        keep: Option<u64>,
    ) -> Result<(AuditReport, Option<AuditEntry>), StoreError> {
        let chain = self.chain(scope)?;
        let mut v = chain.verifier(None)?;
        let mut kept = None;
        let mut after = 0i64;
        loop {
            let rows = self.page(scope, after, PAGE)?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for row in &rows {
                let pos = v.report().last_seq.saturating_add(1);
                let e = row_entry(row, pos)?;
                v.push(&e)?;
                if Some(e.seq()) == keep {
                    kept = Some(e);
                }
            }
        }
        let report = v.report();
        match self.head(scope)? {
            None if report.last_seq == 0 => {}
            None => return Err(broken(0, "the head row is missing")),
            Some((seq, mac)) => {
                let seq = u64::try_from(seq).unwrap_or(u64::MAX);
                if seq > report.last_seq {
                    return Err(broken(
                        report.last_seq.saturating_add(1),
                        "rows are missing before the head (truncated)",
                    ));
                }
                if seq < report.last_seq || mac != report.head_mac {
                    return Err(broken(seq, "the head row does not name the last entry"));
                }
            }
        }
        Ok((report, kept))
    }

    /// A checkpoint of the chain of `scope` at time `ts` (after verifying the whole chain), to
    /// be stored off the database (docs/audit.md §6).
    ///
    /// # Errors
    /// As [`AuditStore::verify`].
    pub fn checkpoint(&mut self, scope: &str, ts: u64) -> Result<AuditCheckpoint, StoreError> {
        let chain = self.chain(scope)?;
        let report = self.verify(scope)?;
        let head = if report.last_seq == 0 {
            None
        } else {
            self.read(scope, report.last_seq, 1)?.into_iter().next()
        };
        Ok(chain.checkpoint(head.as_ref(), ts)?)
    }

    /// Verifies the chain of `scope` and checks it against a checkpoint kept off the database:
    /// fails when rows were erased, truncated, rolled back or rewritten since.
    ///
    /// # Errors
    /// As [`AuditStore::verify`]; `Core(AuditBroken)` from `AuditChain::check_against`.
    pub fn check_against(
        &mut self,
        scope: &str,
        cp: &AuditCheckpoint,
    ) -> Result<AuditReport, StoreError> {
        let chain = self.chain(scope)?;
        chain.verify_checkpoint(cp)?;
        let (report, at) = self.verify_keeping(scope, Some(cp.seq()))?;
        chain.check_against(cp, &report, at.as_ref())?;
        Ok(report)
    }

    /// Up to `limit` entries of `scope` from seq `from` on, in seq order (parsed, not verified:
    /// see [`AuditStore::verify`]).
    ///
    /// # Errors
    /// `Core(AuditBroken)` for a row whose entry does not parse or does not match its columns;
    /// [`StoreError::Database`].
    pub fn read(
        &mut self,
        scope: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let after = i64_of(from, "from must be at most i64::MAX")?.saturating_sub(1);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.page(scope, after, limit)?;
        rows.iter()
            .map(|r| row_entry(r, u64::try_from(r.seq).unwrap_or(0)))
            .collect()
    }
}

/// The head entry, checked against the head row.
fn head_entry(text: &str, seq: i64, mac: &str) -> Result<AuditEntry, StoreError> {
    let pos = u64::try_from(seq).unwrap_or(0);
    let e = AuditEntry::parse(text.as_bytes())
        .map_err(|_| broken(pos, "the head entry is not a valid entry"))?;
    if i64::try_from(e.seq()).ok() != Some(seq) || e.mac() != mac {
        return Err(broken(pos, "the head row does not name the head entry"));
    }
    Ok(e)
}

/// A row's entry, checked against the row's own columns; `pos` is the seq named on failure.
fn row_entry(row: &Row, pos: u64) -> Result<AuditEntry, StoreError> {
    let e = AuditEntry::parse(row.entry.as_bytes())
        .map_err(|_| broken(pos, "the row's entry is not a valid entry"))?;
    let same = i64::try_from(e.seq()).ok() == Some(row.seq)
        && i64::try_from(e.ts()).ok() == Some(row.ts)
        && e.op() == row.op
        && e.actor() == row.actor.as_deref()
        && e.tenant() == row.tenant.as_deref()
        && e.outcome().map(|o| o.as_str()) == row.outcome.as_deref();
    if !same {
        return Err(broken(pos, "the row's columns differ from its MACed entry"));
    }
    Ok(e)
}
