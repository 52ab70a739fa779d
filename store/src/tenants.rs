//! The tenant key store (DESIGN §7): one row per tenant in
//! `keycustody_tenant_keys(tenant TEXT PRIMARY KEY, keyring TEXT, shredded_at BIGINT, id)`,
//! `keyring` holding the tenant's keyring either sealed under the platform keyring (a kc1
//! envelope, owner = tenant, context `keycustody/v1/keyring`) or wrapped under the tenant's
//! own KEK (CMEK: the wrapped-keyring JSON, unwrapped by a caller-supplied callback, so
//! this crate never talks to a KMS). `id` is an integer the rewrap job pages by (the
//! platform-root rotation is the ordinary rewrap job over `keyring`).
//!
//! Data of a tenant are ordinary kc1 envelopes sealed under its keyring with owner = the
//! tenant id. Shredding erases the keyring and keeps a tombstone (`shredded_at`): every
//! envelope of the tenant, in any table or copy of one, is then unreadable, and loading
//! says [`Error::TenantShredded`]. A backup of *this* table taken before the shred still
//! holds the keyring: keep its retention short, or wrap tenant keyrings under CMEK.

use crate::db::{Cell, Database, DbKind};
use crate::ident::quote_ident;
use crate::job::retry_busy;
use crate::StoreError;
use keycustody::{
    is_wrapped_keyring, Error, Keyring, TenantKeyringCache, WrappedKeyring,
    DEFAULT_TENANT_CACHE_CAPACITY, DEFAULT_TENANT_CACHE_TTL, KEYRING_CONTEXT,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The table of tenant keyrings.
pub const TENANT_TABLE: &str = "keycustody_tenant_keys";

/// Opens a tenant keyring wrapped under the tenant's own KEK (CMEK): gets the tenant id and
/// the parsed wrapped keyring (whose owner was checked to be that tenant), returns the
/// keyring or [`Error::KekUnavailable`] / [`Error::DecryptFailed`].
pub type Unwrapper = dyn Fn(&str, &WrappedKeyring) -> keycustody::Result<Keyring> + Send + Sync;

/// How a tenant's keyring is held, as [`TenantKeys::list`] reports it (no key material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantForm {
    /// Sealed under the platform keyring; the platform kid it is under.
    Platform {
        /// The platform key id of the envelope.
        platform_kid: u32,
    },
    /// Wrapped under the tenant's own KEK (CMEK).
    Wrapped {
        /// The KEK type (`aws-kms`, `pkcs11`, ...).
        kek_type: String,
    },
    /// Shredded at this Unix time: the keyring is gone.
    Shredded {
        /// When.
        at: i64,
    },
    /// Neither form (damaged row).
    Unreadable,
}

/// One row of [`TenantKeys::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantEntry {
    /// The tenant id.
    pub tenant: String,
    /// How its keyring is held.
    pub form: TenantForm,
}

/// A table the census counts: which columns hold the id, the owner (tenant id) and the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CensusTable {
    /// The table.
    pub table: String,
    /// Its integer primary key.
    pub id_column: String,
    /// The column holding the tenant id (the envelope owner).
    pub owner_column: String,
    /// The column holding the kc1 envelopes.
    pub value_column: String,
}

impl CensusTable {
    /// Parses `TABLE:ID:OWNER:VALUE`.
    ///
    /// # Errors
    /// [`StoreError::InvalidIdentifier`] when the text does not have four identifiers.
    pub fn parse(spec: &str) -> Result<CensusTable, StoreError> {
        let parts: Vec<&str> = spec.split(':').collect();
        let [table, id, owner, value] = parts[..] else {
            return Err(StoreError::InvalidIdentifier(
                "census table must be TABLE:ID_COLUMN:OWNER_COLUMN:VALUE_COLUMN".into(),
            ));
        };
        for p in [table, id, owner, value] {
            crate::ident::check_ident(p)?;
        }
        Ok(CensusTable {
            table: table.into(),
            id_column: id.into(),
            owner_column: owner.into(),
            value_column: value.into(),
        })
    }
}

/// Rows of one tenant in one table: the same counts as a column scan (kc1 envelopes per
/// tenant key id, read from the header only; NULLs; values that are not kc1).
pub type TenantCount = crate::job::ScanReport;

/// The census of one table: rows per tenant per kid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableCensus {
    /// The table (as named in the request).
    pub table: String,
    /// The value column.
    pub column: String,
    /// Per tenant id.
    pub by_tenant: BTreeMap<String, TenantCount>,
}

