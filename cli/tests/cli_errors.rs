//! Bad input to the store commands: each a clear error naming what is wrong,
//! a documented exit code, and nothing written.

mod cli_common;
use cli_common::*;
use keycustody_store::rusqlite;

fn snapshot(path: &std::path::Path) -> Vec<(i64, String, Option<String>)> {
    read_all(&format!("sqlite:{}", path.display()), "secrets")
}

struct Fx {
    _dir: tempfile::TempDir,
    kp: String,
    path: std::path::PathBuf,
    url: String,
}

fn fixture() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let kp = new_keyring(dir.path());
    let (path, url) = sqlite_db(dir.path(), &load(&kp), 50, 5);
    assert!(run(&["keys", "rotate", "--keyring", kp.to_str().unwrap()])
        .status
        .success());
    Fx {
        kp: kp.to_str().unwrap().to_owned(),
        path,
        url,
        _dir: dir,
    }
}

fn expect_err(fx: &Fx, args: &[&str], code: i32, needle: &str) {
    let before = snapshot(&fx.path);
    let o = run(args);
    assert_eq!(o.status.code(), Some(code), "args {args:?}: {}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(needle), "expected {needle:?} in: {e}");
    assert_eq!(snapshot(&fx.path), before, "nothing written");
}

#[test]
fn bad_urls() {
    let fx = fixture();
    for (url, needle) in [
        ("mysql://x", "invalid database URL"),
        ("", "invalid database URL"),
        ("sqlite:", "empty SQLite path"),
        ("sqlite:/nonexistent/dir/app.db", "cannot open the database"),
        (
            "postgres://nobody@127.0.0.1:1/db",
            "cannot open the database",
        ),
    ] {
        let mut a = rewrap_args(&fx.kp, url, "secrets");
        a[4] = url;
        expect_err(&fx, &a, 2, needle);
    }
}

#[test]
fn missing_table_and_columns() {
    let fx = fixture();
    expect_err(
        &fx,
        &rewrap_args(&fx.kp, &fx.url, "nope"),
        2,
        "no table named \"nope\"",
    );
    let mut a = rewrap_args(&fx.kp, &fx.url, "secrets");
    a[10] = "missing_col";
    expect_err(
        &fx,
        &a,
        2,
        "table \"secrets\" has no column named \"missing_col\"",
    );
    let mut a = rewrap_args(&fx.kp, &fx.url, "secrets");
    a[8] = "owner_x";
    expect_err(&fx, &a, 2, "no column named \"owner_x\"");
    let mut a = rewrap_args(&fx.kp, &fx.url, "secrets");
    a.extend(["--id-column", "tenant"]);
    expect_err(&fx, &a, 2, "is not an integer column");
    expect_err(
        &fx,
        &rewrap_args(&fx.kp, &fx.url, "secrets\"; DROP TABLE secrets; --"),
        2,
        "invalid identifier",
    );
    let o = run(&[
        "scan", "--db", &fx.url, "--table", "secrets", "--column", "nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no column named \"nope\""));
}

#[test]
fn non_kc1_values_are_listed_by_id_and_left_alone() {
    let fx = fixture();
    let c = rusqlite::Connection::open(&fx.path).unwrap();
    c.execute(
        "UPDATE secrets SET value = 'plaintext-oops' WHERE id = 7",
        [],
    )
    .unwrap();
    c.execute("UPDATE secrets SET value = X'00ff' WHERE id = 9", [])
        .unwrap();
    c.execute("UPDATE secrets SET value = NULL WHERE id = 11", [])
        .unwrap();
    let o = run(&[&rewrap_args(&fx.kp, &fx.url, "secrets")[..], &["--json"]].concat());
    assert_eq!(o.status.code(), Some(1), "failures give exit code 1");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["failed_count"], 2);
    assert_eq!(v["failed"][0]["id"], 7);
    assert_eq!(v["failed"][0]["kind"], "Malformed");
    assert_eq!(v["failed"][1]["id"], 9);
    assert_eq!(v["nulls"], 1);
    assert_eq!(v["rewritten"], 47);
    let rows = snapshot(&fx.path);
    assert_eq!(rows.len(), 50, "nothing deleted");
    assert_eq!(
        rows[6].2.as_deref(),
        Some("plaintext-oops"),
        "left as it was"
    );
    assert_eq!(rows[10].2, None);
}

