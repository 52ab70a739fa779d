//! The bulk rewrap / migrate job, and the envelope scan.

use crate::db::{Cell, Columns, Database, Row};
use crate::StoreError;
use keycustody::{Error, Keyring, Pbkdf2GcmParams, SecretBytes};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the envelope context of each row comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextSource {
    /// The same bytes for every row (often the column name, or empty).
    Fixed(Vec<u8>),
    /// A column of the row (NULL counts as empty).
    Column(String),
}

/// What the job reads and how it walks the table.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The table.
    pub table: String,
    /// Its integer primary key (the job pages by it).
    pub id_column: String,
    /// The column holding each row's owner (tenant id; an integer column is read as its decimal text).
    pub owner_column: String,
    /// The column holding the secret (text: `kc1.` envelopes, or legacy values for migrate).
    pub value_column: String,
    /// The envelope context.
    pub context: ContextSource,
    /// Rows per batch (one transaction each); default 2000.
    pub batch: usize,
    /// Compute and verify everything, write nothing.
    pub dry_run: bool,
}

impl JobSpec {
    /// A spec with the default batch size, not a dry run.
    #[must_use]
    pub fn new(
        table: &str,
        id_column: &str,
        owner_column: &str,
        value_column: &str,
        context: ContextSource,
    ) -> JobSpec {
        JobSpec {
            table: table.to_owned(),
            id_column: id_column.to_owned(),
            owner_column: owner_column.to_owned(),
            value_column: value_column.to_owned(),
            context,
            batch: 2000,
            dry_run: false,
        }
    }
}

/// A legacy format the migrate job converts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyFormat {
    /// `base64(salt || iv || ciphertext || tag)`, PBKDF2-HMAC-SHA256 + AES-256-GCM.
    Pbkdf2Gcm(Pbkdf2GcmParams),
    /// `openssl enc -aes-256-cbc -pbkdf2 -iter N -a` output (base64 text of `Salted__...`).
    OpensslEnc {
        /// PBKDF2 iterations (`-iter`).
        iterations: u32,
    },
}

/// What the job does to each row.
#[derive(Debug, Clone, Copy)]
pub enum Transform<'a> {
    /// Rewrap `kc1` envelopes that are not under the keyring's primary. With the context
    /// `keycustody/v1/keyring` (the platform-root rotation of the tenant key table), rows
    /// holding a CMEK-wrapped keyring are counted apart in [`JobReport::wrapped`].
    Rewrap(&'a Keyring),
    /// Rewrap each row under the keyring of its owner, resolved through the tenant key store
    /// (same database): data of a rotated tenant move to its new kid. Rows of shredded
    /// tenants are counted in [`JobReport::shredded`], never rewritten.
    RewrapTenants(&'a crate::TenantKeys<'a>),
    /// Turn legacy values into `kc1` under the primary; values already `kc1.` are left alone.
    Migrate {
        /// The keyring whose primary seals.
        keyring: &'a Keyring,
        /// The legacy format.
        format: LegacyFormat,
        /// The legacy password.
        password: &'a SecretBytes,
    },
}

/// Progress after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Rows examined so far.
    pub done: u64,
    /// Rows in the table when the job started.
    pub total: u64,
}

/// A row that would not open or convert. Nothing was written to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRow {
    /// Its id.
    pub id: i64,
    /// Why (a fixed description; no value, no secret).
    pub reason: String,
    /// The error kind (`DecryptFailed`, `Malformed`, `UnknownKey`, ...).
    pub kind: &'static str,
}

/// Envelopes per kid in one column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// `kc1` envelopes per key id.
    pub by_kid: BTreeMap<u32, u64>,
    /// NULL values.
    pub nulls: u64,
    /// Values that are not `kc1` envelopes (legacy, garbage, blobs).
    pub not_kc1: u64,
}

impl ScanReport {
    /// Total rows scanned.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.by_kid.values().sum::<u64>() + self.nulls + self.not_kc1
    }
}

