//! No secret in any CLI output: the `keycustody` binary is driven with secrets carrying a marker
//! (keyring secrets, plaintexts, vault values, legacy passwords) through its success and failure
//! paths, and the marker must never appear on stderr, nor on stdout except where the user asked
//! for the secret itself (`open`, `vault get`). Owned by the assurance issue (ASSURANCE.md).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_keycustody");
const MARKER: &str = "ZQXMARKERQXZ";

fn b64url(b: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn root() -> Vec<u8> {
    format!("root-{MARKER}-0123456789abcdef-{MARKER}").into_bytes()
}

fn keyring_text() -> String {
    format!(
        r#"{{"version":1,"primary":1,"keys":[{{"kid":1,"state":"active","secret":"{}"}}]}}"#,
        b64url(&root())
    )
}

/// Every encoding of a marked secret we look for.
fn needles() -> Vec<String> {
    let r = root();
    let mut v = vec![
        MARKER.to_owned(),
        hex(MARKER.as_bytes()),
        b64url(&r),
        hex(&r),
    ];
    // base64url of the marker at the three alignments (stable middle part).
    for pad in 0..3 {
        let mut b = vec![b'.'; pad];
        b.extend_from_slice(MARKER.as_bytes());
        let enc = b64url(&b);
        let start = pad.div_ceil(3) * 4;
        v.push(enc[start..enc.len() - 4].to_owned());
    }
    v
}

struct Run {
    checked: usize,
}

impl Run {
    fn kc(&mut self, args: &[&str], envs: &[(&str, &str)], stdin: &[u8]) -> Output {
        let mut c = Command::new(BIN);
        c.args(args)
            .env_remove("KEYCUSTODY_KEYRING")
            .env_remove("KEYCUSTODY_KEYRING_FILE")
            .env_remove("KEYCUSTODY_VAULT")
            .env_remove("KEYCUSTODY_VAULT_KEY")
            .env_remove("KEYCUSTODY_AUDIT_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap();
        // A command that fails before reading its input closes the pipe early: that is fine.
        match child.stdin.take().unwrap().write_all(stdin) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            r => r.unwrap(),
        }
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        for n in needles() {
            assert!(!err.contains(&n), "{args:?}: stderr leaks {n:?}: {err}");
        }
        self.checked += 1;
        o
    }

    /// Like `kc`, and stdout must not carry the marker either.
    fn quiet(&mut self, args: &[&str], envs: &[(&str, &str)], stdin: &[u8]) -> Output {
        let o = self.kc(args, envs, stdin);
        let out = String::from_utf8_lossy(&o.stdout);
        for n in needles() {
            assert!(!out.contains(&n), "{args:?}: stdout leaks {n:?}: {out}");
        }
        o
    }

    fn failing(&mut self, args: &[&str], envs: &[(&str, &str)], stdin: &[u8]) {
        let o = self.quiet(args, envs, stdin);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(!o.stderr.is_empty(), "{args:?} failed without saying why");
    }
}

fn write_mode(p: &Path, body: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(p, body).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn envelope_commands_never_print_a_secret() {
    let mut r = Run { checked: 0 };
    let dir = tempfile::tempdir().unwrap();
    let kr = keyring_text();
    let env = [("KEYCUSTODY_KEYRING", kr.as_str())];
    let pt = format!("sk-ant-{MARKER}-value");

    // Success: seal prints only an envelope; open prints only the plaintext it was asked for.
    let o = r.quiet(
        &["seal", "--owner", "t1", "--context", "c"],
        &env,
        pt.as_bytes(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let envelope = String::from_utf8(o.stdout).unwrap();
    let o = r.kc(
        &["open", "--owner", "t1", "--context", "c"],
        &env,
        envelope.as_bytes(),
    );
    assert!(o.status.success());
    assert_eq!(o.stdout, pt.as_bytes());
    let o = r.quiet(&["inspect"], &[], envelope.as_bytes());
    assert!(o.status.success());

    // Failures, each with a marked secret somewhere in its input.
    r.failing(
        &["open", "--owner", "t2", "--context", "c"],
        &env,
        envelope.as_bytes(),
    );
    r.failing(
        &["open", "--owner", "t1", "--context", "x"],
        &env,
        envelope.as_bytes(),
    );
    r.failing(
        &["open", "--owner", "t1"],
        &env,
        format!("kc1.{MARKER}").as_bytes(),
    );
    r.failing(&["inspect"], &[], format!("kc1.{MARKER}").as_bytes());
    r.failing(&["inspect"], &[], MARKER.as_bytes());
    r.failing(&["seal", "--owner", ""], &env, pt.as_bytes());
    let bad = kr.replace(r#""primary":1"#, r#""primary":7"#);
    r.failing(
        &["seal", "--owner", "t1"],
        &[("KEYCUSTODY_KEYRING", &bad)],
        pt.as_bytes(),
    );
    let bad = format!(
        r#"{{"version":1,"primary":1,"keys":[{{"kid":1,"state":"active","secret":"{MARKER}!"}}]}}"#
    );
    r.failing(
        &["seal", "--owner", "t1"],
        &[("KEYCUSTODY_KEYRING", &bad)],
        pt.as_bytes(),
    );
    r.failing(
        &["seal", "--owner", "t1"],
        &[("KEYCUSTODY_KEYRING", MARKER)],
        pt.as_bytes(),
    );
    r.failing(&["seal", "--owner", "t1"], &[], pt.as_bytes());
    // A keyring file readable by others is refused, without quoting it.
    let f = dir.path().join("kr.json");
    write_mode(&f, kr.as_bytes(), 0o644);
    r.failing(
        &["seal", "--owner", "t1", "--keyring", f.to_str().unwrap()],
        &[],
        pt.as_bytes(),
    );
    write_mode(&f, format!("{kr}{MARKER}").as_bytes(), 0o600);
    r.failing(
        &["seal", "--owner", "t1", "--keyring", f.to_str().unwrap()],
        &[],
        pt.as_bytes(),
    );
    // Arguments clap rejects are echoed by clap: keep secrets out of argv (they are read from
    // stdin/env/files), so only a non-secret marker can reach this path.
    assert!(r.checked >= 14);
}

#[test]
fn vault_commands_never_print_a_secret() {
    let mut r = Run { checked: 0 };
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.json");
    let v = vault.to_str().unwrap();
    let env = [("KEYCUSTODY_VAULT", v)];
    let value = format!("sk-or-{MARKER}-secret");
    let o = r.quiet(&["vault", "init", "--id", "vm-1"], &env, b"");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = r.quiet(
        &["vault", "set", "OPENROUTER_API_KEY"],
        &env,
        value.as_bytes(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = r.quiet(&["vault", "list"], &env, b"");
    assert!(o.status.success());
    let o = r.kc(&["vault", "get", "OPENROUTER_API_KEY"], &env, b"");
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains(MARKER));
    r.failing(&["vault", "get", "NO_SUCH_NAME"], &env, b"");
    r.failing(&["vault", "set", "bad name!"], &env, value.as_bytes());
    r.failing(&["vault", "rm", "NO_SUCH_NAME"], &env, b"");
    // The vault file itself is all envelopes: the value is not in it.
    let body = std::fs::read_to_string(&vault).unwrap();
    assert!(
        !body.contains(MARKER),
        "vault file holds the value in clear"
    );
    // A tampered vault: errors name no value.
    let tampered = body.replacen("kc1.", "kc1.A", 1);
    std::fs::write(&vault, tampered).unwrap();
    r.failing(&["vault", "get", "OPENROUTER_API_KEY"], &env, b"");
    // The audit log, if any, never holds the value.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if let Ok(text) = std::fs::read_to_string(&p) {
            if p != vault && !p.to_string_lossy().ends_with(".key") {
                assert!(!text.contains(MARKER), "{} leaks the value", p.display());
            }
        }
    }
    assert!(r.checked >= 8);
}
