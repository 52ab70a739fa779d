//! SQLite and PostgreSQL backends for keycustody: the bulk rewrap / migrate job and
//! the envelope scan that `keycustody keys retire --check` runs.
//!
//! The job walks a table by its integer primary key in batches (keyset pagination),
//! computes the new value of every row that needs it on all cores, and writes each
//! batch in one transaction with compare-and-swap updates
//! (`UPDATE t SET c = new WHERE id = ? AND c = old`): a row a concurrent writer
//! changed meanwhile is never overwritten, only revisited. Every row is at all times
//! either its old or its new value, so the job can be killed at any point and rerun;
//! rows already done are skipped by reading their header only. Nothing is deleted.
//!
//! [`AuditStore`] keeps core's audit chain (docs/audit.md) in a table, appended to by many
//! app instances at once (each append serialized on the chain's head row) and verified by
//! streaming.
//!
//! [`TenantKeys`] is the tenant key store of DESIGN §7 (`keycustody_tenant_keys`): per-tenant
//! keyrings sealed under the platform keyring (or CMEK-wrapped), create / load through
//! core's cache / rotate with compare-and-swap / shred with a tombstone / list, the
//! [`census`] of a tenant's rows per kid, [`Transform::RewrapTenants`] (`rewrap --tenant-keys`)
//! and [`tenant_table_spec`] (the platform-root rotation: the rewrap job over that table).
//!
//! ```no_run
//! use keycustody::Keyring;
//! use keycustody_store::{Database, Job, JobSpec, ContextSource, Transform};
//!
//! # fn main() -> Result<(), keycustody_store::StoreError> {
//! let keyring = Keyring::from_file("keyring.json")?;
//! let mut db = Database::connect("sqlite:app.db")?;
//! let spec = JobSpec::new("secrets", "id", "tenant_id", "value", ContextSource::Fixed(Vec::new()));
//! let report = Job::new(&mut db, spec, Transform::Rewrap(&keyring))?.run(&mut |_| {})?;
//! assert!(report.failed.is_empty());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod audit;
mod db;
mod error;
mod ident;
mod job;
pub mod replay;
mod tenants;

pub use audit::{AuditStore, AUDIT_APPEND_RETRIES, AUDIT_HEAD_TABLE, AUDIT_TABLE};
pub use db::{Database, DbKind};
pub use error::StoreError;
pub use ident::quote_ident;
pub use job::{
    scan, ContextSource, FailedRow, Job, JobReport, JobSpec, LegacyFormat, Progress, ScanReport,
    Transform,
};
/// The PostgreSQL driver, re-exported for setup code (tests).
pub use postgres;
/// The SQLite driver, re-exported for setup code (the demo, tests).
pub use rusqlite;
pub use tenants::{
    census, tenant_table_spec, CensusTable, TableCensus, TenantCount, TenantEntry, TenantForm,
    TenantKeys, Unwrapper, TENANT_TABLE,
};