/// The outcome of a job run.
#[derive(Debug, Clone, Default)]
pub struct JobReport {
    /// Rows examined (revisits not counted twice).
    pub rows: u64,
    /// Rows rewritten (or, in a dry run, that would be).
    pub rewritten: u64,
    /// Rows already current (sealed under the primary; for migrate: already `kc1`).
    pub already_current: u64,
    /// NULL values, left alone.
    pub nulls: u64,
    /// Envelopes rewritten, per kid they were under before.
    pub rewritten_from: BTreeMap<u32, u64>,
    /// Compare-and-swap misses (a concurrent writer changed the row); each was revisited.
    pub concurrent_changes: u64,
    /// Rows still changing under the job after the revisits; rerun to finish them.
    pub unsettled: Vec<i64>,
    /// Rows that would not open or convert, by id.
    pub failed: Vec<FailedRow>,
    /// Tenant key table: rows holding a keyring wrapped under the tenant's own KEK (CMEK),
    /// not under the platform keyring; left alone, not failures.
    pub wrapped: u64,
    /// `RewrapTenants`: rows of shredded tenants (unreadable by design), per tenant; left
    /// alone, not failures.
    pub shredded: BTreeMap<String, u64>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The column after the run (for a dry run: as it was).
    pub after: ScanReport,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl JobReport {
    /// Whether the job left work undone (failed or unsettled rows).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.unsettled.is_empty()
    }
}

enum Outcome {
    Null,
    Current,
    New { old_kid: Option<u32>, value: String },
    Failed(Error),
    NotText,
    Wrapped,
    Shredded,
}

/// Per-batch tenant keyrings, by owner.
type Resolved = HashMap<String, Result<Arc<Keyring>, Error>>;

/// A job bound to a database and a validated table.
pub struct Job<'a> {
    db: &'a mut Database,
    cols: Columns,
    spec: JobSpec,
    transform: Transform<'a>,
    _lock: crate::db::JobLock,
}

impl std::fmt::Debug for Job<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

const REVISIT_ROUNDS: usize = 5;

