//! pkcs11 through cryptoki against a SoftHSM2 token created in a temp dir.
//! One test function: SOFTHSM2_CONF and the module's C_Initialize are process-wide.

mod support;
use keycustody::Error;
use keycustody_kms::{hsm, KekConfig, KmsError};

const PIN: &str = "4321-user";

#[test]
fn pkcs11_against_softhsm() {
    let Some(h) = support::SoftHsm::start("kc-test", PIN) else {
        return;
    };
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

    // Another header (another owner): the GCM tag fails, DecryptFailed.
    let e = hsm::decrypt_dek(&cfg, uri, &w, b"another header").unwrap_err();
    assert_eq!(e, KmsError::Core(Error::DecryptFailed));
    // Another key, tampering, truncation: DecryptFailed.
    let other = "pkcs11:token=kc-test;object=kek-2";
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
    // PRE-MERGE: assert_eq!(e.core(), Error::KekUnavailable("pkcs11"));

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
