//! aws-kms through the real aws-sdk-kms client against a local moto KMS server.
//! One test function: the AWS environment is process-wide.

mod support;
use keycustody::Error;
use keycustody::{Keyring, TenantKeyringCache, WrappedKeyring};
use keycustody_kms::{
    aws, keyring_from_env, keyring_from_file, load_keyring_text, open_cmek_keyring, unwrap_keyring,
    wrap_keyring, Kek, KekConfig, KmsError,
};

/// The wrapped text with one top-level field replaced (a forged or moved keyring).
fn with_field(text: &str, field: &str, value: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    v[field] = serde_json::Value::String(value.into());
    v.to_string()
}

#[test]
fn aws_kms_against_moto() {
    support::aws_test_env();
    let Some(moto) = support::Moto::start() else {
        return;
    };
    let cfg = KekConfig::new().with_aws_endpoint_url(moto.url());
    let key = aws::create_key(&cfg).unwrap();

    // Round trip; the DEK never appears in the blob.
    let dek = [7u8; 32];
    let blob = aws::encrypt_dek(&cfg, &key, &dek, "tenant-a").unwrap();
    assert!(!blob.windows(32).any(|w| w == dek));
    assert_eq!(
        &aws::decrypt_dek(&cfg, &key, &blob, "tenant-a").unwrap()[..],
        &dek
    );

    // Wrong owner = encryption-context mismatch: refused by KMS, DecryptFailed.
    let e = aws::decrypt_dek(&cfg, &key, &blob, "tenant-b").unwrap_err();
    assert_eq!(e, KmsError::Core(Error::DecryptFailed));
    // A tampered blob.
    let mut bad = blob.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert_eq!(
        aws::decrypt_dek(&cfg, &key, &bad, "tenant-a").unwrap_err(),
        KmsError::Core(Error::DecryptFailed)
    );
    // Encrypt under a key KMS does not have: refused, KekUnavailable naming the type.
    let e = aws::encrypt_dek(&cfg, "alias/does-not-exist", &dek, "t").unwrap_err();
    assert!(
        matches!(e, KmsError::KekUnavailable { kek: "aws-kms", .. }),
        "{e:?}"
    );
    assert_eq!(e.core(), Error::KekUnavailable("aws-kms"));

    // Whole keyrings: wrap (one Encrypt), load (exactly one Decrypt, counted at the server),
    // then operations make no KMS call at all.
    let kr = Keyring::generate().unwrap();
    kr.rotate().unwrap();
    let kek = Kek::parse_spec(&format!("aws-kms:{key}")).unwrap();
    moto.start_recording();
    let w = wrap_keyring(&kr, &kek, "", &cfg).unwrap();
    assert_eq!(moto.count("Encrypt"), 1);
    assert_eq!(w.kek_type(), "aws-kms");
    assert_eq!(w.kek_key(), key);
    let text = w.to_text();
    moto.start_recording();
    let loaded = load_keyring_text(&text, &cfg).unwrap();
    assert_eq!(
        moto.count("Decrypt"),
        1,
        "startup makes exactly one KMS Decrypt"
    );
    assert_eq!(loaded.export().unwrap(), kr.export().unwrap());
    let sealed = kr.seal("t1", b"payload", b"").unwrap();
    for _ in 0..100 {
        assert_eq!(
            loaded.open("t1", &sealed, b"").unwrap().expose_secret(),
            b"payload"
        );
        loaded.seal("t1", b"x", b"").unwrap();
    }
    assert_eq!(moto.count("Decrypt"), 1, "no KMS call after startup");
    assert_eq!(moto.count("Encrypt"), 0);
    // The same through a key file and an env var (the application's startup line).
    let dir = tempfile::tempdir().unwrap();
    let kf = dir.path().join("keyring.wrapped.json");
    std::fs::write(&kf, &text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(
        keyring_from_file(&kf, &cfg).unwrap_err(),
        KmsError::Core(Error::InsecurePermissions),
        "core's permission check stands for wrapped files"
    );
    std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o600)).unwrap();
    moto.start_recording();
    let from_file = keyring_from_file(&kf, &cfg).unwrap();
    assert_eq!(from_file.export().unwrap(), kr.export().unwrap());
    std::env::set_var("KC_TEST_WRAPPED_KEYRING", &text);
    let from_env = keyring_from_env("KC_TEST_WRAPPED_KEYRING", &cfg).unwrap();
    assert_eq!(from_env.export().unwrap(), kr.export().unwrap());
    assert_eq!(moto.count("Decrypt"), 2, "one Decrypt per load");
    // A passphrase-wrapped keyring in the env var, the passphrase from the config (core
    // alone reports the passphrase variable as missing).
    let pw = keycustody::wrap_with_passphrase(
        &kr,
        b"pw-1",
        "",
        keycustody::Argon2Params {
            m_kib: 256,
            t: 1,
            p: 1,
        },
    )
    .unwrap();
    std::env::set_var("KC_TEST_PASS_KEYRING", pw.to_text());
    std::env::remove_var("KEYCUSTODY_PASSPHRASE");
    std::env::remove_var("KEYCUSTODY_PASSPHRASE_FILE");
    let with_pass = KekConfig::new().with_passphrase(b"pw-1");
    assert_eq!(
        keyring_from_env("KC_TEST_PASS_KEYRING", &with_pass)
            .unwrap()
            .export()
            .unwrap(),
        kr.export().unwrap()
    );
    assert!(matches!(
        keyring_from_env("KC_TEST_PASS_KEYRING", &KekConfig::new()).unwrap_err(),
        KmsError::MissingConfig(_)
    ));
    assert!(matches!(
        keyring_from_env("KC_TEST_NO_SUCH_VAR", &with_pass).unwrap_err(),
        KmsError::Core(Error::MissingEnvVar(_))
    ));
    // A plain keyring text loads without any KMS call.
    moto.start_recording();
    let plain = kr.export().unwrap();
    load_keyring_text(plain.expose_secret(), &cfg).unwrap();
    assert_eq!(moto.count("Decrypt"), 0);

    // Tenant A's keyring presented as tenant B's (owner changed in the text): the encryption
    // context no longer matches, KMS refuses, DecryptFailed.
    let wa = wrap_keyring(&kr, &kek, "tenant-a", &cfg).unwrap();
    assert_eq!(
        unwrap_keyring(&wa, &cfg).unwrap().export().unwrap(),
        kr.export().unwrap()
    );
    let moved = with_field(&wa.to_text(), "owner", "tenant-b");
    assert_eq!(
        load_keyring_text(&moved, &cfg).unwrap_err(),
        KmsError::Core(Error::DecryptFailed)
    );
    // Tampered ciphertext: KMS unwraps the DEK, the keyring itself fails: DecryptFailed.
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ct = v["ciphertext"].as_str().unwrap();
    let flipped = format!(
        "{}{}",
        if ct.starts_with('A') { "B" } else { "A" },
        &ct[1..]
    );
    assert_eq!(
        load_keyring_text(&with_field(&text, "ciphertext", &flipped), &cfg).unwrap_err(),
        KmsError::Core(Error::DecryptFailed)
    );
    // Another KMS key named in the text (same blob): nothing opens. Real KMS answers
    // IncorrectKeyException (DecryptFailed); moto answers AccessDeniedException, which is a
    // refusal (KekUnavailable) like any IAM denial.
    let key2 = aws::create_key(&cfg).unwrap();
    let wv: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut wv2 = wv.clone();
    wv2["kek"]["key"] = serde_json::Value::String(key2.clone());
    assert_eq!(
        load_keyring_text(&wv2.to_string(), &cfg).unwrap_err(),
        KmsError::KekUnavailable {
            kek: "aws-kms",
            reason: "refused the request"
        }
    );
    // An application-wrapped type this crate does not call: KekUnavailable("external").
    let mut ext = wv.clone();
    ext["kek"]["type"] = serde_json::Value::String("gcp-kms".into());
    let e = load_keyring_text(&ext.to_string(), &cfg).unwrap_err();
    assert_eq!(e.core(), Error::KekUnavailable("external"));
    // Core's own loader hands aws-kms over: KekUnavailable("aws-kms"), no call.
    assert_eq!(
        WrappedKeyring::parse(&text)
            .map(|w| w.kek_type().to_owned())
            .unwrap(),
        "aws-kms"
    );

    // The endpoint from the standard chain (AWS_ENDPOINT_URL_KMS) works like the override.
    std::env::set_var("AWS_ENDPOINT_URL_KMS", moto.url());
    let env_cfg = KekConfig::from_env();
    assert_eq!(
        &aws::decrypt_dek(&env_cfg, &key, &blob, "tenant-a").unwrap()[..],
        &dek
    );
    std::env::remove_var("AWS_ENDPOINT_URL_KMS");

    // CMEK: each tenant's keyring wrapped under its own KMS key. 300 opens over 3 tenants
    // within one TTL make exactly 3 KMS Decrypt calls (counted at the server).
    let cache = TenantKeyringCache::new(100, 300);
    let tenants: Vec<(String, Keyring, String)> = (0..3)
        .map(|i| {
            let tkey = aws::create_key(&cfg).unwrap();
            let t = format!("cmek-tenant-{i}");
            let tk = Keyring::generate().unwrap();
            let kek = Kek::parse_spec(&format!("aws-kms:{tkey}")).unwrap();
            let text = wrap_keyring(&tk, &kek, &t, &cfg).unwrap().to_text();
            (t, tk, text)
        })
        .collect();
    let sealed: Vec<String> = tenants
        .iter()
        .map(|(t, tk, _)| tk.seal(t, b"row", b"").unwrap())
        .collect();
    moto.start_recording();
    for i in 0..300 {
        let (t, _, text) = &tenants[i % 3];
        let k = open_cmek_keyring(&cache, t, text, &cfg, 1000 + i as u64 / 10).unwrap();
        assert_eq!(
            k.open(t, &sealed[i % 3], b"").unwrap().expose_secret(),
            b"row"
        );
    }
    assert_eq!(
        moto.count("Decrypt"),
        3,
        "one KMS Decrypt per CMEK tenant per TTL"
    );
    // Tenant 0's keyring in tenant 1's place: refused before any KMS call.
    cache.clear();
    moto.start_recording();
    assert_eq!(
        open_cmek_keyring(&cache, &tenants[1].0, &tenants[0].2, &cfg, 1000).unwrap_err(),
        KmsError::Core(Error::DecryptFailed)
    );
    assert_eq!(moto.count("Decrypt"), 0);
    assert!(cache.is_empty(), "nothing cached on failure");
    let (t0, _, text0) = &tenants[0];
    open_cmek_keyring(&cache, t0, text0, &cfg, 2000).unwrap();

    // Server unreachable (stopped): KekUnavailable, never the key reference or the DEK.
    let url = moto.url();
    moto.stop();
    let down = KekConfig::new().with_aws_endpoint_url(url);
    let e = aws::decrypt_dek(&down, &key, &blob, "tenant-a").unwrap_err();
    assert_eq!(
        e,
        KmsError::KekUnavailable {
            kek: "aws-kms",
            reason: "unreachable"
        }
    );
    assert!(!e.to_string().contains(&key) && !format!("{e:?}").contains(&key));
    // CMEK with the KMS gone: the cached keyring serves until the TTL, then
    // KekUnavailable, and nothing is cached.
    assert!(open_cmek_keyring(&cache, t0, text0, &down, 2000 + 299).is_ok());
    let e = open_cmek_keyring(&cache, t0, text0, &down, 2000 + 300).unwrap_err();
    assert_eq!(e.core(), Error::KekUnavailable("aws-kms"));
    assert!(cache.get(t0, 2000 + 300).is_none());

    let e = load_keyring_text(&text, &down).unwrap_err();
    assert_eq!(e.core(), Error::KekUnavailable("aws-kms"));
    assert!(!e.to_string().contains(&key));
    let e = wrap_keyring(&kr, &kek, "", &down).unwrap_err();
    assert_eq!(e.core(), Error::KekUnavailable("aws-kms"));
    let e = aws::encrypt_dek(&down, &key, &dek, "tenant-a").unwrap_err();
    assert!(
        matches!(e, KmsError::KekUnavailable { kek: "aws-kms", .. }),
        "{e:?}"
    );

    // From inside a tokio runtime the sync API still works (helper thread).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt.block_on(async { aws::decrypt_dek(&down, &key, &blob, "tenant-a") });
    assert!(matches!(e, Err(KmsError::KekUnavailable { .. })));
}