/// Counts, for each named table, the rows of each tenant per kid (kc1 header only; nothing
/// is opened). With `only`, counts that tenant's rows only (what `tenants shred` prints).
///
/// # Errors
/// [`StoreError::NoSuchTable`], [`StoreError::NoSuchColumn`], [`StoreError::InvalidIdentifier`],
/// [`StoreError::IdNotInteger`], [`StoreError::Database`].
pub fn census(
    db: &mut Database,
    tables: &[CensusTable],
    only: Option<&str>,
) -> Result<Vec<TableCensus>, StoreError> {
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let cols = db.columns(
            &t.table,
            &t.id_column,
            Some(&t.owner_column),
            &t.value_column,
            None,
        )?;
        let mut c = TableCensus {
            table: t.table.clone(),
            column: t.value_column.clone(),
            by_tenant: BTreeMap::new(),
        };
        retry_busy(|| {
            c.by_tenant.clear();
            db.for_each_owner_value(&cols, only, &mut |owner, cell| {
                let e = c.by_tenant.entry(owner.unwrap_or_default()).or_default();
                match cell {
                    Cell::Null => e.nulls += 1,
                    Cell::NotText => e.not_kc1 += 1,
                    Cell::Text(v) => match keycustody::inspect(&v) {
                        Ok(i) => *e.by_kid.entry(i.kid).or_default() += 1,
                        Err(_) => e.not_kc1 += 1,
                    },
                }
            })
        })?;
        out.push(c);
    }
    Ok(out)
}

/// The tenant key store over one platform keyring, with the bounded cache of unwrapped
/// tenant keyrings (core's [`TenantKeyringCache`]).
pub struct TenantKeys<'k> {
    platform: &'k Keyring,
    cache: TenantKeyringCache,
    unwrapper: Option<Box<Unwrapper>>,
}

impl std::fmt::Debug for TenantKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantKeys")
            .field("cached", &self.cache.len())
            .field("cmek", &self.unwrapper.is_some())
            .finish_non_exhaustive()
    }
}

/// The row as read: `None` when the tenant has no row.
type RawRow = Option<(Option<String>, Option<i64>)>;

fn now_secs() -> u64 {
    keycustody::unix_now()
        .ok()
        .and_then(|t| u64::try_from(t).ok())
        .unwrap_or(0)
}

impl<'k> TenantKeys<'k> {
    /// A store over `platform` with the default cache (10,000 tenants, 300 s TTL) and no
    /// CMEK unwrapper (CMEK rows then fail with `KekUnavailable("external")`).
    #[must_use]
    pub fn new(platform: &'k Keyring) -> TenantKeys<'k> {
        Self::with_cache(
            platform,
            TenantKeyringCache::new(DEFAULT_TENANT_CACHE_CAPACITY, DEFAULT_TENANT_CACHE_TTL),
        )
    }

    /// A store with the given cache.
    #[must_use]
    pub fn with_cache(platform: &'k Keyring, cache: TenantKeyringCache) -> TenantKeys<'k> {
        TenantKeys {
            platform,
            cache,
            unwrapper: None,
        }
    }

    /// Sets the callback that opens CMEK rows (e.g. through `keycustody-kms`).
    #[must_use]
    pub fn with_unwrapper(mut self, f: Box<Unwrapper>) -> TenantKeys<'k> {
        self.unwrapper = Some(f);
        self
    }

    /// The cache (for tests and for callers that want to clear it).
    #[must_use]
    pub fn cache(&self) -> &TenantKeyringCache {
        &self.cache
    }

    /// Creates the table if it does not exist.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn ensure_table(db: &mut Database) -> Result<(), StoreError> {
        let t = quote_ident(TENANT_TABLE);
        retry_busy(|| match db.kind() {
            DbKind::Sqlite => {
                let c = db.sqlite().ok_or(StoreError::InvalidUrl("not SQLite"))?;
                c.execute_batch(&format!(
                    "CREATE TABLE IF NOT EXISTS {t} (tenant TEXT PRIMARY KEY, keyring TEXT, \
                     shredded_at BIGINT, id INTEGER NOT NULL UNIQUE)"
                ))?;
                Ok(())
            }
            DbKind::Postgres => {
                let c = db
                    .postgres()
                    .ok_or(StoreError::InvalidUrl("not PostgreSQL"))?;
                c.batch_execute(&format!(
                    "CREATE TABLE IF NOT EXISTS {t} (tenant TEXT PRIMARY KEY, keyring TEXT, \
                     shredded_at BIGINT, id BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE)"
                ))?;
                Ok(())
            }
        })
    }

