//! `keycustody migrate`: legacy values made by independent implementations become kc1.
//! - pyca/cryptography PBKDF2 + AESGCM blobs (tests/vectors/legacy_v1.json, regenerated
//!   and compared by `make test-store`), migrated in a SQLite table;
//! - files made right here by the real `openssl enc -aes-256-cbc -pbkdf2 -iter 100000`,
//!   binary on stdin and base64 (`-a`) in a table column.

mod cli_common;
use cli_common::*;
use keycustody_store::rusqlite;
use std::io::Write;
use std::process::Stdio;

const PW: &str = "legacy-password";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut c = std::process::Command::new("openssl")
        .args(args)
        .env("KC_LEGACY_PW", PW)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the openssl binary is required for this test (apt-get install openssl)");
    if let Err(e) = c.stdin.take().unwrap().write_all(input) {
        // A command that fails before reading stdin closes the pipe early.
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    }
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success());
    o.stdout
}

fn legacy_table(
    dir: &std::path::Path,
    values: &[(String, Vec<u8>)],
) -> (std::path::PathBuf, String) {
    let p = dir.join("legacy.db");
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch("CREATE TABLE creds (id INTEGER PRIMARY KEY, tenant TEXT, value TEXT)")
        .unwrap();
    for (i, (v, _)) in values.iter().enumerate() {
        c.execute(
            "INSERT INTO creds (id, tenant, value) VALUES (?1, ?2, ?3)",
            rusqlite::params![i as i64 + 1, format!("tenant-{i}"), v],
        )
        .unwrap();
    }
    (p.clone(), format!("sqlite:{}", p.display()))
}

fn migrate_table(kp: &str, url: &str, from: &str, extra: &[&str]) -> std::process::Output {
    let mut a = vec![
        "migrate",
        "--keyring",
        kp,
        "--from",
        from,
        "--password-env",
        "KC_LEGACY_PW",
        "--db",
        url,
        "--table",
        "creds",
        "--owner-column",
        "tenant",
        "--column",
        "value",
        "--context",
        "api_key",
        "--json",
    ];
    a.extend(extra);
    bin().args(&a).env("KC_LEGACY_PW", PW).output().unwrap()
}

fn check_migrated(url: &str, kp: &std::path::Path, values: &[(String, Vec<u8>)]) {
    let kr = load(kp);
    let rows = {
        let c = rusqlite::Connection::open(url.strip_prefix("sqlite:").unwrap()).unwrap();
        let mut st = c
            .prepare("SELECT id, tenant, value FROM creds ORDER BY id")
            .unwrap();
        st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
    };
    assert_eq!(rows.len(), values.len());
    for ((id, tenant, v), (_, plain)) in rows.iter().zip(values) {
        assert!(v.starts_with("kc1."), "row {id} migrated");
        assert_eq!(
            kr.open(tenant, v, b"api_key").unwrap().expose_secret(),
            &plain[..],
            "row {id}"
        );
    }
}

#[test]
fn pyca_pbkdf2_gcm_blobs_migrate_in_a_table() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/legacy_v1.json"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let values: Vec<(String, Vec<u8>)> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["op"] == "pbkdf2_gcm" && c["expect"] == "ok" && c["iterations"] == 100_000)
        .map(|c| {
            (
                c["blob"].as_str().unwrap().to_owned(),
                unhex(c["plaintext_hex"].as_str().unwrap()),
            )
        })
        .collect();
    assert!(values.len() >= 4);
    let dir = tempfile::tempdir().unwrap();
    let kp = new_keyring(dir.path());
    let k = kp.to_str().unwrap();
    let (_p, url) = legacy_table(dir.path(), &values);
    let o = migrate_table(k, &url, "pbkdf2-gcm", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rewritten"], values.len());
    check_migrated(&url, &kp, &values);
    // Rerun: everything is kc1 already; nothing changes.
    let o = migrate_table(k, &url, "pbkdf2-gcm", &[]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rewritten"], 0);
    assert_eq!(v["already_current"], values.len());
}

#[test]
fn wrong_legacy_password_writes_nothing() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/legacy_v1.json"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let c = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "gcm_1000_iterations")
        .unwrap();
    let values = vec![(c["blob"].as_str().unwrap().to_owned(), vec![])];
    let dir = tempfile::tempdir().unwrap();
    let kp = new_keyring(dir.path());
    let (_p, url) = legacy_table(dir.path(), &values);
    let o = bin()
        .args([
            "migrate",
            "--keyring",
            kp.to_str().unwrap(),
            "--from",
            "pbkdf2-gcm",
            "--password-env",
            "KC_LEGACY_PW",
            "--iterations",
            "1000",
            "--db",
            &url,
            "--table",
            "creds",
            "--owner-column",
            "tenant",
            "--column",
            "value",
        ])
        .env("KC_LEGACY_PW", "not-the-password")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing was written"));
    let unset = bin()
        .args([
            "migrate",
            "--keyring",
            kp.to_str().unwrap(),
            "--from",
            "pbkdf2-gcm",
            "--password-env",
            "KC_UNSET_VAR",
            "--owner",
            "t",
        ])
        .output()
        .unwrap();
    assert_eq!(unset.status.code(), Some(2));
    assert!(stderr(&unset).contains("KC_UNSET_VAR is not set"));
    let argv = bin()
        .args(["migrate", "--from", "pbkdf2-gcm", "--password", "x"])
        .output()
        .unwrap();
    assert_eq!(
        argv.status.code(),
        Some(2),
        "no password on the command line"
    );
}

#[test]
fn real_openssl_files_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let kp = new_keyring(dir.path());
    let k = kp.to_str().unwrap();
    let enc = [
        "enc",
        "-aes-256-cbc",
        "-pbkdf2",
        "-iter",
        "100000",
        "-pass",
        "env:KC_LEGACY_PW",
    ];
    // Binary file on stdin (single-value mode), password from a file.
    let plain = b"sk-live-openssl-encrypted-key";
    let file = openssl(&enc, plain);
    assert!(file.starts_with(b"Salted__"));
    let pwf = dir.path().join("pw.txt");
    std::fs::write(&pwf, format!("{PW}\n")).unwrap();
    let mut c = bin()
        .args([
            "migrate",
            "--keyring",
            k,
            "--from",
            "openssl-enc",
            "--password-file",
            pwf.to_str().unwrap(),
            "--owner",
            "tenant-9",
            "--value-context",
            "ssh",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Err(e) = c.stdin.take().unwrap().write_all(&file) {
        // A command that fails before reading stdin closes the pipe early.
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    }
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let env = stdout(&o);
    assert_eq!(
        load(&kp)
            .open("tenant-9", env.trim(), b"ssh")
            .unwrap()
            .expose_secret(),
        plain
    );
    // Base64 (-a, multi-line) values in a table column.
    let values: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| {
            let p = format!("openssl-secret-{i}-{}", "x".repeat(i * 7)).into_bytes();
            let b64 = openssl(&[&enc[..], &["-a"]].concat(), &p);
            (String::from_utf8(b64).unwrap(), p)
        })
        .collect();
    assert!(
        values.iter().any(|(v, _)| v.trim_end().contains('\n')),
        "some values span lines"
    );
    let (_p, url) = legacy_table(dir.path(), &values);
    let o = migrate_table(k, &url, "openssl-enc", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    check_migrated(&url, &kp, &values);
}
