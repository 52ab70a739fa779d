//! `keycustody keys wrap` / `keys unwrap`, and wrapped keyrings wherever the CLI loads one:
//! passphrase (no external component), aws-kms (a local moto server) and pkcs11 (SoftHSM2).
//! The moto and SoftHSM2 tests skip when those are absent, unless KEYCUSTODY_REQUIRE_KMS=1
//! (`make test-kms`).

mod cli_common;
#[path = "../../kms/tests/support/mod.rs"]
mod kms_support;

use cli_common::*;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const PASS: &str = "correct horse battery staple 42";
const FAST: &str = "m=256,t=1,p=1";

/// The binary with a clean environment for keyrings and KEKs.
fn cmd(args: &[&str]) -> Command {
    let mut c = bin();
    c.args(args)
        .env_remove("KEYCUSTODY_KEYRING")
        .env_remove("KEYCUSTODY_KEYRING_FILE")
        .env_remove("KEYCUSTODY_PASSPHRASE")
        .env_remove("KEYCUSTODY_PASSPHRASE_FILE")
        .env_remove("KEYCUSTODY_PKCS11_PIN")
        .env_remove("KEYCUSTODY_PKCS11_PIN_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn go(mut c: Command, input: &[u8]) -> Output {
    c.stdin(Stdio::piped());
    let mut ch = c.spawn().unwrap();
    if let Err(e) = ch.stdin.take().unwrap().write_all(input) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    }
    ch.wait_with_output().unwrap()
}

fn out(c: Command) -> Output {
    go(c, b"")
}

fn write600(p: &Path, text: &str) {
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn no_secret(o: &Output, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !stdout(o).contains(s) && !stderr(o).contains(s),
            "secret in output"
        );
    }
}

