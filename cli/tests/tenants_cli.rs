//! `keycustody tenants ...` and `rewrap --tenant-keys` through the real binary, on SQLite
//! and (DATABASE_URL; `make test-store` requires it) PostgreSQL: every command and its
//! typed failures and exit codes; two processes rotating one tenant at once (one wins, one
//! gets Conflict, the keyring stays valid); SIGKILL during a tenant rotation and during the
//! platform-root rewrap of the tenant key table, then rerun: every tenant's data opens.

mod cli_common;
#[allow(dead_code)]
#[path = "../../store/tests/support/mod.rs"]
mod support;
use cli_common::*;
use keycustody::Keyring;
use keycustody_store::{rusqlite, Database, StoreError, TenantKeys};
use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

fn random_below(n: u64) -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n
}

/// A database per test: a SQLite file, or its own PostgreSQL schema.
struct Db {
    url: String,
    _dir: tempfile::TempDir,
}

fn sqlite(dir: tempfile::TempDir) -> Db {
    let p = dir.path().join("app.db");
    rusqlite::Connection::open(&p).unwrap();
    Db {
        url: format!("sqlite:{}", p.display()),
        _dir: dir,
    }
}

fn pg(dir: tempfile::TempDir, schema: &str) -> Option<Db> {
    let url = pg_url()?;
    Some(Db {
        url: support::fresh_schema(&url, schema),
        _dir: dir,
    })
}

impl Db {
    fn connect(&self) -> Database {
        Database::connect(&self.url).unwrap()
    }
    fn exec(&self, sql: &str) {
        support::exec(&mut self.connect(), sql);
    }
    fn rows(&self, sql: &str) -> Vec<(i64, String, Option<String>)> {
        support::rows(&mut self.connect(), sql)
    }
    /// Creates `n` tenants `t00000..` through the store (one transaction on SQLite) and a
    /// table `secrets(id, tenant, value)` with `per` rows each, sealed under their keyrings.
    fn populate(&self, platform: &Keyring, n: usize, per: usize) -> Vec<String> {
        let mut db = self.connect();
        TenantKeys::ensure_table(&mut db).unwrap();
        let tk = TenantKeys::new(platform);
        let names: Vec<String> = (0..n).map(|i| format!("t{i:05}")).collect();
        if let Some(c) = db.sqlite() {
            c.execute_batch("BEGIN").unwrap();
        }
        let krs: Vec<Arc<Keyring>> = names
            .iter()
            .map(|t| tk.create(&mut db, t).unwrap())
            .collect();
        if let Some(c) = db.sqlite() {
            c.execute_batch("COMMIT").unwrap();
        }
        self.exec("CREATE TABLE secrets (id BIGINT PRIMARY KEY, tenant TEXT NOT NULL, value TEXT)");
        let mut rows = Vec::new();
        for (i, (t, k)) in names.iter().zip(&krs).enumerate() {
            for j in 0..per {
                let id = (i * per + j + 1) as i64;
                rows.push((
                    id,
                    t.clone(),
                    k.seal(t, plaintext(id).as_bytes(), b"value").unwrap(),
                ));
            }
        }
        if let Some(c) = db.sqlite() {
            let tx = c.transaction().unwrap();
            {
                let mut st = tx
                    .prepare("INSERT INTO secrets (id, tenant, value) VALUES (?1, ?2, ?3)")
                    .unwrap();
                for (id, t, v) in &rows {
                    st.execute(rusqlite::params![id, t, v]).unwrap();
                }
            }
            tx.commit().unwrap();
        } else {
            let c = db.postgres().unwrap();
            for chunk in rows.chunks(5000) {
                let ids: Vec<i64> = chunk.iter().map(|r| r.0).collect();
                let ts: Vec<&str> = chunk.iter().map(|r| r.1.as_str()).collect();
                let vs: Vec<&str> = chunk.iter().map(|r| r.2.as_str()).collect();
                c.execute(
                    "INSERT INTO secrets SELECT * FROM unnest($1::int8[], $2::text[], $3::text[])",
                    &[&ids, &ts, &vs],
                )
                .unwrap();
            }
        }
        names
    }

