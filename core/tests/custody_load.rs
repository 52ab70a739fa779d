//! Transparent loading (issue 14 item 2): `Keyring::from_env` / `from_file` accept a wrapped
//! keyring. Type `passphrase` is unwrapped with the passphrase from the file named by
//! KEYCUSTODY_PASSPHRASE_FILE or from KEYCUSTODY_PASSPHRASE; other types are KekUnavailable.
//!
//! One test function: it sets process-wide environment variables, so its steps run in order
//! (this file is its own test binary).

use keycustody::internal::dangerous_pending_wrap_with;
use keycustody::{
    wrap_with_passphrase, Argon2Params, Error, Keyring, PASSPHRASE_ENV_VAR, PASSPHRASE_FILE_ENV_VAR,
};
use std::io::Write;

const FAST: Argon2Params = Argon2Params {
    m_kib: 256,
    t: 1,
    p: 1,
};

#[cfg(unix)]
fn write_file(name: &str, body: &[u8], mode: u32) -> std::path::PathBuf {
    use std::os::unix::fs::OpenOptionsExt;
    let path = std::env::temp_dir().join(format!("kc-custody-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)
        .unwrap();
    f.write_all(body).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn from_env_and_from_file_unwrap_passphrase_keyrings() {
    let k = Keyring::generate().unwrap();
    k.rotate().unwrap();
    let want = k.export().unwrap();
    let wrapped = wrap_with_passphrase(&k, b"s3cret pass", "", FAST)
        .unwrap()
        .to_text();
    let var = "KC_CUSTODY_LOAD_TEST_KEYRING";
    std::env::set_var(var, &wrapped);
    std::env::remove_var(PASSPHRASE_FILE_ENV_VAR);
    std::env::remove_var(PASSPHRASE_ENV_VAR);

    // No passphrase configured: the error names the variable to set.
    assert_eq!(
        Keyring::from_env(var).unwrap_err().env_var(),
        Some(PASSPHRASE_ENV_VAR)
    );

    // From the environment variable.
    std::env::set_var(PASSPHRASE_ENV_VAR, "s3cret pass");
    assert_eq!(Keyring::from_env(var).unwrap().export().unwrap(), want);
    std::env::set_var(PASSPHRASE_ENV_VAR, "wrong");
    assert_eq!(Keyring::from_env(var).unwrap_err(), Error::DecryptFailed);
    std::env::remove_var(PASSPHRASE_ENV_VAR);

    // From a passphrase file (one trailing newline dropped), which must be private.
    let pass = write_file("pass", b"s3cret pass\n", 0o600);
    std::env::set_var(PASSPHRASE_FILE_ENV_VAR, &pass);
    assert_eq!(Keyring::from_env(var).unwrap().export().unwrap(), want);
    let keyfile = write_file("keyring", wrapped.as_bytes(), 0o600);
    assert_eq!(
        Keyring::from_file(&keyfile).unwrap().export().unwrap(),
        want
    );
    let open_pass = write_file("pass-644", b"s3cret pass", 0o644);
    std::env::set_var(PASSPHRASE_FILE_ENV_VAR, &open_pass);
    assert_eq!(
        Keyring::from_env(var).unwrap_err(),
        Error::InsecurePermissions
    );
    // Both sources set: ambiguous, refused.
    std::env::set_var(PASSPHRASE_FILE_ENV_VAR, &pass);
    std::env::set_var(PASSPHRASE_ENV_VAR, "s3cret pass");
    let e = Keyring::from_env(var).unwrap_err();
    assert_eq!(e.kind(), "InvalidArgument");
    assert!(!e.to_string().contains("s3cret"));
    std::env::remove_var(PASSPHRASE_ENV_VAR);
    std::env::remove_var(PASSPHRASE_FILE_ENV_VAR);

    // KMS / HSM / application types: core cannot unwrap them and says where to go.
    for (ty, named) in [
        ("aws-kms", "aws-kms"),
        ("pkcs11", "pkcs11"),
        ("gcp-kms", "external"),
    ] {
        let t = dangerous_pending_wrap_with(&k, ty, "key-ref", "", &[7; 32], &[1; 12])
            .unwrap()
            .finish(b"wrapped")
            .unwrap()
            .to_text();
        std::env::set_var(var, &t);
        let e = Keyring::from_env(var).unwrap_err();
        assert_eq!(e, Error::KekUnavailable(named));
        assert!(e.to_string().contains("keycustody-kms"), "{e}");
        assert!(!e.to_string().contains("key-ref"), "{e}");
        let f = write_file(&format!("kr-{ty}"), t.as_bytes(), 0o600);
        assert_eq!(
            Keyring::from_file(&f).unwrap_err(),
            Error::KekUnavailable(named)
        );
        std::fs::remove_file(f).unwrap();
    }
    // A malformed wrapped keyring is a typed error, not a keyring-parse error.
    std::env::set_var(var, wrapped.replace("\"version\":1", "\"version\":9"));
    assert_eq!(
        Keyring::from_env(var)
            .unwrap_err()
            .malformed_kind()
            .map(|k| k.name()),
        Some("WrappedKeyringVersion")
    );
    // A plain keyring still loads as before.
    std::env::set_var(var, want.expose_secret());
    assert_eq!(Keyring::from_env(var).unwrap().export().unwrap(), want);
    std::env::remove_var(var);
    for p in [pass, keyfile, open_pass] {
        std::fs::remove_file(p).unwrap();
    }
}
