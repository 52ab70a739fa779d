//! aws-kms through the real aws-sdk-kms client against a local moto KMS server.
//! One test function: the AWS environment is process-wide.

mod support;
use keycustody::Error;
use keycustody_kms::{aws, KekConfig, KmsError};

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
    // PRE-MERGE: assert_eq!(e.core(), Error::KekUnavailable("aws-kms"));

    // The endpoint from the standard chain (AWS_ENDPOINT_URL_KMS) works like the override.
    std::env::set_var("AWS_ENDPOINT_URL_KMS", moto.url());
    let env_cfg = KekConfig::from_env();
    assert_eq!(
        &aws::decrypt_dek(&env_cfg, &key, &blob, "tenant-a").unwrap()[..],
        &dek
    );
    std::env::remove_var("AWS_ENDPOINT_URL_KMS");

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
