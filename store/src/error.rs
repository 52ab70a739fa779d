//! The store's error type.
//!
//! Variants name tables, columns and row ids (schema, not secrets); database
//! messages are the server's primary message only, never its DETAIL (which can quote
//! row values), and never a secret value.

use std::fmt;

/// Everything that can go wrong in a store operation.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The database URL is not `sqlite:PATH` or `postgres://...`/`postgresql://...`.
    InvalidUrl(&'static str),
    /// Connecting or opening the database failed.
    Connect(String),
    /// A database statement failed.
    Database(String),
    /// A table or column name is not a plain identifier.
    InvalidIdentifier(String),
    /// The table does not exist.
    NoSuchTable(String),
    /// The column does not exist in the table.
    NoSuchColumn {
        /// The table.
        table: String,
        /// The missing column.
        column: String,
    },
    /// The id column is not an integer column (keyset pagination needs one).
    IdNotInteger {
        /// The table.
        table: String,
        /// The id column.
        column: String,
    },
    /// Another job holds the lock on this table.
    JobRunning(String),
    /// The keyring opened no row of the first batch: almost certainly the wrong keyring
    /// (or the wrong owner/context columns). Nothing was written.
    NothingOpens {
        /// Rows tried.
        tried: u64,
        /// The error of the first of them.
        first_error: keycustody::Error,
    },
    /// A keycustody error outside of per-row processing (e.g. loading a keyring).
    Core(keycustody::Error),
    /// Local I/O (e.g. the job lock file).
    Io(std::io::ErrorKind),
    /// The database stayed locked by another connection for longer than the job waits.
    Busy,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::InvalidUrl(why) => write!(
                f,
                "invalid database URL ({why}); expected sqlite:PATH or postgres://USER@HOST:PORT/DB"
            ),
            StoreError::Connect(m) => write!(f, "cannot open the database: {m}"),
            StoreError::Database(m) => write!(f, "database error: {m}"),
            StoreError::InvalidIdentifier(s) => write!(
                f,
                "invalid identifier {s:?}: use letters, digits and underscores, not starting with a digit"
            ),
            StoreError::NoSuchTable(t) => write!(f, "no table named {t:?} in the database"),
            StoreError::NoSuchColumn { table, column } => {
                write!(f, "table {table:?} has no column named {column:?}")
            }
            StoreError::IdNotInteger { table, column } => write!(
                f,
                "column {table}.{column} is not an integer column; the job pages by an integer id"
            ),
            StoreError::JobRunning(t) => write!(
                f,
                "another keycustody job is already running on table {t:?}; wait for it to finish"
            ),
            StoreError::NothingOpens { tried, first_error } => write!(
                f,
                "none of the first {tried} rows opens with this keyring ({first_error}); wrong keyring, or wrong owner/context column? nothing was written"
            ),
            StoreError::Core(e) => write!(f, "{e}"),
            StoreError::Io(k) => write!(f, "I/O error: {k}"),
            StoreError::Busy => f.write_str("the database stayed locked by another connection; try again"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<keycustody::Error> for StoreError {
    fn from(e: keycustody::Error) -> Self {
        StoreError::Core(e)
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Io(e.kind())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Database(e.to_string()),
        }
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            // Primary message only: DETAIL can quote row values.
            Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
            None => StoreError::Database(e.to_string()),
        }
    }
}