    /// Opens every data row through a fresh tenant store: per tenant, (ok, error kinds).
    fn open_all(&self, platform: &Keyring) -> BTreeMap<String, (u64, Vec<&'static str>)> {
        let tk = TenantKeys::new(platform);
        let mut db = self.connect();
        let mut out: BTreeMap<String, (u64, Vec<&'static str>)> = BTreeMap::new();
        for (id, t, v) in self.rows("SELECT id, tenant, value FROM secrets ORDER BY id") {
            let e = out.entry(t.clone()).or_default();
            let r = match tk.load(&mut db, &t) {
                Ok(k) => k.open(&t, v.as_deref().unwrap(), b"value"),
                Err(StoreError::Core(c)) => Err(c),
                Err(other) => panic!("{other}"),
            };
            match r {
                Ok(p) => {
                    assert_eq!(p.expose_secret(), plaintext(id).as_bytes());
                    e.0 += 1;
                }
                Err(err) => e.1.push(err.kind()),
            }
        }
        out
    }

    fn assert_all_open(&self, platform: &Keyring, tenants: usize, per: u64) {
        let all = self.open_all(platform);
        assert_eq!(all.len(), tenants);
        for (t, (ok, errs)) in all {
            assert_eq!((ok, errs), (per, vec![]), "tenant {t}");
        }
    }

    /// Platform kids of the tenant key table's rows.
    fn platform_kids(&self) -> BTreeMap<u32, usize> {
        let mut m = BTreeMap::new();
        for (_, _, v) in self.rows("SELECT id, tenant, keyring FROM keycustody_tenant_keys") {
            let v = v.expect("no tenant shredded here");
            *m.entry(keycustody::inspect(&v).unwrap().kid).or_default() += 1;
        }
        m
    }
}

/// The SQLite test `$sqlite` and the PostgreSQL test `$postgres` (own schema `$schema`;
/// passes without running when DATABASE_URL is unset) of `$body(&Db, keyring path)`.
macro_rules! both_backends {
    ($body:ident, $sqlite:ident, $postgres:ident, $schema:literal) => {
        #[test]
        fn $sqlite() {
            let dir = tempfile::tempdir().unwrap();
            let kp = new_keyring(dir.path());
            $body(&sqlite(dir), &kp);
        }

        #[test]
        fn $postgres() {
            let dir = tempfile::tempdir().unwrap();
            let kp = new_keyring(dir.path());
            let Some(d) = pg(dir, $schema) else {
                return;
            };
            $body(&d, &kp);
        }
    };
}

fn kp_str(kp: &Path) -> &str {
    kp.to_str().unwrap()
}

fn json_of(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// The base64url secrets of a keyring's text form.
fn secrets_of(kr: &Keyring) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(kr.export().unwrap().expose_secret()).unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["secret"].as_str().map(str::to_owned))
        .collect()
}

