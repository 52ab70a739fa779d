//! Shared replay guards: the core's [`keycustody::ReplayStore`] on SQLite and
//! PostgreSQL, so many app instances accept each event id once.
//!
//! One table, `(id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)`. Recording is one
//! atomic statement, insert-if-absent-or-expired:
//! `INSERT .. ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE t.expires_at < now`;
//! one affected row means the id was fresh, none means it is a replay. Concurrent
//! instances therefore never both accept an id. As in core's in-memory guard, an id
//! recorded at `now` is refused through `now + ttl` inclusive (a row is expired only
//! when `expires_at < now`), so with ttl = 2 × the verifier's tolerance a replay at
//! exactly the tolerance boundary, which the verifier accepts, is still refused. [`SqliteReplayGuard::prune_at`] /
//! [`PgReplayGuard::prune_at`] delete expired rows (run it now and then).

use crate::ident::quote_ident;
use keycustody::check_event_id;
use keycustody::{Error, ReplayStore, Result};
use std::sync::Mutex;

fn db_err<E>(_: E) -> Error {
    // The driver's message may quote SQL or data; keep only that it failed.
    Error::Io(std::io::ErrorKind::Other)
}

fn ttl_i64(ttl_seconds: u64) -> Result<i64> {
    if ttl_seconds == 0 || ttl_seconds > keycustody::MAX_REPLAY_TTL {
        return Err(Error::InvalidArgument("ttl must be 1 s to 10 years"));
    }
    i64::try_from(ttl_seconds).map_err(|_| Error::InvalidArgument("ttl"))
}

/// A replay guard in a SQLite table.
pub struct SqliteReplayGuard {
    conn: Mutex<rusqlite::Connection>,
    table: String,
    ttl: i64,
}

impl core::fmt::Debug for SqliteReplayGuard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SqliteReplayGuard")
            .field("table", &self.table)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl SqliteReplayGuard {
    /// Uses (and creates if needed) `table` in the connection's database; ids are
    /// remembered for `ttl_seconds`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad ttl; [`Error::Io`] when the table cannot be created.
    pub fn new(conn: rusqlite::Connection, table: &str, ttl_seconds: u64) -> Result<Self> {
        let ttl = ttl_i64(ttl_seconds)?;
        let table = quote_ident(table);
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)"
        ))
        .map_err(db_err)?;
        Ok(SqliteReplayGuard {
            conn: Mutex::new(conn),
            table,
            ttl,
        })
    }

    /// Deletes ids expired at `now` (`expires_at < now`); returns how many.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn prune_at(&self, now: i64) -> Result<usize> {
        let conn = self.conn.lock().map_err(db_err)?;
        conn.execute(
            &format!("DELETE FROM {} WHERE expires_at < ?1", self.table),
            [now],
        )
        .map_err(db_err)
    }
}

impl ReplayStore for SqliteReplayGuard {
    fn check_and_record_at(&self, id: &str, now: i64) -> Result<()> {
        check_event_id(id)?;
        let conn = self.conn.lock().map_err(db_err)?;
        let t = &self.table;
        let n = conn
            .execute(
                &format!(
                    "INSERT INTO {t} (id, expires_at) VALUES (?1, ?2) \
                     ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at \
                     WHERE {t}.expires_at < ?3"
                ),
                rusqlite::params![id, now.saturating_add(self.ttl), now],
            )
            .map_err(db_err)?;
        if n == 1 {
            Ok(())
        } else {
            Err(Error::Replayed)
        }
    }
}

/// A replay guard in a PostgreSQL table, shared by every instance using the database.
pub struct PgReplayGuard {
    client: Mutex<postgres::Client>,
    table: String,
    ttl: i64,
}

impl core::fmt::Debug for PgReplayGuard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PgReplayGuard")
            .field("table", &self.table)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl PgReplayGuard {
    /// Uses (and creates if needed) `table`; ids are remembered for `ttl_seconds`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad ttl; [`Error::Io`] when the table cannot be created.
    pub fn new(mut client: postgres::Client, table: &str, ttl_seconds: u64) -> Result<Self> {
        let ttl = ttl_i64(ttl_seconds)?;
        let table = quote_ident(table);
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)"
            ))
            .map_err(db_err)?;
        Ok(PgReplayGuard {
            client: Mutex::new(client),
            table,
            ttl,
        })
    }

    /// Deletes ids expired at `now` (`expires_at < now`); returns how many.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn prune_at(&self, now: i64) -> Result<u64> {
        let mut c = self.client.lock().map_err(db_err)?;
        c.execute(
            &format!("DELETE FROM {} WHERE expires_at < $1", self.table),
            &[&now],
        )
        .map_err(db_err)
    }
}

impl ReplayStore for PgReplayGuard {
    fn check_and_record_at(&self, id: &str, now: i64) -> Result<()> {
        check_event_id(id)?;
        let mut c = self.client.lock().map_err(db_err)?;
        let t = &self.table;
        let exp = now.saturating_add(self.ttl);
        let n = c
            .execute(
                &format!(
                    "INSERT INTO {t} (id, expires_at) VALUES ($1, $2) \
                     ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at \
                     WHERE {t}.expires_at < $3"
                ),
                &[&id, &exp, &now],
            )
            .map_err(db_err)?;
        if n == 1 {
            Ok(())
        } else {
            Err(Error::Replayed)
        }
    }
}