/// seal with the plain keyring, open with `keyring_args` (+ env): the plaintext.
fn opens_with(dir: &Path, plain: &Path, open: Command) -> Output {
    let sealed = go(
        {
            let mut c = cmd(&[
                "seal",
                "--keyring",
                plain.to_str().unwrap(),
                "--owner",
                "t1",
            ]);
            c.current_dir(dir);
            c
        },
        b"the secret payload",
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    go(open, &sealed.stdout)
}

#[test]
fn passphrase_wrap_load_unwrap() {
    let (dir, kp) = temp_keyring();
    let k = kp.to_str().unwrap();
    let wp = dir.path().join("wrapped.json");
    let w = wp.to_str().unwrap();

    // Wrap with the passphrase from the environment, into a new 0600 file.
    let wrap = || {
        let mut c = cmd(&[
            "keys",
            "wrap",
            "--kek",
            "passphrase",
            "--keyring",
            k,
            "--argon2",
            FAST,
            "--out",
            w,
        ]);
        c.env("KEYCUSTODY_PASSPHRASE", PASS);
        c
    };
    let c = wrap();
    let o = out(c);
    assert!(o.status.success(), "{}", stderr(&o));
    no_secret(&o, &[PASS]);
    assert_eq!(
        std::fs::metadata(&wp).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&wp).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["kek"]["type"], "passphrase");
    assert!(v["kek"]["key"]
        .as_str()
        .unwrap()
        .starts_with("argon2id$v=19$m=256,t=1,p=1$"));
    let plain = std::fs::read_to_string(&kp).unwrap();
    let pv: serde_json::Value = serde_json::from_str(&plain).unwrap();
    let secret = pv["keys"][0]["secret"].as_str().unwrap().to_owned();
    assert!(
        !text.contains(&secret),
        "the wrapped text holds no root secret"
    );
    // --out never overwrites.
    let c = wrap();
    assert_eq!(out(c).status.code(), Some(3));

    // Loading is transparent: --keyring FILE and KEYCUSTODY_KEYRING, passphrase from env.
    let mut open = cmd(&["open", "--keyring", w, "--owner", "t1"]);
    open.env("KEYCUSTODY_PASSPHRASE", PASS);
    let o = opens_with(dir.path(), &kp, open);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, b"the secret payload");
    let mut open = cmd(&["open", "--owner", "t1"]);
    open.env("KEYCUSTODY_KEYRING", &text)
        .env("KEYCUSTODY_PASSPHRASE", PASS);
    let o = opens_with(dir.path(), &kp, open);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, b"the secret payload");
    // ... and from a passphrase file (0600), given by flag or by env.
    let pf = dir.path().join("pass");
    write600(&pf, &format!("{PASS}\n"));
    let mut c = cmd(&["keys", "list", "--keyring", w, "--json"]);
    c.env("KEYCUSTODY_PASSPHRASE_FILE", &pf);
    let o = out(c);
    assert!(o.status.success(), "{}", stderr(&o));
    no_secret(&o, &[PASS, &secret]);
    let o = out(cmd(&[
        "keys",
        "unwrap",
        "--keyring",
        w,
        "--to-stdout",
        "--passphrase-file",
        pf.to_str().unwrap(),
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let back: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(back, pv, "unwrap gives the keyring back");

    // Wrong passphrase: DecryptFailed, exit 2, the passphrase nowhere.
    let mut c = cmd(&["keys", "list", "--keyring", w]);
    c.env("KEYCUSTODY_PASSPHRASE", "not the passphrase");
    let o = out(c);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("decryption failed"), "{}", stderr(&o));
    no_secret(&o, &["not the passphrase"]);
    // No passphrase anywhere and no terminal: a usage error naming the sources.
    let o = out(cmd(&["keys", "list", "--keyring", w]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("KEYCUSTODY_PASSPHRASE"),
        "{}",
        stderr(&o)
    );
    let mut c = cmd(&["keys", "list"]);
    c.env("KEYCUSTODY_KEYRING", &text);
    let o = out(c);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no passphrase"), "{}", stderr(&o));
    // ... and with the passphrase from a file flag, the env keyring opens.
    let o = out({
        let mut c = cmd(&[
            "keys",
            "unwrap",
            "--to-stdout",
            "--passphrase-file",
            pf.to_str().unwrap(),
        ]);
        c.env("KEYCUSTODY_KEYRING", &text);
        c
    });
    assert!(o.status.success(), "{}", stderr(&o));
    // A passphrase file others can read is refused.
    std::fs::set_permissions(&pf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = out(cmd(&[
        "keys",
        "unwrap",
        "--keyring",
        w,
        "--to-stdout",
        "--passphrase-file",
        pf.to_str().unwrap(),
    ]));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    // Never a passphrase in argv: there is no such flag.
    let o = out(cmd(&[
        "keys",
        "wrap",
        "--kek",
        "passphrase",
        "--keyring",
        k,
        "--passphrase",
        PASS,
    ]));
    assert_eq!(o.status.code(), Some(2));

    // unwrap: to stdout only with the explicit flag; --out is a new 0600 file.
    let mut c = cmd(&["keys", "unwrap", "--keyring", w]);
    c.env("KEYCUSTODY_PASSPHRASE", PASS);
    let o = out(c);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "nothing on stdout without --to-stdout");
    let up = dir.path().join("plain-again.json");
    let mut c = cmd(&[
        "keys",
        "unwrap",
        "--keyring",
        w,
        "--out",
        up.to_str().unwrap(),
    ]);
    c.env("KEYCUSTODY_PASSPHRASE", PASS);
    let o = out(c);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert_eq!(
        std::fs::metadata(&up).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&up).unwrap()).unwrap();
    assert_eq!(again, pv);
    // From stdin.
    let mut c = cmd(&["keys", "unwrap", "--stdin", "--to-stdout"]);
    c.env("KEYCUSTODY_PASSPHRASE", PASS);
    let o = go(c, text.as_bytes());
    assert!(o.status.success(), "{}", stderr(&o));

    // A command that changes the keyring never rewrites a wrapped file in clear: it wraps
    // the changed keyring again under the same KEK (same Argon2id parameters, new salt).
    let wp2 = dir.path().join("wrapped2.json");
    std::fs::copy(&wp, &wp2).unwrap();
    let w2 = wp2.to_str().unwrap();
    for args in [
        vec!["keys", "add"],
        vec!["keys", "promote", "2"],
        vec!["keys", "retire", "1", "--unchecked"],
    ] {
        let mut a = args.clone();
        a.extend(["--keyring", w2]);
        let mut c = cmd(&a);
        c.env("KEYCUSTODY_PASSPHRASE", PASS);
        let o = out(c);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let now: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&wp2).unwrap()).unwrap();
        assert_eq!(now["kek"]["type"], "passphrase", "{args:?}: still wrapped");
        assert!(now["kek"]["key"]
            .as_str()
            .unwrap()
            .starts_with("argon2id$v=19$m=256,t=1,p=1$"));
        assert_eq!(
            std::fs::metadata(&wp2).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let mut c = cmd(&["keys", "list", "--keyring", w2, "--json"]);
    c.env("KEYCUSTODY_PASSPHRASE", PASS);
    let o = out(c);
    assert!(o.status.success(), "{}", stderr(&o));
    let l: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(l["primary"], 2);
    assert_eq!(l["keys"][0]["state"], "retired");
    // Without the passphrase the change is refused and the file is unchanged.
    let before = std::fs::read_to_string(&wp2).unwrap();
    let mut c = cmd(&["keys", "add", "--keyring", w2]);
    c.env("KEYCUSTODY_PASSPHRASE", "wrong one");
    assert_eq!(out(c).status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&wp2).unwrap(),
        before,
        "nothing written"
    );

    // A tampered or unknown-field wrapped keyring: typed errors, exit 2.
    let mut bad = v.clone();
    bad["extra"] = serde_json::json!(1);
    let mut c = cmd(&["keys", "list"]);
    c.env("KEYCUSTODY_KEYRING", bad.to_string())
        .env("KEYCUSTODY_PASSPHRASE", PASS);
    let o = out(c);
    assert_eq!(o.status.code(), Some(2));
    let mut bad = v.clone();
    bad["owner"] = serde_json::json!("someone-else");
    let mut c = cmd(&["keys", "list"]);
    c.env("KEYCUSTODY_KEYRING", bad.to_string())
        .env("KEYCUSTODY_PASSPHRASE", PASS);
    let o = out(c);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("decryption failed"), "{}", stderr(&o));

    // Bad KEK specs name what is wrong.
    let o = out(cmd(&["keys", "wrap", "--kek", "gcp-kms:x", "--keyring", k]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("aws-kms:<key>, pkcs11:<uri> or passphrase"));
    let o = out(cmd(&[
        "keys",
        "wrap",
        "--kek",
        "pkcs11:token=t",
        "--keyring",
        k,
    ]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("names no key"), "{}", stderr(&o));
}

#[test]
fn aws_kms_wrap_and_load_one_decrypt() {
    let Some((moto, url, key)) = kms() else {
        return;
    };
    let aws = aws_env(&url);
    let (dir, kp) = temp_keyring();
    let k = kp.to_str().unwrap();
    let wp = dir.path().join("wrapped.json");
    let mut c = cmd(&[
        "keys",
        "wrap",
        "--kek",
        &format!("aws-kms:{key}"),
        "--keyring",
        k,
        "--out",
        wp.to_str().unwrap(),
    ]);
    aws(&mut c);
    let o = out(c);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&wp).unwrap();

    // Loading the wrapped keyring (env var) to open: exactly one KMS Decrypt.
    moto.start_recording();
    let mut open = cmd(&["open", "--owner", "t1"]);
    open.env("KEYCUSTODY_KEYRING", &text);
    aws(&mut open);
    let o = opens_with(dir.path(), &kp, open);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, b"the secret payload");
    assert_eq!(moto.count("Decrypt"), 1, "one KMS Decrypt per startup");
    assert_eq!(moto.count("Encrypt"), 0);

    // Wrong owner (the text moved to another tenant): context mismatch, exit 2.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["owner"] = serde_json::json!("tenant-b");
    let mut c = cmd(&["keys", "list"]);
    c.env("KEYCUSTODY_KEYRING", v.to_string());
    aws(&mut c);
    let o = out(c);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("decryption failed"), "{}", stderr(&o));

    // keys rotate on the wrapped file: wrapped again under the same KMS key and owner
    // (one Decrypt to load, one Encrypt to save).
    moto.start_recording();
    let mut c = cmd(&["keys", "rotate", "--keyring", wp.to_str().unwrap()]);
    aws(&mut c);
    let o = out(c);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!((moto.count("Decrypt"), moto.count("Encrypt")), (1, 1));
    let now: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&wp).unwrap()).unwrap();
    assert_eq!(now["kek"]["key"], key.as_str());
    let mut c = cmd(&["keys", "list", "--json", "--keyring", wp.to_str().unwrap()]);
    aws(&mut c);
    let o = out(c);
    let l: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(l["primary"], 2);

    // KMS unreachable: KekUnavailable, exit 3, the key reference nowhere.
    moto.stop();
    let mut c = cmd(&["keys", "list", "--keyring", wp.to_str().unwrap()]);
    aws(&mut c);
    let o = out(c);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("KEK aws-kms unavailable"),
        "{}",
        stderr(&o)
    );
    no_secret(&o, &[&key]);
}