    /// Creates a tenant with a fresh keyring (kid 1) sealed under the platform keyring.
    /// Returns the keyring.
    ///
    /// # Errors
    /// `Core(TenantExists)` when the tenant has a row (a shredded one included: tenant ids
    /// are never reused), `Core(InvalidOwner)`, [`StoreError::Database`].
    pub fn create(&self, db: &mut Database, tenant: &str) -> Result<Arc<Keyring>, StoreError> {
        keycustody::validate_owner(tenant)?;
        let kr = Keyring::generate()?;
        let text = self.platform.seal_keyring(tenant, &kr)?;
        insert_row(db, tenant, &text)?;
        // Not cached here: the cache is filled by loads, with the caller's clock.
        Ok(Arc::new(kr))
    }

    /// Creates a tenant whose keyring is wrapped under its own KEK (CMEK): `wrapped` is the
    /// wrapped-keyring text, whose owner must be `tenant`.
    ///
    /// # Errors
    /// `Core(Malformed(..))` for a text that is not a wrapped keyring, `Core(InvalidArgument)`
    /// for one whose owner is another tenant, `Core(TenantExists)`, [`StoreError::Database`].
    pub fn create_wrapped(
        &self,
        db: &mut Database,
        tenant: &str,
        wrapped: &str,
    ) -> Result<(), StoreError> {
        keycustody::validate_owner(tenant)?;
        let w = WrappedKeyring::parse(wrapped)?;
        if w.owner() != tenant {
            return Err(Error::InvalidArgument("wrapped keyring's owner is another tenant").into());
        }
        insert_row(db, tenant, &w.to_text())
    }

    /// The tenant's keyring, through the cache (time from the system clock).
    ///
    /// # Errors
    /// As [`TenantKeys::load_at`].
    pub fn load(&self, db: &mut Database, tenant: &str) -> Result<Arc<Keyring>, StoreError> {
        self.load_at(db, tenant, now_secs())
    }

    /// The tenant's keyring, through the cache, at Unix time `now`.
    ///
    /// # Errors
    /// `Core(UnknownTenant)`, `Core(TenantShredded)`, `Core(DecryptFailed)` (e.g. another
    /// tenant's keyring in this row, or the wrong platform keyring), `Core(KekUnavailable)`
    /// for a CMEK row whose KEK cannot be reached, [`StoreError::Database`].
    pub fn load_at(
        &self,
        db: &mut Database,
        tenant: &str,
        now: u64,
    ) -> Result<Arc<Keyring>, StoreError> {
        if let Some(k) = self.cache.get(tenant, now) {
            return Ok(k);
        }
        let row = fetch_row(db, tenant)?;
        let kr = self.open_row(tenant, &row)?;
        Ok(self.cache.insert(tenant, kr, now))
    }

    fn open_row(&self, tenant: &str, row: &RawRow) -> keycustody::Result<Keyring> {
        let (text, shredded) = row.as_ref().ok_or(Error::UnknownTenant)?;
        let text = match (text, shredded) {
            (Some(t), None) => t,
            _ => return Err(Error::TenantShredded),
        };
        if is_wrapped_keyring(text) {
            let w = WrappedKeyring::parse(text)?;
            if w.owner() != tenant {
                // Tenant A's wrapped keyring in tenant B's row.
                return Err(Error::DecryptFailed);
            }
            match &self.unwrapper {
                Some(f) => f(tenant, &w),
                None => Err(Error::KekUnavailable("external")),
            }
        } else {
            self.platform.open_keyring(tenant, text)
        }
    }

    /// Rotates the tenant's keyring (add + promote: the old key stays decrypt-only, so
    /// the tenant's data keep opening until `rewrap --tenant-keys` moves them) and writes
    /// it back with compare-and-swap on the row. Returns the new kid.
    ///
    /// # Errors
    /// `Core(Conflict)` when another writer changed the row since it was read (a concurrent
    /// rotation won; nothing written), `Core(UnknownTenant)`, `Core(TenantShredded)`,
    /// `Core(InvalidArgument)` for a CMEK row (rotate it where it is wrapped),
    /// `Core(DecryptFailed)`, [`StoreError::Database`].
    pub fn rotate(&self, db: &mut Database, tenant: &str) -> Result<u32, StoreError> {
        self.rotate_with_pause(db, tenant, &mut || {})
    }

