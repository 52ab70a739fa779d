//! `keycustody keys`, `seal`/`open`/`inspect`, and `retire` refused while `scan` finds the kid.

mod cli_common;
use cli_common::*;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

fn pipe(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut c = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Err(e) = c.stdin.take().unwrap().write_all(input) {
        // A command that fails before reading stdin closes the pipe early.
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    }
    c.wait_with_output().unwrap()
}

#[test]
fn generate_list_rotate_promote() {
    let dir = tempfile::tempdir().unwrap();
    let kp = new_keyring(dir.path());
    assert_eq!(
        std::fs::metadata(&kp).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let k = kp.to_str().unwrap();
    let again = run(&["keys", "generate", "--keyring", k]);
    assert_eq!(
        again.status.code(),
        Some(3),
        "never overwrites an existing keyring"
    );
    assert!(run(&["keys", "add", "--keyring", k]).status.success());
    let o = run(&["keys", "list", "--keyring", k, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["primary"], 1);
    assert_eq!(v["keys"][1]["state"], "decrypt-only");
    assert_eq!(v["keys"][0]["fingerprint"].as_str().unwrap().len(), 16);
    let text = std::fs::read_to_string(&kp).unwrap();
    let secret: serde_json::Value = serde_json::from_str(&text).unwrap();
    let s1 = secret["keys"][0]["secret"].as_str().unwrap();
    assert!(!stdout(&o).contains(s1), "list never shows a secret");
    let human = run(&["keys", "list", "--keyring", k]);
    assert!(!stdout(&human).contains(s1));
    assert!(run(&["keys", "promote", "2", "--keyring", k])
        .status
        .success());
    assert_eq!(load(&kp).primary_kid(), 2);
    let bad = run(&["keys", "promote", "9", "--keyring", k]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown key id 9"));
    assert!(run(&["keys", "rotate", "--keyring", k]).status.success());
    assert_eq!(load(&kp).primary_kid(), 3);
    assert_eq!(
        std::fs::metadata(&kp).unwrap().permissions().mode() & 0o777,
        0o600,
        "rewrites keep 0600"
    );
    let prim = run(&["keys", "retire", "3", "--keyring", k, "--unchecked"]);
    assert_eq!(prim.status.code(), Some(3), "the primary is never retired");
}

#[test]
fn seal_open_inspect_roundtrip_and_env_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let kp = new_keyring(dir.path());
    let k = kp.to_str().unwrap();
    let o = pipe(
        &[
            "seal",
            "--keyring",
            k,
            "--owner",
            "t1",
            "--context",
            "api_key",
        ],
        b"sk-123",
    );
    assert!(o.status.success());
    let env = stdout(&o);
    assert!(env.starts_with("kc1."));
    let i = pipe(&["inspect", "--json"], env.as_bytes());
    let v: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(v["kid"], 1);
    assert_eq!(v["plaintext_len"], 6);
    let text = std::fs::read_to_string(&kp).unwrap();
    let mut c = bin()
        .args(["open", "--owner", "t1", "--context", "api_key"])
        .env("KEYCUSTODY_KEYRING", text.trim())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Err(e) = c.stdin.take().unwrap().write_all(env.as_bytes()) {
        // A command that fails before reading stdin closes the pipe early.
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    }
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"sk-123");
    let wrong = pipe(
        &[
            "open",
            "--keyring",
            k,
            "--owner",
            "t2",
            "--context",
            "api_key",
        ],
        env.as_bytes(),
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("decryption failed"));
    let bad = pipe(&["inspect"], b"kc2.xyz");
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("malformed input"));
}

#[test]
fn retire_refused_while_scan_finds_the_kid() {
    let dir = tempfile::tempdir().unwrap();
    let kp = new_keyring(dir.path());
    let k = kp.to_str().unwrap();
    let (_p, url) = sqlite_db(dir.path(), &load(&kp), 300, 10);
    assert!(run(&["keys", "rotate", "--keyring", k]).status.success());
    let scan = run(&[
        "scan", "--db", &url, "--table", "secrets", "--column", "value", "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
    assert_eq!(v["by_kid"]["1"], 300);
    let o = run(&[
        "keys",
        "retire",
        "1",
        "--keyring",
        k,
        "--db",
        &url,
        "--check",
        "secrets.value",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("300 envelope(s) in secrets.value are still sealed under it"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        load(&kp).state_of(1).unwrap(),
        keycustody::KeyState::DecryptOnly
    );
    let no_check = run(&["keys", "retire", "1", "--keyring", k]);
    assert_eq!(
        no_check.status.code(),
        Some(2),
        "a scan (or --unchecked) is required"
    );
    assert!(run(&rewrap_args(k, &url, "secrets")).status.success());
    let o = run(&[
        "keys",
        "retire",
        "1",
        "--keyring",
        k,
        "--db",
        &url,
        "--check",
        "secrets.value",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        load(&kp).state_of(1).unwrap(),
        keycustody::KeyState::Retired
    );
    verify_all(&url, "secrets", &load(&kp), 300, 2);
}
