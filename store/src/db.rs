//! The two backends behind one small interface: just what the job needs.

use crate::ident::{check_ident, quote_ident};
use crate::StoreError;
use std::path::PathBuf;
use std::time::Duration;

/// Which database a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// SQLite (bundled; the embedded default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

enum Conn {
    Sqlite {
        conn: rusqlite::Connection,
        path: PathBuf,
    },
    Postgres(postgres::Client),
}

/// An open database connection.
pub struct Database {
    conn: Conn,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("Database")
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

/// One row as the job reads it.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: i64,
    pub owner: Option<String>,
    pub value: Cell,
    pub context: Option<String>,
}

/// The secret column's content.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Null,
    Text(String),
    /// A BLOB or another non-text value: reported, never touched.
    NotText,
}

impl std::fmt::Debug for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Null => f.write_str("Null"),
            Cell::Text(t) => write!(f, "Text([{} bytes])", t.len()),
            Cell::NotText => f.write_str("NotText"),
        }
    }
}

/// The validated columns a job reads.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    pub table: String,
    pub id: String,
    pub owner: Option<String>,
    pub value: String,
    pub context: Option<String>,
}

/// Holds the per-table job lock until dropped.
pub(crate) enum JobLock {
    File(#[allow(dead_code)] std::fs::File),
    Advisory,
}

fn sqlite_value_to_string(v: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).ok().map(str::to_owned),
        ValueRef::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

impl Database {
    /// Opens `sqlite:PATH` (also `sqlite://PATH`; the file must exist) or a
    /// `postgres://` / `postgresql://` URL (no TLS: for local or tunnelled servers).
    ///
    /// # Errors
    /// [`StoreError::InvalidUrl`], [`StoreError::Connect`].
    pub fn connect(url: &str) -> Result<Database, StoreError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(StoreError::InvalidUrl("empty SQLite path"));
            }
            Self::open_sqlite(PathBuf::from(path), false)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
                StoreError::Connect(match e.as_db_error() {
                    Some(db) => db.message().to_owned(),
                    None => e.to_string(),
                })
            })?;
            Ok(Database {
                conn: Conn::Postgres(client),
            })
        } else {
            Err(StoreError::InvalidUrl("unknown scheme"))
        }
    }

    /// Opens (or with `create`, creates) a SQLite database file.
    ///
    /// # Errors
    /// [`StoreError::Connect`].
    pub fn open_sqlite(path: PathBuf, create: bool) -> Result<Database, StoreError> {
        use rusqlite::OpenFlags;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = rusqlite::Connection::open_with_flags(&path, flags)
            .map_err(|e| StoreError::Connect(format!("{}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_secs(30))?;
        Ok(Database {
            conn: Conn::Sqlite { conn, path },
        })
    }

    /// Which backend this is.
    #[must_use]
    pub fn kind(&self) -> DbKind {
        match self.conn {
            Conn::Sqlite { .. } => DbKind::Sqlite,
            Conn::Postgres(_) => DbKind::Postgres,
        }
    }

    /// The SQLite connection, for setup code (demo, tests).
    pub fn sqlite(&mut self) -> Option<&mut rusqlite::Connection> {
        match &mut self.conn {
            Conn::Sqlite { conn, .. } => Some(conn),
            Conn::Postgres(_) => None,
        }
    }

    /// The PostgreSQL client, for setup code (tests).
    pub fn postgres(&mut self) -> Option<&mut postgres::Client> {
        match &mut self.conn {
            Conn::Postgres(c) => Some(c),
            Conn::Sqlite { .. } => None,
        }
    }

    /// Column names (lowercased for PostgreSQL) and whether each is an integer type.
    fn table_columns(&mut self, table: &str) -> Result<Vec<(String, bool)>, StoreError> {
        check_ident(table)?;
        let cols: Vec<(String, bool)> = match &mut self.conn {
            Conn::Sqlite { conn, .. } => {
                let mut st = conn.prepare("SELECT name, type FROM pragma_table_info(?1)")?;
                let rows = st.query_map([table], |r| {
                    let name: String = r.get(0)?;
                    let ty: String = r.get(1)?;
                    Ok((name, ty.to_ascii_uppercase().contains("INT")))
                })?;
                rows.collect::<Result<_, _>>()?
            }
            Conn::Postgres(c) => c
                .query(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1",
                    &[&table],
                )?
                .iter()
                .map(|r| {
                    let ty: String = r.get(1);
                    (
                        r.get::<_, String>(0),
                        matches!(ty.as_str(), "smallint" | "integer" | "bigint"),
                    )
                })
                .collect(),
        };
        if cols.is_empty() {
            return Err(StoreError::NoSuchTable(table.to_owned()));
        }
        Ok(cols)
    }

    /// Validates the table and columns against the schema.
    pub(crate) fn columns(
        &mut self,
        table: &str,
        id: &str,
        owner: Option<&str>,
        value: &str,
        context: Option<&str>,
    ) -> Result<Columns, StoreError> {
        let cols = self.table_columns(table)?;
        let find = |c: &str| -> Result<(String, bool), StoreError> {
            check_ident(c)?;
            cols.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(c))
                .cloned()
                .ok_or_else(|| StoreError::NoSuchColumn {
                    table: table.to_owned(),
                    column: c.to_owned(),
                })
        };
        let (id_name, id_int) = find(id)?;
        if !id_int {
            return Err(StoreError::IdNotInteger {
                table: table.to_owned(),
                column: id.to_owned(),
            });
        }
        Ok(Columns {
            table: table.to_owned(),
            id: id_name,
            owner: owner.map(|o| find(o).map(|x| x.0)).transpose()?,
            value: find(value)?.0,
            context: context.map(|c| find(c).map(|x| x.0)).transpose()?,
        })
    }

    /// Takes the per-table job lock, or fails with [`StoreError::JobRunning`].
    /// SQLite: an OS file lock on `<db>.keycustody-<table>.lock` beside the database;
    /// PostgreSQL: a session advisory lock. Both vanish with the process, so a killed
    /// job never blocks its rerun.
    pub(crate) fn lock_table(&mut self, table: &str) -> Result<JobLock, StoreError> {
        check_ident(table)?;
        match &mut self.conn {
            Conn::Sqlite { path, .. } => {
                let mut name = path.as_os_str().to_owned();
                name.push(format!(".keycustody-{table}.lock"));
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(PathBuf::from(name))?;
                match f.try_lock() {
                    Ok(()) => Ok(JobLock::File(f)),
                    Err(std::fs::TryLockError::WouldBlock) => {
                        Err(StoreError::JobRunning(table.to_owned()))
                    }
                    Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
                }
            }
            Conn::Postgres(c) => {
                let key = format!("keycustody-job:{table}");
                // Wait briefly: a job that was just killed keeps its lock until the server
                // notices the closed connection (at the end of its current statement).
                c.batch_execute("SET lock_timeout = '3s'")?;
                let r = c.query_one(
                    "SELECT pg_advisory_lock(1262700, hashtext(current_schema() || '.' || $1))",
                    &[&key],
                );
                c.batch_execute("RESET lock_timeout")?;
                match r {
                    Ok(_) => Ok(JobLock::Advisory),
                    Err(e) if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
                        Err(StoreError::JobRunning(table.to_owned()))
                    }
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// Number of rows in the table.
    pub(crate) fn count(&mut self, cols: &Columns) -> Result<u64, StoreError> {
        let sql = format!("SELECT count(*) FROM {}", quote_ident(&cols.table));
        let n: i64 = match &mut self.conn {
            Conn::Sqlite { conn, .. } => conn.query_row(&sql, [], |r| r.get(0))?,
            Conn::Postgres(c) => c.query_one(sql.as_str(), &[])?.get(0),
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn select_sql(&self, cols: &Columns, where_: &str) -> String {
        let pg = matches!(self.conn, Conn::Postgres(_));
        let cast = |c: &str| {
            if pg {
                format!("{}::text", quote_ident(c))
            } else {
                quote_ident(c)
            }
        };
        let id = if pg {
            format!("{}::int8", quote_ident(&cols.id))
        } else {
            quote_ident(&cols.id)
        };
        format!(
            "SELECT {id}, {}, {}, {} FROM {} WHERE {where_} ORDER BY {}",
            cols.owner.as_deref().map_or("NULL".into(), cast),
            cast(&cols.value),
            cols.context.as_deref().map_or("NULL".into(), cast),
            quote_ident(&cols.table),
            quote_ident(&cols.id),
        )
    }

    /// The next `limit` rows with id greater than `after`, in id order.
    pub(crate) fn fetch_after(
        &mut self,
        cols: &Columns,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Row>, StoreError> {
        let after = after.unwrap_or(i64::MIN);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let idq = quote_ident(&cols.id);
        match &mut self.conn {
            Conn::Sqlite { .. } => {
                let sql = format!("{} LIMIT ?2", self.select_sql(cols, &format!("{idq} > ?1")));
                let Conn::Sqlite { conn, .. } = &mut self.conn else {
                    return Ok(Vec::new());
                };
                let mut st = conn.prepare_cached(&sql)?;
                let rows = st.query_map(rusqlite::params![after, limit], sqlite_row)?;
                Ok(rows.collect::<Result<_, _>>()?)
            }
            Conn::Postgres(_) => {
                let sql = format!(
                    "{} LIMIT $2",
                    self.select_sql(cols, &format!("{idq} > $1::int8"))
                );
                let Conn::Postgres(c) = &mut self.conn else {
                    return Ok(Vec::new());
                };
                Ok(c.query(sql.as_str(), &[&after, &limit])?
                    .iter()
                    .map(pg_row)
                    .collect::<Result<_, _>>()?)
            }
        }
    }

    /// The rows with the given ids (those that still exist).
    pub(crate) fn fetch_ids(
        &mut self,
        cols: &Columns,
        ids: &[i64],
    ) -> Result<Vec<Row>, StoreError> {
        let idq = quote_ident(&cols.id);
        let mut out = Vec::with_capacity(ids.len());
        match &mut self.conn {
            Conn::Sqlite { .. } => {
                let sql = self.select_sql(cols, &format!("{idq} = ?1"));
                let Conn::Sqlite { conn, .. } = &mut self.conn else {
                    return Ok(out);
                };
                let mut st = conn.prepare_cached(&sql)?;
                for id in ids {
                    let rows = st.query_map([id], sqlite_row)?;
                    for r in rows {
                        out.push(r?);
                    }
                }
            }
            Conn::Postgres(_) => {
                let sql = self.select_sql(cols, &format!("{idq} = ANY($1::int8[])"));
                let Conn::Postgres(c) = &mut self.conn else {
                    return Ok(out);
                };
                for r in c.query(sql.as_str(), &[&ids])?.iter() {
                    out.push(pg_row(r)?);
                }
            }
        }
        Ok(out)
    }

    /// Writes `(id, old, new)` updates in one transaction, each as a compare-and-swap.
    /// Returns, per update, whether it applied (false: the row changed meanwhile or is gone).
    pub(crate) fn write_cas(
        &mut self,
        cols: &Columns,
        updates: &[(i64, String, String)],
    ) -> Result<Vec<bool>, StoreError> {
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        let t = quote_ident(&cols.table);
        let c = quote_ident(&cols.value);
        let idq = quote_ident(&cols.id);
        match &mut self.conn {
            Conn::Sqlite { conn, .. } => {
                let tx =
                    rusqlite::Transaction::new(conn, rusqlite::TransactionBehavior::Immediate)?;
                let mut applied = Vec::with_capacity(updates.len());
                {
                    let sql = format!("UPDATE {t} SET {c} = ?1 WHERE {idq} = ?2 AND {c} = ?3");
                    let mut st = tx.prepare_cached(&sql)?;
                    for (id, old, new) in updates {
                        applied.push(st.execute(rusqlite::params![new, id, old])? == 1);
                    }
                }
                tx.commit()?;
                Ok(applied)
            }
            Conn::Postgres(client) => {
                let ids: Vec<i64> = updates.iter().map(|u| u.0).collect();
                let olds: Vec<&str> = updates.iter().map(|u| u.1.as_str()).collect();
                let news: Vec<&str> = updates.iter().map(|u| u.2.as_str()).collect();
                // One round trip per batch; the CAS is the `AND t.c = u.old`.
                let sql = format!(
                    "UPDATE {t} SET {c} = u.new FROM unnest($1::int8[], $2::text[], $3::text[]) \
                     AS u(id, old, new) WHERE {t}.{idq} = u.id AND {t}.{c} = u.old RETURNING u.id"
                );
                let mut tx = client.transaction()?;
                let done: std::collections::HashSet<i64> = tx
                    .query(sql.as_str(), &[&ids, &olds, &news])?
                    .iter()
                    .map(|r| r.get::<_, i64>(0))
                    .collect();
                tx.commit()?;
                Ok(ids.iter().map(|id| done.contains(id)).collect())
            }
        }
    }

    /// Every value of one column, streamed to `f` (for the scan).
    pub(crate) fn for_each_value(
        &mut self,
        table: &str,
        column: &str,
        f: &mut dyn FnMut(Cell),
    ) -> Result<(), StoreError> {
        let cols = self.table_columns(table)?;
        check_ident(column)?;
        let name = cols
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(column))
            .map(|x| x.0.clone())
            .ok_or_else(|| StoreError::NoSuchColumn {
                table: table.to_owned(),
                column: column.to_owned(),
            })?;
        let (t, c) = (quote_ident(table), quote_ident(&name));
        match &mut self.conn {
            Conn::Sqlite { conn, .. } => {
                let mut st = conn.prepare(&format!("SELECT {c} FROM {t}"))?;
                let mut rows = st.query([])?;
                while let Some(r) = rows.next()? {
                    f(sqlite_cell(r.get_ref(0)?));
                }
            }
            Conn::Postgres(client) => {
                let mut tx = client.transaction()?;
                let portal = tx.bind(format!("SELECT {c}::text FROM {t}").as_str(), &[])?;
                loop {
                    let rows = tx.query_portal(&portal, 10_000)?;
                    if rows.is_empty() {
                        break;
                    }
                    for r in rows {
                        f(match r.get::<_, Option<String>>(0) {
                            Some(s) => Cell::Text(s),
                            None => Cell::Null,
                        });
                    }
                }
                tx.commit()?;
            }
        }
        Ok(())
    }
}

impl Database {
    /// Every `(owner, value)` of a validated table, streamed to `f` (for the census);
    /// with `only`, the rows whose owner is that tenant.
    pub(crate) fn for_each_owner_value(
        &mut self,
        cols: &Columns,
        only: Option<&str>,
        f: &mut dyn FnMut(Option<String>, Cell),
    ) -> Result<(), StoreError> {
        let t = quote_ident(&cols.table);
        let v = quote_ident(&cols.value);
        let o = cols.owner.as_deref().map_or("NULL".into(), quote_ident);
        match &mut self.conn {
            Conn::Sqlite { conn, .. } => {
                let base = format!("SELECT {o}, {v} FROM {t}");
                let mut st;
                let mut rows = match only {
                    Some(tenant) => {
                        st = conn.prepare(&format!("{base} WHERE CAST({o} AS TEXT) = ?1"))?;
                        st.query([tenant])?
                    }
                    None => {
                        st = conn.prepare(&base)?;
                        st.query([])?
                    }
                };
                while let Some(r) = rows.next()? {
                    f(
                        sqlite_value_to_string(r.get_ref(0)?),
                        sqlite_cell(r.get_ref(1)?),
                    );
                }
            }
            Conn::Postgres(client) => {
                let mut tx = client.transaction()?;
                let base = format!("SELECT {o}::text, {v}::text FROM {t}");
                let portal = match only {
                    Some(tenant) => {
                        tx.bind(format!("{base} WHERE {o}::text = $1").as_str(), &[&tenant])?
                    }
                    None => tx.bind(base.as_str(), &[])?,
                };
                loop {
                    let rows = tx.query_portal(&portal, 10_000)?;
                    if rows.is_empty() {
                        break;
                    }
                    for r in rows {
                        let cell = match r.get::<_, Option<String>>(1) {
                            Some(s) => Cell::Text(s),
                            None => Cell::Null,
                        };
                        f(r.get::<_, Option<String>>(0), cell);
                    }
                }
                tx.commit()?;
            }
        }
        Ok(())
    }
}

fn sqlite_cell(v: rusqlite::types::ValueRef<'_>) -> Cell {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Cell::Text(s.to_owned()),
            Err(_) => Cell::NotText,
        },
        _ => Cell::NotText,
    }
}

fn sqlite_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        owner: sqlite_value_to_string(r.get_ref(1)?),
        value: sqlite_cell(r.get_ref(2)?),
        context: sqlite_value_to_string(r.get_ref(3)?),
    })
}

fn pg_row(r: &postgres::Row) -> Result<Row, StoreError> {
    Ok(Row {
        id: r.try_get::<_, i64>(0)?,
        owner: r.try_get(1)?,
        value: match r.try_get::<_, Option<String>>(2)? {
            Some(s) => Cell::Text(s),
            None => Cell::Null,
        },
        context: r.try_get(3)?,
    })
}