    /// [`TenantKeys::rotate`], calling `before_write` between reading the row and the
    /// compare-and-swap (tests use it to make two rotations overlap).
    #[doc(hidden)]
    pub fn rotate_with_pause(
        &self,
        db: &mut Database,
        tenant: &str,
        before_write: &mut dyn FnMut(),
    ) -> Result<u32, StoreError> {
        let row = fetch_row(db, tenant)?;
        if let Some((Some(text), None)) = &row {
            if is_wrapped_keyring(text) {
                return Err(Error::InvalidArgument(
                    "tenant keyring is wrapped under the tenant's own KEK (CMEK): rotate it with that KEK",
                )
                .into());
            }
        }
        let kr = self.open_row(tenant, &row)?;
        let Some((Some(old), _)) = row else {
            return Err(Error::TenantShredded.into());
        };
        let kid = kr.rotate()?;
        let new = self.platform.seal_keyring(tenant, &kr)?;
        before_write();
        let applied = cas_row(db, tenant, &old, &new)?;
        self.cache.invalidate(tenant);
        if applied {
            return Ok(kid);
        }
        match fetch_row(db, tenant)? {
            None => Err(Error::UnknownTenant.into()),
            Some((None, _) | (_, Some(_))) => Err(Error::TenantShredded.into()),
            Some(_) => Err(Error::Conflict.into()),
        }
    }

    /// Shreds the tenant: erases its keyring, keeps the row as a tombstone with
    /// `shredded_at = now`. Every envelope of the tenant is unreadable afterwards.
    /// On SQLite the erase runs with `secure_delete` on (freed pages are zeroed); on
    /// PostgreSQL the table is vacuumed afterwards (best effort: WAL, replicas and
    /// backups of this table still hold the keyring until they expire).
    ///
    /// # Errors
    /// `Core(UnknownTenant)`, `Core(TenantShredded)` (already shredded), [`StoreError::Database`].
    pub fn shred(&self, db: &mut Database, tenant: &str, now: i64) -> Result<(), StoreError> {
        let t = quote_ident(TENANT_TABLE);
        if db.kind() == DbKind::Sqlite {
            retry_busy(|| {
                let c = db.sqlite().ok_or(StoreError::InvalidUrl("not SQLite"))?;
                Ok(c.pragma_update(None, "secure_delete", "ON")?)
            })?;
        }
        let sql = format!(
            "UPDATE {t} SET keyring = NULL, shredded_at = ?1 \
             WHERE tenant = ?2 AND shredded_at IS NULL"
        );
        let n = execute(db, &sql, &pg_placeholders(&sql), &[&now, &tenant])?;
        self.cache.invalidate(tenant);
        if n == 0 {
            return Err(match fetch_row(db, tenant)? {
                None => Error::UnknownTenant,
                Some(_) => Error::TenantShredded,
            }
            .into());
        }
        if let Some(c) = db.postgres() {
            // Outside a transaction; reclaims the dead tuple that still holds the keyring.
            let _ = c.batch_execute(&format!("VACUUM {t}"));
        }
        Ok(())
    }

    /// Every tenant with the form of its keyring, in tenant order (no key material).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn list(db: &mut Database) -> Result<Vec<TenantEntry>, StoreError> {
        let t = quote_ident(TENANT_TABLE);
        let sql = format!("SELECT tenant, keyring, shredded_at FROM {t} ORDER BY tenant");
        let rows: Vec<(String, Option<String>, Option<i64>)> = retry_busy(|| match db.kind() {
            DbKind::Sqlite => {
                let c = db.sqlite().ok_or(StoreError::InvalidUrl("not SQLite"))?;
                let mut st = c.prepare(&sql)?;
                let it = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(it.collect::<Result<_, _>>()?)
            }
            DbKind::Postgres => {
                let c = db
                    .postgres()
                    .ok_or(StoreError::InvalidUrl("not PostgreSQL"))?;
                Ok(c.query(sql.as_str(), &[])?
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect())
            }
        })?;
        Ok(rows
            .into_iter()
            .map(|(tenant, keyring, shredded)| {
                let form = match (keyring, shredded) {
                    (_, Some(at)) => TenantForm::Shredded { at },
                    (Some(text), None) if is_wrapped_keyring(&text) => {
                        match WrappedKeyring::parse(&text) {
                            Ok(w) => TenantForm::Wrapped {
                                kek_type: w.kek_type().to_owned(),
                            },
                            Err(_) => TenantForm::Unreadable,
                        }
                    }
                    (Some(text), None) => match keycustody::inspect(&text) {
                        Ok(i) => TenantForm::Platform {
                            platform_kid: i.kid,
                        },
                        Err(_) => TenantForm::Unreadable,
                    },
                    (None, None) => TenantForm::Unreadable,
                };
                TenantEntry { tenant, form }
            })
            .collect())
    }
}

