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

/// `keys generate --stdout` (the README's one-command KEYCUSTODY_KEYRING): the new keyring's
/// text on stdout, one line, no file written; a different keyring each time; the text works
/// as KEYCUSTODY_KEYRING. With --keyring or --json it is refused, writing nothing.
#[test]
fn generate_stdout_prints_a_keyring_for_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let gen = || {
        bin()
            .args(["keys", "generate", "--stdout"])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let o = gen();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.ends_with('\n') && text.trim_end().lines().count() == 1,
        "one line"
    );
    let kr = keycustody::Keyring::parse(text.trim_end()).unwrap();
    assert_eq!(kr.primary_kid(), 1);
    assert_eq!(kr.kids().len(), 1);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file written"
    );
    let other = keycustody::Keyring::parse(stdout(&gen()).trim_end()).unwrap();
    assert_ne!(
        other.kids()[0].fingerprint,
        kr.kids()[0].fingerprint,
        "a fresh key each time"
    );

    // As the environment variable (the README's `export KEYCUSTODY_KEYRING="$(...)"`).
    let env = kr.seal("t1", b"sk-123", b"").unwrap();
    let mut c = bin()
        .args(["open", "--owner", "t1"])
        .env("KEYCUSTODY_KEYRING", text.trim_end())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(env.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"sk-123");

    // Refused, not ignored: a file named too, or --json; nothing on stdout, no file.
    let f = dir.path().join("k.json");
    let bad = run(&[
        "keys",
        "generate",
        "--stdout",
        "--keyring",
        f.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stdout(&bad).is_empty() && !f.exists());
    assert!(stderr(&bad).contains("--stdout writes no file"));
    let bad = bin()
        .args(["keys", "generate", "--stdout"])
        .env("KEYCUSTODY_KEYRING_FILE", &f)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stdout(&bad).is_empty() && !f.exists());
    let bad = run(&["keys", "generate", "--stdout", "--json"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stdout(&bad).is_empty());
    // Without the flag nothing secret is ever printed: no file named is a usage error.
    let bad = run(&["keys", "generate"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stdout(&bad).is_empty());
}

/// The README's Rust quickstart shell block, run as written (`sh`, the built `keycustody`
/// first on PATH, no keyring in the environment): it leaves a keyring in KEYCUSTODY_KEYRING.
#[test]
fn readme_rust_quickstart_block_runs_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let rust = readme
        .split("\n## Rust\n")
        .nth(1)
        .and_then(|r| r.split("\n## ").next())
        .expect("README has a ## Rust section");
    let block = rust
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the Rust section has a ```sh block");
    assert!(block.contains(r#"export KEYCUSTODY_KEYRING="$(keycustody keys generate --stdout)""#));
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_keycustody"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new("sh")
        .arg("-ec")
        .arg(format!("{block}\nprintf %s \"$KEYCUSTODY_KEYRING\""))
        .env_remove("KEYCUSTODY_KEYRING")
        .env_remove("KEYCUSTODY_KEYRING_FILE")
        .env("PATH", path)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let kr = keycustody::Keyring::parse(&stdout(&o)).expect("KEYCUSTODY_KEYRING holds a keyring");
    assert_eq!(kr.primary_kid(), 1);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file written"
    );
}