/// A local KMS (moto), its URL and one key created in it; None where moto is absent (the
/// test then skips, see kms_support).
fn kms() -> Option<(kms_support::Moto, String, String)> {
    let moto = kms_support::Moto::start()?;
    let url = moto.url();
    let key = create_key_with_boto3(&moto);
    Some((moto, url, key))
}

/// A KMS key id, created with boto3 from moto's venv (no process-wide AWS env here).
/// Points a command at the moto KMS at `url` with test credentials (no profile, no IMDS).
fn aws_env(url: &str) -> impl Fn(&mut Command) + '_ {
    move |c: &mut Command| {
        c.env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL_KMS", url)
            .env_remove("AWS_PROFILE");
    }
}

fn create_key_with_boto3(moto: &kms_support::Moto) -> String {
    let o = Command::new(kms_support::moto_bin().unwrap().parent().unwrap().join("python"))
        .args([
            "-c",
            "import boto3,sys;print(boto3.client('kms',region_name='us-east-1',endpoint_url=sys.argv[1],aws_access_key_id='test',aws_secret_access_key='test').create_key()['KeyMetadata']['KeyId'])",
            &moto.url(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

#[test]
fn pkcs11_wrap_and_load() {
    const PIN: &str = "5678-user";
    let Some(h) = kms_support::SoftHsm::start("kc-cli", PIN) else {
        return;
    };
    h.keygen("kc-cli", PIN, "root-kek", "0a", "AES:32");
    let hsm = |c: &mut Command, pin: &str| {
        c.env("SOFTHSM2_CONF", &h.conf)
            .env("KEYCUSTODY_PKCS11_MODULE", &h.module)
            .env("KEYCUSTODY_PKCS11_PIN", pin);
    };
    let (dir, kp) = temp_keyring();
    let k = kp.to_str().unwrap();
    let uri = "pkcs11:token=kc-cli;object=root-kek";
    let mut c = cmd(&[
        "keys",
        "wrap",
        "--kek",
        uri,
        "--keyring",
        k,
        "--owner",
        "tenant-a",
    ]);
    hsm(&mut c, PIN);
    let o = out(c);
    assert!(o.status.success(), "{}", stderr(&o));
    no_secret(&o, &[PIN]);
    let text = String::from_utf8(o.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["kek"]["key"], uri);
    assert_eq!(v["owner"], "tenant-a");

    let wp = dir.path().join("w.json");
    write600(&wp, &text);
    let mut open = cmd(&["open", "--keyring", wp.to_str().unwrap(), "--owner", "t1"]);
    hsm(&mut open, PIN);
    let o = opens_with(dir.path(), &kp, open);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, b"the secret payload");

    // Wrong PIN: refused (exit 3), the PIN nowhere.
    let mut c = cmd(&["keys", "list", "--keyring", wp.to_str().unwrap()]);
    hsm(&mut c, "0000-bad");
    let o = out(c);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("PIN incorrect"), "{}", stderr(&o));
    no_secret(&o, &["0000-bad", PIN]);
    // A URI naming a key the token lacks: a typed error naming it, nothing written.
    let mut c = cmd(&[
        "keys",
        "wrap",
        "--kek",
        "pkcs11:token=kc-cli;object=missing",
        "--keyring",
        k,
    ]);
    hsm(&mut c, PIN);
    let o = out(c);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no AES secret key"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

/// A CMEK tenant through the CLI: its keyring wrapped under "its own" KMS key (`keys wrap
/// --kek aws-kms:... --owner`), stored by `tenants create --cmek-file`, opened by
/// `rewrap --tenant-keys` through keycustody-kms (one KMS Decrypt for the tenant's 6 rows),
/// which moves its rows to the tenant keyring's new primary; with the KMS unreachable every
/// CMEK row fails with KekUnavailable and is left as it was (the platform-form tenant's row
/// still resolves). (Before the CLI passed an unwrapper to the tenant key store,
/// every CMEK row failed with KekUnavailable("external").)
#[test]
fn cmek_tenant_rows_open_and_rewrap_through_kms() {
    use keycustody::Keyring;
    use keycustody_store::{rusqlite, Database, TenantKeys};
    let Some((moto, url, key)) = kms() else {
        return;
    };
    let aws = aws_env(&url);
    let (dir, kp) = temp_keyring();
    let k = kp.to_str().unwrap();
    let db_path = dir.path().join("app.db");
    let db = format!("sqlite:{}", db_path.display());
    rusqlite::Connection::open(&db_path).unwrap();

    // The tenant's own keyring: rows sealed under its kid 1, then rotated (kid 2 primary),
    // then wrapped under the tenant's KMS key.
    let own = Keyring::generate().unwrap();
    let mut old_rows: Vec<String> = (1..=7)
        .map(|i| {
            own.seal("enterprise", format!("cmek-{i}").as_bytes(), b"value")
                .unwrap()
        })
        .collect();
    let late_row = old_rows.pop().unwrap();
    own.rotate().unwrap();
    let plain = dir.path().join("enterprise.json");
    write600(&plain, own.export().unwrap().expose_secret());
    let wrapped = dir.path().join("enterprise.wrapped.json");
    let mut c = cmd(&[
        "keys",
        "wrap",
        "--kek",
        &format!("aws-kms:{key}"),
        "--owner",
        "enterprise",
        "--keyring",
        plain.to_str().unwrap(),
        "--out",
        wrapped.to_str().unwrap(),
    ]);
    aws(&mut c);
    let o = out(c);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_file(&plain).unwrap();

    let tenants = |args: &[&str]| {
        let mut c = cmd(&[&["tenants"], args].concat());
        aws(&mut c);
        let o = out(c);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        o
    };
    tenants(&[
        "create",
        "--db",
        &db,
        "--tenant",
        "enterprise",
        "--keyring",
        k,
        "--cmek-file",
        wrapped.to_str().unwrap(),
    ]);
    tenants(&["create", "--db", &db, "--tenant", "acme", "--keyring", k]);
    let platform = load(&kp);
    let acme = TenantKeys::new(&platform)
        .load(&mut Database::connect(&db).unwrap(), "acme")
        .unwrap();
    {
        let c = rusqlite::Connection::open(&db_path).unwrap();
        c.execute_batch(
            "CREATE TABLE secrets (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, value TEXT)",
        )
        .unwrap();
        for (i, e) in old_rows.iter().enumerate() {
            c.execute(
                "INSERT INTO secrets VALUES (?1, 'enterprise', ?2)",
                rusqlite::params![i as i64 + 1, e],
            )
            .unwrap();
        }
        let e = acme.seal("acme", b"acme-1", b"value").unwrap();
        c.execute(
            "INSERT INTO secrets VALUES (100, 'acme', ?1)",
            rusqlite::params![e],
        )
        .unwrap();
    }
    let rows = || -> Vec<(i64, String, String)> {
        let c = rusqlite::Connection::open(&db_path).unwrap();
        let mut s = c
            .prepare("SELECT id, tenant, value FROM secrets ORDER BY id")
            .unwrap();
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let rewrap = || {
        let mut c = cmd(&[
            "rewrap",
            "--tenant-keys",
            "--keyring",
            k,
            "--db",
            &db,
            "--table",
            "secrets",
            "--owner-column",
            "tenant",
            "--column",
            "value",
            "--context",
            "value",
            "--json",
        ]);
        aws(&mut c);
        out(c)
    };

    // The CMEK rows open through the KMS (one Decrypt for the tenant) and move to kid 2.
    moto.start_recording();
    let o = rewrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["rewritten"].as_u64(), v["already_current"].as_u64()),
        (Some(6), Some(1)),
        "{v}"
    );
    assert_eq!(
        moto.count("Decrypt"),
        1,
        "one KMS Decrypt for the CMEK tenant"
    );
    for (id, tenant, value) in rows() {
        if tenant == "enterprise" {
            assert_eq!(keycustody::inspect(&value).unwrap().kid, 2);
            assert_eq!(
                own.open("enterprise", &value, b"value")
                    .unwrap()
                    .expose_secret(),
                format!("cmek-{id}").as_bytes()
            );
        }
    }
    no_secret(&o, &[&key]);

    // KMS unreachable: the CMEK tenant's new row fails (KekUnavailable) and stays as it was.
    rusqlite::Connection::open(&db_path)
        .unwrap()
        .execute(
            "INSERT INTO secrets VALUES (7, 'enterprise', ?1)",
            rusqlite::params![late_row],
        )
        .unwrap();
    let before = rows();
    moto.stop();
    let o = rewrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            v["rewritten"].as_u64(),
            v["already_current"].as_u64(),
            v["failed_count"].as_u64()
        ),
        (Some(0), Some(1), Some(7)),
        "{v}"
    );
    for f in v["failed"].as_array().unwrap() {
        assert_eq!(f["kind"], "KekUnavailable", "{f}");
    }
    no_secret(&o, &[&key]);
    assert_eq!(rows(), before, "nothing written");
}