/// The row of one tenant.
fn fetch_row(db: &mut Database, tenant: &str) -> Result<RawRow, StoreError> {
    let t = quote_ident(TENANT_TABLE);
    retry_busy(|| match db.kind() {
        DbKind::Sqlite => {
            let c = db.sqlite().ok_or(StoreError::InvalidUrl("not SQLite"))?;
            let mut st = c.prepare_cached(&format!(
                "SELECT keyring, shredded_at FROM {t} WHERE tenant = ?1"
            ))?;
            let mut rows = st.query([tenant])?;
            match rows.next()? {
                Some(r) => Ok(Some((r.get(0)?, r.get(1)?))),
                None => Ok(None),
            }
        }
        DbKind::Postgres => {
            let c = db
                .postgres()
                .ok_or(StoreError::InvalidUrl("not PostgreSQL"))?;
            Ok(c.query_opt(
                format!("SELECT keyring, shredded_at FROM {t} WHERE tenant = $1").as_str(),
                &[&tenant],
            )?
            .map(|r| (r.get(0), r.get(1))))
        }
    })
}

fn insert_row(db: &mut Database, tenant: &str, text: &str) -> Result<(), StoreError> {
    let t = quote_ident(TENANT_TABLE);
    let n = execute(
        db,
        &format!(
            "INSERT INTO {t} (tenant, keyring, shredded_at, id) \
             VALUES (?1, ?2, NULL, (SELECT coalesce(max(id), 0) + 1 FROM {t})) \
             ON CONFLICT (tenant) DO NOTHING"
        ),
        &format!(
            "INSERT INTO {t} (tenant, keyring) VALUES ($1, $2) ON CONFLICT (tenant) DO NOTHING"
        ),
        &[&tenant, &text],
    )?;
    if n == 0 {
        return Err(Error::TenantExists.into());
    }
    Ok(())
}

/// `UPDATE .. SET keyring = new WHERE tenant = ? AND keyring = old AND shredded_at IS NULL`.
fn cas_row(db: &mut Database, tenant: &str, old: &str, new: &str) -> Result<bool, StoreError> {
    let t = quote_ident(TENANT_TABLE);
    let sql = format!(
        "UPDATE {t} SET keyring = ?1 WHERE tenant = ?2 AND keyring = ?3 AND shredded_at IS NULL"
    );
    let n = execute(db, &sql, &pg_placeholders(&sql), &[&new, &tenant, &old])?;
    Ok(n == 1)
}

/// A value both drivers bind (`i64`, `&str`).
trait Param: rusqlite::ToSql + postgres::types::ToSql + Sync {
    fn sqlite(&self) -> &dyn rusqlite::ToSql;
    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync);
}

impl<T: rusqlite::ToSql + postgres::types::ToSql + Sync> Param for T {
    fn sqlite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync) {
        self
    }
}

/// The PostgreSQL form (`$N`) of a statement written with SQLite's `?N` placeholders
/// (the statements of this module hold no other `?`).
fn pg_placeholders(sql: &str) -> String {
    sql.replace('?', "$")
}

/// Runs one row-changing statement (`sqlite_sql` on SQLite, `pg_sql` on PostgreSQL) with
/// `SQLITE_BUSY` retried; returns the number of rows changed.
fn execute(
    db: &mut Database,
    sqlite_sql: &str,
    pg_sql: &str,
    params: &[&dyn Param],
) -> Result<u64, StoreError> {
    retry_busy(|| match db.kind() {
        DbKind::Sqlite => {
            let c = db.sqlite().ok_or(StoreError::InvalidUrl("not SQLite"))?;
            let p: Vec<&dyn rusqlite::ToSql> = params.iter().map(|v| v.sqlite()).collect();
            Ok(c.execute(sqlite_sql, p.as_slice())? as u64)
        }
        DbKind::Postgres => {
            let c = db
                .postgres()
                .ok_or(StoreError::InvalidUrl("not PostgreSQL"))?;
            let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                params.iter().map(|v| v.pg()).collect();
            Ok(c.execute(pg_sql, &p)?)
        }
    })
}

/// The job spec of the platform-root rotation: the rewrap job over the tenant key table's
/// `keyring` column with the fixed context `keycustody/v1/keyring` (CMEK rows are counted
/// apart in [`crate::JobReport::wrapped`], shredded rows are NULL and skipped).
#[must_use]
pub fn tenant_table_spec() -> crate::JobSpec {
    crate::JobSpec::new(
        TENANT_TABLE,
        "id",
        "tenant",
        "keyring",
        crate::ContextSource::Fixed(KEYRING_CONTEXT.as_bytes().to_vec()),
    )
}