/// Retries an operation SQLite refused with BUSY (lock contention with another writer,
/// including the deadlock case where SQLite refuses to wait). Safe: a failed batch rolled
/// back entirely, and its writes are compare-and-swap. Gives up after about a minute.
pub(crate) fn retry_busy<T>(mut f: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let mut waited = Duration::ZERO;
    let mut pause = Duration::from_millis(2);
    loop {
        match f() {
            Err(StoreError::Busy) if waited < Duration::from_secs(60) => {
                std::thread::sleep(pause);
                waited += pause;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

impl<'a> Job<'a> {
    /// Validates the table and columns against the schema and takes the table's job lock.
    ///
    /// # Errors
    /// [`StoreError::NoSuchTable`], [`StoreError::NoSuchColumn`], [`StoreError::InvalidIdentifier`],
    /// [`StoreError::IdNotInteger`], [`StoreError::JobRunning`], [`StoreError::Database`].
    pub fn new(
        db: &'a mut Database,
        spec: JobSpec,
        transform: Transform<'a>,
    ) -> Result<Job<'a>, StoreError> {
        if spec.batch == 0 || spec.batch > 100_000 {
            return Err(StoreError::Core(Error::InvalidArgument(
                "batch must be 1 to 100000",
            )));
        }
        let ctx_col = match &spec.context {
            ContextSource::Column(c) => Some(c.as_str()),
            ContextSource::Fixed(_) => None,
        };
        let cols = db.columns(
            &spec.table,
            &spec.id_column,
            Some(&spec.owner_column),
            &spec.value_column,
            ctx_col,
        )?;
        let lock = db.lock_table(&cols.table)?;
        Ok(Job {
            db,
            cols,
            spec,
            transform,
            _lock: lock,
        })
    }

    fn process(
        context: &ContextSource,
        transform: Transform<'_>,
        resolved: &Resolved,
        row: &Row,
    ) -> Outcome {
        let value = match &row.value {
            Cell::Null => return Outcome::Null,
            Cell::NotText => return Outcome::NotText,
            Cell::Text(v) => v,
        };
        let Some(owner) = row.owner.as_deref() else {
            return Outcome::Failed(Error::InvalidOwner);
        };
        let ctx: &[u8] = match context {
            ContextSource::Fixed(c) => c,
            ContextSource::Column(_) => row.context.as_deref().unwrap_or("").as_bytes(),
        };
        let tenant_kr;
        let kr = match transform {
            Transform::Rewrap(kr) => {
                if ctx == keycustody::KEYRING_CONTEXT.as_bytes()
                    && keycustody::is_wrapped_keyring(value)
                {
                    return Outcome::Wrapped;
                }
                Some(kr)
            }
            Transform::RewrapTenants(_) => match resolved.get(owner) {
                Some(Ok(k)) => {
                    tenant_kr = Arc::clone(k);
                    Some(&*tenant_kr)
                }
                Some(Err(Error::TenantShredded)) => return Outcome::Shredded,
                Some(Err(e)) => return Outcome::Failed(*e),
                None => return Outcome::Failed(Error::UnknownTenant),
            },
            Transform::Migrate { .. } => None,
        };
        match (transform, kr) {
            (Transform::Rewrap(_) | Transform::RewrapTenants(_), Some(kr)) => {
                let info = match keycustody::inspect(value) {
                    Ok(i) => i,
                    Err(e) => return Outcome::Failed(e),
                };
                if info.kid == kr.primary_kid() {
                    return Outcome::Current;
                }
                match kr.rewrap(owner, value, ctx) {
                    Ok(v) => Outcome::New {
                        old_kid: Some(info.kid),
                        value: v,
                    },
                    Err(e) => Outcome::Failed(e),
                }
            }
            (Transform::Rewrap(_) | Transform::RewrapTenants(_), None) => {
                Outcome::Failed(Error::UnknownTenant)
            }
            (
                Transform::Migrate {
                    keyring,
                    format,
                    password,
                },
                _,
            ) => {
                if value.starts_with(keycustody::TEXT_PREFIX) {
                    return match keycustody::inspect(value) {
                        Ok(_) => Outcome::Current,
                        Err(e) => Outcome::Failed(e),
                    };
                }
                let plain = match format {
                    LegacyFormat::Pbkdf2Gcm(p) => {
                        keycustody::decrypt_legacy_pbkdf2_gcm(value, password.expose_secret(), p)
                    }
                    LegacyFormat::OpensslEnc { iterations } => {
                        decode_b64_lines(value).and_then(|bin| {
                            keycustody::decrypt_openssl_enc(
                                &bin,
                                password.expose_secret(),
                                iterations,
                            )
                        })
                    }
                };
                match plain.and_then(|p| keyring.seal(owner, p.expose_secret(), ctx)) {
                    Ok(v) => Outcome::New {
                        old_kid: None,
                        value: v,
                    },
                    Err(e) => Outcome::Failed(e),
                }
            }
        }
    }

    /// Processes rows and writes a batch. Returns (ids that missed the CAS, successes, key failures).
    fn do_batch(
        &mut self,
        rows: &[Row],
        report: &mut JobReport,
        first: bool,
    ) -> Result<Vec<i64>, StoreError> {
        let mut resolved = Resolved::new();
        if let Transform::RewrapTenants(tk) = self.transform {
            for r in rows {
                let (Some(owner), Cell::Text(_)) = (&r.owner, &r.value) else {
                    continue;
                };
                if resolved.contains_key(owner) {
                    continue;
                }
                let k = match tk.load(self.db, owner) {
                    Ok(k) => Ok(k),
                    Err(StoreError::Core(e)) => Err(e),
                    Err(e) => return Err(e),
                };
                resolved.insert(owner.clone(), k);
            }
        }
        let outcomes: Vec<Outcome> = {
            let (context, transform) = (&self.spec.context, self.transform);
            let resolved = &resolved;
            rows.par_iter()
                .map(|r| Self::process(context, transform, resolved, r))
                .collect()
        };
        let mut updates = Vec::new();
        let mut old_kids = Vec::new();
        let mut key_failures = 0u64;
        let mut first_err = None;
        let mut tried = 0u64;
        for (row, out) in rows.iter().zip(outcomes) {
            match out {
                Outcome::Null => report.nulls += 1,
                Outcome::Current => report.already_current += 1,
                Outcome::Wrapped => report.wrapped += 1,
                Outcome::Shredded => {
                    *report
                        .shredded
                        .entry(row.owner.clone().unwrap_or_default())
                        .or_default() += 1;
                }
                Outcome::NotText => {
                    tried += 1;
                    report.failed.push(FailedRow {
                        id: row.id,
                        reason: "value is not text (BLOB or invalid UTF-8)".into(),
                        kind: "Malformed",
                    });
                }
                Outcome::Failed(e) => {
                    tried += 1;
                    if matches!(
                        e,
                        Error::DecryptFailed | Error::UnknownKey(_) | Error::KeyRetired(_)
                    ) {
                        key_failures += 1;
                        first_err.get_or_insert(e);
                    }
                    report.failed.push(FailedRow {
                        id: row.id,
                        reason: e.to_string(),
                        kind: e.kind(),
                    });
                }
                Outcome::New { old_kid, value } => {
                    tried += 1;
                    if let Cell::Text(old) = &row.value {
                        updates.push((row.id, old.clone(), value));
                        old_kids.push(old_kid);
                    }
                }
            }
        }
        if first && tried > 0 && key_failures == tried && report.rewritten == 0 {
            if let Some(e) = first_err {
                return Err(StoreError::NothingOpens {
                    tried,
                    first_error: e,
                });
            }
        }
        if self.spec.dry_run {
            for k in old_kids.into_iter().flatten() {
                *report.rewritten_from.entry(k).or_default() += 1;
            }
            report.rewritten += updates.len() as u64;
            return Ok(Vec::new());
        }
        let applied = retry_busy(|| self.db.write_cas(&self.cols, &updates))?;
        let mut missed = Vec::new();
        for ((u, ok), k) in updates.iter().zip(applied).zip(old_kids) {
            if ok {
                report.rewritten += 1;
                if let Some(k) = k {
                    *report.rewritten_from.entry(k).or_default() += 1;
                }
            } else {
                report.concurrent_changes += 1;
                missed.push(u.0);
            }
        }
        Ok(missed)
    }

    /// Runs the job to the end of the table, then revisits rows a concurrent writer
    /// changed, then scans the column for the report. `progress` is called after each batch.
    ///
    /// # Errors
    /// [`StoreError::NothingOpens`] when no row of the first batch opens (nothing is written);
    /// [`StoreError::Database`]. Per-row failures are not errors: they are in the report.
    pub fn run(mut self, progress: &mut dyn FnMut(Progress)) -> Result<JobReport, StoreError> {
        let start = Instant::now();
        let total = self.db.count(&self.cols)?;
        let mut report = JobReport {
            dry_run: self.spec.dry_run,
            ..JobReport::default()
        };
        let mut after = None;
        let mut revisit = Vec::new();
        let mut first = true;
        loop {
            let rows = retry_busy(|| self.db.fetch_after(&self.cols, after, self.spec.batch))?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id);
            report.rows += rows.len() as u64;
            let has_work = rows.iter().any(|r| matches!(r.value, Cell::Text(_)));
            revisit.extend(self.do_batch(&rows, &mut report, first)?);
            if has_work {
                first = false;
            }
            progress(Progress {
                done: report.rows,
                total: total.max(report.rows),
            });
        }
        for _ in 0..REVISIT_ROUNDS {
            if revisit.is_empty() {
                break;
            }
            let rows = retry_busy(|| self.db.fetch_ids(&self.cols, &revisit))?;
            revisit = self.do_batch(&rows, &mut report, false)?;
        }
        report.unsettled = revisit;
        report.after = retry_busy(|| scan(self.db, &self.cols.table, &self.cols.value))?;
        report.elapsed = start.elapsed();
        Ok(report)
    }
}

fn decode_b64_lines(text: &str) -> keycustody::Result<Vec<u8>> {
    use base64::Engine;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() > keycustody::MAX_LEGACY_LEN / 3 * 4 + 64 {
        return Err(Error::Malformed(keycustody::MalformedKind::Legacy));
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| Error::Malformed(keycustody::MalformedKind::Base64))
}

/// Counts the envelopes per kid in `table.column` (what `keys retire --check` runs).
///
/// # Errors
/// [`StoreError::NoSuchTable`], [`StoreError::NoSuchColumn`], [`StoreError::InvalidIdentifier`],
/// [`StoreError::Database`].
pub fn scan(db: &mut Database, table: &str, column: &str) -> Result<ScanReport, StoreError> {
    let mut r = ScanReport::default();
    db.for_each_value(table, column, &mut |cell| match cell {
        Cell::Null => r.nulls += 1,
        Cell::NotText => r.not_kc1 += 1,
        Cell::Text(t) => match keycustody::inspect(&t) {
            Ok(i) => *r.by_kid.entry(i.kid).or_default() += 1,
            Err(_) => r.not_kc1 += 1,
        },
    })?;
    Ok(r)
}