#[test]
fn wrong_keyring_writes_nothing() {
    let fx = fixture();
    let other = tempfile::tempdir().unwrap();
    let wrong = new_keyring(other.path()); // a different kid 1
    let w = wrong.to_str().unwrap();
    assert!(run(&["keys", "rotate", "--keyring", w]).status.success());
    expect_err(&fx, &rewrap_args(w, &fx.url, "secrets"), 2, "wrong keyring");
    // A keyring without kid 1 at all.
    let k3 = other.path().join("k3.json");
    let kr = keycustody::Keyring::parse(load(&wrong).export().unwrap().expose_secret()).unwrap();
    kr.retire(1).unwrap();
    std::fs::write(&k3, kr.export().unwrap().expose_secret()).unwrap();
    let mut perm = std::fs::metadata(&k3).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o600);
    std::fs::set_permissions(&k3, perm).unwrap();
    expect_err(
        &fx,
        &rewrap_args(k3.to_str().unwrap(), &fx.url, "secrets"),
        2,
        "key id 1 is retired",
    );
}

#[test]
fn loose_keyring_permissions_are_refused() {
    let fx = fixture();
    let mut perm = std::fs::metadata(&fx.kp).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o644);
    std::fs::set_permissions(&fx.kp, perm).unwrap();
    expect_err(
        &fx,
        &rewrap_args(&fx.kp, &fx.url, "secrets"),
        3,
        "chmod 600",
    );
}

#[test]
fn missing_keyring_is_a_usage_error() {
    let fx = fixture();
    let mut a = rewrap_args(&fx.kp, &fx.url, "secrets");
    a.remove(2);
    a.remove(1);
    expect_err(&fx, &a, 2, "no keyring");
}

#[test]
fn second_job_on_the_same_table_is_refused() {
    let fx = fixture();
    // Hold the job lock the way a running job does: the lock file beside the database.
    let lock = format!("{}.keycustody-secrets.lock", fx.path.display());
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock)
        .unwrap();
    f.lock().unwrap();
    expect_err(
        &fx,
        &rewrap_args(&fx.kp, &fx.url, "secrets"),
        3,
        "already running on table \"secrets\"",
    );
    f.unlock().unwrap();
    let o = run(&rewrap_args(&fx.kp, &fx.url, "secrets"));
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn dry_run_writes_nothing() {
    let fx = fixture();
    let before = snapshot(&fx.path);
    let o = run(&[
        &rewrap_args(&fx.kp, &fx.url, "secrets")[..],
        &["--dry-run", "--json"],
    ]
    .concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rewritten"], 50);
    assert_eq!(v["dry_run"], true);
    assert_eq!(snapshot(&fx.path), before);
}

#[test]
fn help_on_every_command() {
    for cmd in [
        &["--help"][..],
        &["keys", "--help"],
        &["keys", "retire", "--help"],
        &["seal", "--help"],
        &["open", "--help"],
        &["inspect", "--help"],
        &["rewrap", "--help"],
        &["migrate", "--help"],
        &["scan", "--help"],
        &["demo", "--help"],
    ] {
        let o = run(cmd);
        assert!(o.status.success(), "{cmd:?}");
        assert!(stdout(&o).contains("Usage"), "{cmd:?}");
    }
    let o = run(&["rewrap", "--db", "sqlite:x"]);
    assert_eq!(o.status.code(), Some(2), "clap usage errors exit 2");
}
