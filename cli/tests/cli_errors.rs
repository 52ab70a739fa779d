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

/// One exit-code policy for every command family (keycustody_cli::vm::EXIT_*):
/// 0 ok, 1 job failures, 2 usage/bad input (DecryptFailed included), 3 refused
/// (integrity or safety), 4 not found, 5 I/O.
#[test]
fn exit_codes_follow_one_policy_in_every_family() {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.json");
    let vm = |args: &[&str], input: &[u8]| {
        let mut c = bin();
        c.args(args)
            .env("KEYCUSTODY_VAULT", &vault)
            .env_remove("KEYCUSTODY_VAULT_KEY")
            .env_remove("KEYCUSTODY_AUDIT_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut ch = c.spawn().unwrap();
        let _ = ch.stdin.take().unwrap().write_all(input);
        ch.wait_with_output().unwrap()
    };
    let expect = |o: &std::process::Output, code: i32, needle: &str| {
        assert_eq!(o.status.code(), Some(code), "{needle}: {}", stderr(o));
        assert!(stderr(o).contains(needle), "{needle:?} in {}", stderr(o));
    };
    // Not found: 4 (vault, audit, proxy startup).
    expect(&vm(&["vault", "list"], b""), 4, "no vault at");
    expect(&vm(&["audit", "verify"], b""), 4, "no vault at");
    let routes = dir.path().join("routes.json");
    std::fs::write(
        &routes,
        r#"{"routes": {"openai": {"upstream": "http://127.0.0.1:9", "kind": "openai", "secret": "OPENAI_API_KEY"}}}"#,
    )
    .unwrap();
    let proxy = |extra: &[&str]| {
        let mut a = vec![
            "proxy",
            "--routes",
            routes.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--allow",
            "127.0.0.1/32",
        ];
        a.extend(extra);
        vm(&a, b"")
    };
    expect(&proxy(&[]), 4, "no vault at");
    assert!(vm(&["vault", "init", "--id", "vm-codes"], b"")
        .status
        .success());
    assert!(vm(&["vault", "set", "A"], b"a").status.success());
    expect(
        &vm(&["vault", "get", "NOPE"], b""),
        4,
        "no secret named \"NOPE\"",
    );
    expect(&vm(&["vault", "rm", "NOPE"], b""), 4, "no secret named");
    // Usage / bad input: 2.
    expect(
        &vm(&["vault", "set", "BAD-NAME"], b"x"),
        2,
        "secret names must match",
    );
    expect(&vm(&["vault", "init"], b""), 2, "already exists");
    let bad_cp = dir.path().join("cp.json");
    std::fs::write(&bad_cp, "{}").unwrap();
    expect(
        &vm(
            &["audit", "verify", "--checkpoint", bad_cp.to_str().unwrap()],
            b"",
        ),
        2,
        "malformed checkpoint",
    );
    std::fs::write(&routes, "not json").unwrap();
    expect(&proxy(&[]), 2, "routes");
    // DecryptFailed is 2 from seal/open and from the vault alike.
    let kp = new_keyring(dir.path());
    let k = kp.to_str().unwrap();
    let mut c = bin();
    c.args(["seal", "--keyring", k, "--owner", "t1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut ch = c.spawn().unwrap();
    ch.stdin.take().unwrap().write_all(b"payload").unwrap();
    let sealed = ch.wait_with_output().unwrap().stdout;
    let mut c = bin();
    c.args(["open", "--keyring", k, "--owner", "t2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut ch = c.spawn().unwrap();
    ch.stdin.take().unwrap().write_all(&sealed).unwrap();
    expect(&ch.wait_with_output().unwrap(), 2, "decryption failed");
    // (an openssl enc file under the wrong password: DecryptFailed inside `vault import`)
    let enc = dir.path().join("x.enc");
    let mut blob = b"Salted__12345678".to_vec();
    blob.extend_from_slice(&[7u8; 32]);
    std::fs::write(&enc, blob).unwrap();
    let mut c = bin();
    c.args([
        "vault",
        "import",
        "--openssl-enc",
        enc.to_str().unwrap(),
        "--password-env",
        "PW",
    ])
    .env("KEYCUSTODY_VAULT", &vault)
    .env("PW", "wrong");
    let o = c.output().unwrap();
    expect(&o, 2, "decryption failed");
    // I/O: 5.
    expect(
        &vm(
            &["vault", "set", "A", "--from-file", "/nonexistent/value"],
            b"",
        ),
        5,
        "I/O error",
    );
    // Refused, integrity: 3 (vault tampered, audit log broken) and safety (insecure key).
    let log = dir.path().join("v.json.audit");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replace("vault.set", "vault.rm")).unwrap();
    expect(
        &vm(&["audit", "verify"], b""),
        3,
        "audit log verification failed",
    );
    expect(
        &vm(&["vault", "get", "A"], b""),
        3,
        "audit log verification failed",
    );
    std::fs::write(&log, &text).unwrap();
    let vtext = std::fs::read_to_string(&vault).unwrap();
    std::fs::write(&vault, vtext.replace("vm-codes", "vm-other")).unwrap();
    expect(
        &vm(&["vault", "list"], b""),
        3,
        "modified outside keycustody",
    );
    std::fs::write(&vault, &vtext).unwrap();
    let key = dir.path().join("v.json.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    expect(&vm(&["vault", "list"], b""), 3, "KC_INSECURE_PERMISSIONS");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert!(vm(&["vault", "list"], b"").status.success());
    // The policy is in --help.
    let h = stdout(&run(&["--help"]));
    for line in ["Exit codes", "4  not found", "5  I/O error", "3  refused"] {
        assert!(h.contains(line), "{line:?} in --help: {h}");
    }
}
