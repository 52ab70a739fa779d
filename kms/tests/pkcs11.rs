//! pkcs11 through cryptoki against a SoftHSM2 token created in a temp dir.
//! One test function: SOFTHSM2_CONF and the module's C_Initialize are process-wide.

mod support;
use keycustody::Error;
use keycustody::Keyring;
use keycustody_kms::{hsm, load_keyring_text, wrap_keyring, Kek, KekConfig, KmsError};

const PIN: &str = "4321-user";

#[test]
fn pkcs11_against_softhsm() {
    let Some(h) = support::SoftHsm::start("kc-test", PIN) else {
        return;
    };
    // The module reads SOFTHSM2_CONF at C_Initialize: process-wide, so one test here.
    std::env::set_var("SOFTHSM2_CONF", &h.conf);
    h.keygen("kc-test", PIN, "kek-1", "01", "AES:32");
    h.keygen("kc-test", PIN, "kek-2", "02", "AES:32");
    let cfg = KekConfig::new()
        .with_pkcs11_module(&h.module)
        .with_pkcs11_pin(PIN);
    let uri = "pkcs11:token=kc-test;object=kek-1;type=secret-key";
    let header = b"keycustody/v1/wrapped-keyring\0header-bytes";
    let dek = [9u8; 32];

    // Round trip: iv12 || ct32 || tag16.
    let w = hsm::encrypt_dek(&cfg, uri, &dek, header).unwrap();
    assert_eq!(w.len(), 12 + 32 + 16);
    assert!(!w.windows(32).any(|x| x == dek));
    assert_eq!(&hsm::decrypt_dek(&cfg, uri, &w, header).unwrap()[..], &dek);
    // Two wraps use two IVs.
    let w2 = hsm::encrypt_dek(&cfg, uri, &dek, header).unwrap();
    assert_ne!(w[..12], w2[..12]);
    // By id instead of label.
    let by_id = "pkcs11:token=kc-test;id=%01";
    assert_eq!(
        &hsm::decrypt_dek(&cfg, by_id, &w, header).unwrap()[..],
        &dek
    );

    // Whole keyrings: wrap, load, and the owner bound through the header (AAD).
    let kr = Keyring::generate().unwrap();
    let kek = Kek::parse_spec(uri).unwrap();
    let wk = wrap_keyring(&kr, &kek, "tenant-a", &cfg).unwrap();
    assert_eq!(wk.kek_type(), "pkcs11");
    assert_eq!(wk.kek_key(), uri);
    assert_eq!(wk.wrapped_dek().len(), 60);
    let text = wk.to_text();
    assert_eq!(
        load_keyring_text(&text, &cfg).unwrap().export().unwrap(),
        kr.export().unwrap()
    );
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["owner"] = serde_json::Value::String("tenant-b".into());
    assert_eq!(
        load_keyring_text(&v.to_string(), &cfg).unwrap_err(),
        KmsError::Core(Error::DecryptFailed),
        "tenant A's keyring in tenant B's place"
    );
    let mut v2: serde_json::Value = serde_json::from_str(&text).unwrap();
    v2["kek"]["key"] = serde_json::Value::String(other_uri().into());
    assert_eq!(
        load_keyring_text(&v2.to_string(), &cfg).unwrap_err(),
        KmsError::Core(Error::DecryptFailed),
        "another HSM key"
    );
    let e = wrap_keyring(
        &kr,
        &Kek::parse_spec("pkcs11:token=kc-test;object=nope").unwrap(),
        "",
        &cfg,
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::KeyNotFound(_)), "{e:?}");

    // Another header (another owner): the GCM tag fails, DecryptFailed.
    let e = hsm::decrypt_dek(&cfg, uri, &w, b"another header").unwrap_err();
    assert_eq!(e, KmsError::Core(Error::DecryptFailed));
    // Another key, tampering, truncation: DecryptFailed.
    let other = other_uri();
    assert_eq!(
        hsm::decrypt_dek(&cfg, other, &w, header).unwrap_err(),
        KmsError::Core(Error::DecryptFailed)
    );
    let mut t = w.clone();
    t[20] ^= 1;
    assert_eq!(
        hsm::decrypt_dek(&cfg, uri, &t, header).unwrap_err(),
        KmsError::Core(Error::DecryptFailed)
    );
    assert_eq!(
        hsm::decrypt_dek(&cfg, uri, &w[..59], header).unwrap_err(),
        KmsError::Core(Error::DecryptFailed)
    );

    // URIs that name no key: typed errors naming what is missing.
    let e = hsm::encrypt_dek(&cfg, "pkcs11:token=kc-test", &dek, header).unwrap_err();
    assert!(
        matches!(e, KmsError::KeyNotFound(m) if m.contains("object=")),
        "{e:?}"
    );
    let e = hsm::encrypt_dek(&cfg, "pkcs11:token=kc-test;object=nope", &dek, header).unwrap_err();
    assert!(
        matches!(e, KmsError::KeyNotFound(m) if m.contains("no AES secret key")),
        "{e:?}"
    );
    let e = hsm::encrypt_dek(&cfg, "pkcs11:token=other;object=kek-1", &dek, header).unwrap_err();
    assert!(
        matches!(e, KmsError::KeyNotFound(m) if m.contains("no token")),
        "{e:?}"
    );
    let e = hsm::encrypt_dek(&cfg, "pkcs11:object=kek-1?pin-value=4321", &dek, header).unwrap_err();
    assert!(matches!(e, KmsError::InvalidKekSpec(_)), "{e:?}");

    // Wrong PIN: refused, KekUnavailable, and the PIN is nowhere in the error.
    let wrong = KekConfig::new()
        .with_pkcs11_module(&h.module)
        .with_pkcs11_pin("0000-wrong");
    let e = hsm::decrypt_dek(&wrong, uri, &w, header).unwrap_err();
    assert_eq!(
        e,
        KmsError::KekUnavailable {
            kek: "pkcs11",
            reason: "PIN incorrect"
        }
    );
    assert!(!format!("{e} {e:?}").contains("0000-wrong"));
    assert_eq!(e.core(), Error::KekUnavailable("pkcs11"));

    // PIN from pin-source=file: in the URI (wins over the configured PIN).
    let pin_file = h.dir.path().join("pin");
    std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
    let with_file = format!("{uri}?pin-source=file:{}", pin_file.display());
    // A PIN file others can read is refused.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(
        hsm::decrypt_dek(&wrong, &with_file, &w, header).unwrap_err(),
        KmsError::Core(Error::InsecurePermissions)
    );
    std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let with_file = format!("{uri}?pin-source=file:{}", pin_file.display());
    assert_eq!(
        &hsm::decrypt_dek(&wrong, &with_file, &w, header).unwrap()[..],
        &dek
    );

    // Missing configuration: named.
    let e = hsm::decrypt_dek(&KekConfig::new().with_pkcs11_pin(PIN), uri, &w, header).unwrap_err();
    assert_eq!(e, KmsError::MissingConfig("KEYCUSTODY_PKCS11_MODULE"));
    let e = hsm::decrypt_dek(
        &KekConfig::new().with_pkcs11_module(&h.module),
        uri,
        &w,
        header,
    )
    .unwrap_err();
    assert!(matches!(e, KmsError::MissingConfig(m) if m.contains("KEYCUSTODY_PKCS11_PIN")));
    // A module that does not load: unavailable.
    let e = hsm::decrypt_dek(
        &KekConfig::new()
            .with_pkcs11_module("/nonexistent/libnope.so")
            .with_pkcs11_pin(PIN),
        uri,
        &w,
        header,
    )
    .unwrap_err();
    assert!(
        matches!(e, KmsError::KekUnavailable { kek: "pkcs11", .. }),
        "{e:?}"
    );
}

fn other_uri() -> &'static str {
    "pkcs11:token=kc-test;object=kek-2"
}
