//! The tenant key store (DESIGN §7) on real SQLite and, when DATABASE_URL is given
//! (`make test-store` starts a throwaway server and requires it), on PostgreSQL: every
//! operation and its failures, the census, `rewrap --tenant-keys`, the platform-root
//! rotation of the tenant key table, and crypto-shredding across tables and copies.

#[allow(dead_code)]
mod support;

use keycustody::{Error, Keyring, KEYRING_CONTEXT};
use keycustody_store::{
    census, tenant_table_spec, CensusTable, ContextSource, Database, Job, JobReport, JobSpec,
    StoreError, TenantForm, TenantKeys, Transform, TENANT_TABLE,
};
use std::collections::BTreeMap;

use support::{pg_db, sqlite_db, TestDb as Db};

impl Db {
    fn connect(&self) -> Database {
        Database::connect(&self.url).unwrap()
    }
    fn exec(&self, sql: &str) {
        support::exec(&mut self.connect(), sql);
    }
    /// `(id, owner, value)` of a data table.
    fn rows(&self, table: &str) -> Vec<(i64, String, String)> {
        let sql = format!("SELECT id, tenant, value FROM {table} ORDER BY id");
        support::rows(&mut self.connect(), &sql)
    }
    /// The raw `(keyring, shredded_at)` of a tenant's row.
    fn key_row(&self, tenant: &str) -> Option<(Option<String>, Option<i64>)> {
        let mut db = self.connect();
        if let Some(c) = db.sqlite() {
            c.query_row(
                &format!("SELECT keyring, shredded_at FROM {TENANT_TABLE} WHERE tenant = ?1"),
                [tenant],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok()
        } else {
            db.postgres()
                .unwrap()
                .query_opt(
                    format!("SELECT keyring, shredded_at FROM {TENANT_TABLE} WHERE tenant = $1")
                        .as_str(),
                    &[&tenant],
                )
                .unwrap()
                .map(|r| (r.get(0), r.get(1)))
        }
    }
    fn set_keyring(&self, tenant: &str, text: &str) {
        let q = text.replace('\'', "''");
        self.exec(&format!(
            "UPDATE {TENANT_TABLE} SET keyring = '{q}' WHERE tenant = '{tenant}'"
        ));
    }
    /// A data table `(id, tenant, value)` with `per` rows per tenant, sealed under each
    /// tenant's keyring, context "value".
    fn data_table(&self, table: &str, tk: &TenantKeys<'_>, tenants: &[&str], per: i64) {
        self.exec(&format!(
            "CREATE TABLE {table} (id BIGINT PRIMARY KEY, tenant TEXT NOT NULL, value TEXT)"
        ));
        let mut db = self.connect();
        let mut id = 0;
        let mut sql = String::new();
        for t in tenants {
            let kr = tk.load(&mut db, t).unwrap();
            for _ in 0..per {
                id += 1;
                let v = kr.seal(t, plain(id).as_bytes(), b"value").unwrap();
                sql.push_str(&format!(
                    "INSERT INTO {table} (id, tenant, value) VALUES ({id}, '{t}', '{v}');"
                ));
            }
        }
        drop(db);
        self.exec(&format!("BEGIN; {sql} COMMIT;"));
    }
}

/// The SQLite test `$sqlite` and the PostgreSQL test `$postgres` (own schema `$schema`;
/// passes without running when DATABASE_URL is unset) of `$body(&Db)`.
macro_rules! both_backends {
    ($body:ident, $sqlite:ident, $postgres:ident, $schema:literal) => {
        #[test]
        fn $sqlite() {
            $body(&sqlite_db());
        }

        #[test]
        fn $postgres() {
            let Some(d) = pg_db($schema) else {
                return;
            };
            $body(&d);
        }
    };
}

fn plain(id: i64) -> String {
    format!("tenant-secret-{id}")
}

fn core_err(r: Result<impl std::fmt::Debug, StoreError>) -> Error {
    match r {
        Err(StoreError::Core(e)) => e,
        other => panic!("expected a core error, got {other:?}"),
    }
}

fn data_spec(table: &str) -> JobSpec {
    JobSpec::new(
        table,
        "id",
        "tenant",
        "value",
        ContextSource::Fixed(b"value".to_vec()),
    )
}

/// Opens every row of a table through a fresh store; returns per tenant (ok, errors).
/// `rewrap --tenant-keys` over the data table `secrets`, run to the end.
fn rewrap_tenants(db: &mut Database, tk: &TenantKeys<'_>) -> JobReport {
    Job::new(db, data_spec("secrets"), Transform::RewrapTenants(tk))
        .unwrap()
        .run(&mut |_| {})
        .unwrap()
}

fn open_all(
    d: &Db,
    platform: &Keyring,
    table: &str,
) -> BTreeMap<String, (u64, BTreeMap<&'static str, u64>)> {
    let tk = TenantKeys::new(platform);
    let mut db = d.connect();
    let mut out: BTreeMap<String, (u64, BTreeMap<&'static str, u64>)> = BTreeMap::new();
    for (id, t, v) in d.rows(table) {
        let e = out.entry(t.clone()).or_default();
        let r = tk
            .load(&mut db, &t)
            .map_err(|e| match e {
                StoreError::Core(c) => c,
                other => panic!("{other}"),
            })
            .and_then(|k| k.open(&t, &v, b"value"));
        match r {
            Ok(p) => {
                assert_eq!(p.expose_secret(), plain(id).as_bytes());
                e.0 += 1;
            }
            Err(err) => *e.1.entry(err.kind()).or_default() += 1,
        }
    }
    out
}

fn operations(d: &Db) {
    let platform = Keyring::generate().unwrap();
    let mut db = d.connect();
    TenantKeys::ensure_table(&mut db).unwrap();
    TenantKeys::ensure_table(&mut db).unwrap(); // idempotent
    let tk = TenantKeys::new(&platform);

    // create, and the refused second create (nothing written).
    let a = tk.create(&mut db, "acme").unwrap();
    assert_eq!(a.primary_kid(), 1);
    tk.create(&mut db, "globex").unwrap();
    let before = d.key_row("acme").unwrap();
    assert_eq!(core_err(tk.create(&mut db, "acme")), Error::TenantExists);
    assert_eq!(d.key_row("acme").unwrap(), before, "second create wrote");
    assert_eq!(core_err(tk.create(&mut db, "")), Error::InvalidOwner);
    // The row is a kc1 envelope under the platform keyring, owner = tenant, keyring context.
    let text = before.0.clone().unwrap();
    assert_eq!(
        keycustody::inspect(&text).unwrap().kid,
        platform.primary_kid()
    );
    let opened = platform
        .open("acme", &text, KEYRING_CONTEXT.as_bytes())
        .unwrap();
    assert_eq!(
        opened.expose_secret(),
        a.export().unwrap().expose_secret().as_bytes()
    );

    // load: through a fresh store (no cache), same keyring; unknown tenant.
    let fresh = TenantKeys::new(&platform);
    let env = a.seal("acme", b"hello", b"value").unwrap();
    let a2 = fresh.load(&mut db, "acme").unwrap();
    assert_eq!(
        a2.open("acme", &env, b"value").unwrap().expose_secret(),
        b"hello"
    );
    assert_eq!(
        core_err(fresh.load(&mut db, "initech")),
        Error::UnknownTenant
    );
    // The wrong platform keyring opens nothing.
    let other_platform = Keyring::generate().unwrap();
    assert_eq!(
        core_err(TenantKeys::new(&other_platform).load(&mut db, "acme")),
        Error::DecryptFailed
    );

    // Tenant A's keyring placed in tenant B's row: DecryptFailed, never A's keyring.
    tk.create(&mut db, "victim").unwrap();
    let victim_row = d.key_row("victim").unwrap().0.unwrap();
    d.set_keyring("victim", &text);
    assert_eq!(
        core_err(TenantKeys::new(&platform).load(&mut db, "victim")),
        Error::DecryptFailed
    );
    d.set_keyring("victim", &victim_row);
    TenantKeys::new(&platform).load(&mut db, "victim").unwrap();

    // rotate: add + promote, CAS; the cache of this store is invalidated.
    let cached = tk.load(&mut db, "acme").unwrap();
    assert_eq!(cached.primary_kid(), 1);
    assert_eq!(tk.rotate(&mut db, "acme").unwrap(), 2);
    let rotated = tk.load(&mut db, "acme").unwrap();
    assert_eq!(rotated.primary_kid(), 2);
    assert_eq!(
        rotated
            .open("acme", &env, b"value")
            .unwrap()
            .expose_secret(),
        b"hello",
        "old data still opens after a rotation"
    );
    assert_eq!(
        core_err(tk.rotate(&mut db, "initech")),
        Error::UnknownTenant
    );

    // Two rotations overlapping: the one that writes second loses with Conflict.
    let mut db2 = d.connect();
    let tk2 = TenantKeys::new(&platform);
    let mut inner = None;
    let r = tk.rotate_with_pause(&mut db, "acme", &mut || {
        inner = Some(tk2.rotate(&mut db2, "acme"));
    });
    assert_eq!(
        inner.unwrap().unwrap(),
        3,
        "the rotation that wrote first wins"
    );
    assert_eq!(core_err(r), Error::Conflict);
    let now = TenantKeys::new(&platform).load(&mut db, "acme").unwrap();
    assert_eq!(now.primary_kid(), 3);
    assert_eq!(
        now.open("acme", &env, b"value").unwrap().expose_secret(),
        b"hello"
    );

    // shred: keyring erased, tombstone kept; every later operation says so.
    tk.load(&mut db, "globex").unwrap();
    tk.shred(&mut db, "globex", 1_700_000_000).unwrap();
    assert_eq!(d.key_row("globex").unwrap(), (None, Some(1_700_000_000)));
    assert_eq!(core_err(tk.load(&mut db, "globex")), Error::TenantShredded);
    assert_eq!(
        core_err(TenantKeys::new(&platform).load(&mut db, "globex")),
        Error::TenantShredded
    );
    assert_eq!(
        core_err(tk.shred(&mut db, "globex", 1_700_000_001)),
        Error::TenantShredded
    );
    assert_eq!(d.key_row("globex").unwrap(), (None, Some(1_700_000_000)));
    assert_eq!(
        core_err(tk.rotate(&mut db, "globex")),
        Error::TenantShredded
    );
    assert_eq!(core_err(tk.create(&mut db, "globex")), Error::TenantExists);
    assert_eq!(
        core_err(tk.shred(&mut db, "initech", 1_700_000_000)),
        Error::UnknownTenant
    );

    // list
    let l = TenantKeys::list(&mut db).unwrap();
    let forms: Vec<(&str, &TenantForm)> = l.iter().map(|e| (e.tenant.as_str(), &e.form)).collect();
    let pk = platform.primary_kid();
    assert_eq!(
        forms,
        vec![
            ("acme", &TenantForm::Platform { platform_kid: pk }),
            ("globex", &TenantForm::Shredded { at: 1_700_000_000 }),
            ("victim", &TenantForm::Platform { platform_kid: pk }),
        ]
    );
}

both_backends!(
    operations,
    operations_sqlite,
    operations_postgres,
    "kc_tenant_ops"
);

fn jobs_and_shredding(d: &Db) {
    let platform = Keyring::generate().unwrap();
    let mut db = d.connect();
    TenantKeys::ensure_table(&mut db).unwrap();
    let tk = TenantKeys::new(&platform);
    let tenants = ["t1", "t2", "t3", "t4"];
    for t in tenants {
        tk.create(&mut db, t).unwrap();
    }
    d.data_table("secrets", &tk, &tenants, 25);
    d.data_table("notes", &tk, &tenants[..2], 10);

    // census: rows per tenant per kid.
    let tables = [
        CensusTable::parse("secrets:id:tenant:value").unwrap(),
        CensusTable::parse("notes:id:tenant:value").unwrap(),
    ];
    assert!(CensusTable::parse("secrets:id:tenant").is_err());
    assert!(matches!(
        CensusTable::parse("secrets:id:tenant:value;drop"),
        Err(StoreError::InvalidIdentifier(_))
    ));
    let c = census(&mut db, &tables, None).unwrap();
    assert_eq!(c[0].by_tenant.len(), 4);
    assert_eq!(c[0].by_tenant["t3"].by_kid, BTreeMap::from([(1, 25)]));
    assert_eq!(c[1].by_tenant.len(), 2);

    // Rotate t2, then rewrap --tenant-keys: only t2's rows are rewritten, to its kid 2.
    assert_eq!(tk.rotate(&mut db, "t2").unwrap(), 2);
    let tk_job = TenantKeys::new(&platform);
    let r = rewrap_tenants(&mut db, &tk_job);
    assert!(r.is_complete(), "{:?}", r.failed);
    assert_eq!((r.rewritten, r.already_current), (25, 75));
    assert_eq!(r.rewritten_from, BTreeMap::from([(1, 25)]));
    let c = census(&mut db, &tables[..1], Some("t2")).unwrap();
    assert_eq!(c[0].by_tenant["t2"].by_kid, BTreeMap::from([(2, 25)]));
    assert_eq!(
        c[0].by_tenant.len(),
        1,
        "census of one tenant counts only it"
    );

    // Platform-root rotation: one row per tenant rewritten, no data row.
    let data_before = d.rows("secrets");
    let old_pk = platform.primary_kid();
    let new_pk = platform.rotate().unwrap();
    let r = Job::new(&mut db, tenant_table_spec(), Transform::Rewrap(&platform))
        .unwrap()
        .run(&mut |_| {})
        .unwrap();
    assert!(r.is_complete());
    assert_eq!((r.rewritten, r.rows), (4, 4));
    assert_eq!(r.rewritten_from, BTreeMap::from([(old_pk, 4)]));
    assert_eq!(r.after.by_kid, BTreeMap::from([(new_pk, 4)]));
    assert_eq!(d.rows("secrets"), data_before, "no data row written");
    platform.retire(old_pk).unwrap();
    for (t, (ok, errs)) in open_all(d, &platform, "secrets") {
        assert_eq!((ok, errs.len()), (25, 0), "{t}");
    }

    // Shredding t3, with a copy of the data table taken before.
    d.exec("CREATE TABLE secrets_copy AS SELECT * FROM secrets");
    d.data_table("t3_only", &tk, &["t3"], 7);
    let all_tables = [
        tables[0].clone(),
        tables[1].clone(),
        CensusTable::parse("secrets_copy:id:tenant:value").unwrap(),
        CensusTable::parse("t3_only:id:tenant:value").unwrap(),
    ];
    let printed = census(&mut db, &all_tables, Some("t3")).unwrap();
    let t3_keyring = tk.load(&mut db, "t3").unwrap();
    tk.shred(&mut db, "t3", 1_700_000_000).unwrap();
    for (spec, before) in all_tables.iter().zip(&printed) {
        let res = open_all(d, &platform, &spec.table);
        let want = before.by_tenant.get("t3").map_or(0, |n| n.rows());
        let got = res.get("t3").cloned().unwrap_or_default();
        assert_eq!(
            (got.0, got.1.get("TenantShredded").copied().unwrap_or(0)),
            (0, want),
            "{}: every row of t3 fails with TenantShredded, as many as the census said",
            spec.table
        );
        for (t, (_, errs)) in &res {
            if t != "t3" {
                assert!(
                    errs.is_empty(),
                    "{}: tenant {t} affected: {errs:?}",
                    spec.table
                );
            }
        }
    }
    assert_eq!(printed[1].by_tenant.get("t3"), None, "t3 has no notes");
    assert_eq!(printed[3].by_tenant["t3"].rows(), 7);
    // Nothing else opens t3's data: not the platform keyring, not another tenant's keyring.
    let others: Vec<_> = ["t1", "t2", "t4"]
        .iter()
        .map(|t| tk.load(&mut db, t).unwrap())
        .collect();
    for (_, t, v) in d.rows("secrets_copy").iter().filter(|r| r.1 == "t3") {
        for k in std::iter::once(&platform).chain(others.iter().map(|k| &**k)) {
            assert!(matches!(
                k.open(t, v, b"value"),
                Err(Error::DecryptFailed | Error::UnknownKey(_) | Error::KeyRetired(_))
            ));
        }
        // (The keyring loaded before the shred still opens it: shredding erases stored
        // copies, not a process's memory; caches are invalidated, other processes' expire.)
        assert!(t3_keyring.open(t, v, b"value").is_ok());
    }

    // rewrap --tenant-keys reports the shredded tenant's rows, does not rewrite or fail them.
    tk.rotate(&mut db, "t1").unwrap();
    let tk_job = TenantKeys::new(&platform);
    let before_copy = d.rows("secrets");
    let r = rewrap_tenants(&mut db, &tk_job);
    assert!(r.is_complete(), "{:?}", r.failed);
    assert_eq!(r.rewritten, 25);
    assert_eq!(r.shredded, BTreeMap::from([("t3".to_string(), 25)]));
    let after = d.rows("secrets");
    for (b, a) in before_copy.iter().zip(&after) {
        if b.1 != "t1" {
            assert_eq!(b, a, "only t1's rows rewritten");
        }
    }
    // An owner with no tenant keyring is a failure (by id), nothing written.
    d.exec("INSERT INTO secrets (id, tenant, value) VALUES (1000, 'nobody', 'kc1.x')");
    let r = rewrap_tenants(&mut db, &tk_job);
    assert_eq!(r.failed.len(), 1);
    assert_eq!((r.failed[0].id, r.failed[0].kind), (1000, "UnknownTenant"));

    // Platform-root rotation skips the shredded row (NULL) and is otherwise complete.
    let pk3 = platform.rotate().unwrap();
    let r = Job::new(&mut db, tenant_table_spec(), Transform::Rewrap(&platform))
        .unwrap()
        .run(&mut |_| {})
        .unwrap();
    assert!(r.is_complete());
    assert_eq!((r.rewritten, r.nulls), (3, 1));
    assert_eq!(r.after.by_kid, BTreeMap::from([(pk3, 3)]));
}

both_backends!(
    jobs_and_shredding,
    jobs_and_shredding_sqlite,
    jobs_and_shredding_postgres,
    "kc_tenant_jobs"
);

/// A stand-in for an application's KMS: `wrapped_dek` is a handle, the DEK stays "in the
/// KMS"; `up = false` makes it unreachable.
struct FakeKms {
    deks: std::sync::Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    up: std::sync::atomic::AtomicBool,
}

impl FakeKms {
    fn wrap(&self, kr: &Keyring, owner: &str) -> String {
        let p = keycustody::PendingWrap::new(kr, "test-kms", "key/1", owner).unwrap();
        let mut deks = self.deks.lock().unwrap();
        let handle = format!("handle-{}", deks.len()).into_bytes();
        deks.insert(handle.clone(), p.dek().to_vec());
        drop(deks);
        p.finish(&handle).unwrap().to_text()
    }
}

fn cmek(d: &Db) {
    use std::sync::atomic::Ordering;
    let platform = Keyring::generate().unwrap();
    let kms = std::sync::Arc::new(FakeKms {
        deks: Default::default(),
        up: true.into(),
    });
    let k2 = std::sync::Arc::clone(&kms);
    let unwrapper = move |_tenant: &str, w: &keycustody::WrappedKeyring| {
        if !k2.up.load(Ordering::SeqCst) {
            return Err(Error::KekUnavailable("test-kms"));
        }
        let dek = k2.deks.lock().unwrap().get(w.wrapped_dek()).cloned();
        w.open_with_dek(&dek.ok_or(Error::DecryptFailed)?)
    };
    let tk = TenantKeys::with_cache(&platform, keycustody::TenantKeyringCache::new(100, 60))
        .with_unwrapper(Box::new(unwrapper));
    let mut db = d.connect();
    TenantKeys::ensure_table(&mut db).unwrap();
    tk.create(&mut db, "plain").unwrap();
    let own = Keyring::generate().unwrap();
    let text = kms.wrap(&own, "enterprise");
    // The owner inside the wrapped text must be the tenant.
    assert_eq!(
        core_err(tk.create_wrapped(&mut db, "someone-else", &text)),
        Error::InvalidArgument("wrapped keyring's owner is another tenant")
    );
    assert!(matches!(
        core_err(tk.create_wrapped(&mut db, "x", "{\"version\":1}")),
        Error::Malformed(_)
    ));
    assert_eq!(d.key_row("someone-else"), None, "nothing written");
    tk.create_wrapped(&mut db, "enterprise", &text).unwrap();
    assert_eq!(
        core_err(tk.create_wrapped(&mut db, "enterprise", &text)),
        Error::TenantExists
    );
    let env = own.seal("enterprise", b"cmek data", b"value").unwrap();
    let t0 = 1_700_000_000;
    let k = tk.load_at(&mut db, "enterprise", t0).unwrap();
    assert_eq!(
        k.open("enterprise", &env, b"value")
            .unwrap()
            .expose_secret(),
        b"cmek data"
    );
    // Without an unwrapper a CMEK row is KekUnavailable, not a crash or a wrong keyring.
    assert_eq!(
        core_err(TenantKeys::new(&platform).load(&mut db, "enterprise")),
        Error::KekUnavailable("external")
    );
    // KMS down: served from the cache within the TTL, KekUnavailable after it.
    kms.up.store(false, Ordering::SeqCst);
    tk.load_at(&mut db, "enterprise", t0 + 59).unwrap();
    assert_eq!(
        core_err(tk.load_at(&mut db, "enterprise", t0 + 61)),
        Error::KekUnavailable("test-kms")
    );
    kms.up.store(true, Ordering::SeqCst);
    // The enterprise's wrapped keyring placed in another tenant's row: DecryptFailed.
    tk.create(&mut db, "other").unwrap();
    let other_row = d.key_row("other").unwrap().0.unwrap();
    d.set_keyring("other", &text);
    assert_eq!(
        core_err(tk.load_at(&mut db, "other", t0 + 100)),
        Error::DecryptFailed
    );
    d.set_keyring("other", &other_row);
    // Rotation of a CMEK row is refused (it is rotated where it is wrapped), nothing written.
    assert!(matches!(
        core_err(tk.rotate(&mut db, "enterprise")),
        Error::InvalidArgument(_)
    ));
    assert_eq!(d.key_row("enterprise").unwrap().0.unwrap(), text);
    // list, and the platform-root rotation: CMEK rows counted apart, not failures.
    let l = TenantKeys::list(&mut db).unwrap();
    assert_eq!(
        l.iter().find(|e| e.tenant == "enterprise").unwrap().form,
        TenantForm::Wrapped {
            kek_type: "test-kms".into()
        }
    );
    platform.rotate().unwrap();
    let r = Job::new(&mut db, tenant_table_spec(), Transform::Rewrap(&platform))
        .unwrap()
        .run(&mut |_| {})
        .unwrap();
    assert!(r.is_complete(), "{:?}", r.failed);
    assert_eq!((r.rewritten, r.wrapped), (2, 1));
    assert_eq!(
        d.key_row("enterprise").unwrap().0.unwrap(),
        text,
        "CMEK row untouched"
    );
    // Shredding a CMEK tenant erases its wrapped keyring too.
    tk.shred(&mut db, "enterprise", 1_700_000_000).unwrap();
    assert_eq!(
        core_err(tk.load_at(&mut db, "enterprise", t0 + 1)),
        Error::TenantShredded
    );
}

both_backends!(cmek, cmek_rows_sqlite, cmek_rows_postgres, "kc_tenant_cmek");