/// The tenant VM's vault key file may be a wrapped keyring too: `vault set/get` unwrap it
/// through keycustody-kms (one KMS Decrypt per command); with KMS unreachable the vault
/// refuses (KekUnavailable, exit 3) and prints nothing. Fails on a vault that loads its key
/// file with core alone (KekUnavailable("aws-kms") while KMS answers).
#[test]
fn vault_key_file_wrapped_under_aws_kms() {
    let Some((moto, url, key)) = kms() else {
        return;
    };
    let aws = aws_env(&url);
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault.json");
    let vault_cmd = |args: &[&str]| {
        let mut c = cmd(args);
        c.env("KEYCUSTODY_VAULT", &vault)
            .env_remove("KEYCUSTODY_VAULT_KEY")
            .env_remove("KEYCUSTODY_AUDIT_LOG");
        aws(&mut c);
        c
    };
    let o = out(vault_cmd(&["vault", "init", "--id", "vm-kms"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let kp = dir.path().join("vault.json.key");
    assert!(kp.exists());
    let wp = dir.path().join("vault.wrapped");
    let mut c = cmd(&[
        "keys",
        "wrap",
        "--kek",
        &format!("aws-kms:{key}"),
        "--keyring",
        kp.to_str().unwrap(),
        "--out",
        wp.to_str().unwrap(),
    ]);
    aws(&mut c);
    let o = out(c);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::rename(&wp, &kp).unwrap();

    let o = go(
        vault_cmd(&["vault", "set", "OPENROUTER_API_KEY"]),
        b"sk-or-v1-vault-value",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    moto.start_recording();
    let o = out(vault_cmd(&["vault", "get", "OPENROUTER_API_KEY"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, b"sk-or-v1-vault-value");
    assert_eq!(moto.count("Decrypt"), 1, "one KMS Decrypt per command");

    moto.stop();
    let o = out(vault_cmd(&["vault", "get", "OPENROUTER_API_KEY"]));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    no_secret(&o, &[&key, "sk-or-v1-vault-value"]);
}