fn commands(d: &Db, kp: &Path) {
    let (url, k) = (d.url.as_str(), kp_str(kp));
    // Every output of this test, checked at the end for key material.
    let seen = std::cell::RefCell::new(String::new());
    let run = |args: &[&str]| {
        let o = cli_common::run(args);
        let mut s = seen.borrow_mut();
        s.push_str(&stdout(&o));
        s.push_str(&stderr(&o));
        o
    };
    // `tenants OP --db URL --tenant TENANT --keyring KEYRING EXTRA..`, through `run`.
    let tenant_cmd = |op: &str, tenant: &str, keyring: &str, extra: &[&str]| {
        let mut args = vec![
            "tenants",
            op,
            "--db",
            url,
            "--tenant",
            tenant,
            "--keyring",
            keyring,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    // `tenants census --db URL --census SPEC EXTRA..`, through `run`.
    let census_cmd = |spec: &str, extra: &[&str]| {
        let mut args = vec!["tenants", "census", "--db", url, "--census", spec];
        args.extend_from_slice(extra);
        run(&args)
    };
    let o = tenant_cmd("create", "acme", k, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("created tenant \"acme\": keyring kid 1"));
    let o = tenant_cmd("create", "acme", k, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("[TenantExists]"), "{}", stderr(&o));
    let o = tenant_cmd("create", "bob", k, &["--json"]);
    assert_eq!(json_of(&o)["created"], true);

    // Data of both tenants, under their own keyrings.
    let platform = load(kp);
    {
        let tk = TenantKeys::new(&platform);
        let mut db = d.connect();
        d.exec("CREATE TABLE secrets (id BIGINT PRIMARY KEY, tenant TEXT NOT NULL, value TEXT)");
        let mut sql = String::new();
        for id in 1..=30i64 {
            let t = if id % 3 == 0 { "bob" } else { "acme" };
            let v = tk
                .load(&mut db, t)
                .unwrap()
                .seal(t, plaintext(id).as_bytes(), b"value")
                .unwrap();
            sql.push_str(&format!("INSERT INTO secrets VALUES ({id}, '{t}', '{v}');"));
        }
        d.exec(&sql);
    }
    let census_spec = "secrets:id:tenant:value";
    let mut secrets = secrets_of(&platform);
    {
        let tk = TenantKeys::new(&platform);
        let mut db = d.connect();
        for t in ["acme", "bob"] {
            secrets.extend(secrets_of(&tk.load(&mut db, t).unwrap()));
        }
    }

    let v = json_of(&run(&["tenants", "list", "--db", url, "--json"]));
    assert_eq!(v[0]["tenant"], "acme");
    assert_eq!(v[0]["form"], "platform");
    assert_eq!(v[1]["tenant"], "bob");
    let v = json_of(&census_cmd(census_spec, &["--json"]));
    assert_eq!(v[0]["tenants"]["acme"]["by_kid"]["1"], 20);
    assert_eq!(v[0]["tenants"]["bob"]["rows"], 10);
    let o = census_cmd("secrets:id:tenant", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = census_cmd("nosuch:id:tenant:value", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // rotate + rewrap --tenant-keys: acme's 20 rows move to its kid 2, bob's stay.
    let v = json_of(&tenant_cmd("rotate", "acme", k, &["--json"]));
    assert_eq!(v["kid"], 2);
    let rewrap = [
        "rewrap",
        "--tenant-keys",
        "--keyring",
        k,
        "--db",
        url,
        "--table",
        "secrets",
        "--owner-column",
        "tenant",
        "--column",
        "value",
        "--context",
        "value",
        "--json",
    ];
    let v = json_of(&run(&rewrap));
    assert_eq!(
        (v["rewritten"].as_u64(), v["already_current"].as_u64()),
        (Some(20), Some(10))
    );
    let v = json_of(&census_cmd(census_spec, &["--json"]));
    assert_eq!(
        v[0]["tenants"]["acme"]["by_kid"],
        serde_json::json!({"2": 20})
    );
    assert_eq!(
        v[0]["tenants"]["bob"]["by_kid"],
        serde_json::json!({"1": 10})
    );

    // shred: refused without --yes off a terminal (nothing shredded), then with --yes,
    // the census printed first.
    let o = bin()
        .args([
            "tenants",
            "shred",
            "--db",
            url,
            "--tenant",
            "bob",
            "--census",
            census_spec,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("secrets.value tenant \"bob\": 10 rows (kid 1: 10)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        json_of(&run(&["tenants", "list", "--db", url, "--json"]))[1]["form"],
        "platform"
    );
    let o = run(&[
        "tenants",
        "shred",
        "--db",
        url,
        "--tenant",
        "bob",
        "--census",
        census_spec,
        "--yes",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let census_at = out
        .find("secrets.value tenant \"bob\": 10 rows (kid 1: 10)")
        .expect(&out);
    let shred_at = out.find("shredded tenant \"bob\"").expect(&out);
    assert!(
        census_at < shred_at,
        "census printed before the shred: {out}"
    );
    assert!(out.contains("10 rows are now unreadable"), "{out}");
    assert_eq!(
        json_of(&run(&["tenants", "list", "--db", url, "--json"]))[1]["form"],
        "shredded"
    );
    let all = d.open_all(&platform);
    assert_eq!(all["acme"], (20, vec![]));
    assert_eq!(all["bob"], (0, vec!["TenantShredded"; 10]));

    // Typed failures, exit codes, nothing written.
    for (tenant, kind, code) in [
        ("bob", "[TenantShredded]", 2),
        ("nobody", "[UnknownTenant]", 2),
    ] {
        let o = tenant_cmd("rotate", tenant, k, &[]);
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        assert!(stderr(&o).contains(kind), "{}", stderr(&o));
        let o = run(&["tenants", "shred", "--db", url, "--tenant", tenant, "--yes"]);
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        assert!(stderr(&o).contains(kind), "{}", stderr(&o));
    }
    let o = tenant_cmd("create", "bob", k, &[]);
    assert_eq!(o.status.code(), Some(3));
    // A second platform keyring opens no tenant: DecryptFailed, exit 2.
    let other = d._dir.path().join("other.json");
    assert!(
        run(&["keys", "generate", "--keyring", other.to_str().unwrap()])
            .status
            .success()
    );
    let o = tenant_cmd("rotate", "acme", other.to_str().unwrap(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("[DecryptFailed]"), "{}", stderr(&o));
    // rewrap --tenant-keys with that keyring: no tenant opens, nothing written, exit 2.
    let before = d.rows("SELECT id, tenant, value FROM secrets ORDER BY id");
    let mut wrong = rewrap.to_vec();
    wrong[3] = other.to_str().unwrap();
    let o = run(&wrong);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing was written"), "{}", stderr(&o));
    assert_eq!(
        d.rows("SELECT id, tenant, value FROM secrets ORDER BY id"),
        before
    );

    // rewrap --tenant-keys reports the shredded rows, is not a failure.
    let o = run(&rewrap[..rewrap.len() - 1]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("10 rows of 1 shredded tenant(s)"),
        "{}",
        stdout(&o)
    );

    // A CMEK tenant: its keyring wrapped under "its own" KEK (an application-type KEK here).
    let own = Keyring::generate().unwrap();
    let p = keycustody::PendingWrap::new(&own, "test-kms", "key/1", "enterprise").unwrap();
    let wrapped = p.finish(b"opaque-wrapped-dek").unwrap().to_text();
    let cmek_file = d._dir.path().join("enterprise.wrapped.json");
    std::fs::write(&cmek_file, &wrapped).unwrap();
    let cf = cmek_file.to_str().unwrap();
    let o = tenant_cmd("create", "other", k, &["--cmek-file", cf]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "owner mismatch refused: {}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("[InvalidArgument]"), "{}", stderr(&o));
    let o = tenant_cmd("create", "enterprise", k, &["--cmek-file", cf]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tenant_cmd("create", "enterprise", k, &["--cmek-file", cf]);
    assert_eq!(o.status.code(), Some(3));
    let v = json_of(&run(&["tenants", "list", "--db", url, "--json"]));
    assert_eq!(v.as_array().unwrap().len(), 3, "{v}");
    assert_eq!(v[2]["tenant"], "enterprise");
    assert_eq!(
        (v[2]["form"].as_str(), v[2]["kek_type"].as_str()),
        (Some("cmek"), Some("test-kms"))
    );
    let o = tenant_cmd("rotate", "enterprise", k, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // Platform-root rotation: one row rewritten (acme), bob's tombstone skipped, the CMEK
    // row counted apart (not a failure).
    assert!(run(&["keys", "rotate", "--keyring", k]).status.success());
    let v = json_of(&run(&[
        "tenants",
        "rewrap",
        "--db",
        url,
        "--keyring",
        k,
        "--json",
    ]));
    assert_eq!(
        (
            v["rewritten"].as_u64(),
            v["nulls"].as_u64(),
            v["wrapped"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(v["failed_count"], 0);
    assert_eq!(v["after"]["by_kid"], serde_json::json!({"2": 1}));
    let all = d.open_all(&load(kp));
    assert_eq!(all["acme"], (20, vec![]));
    {
        let now = load(kp);
        let tk = TenantKeys::new(&now);
        secrets.extend(secrets_of(&tk.load(&mut d.connect(), "acme").unwrap()));
    }
    secrets.extend(secrets_of(&load(kp)));
    let seen = seen.into_inner();
    assert!(seen.contains("shredded tenant"), "outputs were recorded");
    assert!(
        secrets.len() >= 6,
        "platform (3 kids), acme (2 + 2), bob (1)"
    );
    for s in &secrets {
        assert!(
            !seen.contains(s.as_str()),
            "a key secret appeared in the CLI's output"
        );
    }
}

both_backends!(
    commands,
    tenants_commands_sqlite,
    tenants_commands_postgres,
    "kc_cli_tenants"
);

fn rotate_args<'a>(url: &'a str, k: &'a str, pause: &'a str) -> Vec<&'a str> {
    vec![
        "tenants",
        "rotate",
        "--db",
        url,
        "--tenant",
        "t00000",
        "--keyring",
        k,
        "--json",
        "--test-pause-before-write-ms",
        pause,
    ]
}

/// Two `tenants rotate` processes of tenant t00000 started at once (output piped).
fn two_rotations(d: &Db, k: &str, pause: &str) -> Vec<std::process::Child> {
    (0..2)
        .map(|_| {
            bin()
                .args(rotate_args(&d.url, k, pause))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect()
}

fn tenant_kid(d: &Db, platform: &Keyring) -> u32 {
    TenantKeys::new(platform)
        .load(&mut d.connect(), "t00000")
        .unwrap()
        .primary_kid()
}

fn concurrent_rotations(d: &Db, kp: &Path) {
    let platform = load(kp);
    d.populate(&platform, 3, 5);
    let k = kp_str(kp);
    // Both processes read the row, then pause, then write: exactly one wins.
    let children = two_rotations(d, k, "1500");
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let won: Vec<_> = outs.iter().filter(|o| o.status.success()).collect();
    let lost: Vec<_> = outs.iter().filter(|o| !o.status.success()).collect();
    assert_eq!(
        (won.len(), lost.len()),
        (1, 1),
        "{:?}",
        outs.iter().map(stderr).collect::<Vec<_>>()
    );
    assert_eq!(json_of(won[0])["kid"], 2);
    assert_eq!(lost[0].status.code(), Some(3));
    assert!(
        stderr(lost[0]).contains("[Conflict]"),
        "{}",
        stderr(lost[0])
    );
    assert_eq!(
        tenant_kid(d, &platform),
        2,
        "the keyring is the winner's, valid"
    );
    d.assert_all_open(&platform, 3, 5);

    // Free-running races: never a lost update (kid = 2 + rotations that reported success),
    // and every loser is a Conflict.
    let mut successes = 0;
    for _ in 0..6 {
        let children = two_rotations(d, k, "0");
        for o in children.into_iter().map(|c| c.wait_with_output().unwrap()) {
            if o.status.success() {
                successes += 1;
            } else {
                assert!(stderr(&o).contains("[Conflict]"), "{}", stderr(&o));
            }
        }
    }
    assert_eq!(tenant_kid(d, &platform), 2 + successes);
    d.assert_all_open(&platform, 3, 5);
}

both_backends!(
    concurrent_rotations,
    two_processes_rotate_one_tenant_sqlite,
    two_processes_rotate_one_tenant_postgres,
    "kc_cli_rotate_race"
);

const TENANTS: usize = 10_000;
const PER: usize = 2;

fn kills(d: &Db, kp: &Path) {
    let platform = load(kp);
    d.populate(&platform, TENANTS, PER);
    let k = kp_str(kp);

    // SIGKILL a tenant rotation: during its pause (between read and write), then at
    // random points; the row is always one whole keyring, and a rerun rotates it.
    let mut c = bin().args(rotate_args(&d.url, k, "3000")).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    c.kill().unwrap();
    c.wait().unwrap();
    assert_eq!(
        tenant_kid(d, &platform),
        1,
        "killed before its write: nothing written"
    );
    for _ in 0..4 {
        let mut c = bin()
            .args(rotate_args(&d.url, k, "0"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(random_below(40)));
        c.kill().unwrap();
        c.wait().unwrap();
        assert!(tenant_kid(d, &platform) >= 1);
    }
    let before = tenant_kid(d, &platform);
    let v = json_of(&run(&rotate_args(&d.url, k, "0")));
    assert_eq!(v["kid"].as_u64(), Some(u64::from(before) + 1));

    // SIGKILL the platform-root rewrap of the tenant key table at random points.
    let old_pk = platform.primary_kid();
    assert!(run(&["keys", "rotate", "--keyring", k]).status.success());
    let new_pk = old_pk + 1;
    let args = [
        "tenants",
        "rewrap",
        "--db",
        &d.url,
        "--keyring",
        k,
        "--batch",
        "100",
    ];
    let mut mid_way = 0;
    for round in 0..5u64 {
        let mut c = bin().args(args).stdout(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(20 + random_below(150 + 100 * round)));
        c.kill().unwrap();
        c.wait().unwrap();
        let kids = d.platform_kids();
        assert_eq!(kids.values().sum::<usize>(), TENANTS, "no tenant row lost");
        eprintln!("kill {round}: {kids:?}");
        if kids.len() == 2 {
            mid_way += 1;
        }
        // Whatever the point, every tenant opens under the rotated platform keyring.
        if round == 2 {
            d.assert_all_open(&load(kp), TENANTS, PER as u64);
        }
    }
    assert!(
        mid_way > 0,
        "no kill landed in the middle of the job; it tested nothing"
    );
    let v = json_of(&run(&[&args[..], &["--json"]].concat()));
    assert_eq!(v["failed_count"], 0);
    assert_eq!(
        v["after"]["by_kid"],
        serde_json::json!({ new_pk.to_string(): TENANTS })
    );
    let v = json_of(&run(&[&args[..], &["--json"]].concat()));
    assert_eq!(v["rewritten"], 0, "rerun is a no-op");
    // Retire the old platform kid (the scan of the tenant key table finds nothing under
    // it): every tenant's data still opens.
    let o = run(&[
        "keys",
        "retire",
        &old_pk.to_string(),
        "--db",
        &d.url,
        "--check",
        "keycustody_tenant_keys.keyring",
        "--keyring",
        k,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        load(kp).state_of(old_pk).unwrap(),
        keycustody::KeyState::Retired
    );
    d.assert_all_open(&load(kp), TENANTS, PER as u64);
}

both_backends!(
    kills,
    sigkill_during_tenant_rotation_and_platform_rewrap_sqlite,
    sigkill_during_tenant_rotation_and_platform_rewrap_postgres,
    "kc_cli_tenant_kill"
);
