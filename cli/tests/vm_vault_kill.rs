//! Crash safety of the vault's audit records: 300 `vault set`s of one secret, each
//! SIGKILLed after a random delay. After each kill, the next command resolves a pending
//! intent (a `vault list` is run when the last entry is an intent); then every change that committed (the vault holds the new value) has its
//! `intent` and `ok` records, and no change that did not commit has an `ok` record (at
//! most an `intent` resolved as `unconfirmed`). The chain verifies at the end.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_keycustody");
const ROUNDS: u64 = 300;

fn random_below(n: u64) -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n
}

fn cmd(vault: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("KEYCUSTODY_VAULT", vault)
        .env_remove("KEYCUSTODY_VAULT_KEY")
        .env_remove("KEYCUSTODY_AUDIT_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn run(vault: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut ch = cmd(vault, args).spawn().unwrap();
    let _ = ch.stdin.take().unwrap().write_all(input);
    ch.wait_with_output().unwrap()
}

#[derive(Default, Debug)]
struct Sets {
    intent: usize,
    ok: usize,
    unconfirmed: usize,
    other: usize,
}

/// The `vault.set` records among log lines `from..`.
fn sets(log: &[String], from: usize) -> Sets {
    let mut s = Sets::default();
    for l in &log[from..] {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["op"] != "vault.set" {
            continue;
        }
        assert_eq!(v["names"], serde_json::json!(["K"]));
        match v["outcome"].as_str() {
            Some("intent") => s.intent += 1,
            Some("ok") => s.ok += 1,
            Some("unconfirmed") => s.unconfirmed += 1,
            _ => s.other += 1,
        }
    }
    s
}

/// The value of secret K, opened from the vault file with the vault's keyring.
fn value_of(vault: &Path, keyring: &keycustody::Keyring) -> Vec<u8> {
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(vault).unwrap()).unwrap();
    let env = j["secrets"]["K"].as_str().unwrap();
    keyring
        .open(j["id"].as_str().unwrap(), env, b"K")
        .unwrap()
        .expose_secret()
        .to_vec()
}

fn lines(p: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn every_committed_set_has_its_record_under_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault.json");
    let log_path = dir.path().join("vault.json.audit");
    let o = run(&vault, &["vault", "init", "--id", "vm-kill"], b"");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&vault, &["vault", "set", "K"], b"v-initial");
    assert!(o.status.success());
    let (mut committed, mut not_committed, mut resolved) = (0usize, 0usize, 0usize);
    // A first uninterrupted run measures how long a set takes here.
    let t = std::time::Instant::now();
    assert!(run(&vault, &["vault", "set", "K"], b"v-timing")
        .status
        .success());
    let span = (t.elapsed().as_micros() as u64).max(1000) * 3 / 2;
    let mut current = b"v-timing".to_vec();
    let keyring = keycustody::Keyring::from_file(dir.path().join("vault.json.key")).unwrap();
    let mut seen = lines(&log_path).len();
    for i in 0..ROUNDS {
        let want = format!("v{i}");
        let mut ch = cmd(&vault, &["vault", "set", "K"]).spawn().unwrap();
        let _ = ch.stdin.take().unwrap().write_all(want.as_bytes());
        std::thread::sleep(Duration::from_micros(random_below(span)));
        let _ = ch.kill(); // SIGKILL on Unix
        let _ = ch.wait();
        // The next command resolves an intent the killed set left (only then is one run:
        // the value is read from the vault file directly, to keep the test fast).
        if lines(&log_path)
            .last()
            .is_some_and(|l| l.contains("\"outcome\":\"intent\""))
        {
            let o = run(&vault, &["vault", "list"], b"");
            assert!(
                o.status.success(),
                "round {i}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let got = value_of(&vault, &keyring);
        let log = lines(&log_path);
        let s = sets(&log, seen);
        assert_eq!(
            s.other, 0,
            "round {i}: a vault.set record without an outcome"
        );
        if got == want.as_bytes() {
            committed += 1;
            assert_eq!(
                (s.intent, s.ok, s.unconfirmed),
                (1, 1, 0),
                "round {i}: committed, {s:?}"
            );
            current = got;
        } else {
            not_committed += 1;
            assert_eq!(got, current, "round {i}: neither old nor new value");
            assert_eq!(
                s.ok, 0,
                "round {i}: an ok record for a change that did not commit"
            );
            assert_eq!(s.intent, s.unconfirmed, "round {i}: {s:?}");
            assert!(s.intent <= 1);
        }
        resolved += s.unconfirmed;
        seen = log.len();
    }
    eprintln!(
        "{ROUNDS} killed sets: {committed} committed, {not_committed} not ({resolved} intents resolved unconfirmed)"
    );
    assert!(
        committed > 0 && not_committed > 0,
        "the kills did not land at varied points"
    );
    let o = run(&vault, &["audit", "verify"], b"");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Totals: exactly one ok record per committed change (the two setup sets included).
    let all = sets(&lines(&log_path), 0);
    assert_eq!(all.ok, committed + 2);
    assert_eq!(all.intent, all.ok + all.unconfirmed);
    // No temp file of a killed write survives the next write.
    assert!(run(&vault, &["vault", "set", "K"], b"x").status.success());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
