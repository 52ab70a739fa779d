//! Property tests: round trips, tamper resistance, redacted Debug, backend agreement.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use keycustody::internal::Backend;
use keycustody::{Error, Keyring, SecretBytes, SecretString};
use proptest::prelude::*;
use std::sync::OnceLock;

fn keyring() -> &'static Keyring {
    static K: OnceLock<Keyring> = OnceLock::new();
    K.get_or_init(|| {
        let k = Keyring::from_secret(&[0x42; 32], 1).unwrap();
        k.add_key().unwrap();
        k
    })
}

fn owner() -> impl Strategy<Value = String> {
    // Any UTF-8 of 1..=1024 bytes.
    proptest::collection::vec(any::<char>(), 1..300)
        .prop_map(|cs| {
            let mut s = String::new();
            for c in cs {
                if s.len() + c.len_utf8() > 1024 {
                    break;
                }
                s.push(c);
            }
            s
        })
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn is_rejection(e: &Error) -> bool {
    matches!(
        e,
        Error::DecryptFailed | Error::Malformed(_) | Error::UnknownKey(_)
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn seal_open_round_trip(
        owner in owner(),
        ctx in proptest::collection::vec(any::<u8>(), 0..200),
        pt in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let kr = keyring();
        let env = kr.seal(&owner, &pt, &ctx).unwrap();
        let opened = kr.open(&owner, &env, &ctx).unwrap();
        prop_assert_eq!(opened.expose_secret(), &pt[..]);
        let info = keycustody::inspect(&env).unwrap();
        prop_assert_eq!((info.version, info.kid, info.plaintext_len), (1, kr.primary_kid(), pt.len()));
        let bin = kr.seal_binary(&owner, &pt, &ctx).unwrap();
        let opened = kr.open_binary(&owner, &bin, &ctx).unwrap();
        prop_assert_eq!(opened.expose_secret(), &pt[..]);
    }

    #[test]
    fn any_text_byte_change_is_rejected(
        pt in proptest::collection::vec(any::<u8>(), 0..64),
        pos in any::<prop::sample::Index>(),
        replacement in any::<u8>(),
    ) {
        let kr = keyring();
        let env = kr.seal("tenant", &pt, b"ctx").unwrap();
        let mut bytes = env.into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        // Invalid UTF-8 cannot reach the &str API; lossily converted it still must fail.
        let text = String::from_utf8_lossy(&bytes);
        let e = kr.open("tenant", &text, b"ctx").unwrap_err();
        prop_assert!(is_rejection(&e), "{:?}", e);
    }

    #[test]
    fn any_binary_byte_change_is_rejected(
        pt in proptest::collection::vec(any::<u8>(), 0..64),
        pos in any::<prop::sample::Index>(),
        xor in 1u8..,
    ) {
        let kr = keyring();
        let mut bin = kr.seal_binary("tenant", &pt, b"ctx").unwrap();
        let i = pos.index(bin.len());
        bin[i] ^= xor;
        let e = kr.open_binary("tenant", &bin, b"ctx").unwrap_err();
        prop_assert!(is_rejection(&e), "{:?}", e);
        // The text form of the same bytes fails the same way.
        let text = format!("kc1.{}", URL_SAFE_NO_PAD.encode(&bin));
        prop_assert_eq!(kr.open("tenant", &text, b"ctx").unwrap_err(), e);
    }

    #[test]
    fn truncation_and_extension_are_rejected(
        pt in proptest::collection::vec(any::<u8>(), 0..64),
        cut in any::<prop::sample::Index>(),
        extra in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let kr = keyring();
        let bin = kr.seal_binary("tenant", &pt, b"").unwrap();
        let short = &bin[..cut.index(bin.len())];
        let e = kr.open_binary("tenant", short, b"").unwrap_err();
        prop_assert!(is_rejection(&e), "{:?}", e);
        let mut long = bin.clone();
        long.extend_from_slice(&extra);
        let e = kr.open_binary("tenant", &long, b"").unwrap_err();
        prop_assert!(is_rejection(&e), "{:?}", e);
        let text = kr.seal("tenant", &pt, b"").unwrap();
        let e = kr.open("tenant", &text[..cut.index(text.len())], b"").unwrap_err();
        prop_assert!(is_rejection(&e), "{:?}", e);
    }

    #[test]
    fn arbitrary_text_never_panics_or_opens(s in ".{0,200}", b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let kr = keyring();
        prop_assert!(kr.open("tenant", &s, b"").is_err());
        let prefixed = format!("kc1.{s}");
        prop_assert!(kr.open("tenant", &prefixed, b"").is_err());
        prop_assert!(kr.open_binary("tenant", &b, b"").is_err());
        let _ = keycustody::inspect(&s);
        let _ = kr.needs_rewrap(&s);
        prop_assert!(kr.rewrap("tenant", &s, b"").is_err());
        prop_assert!(kr.rewrap("tenant", &prefixed, b"").is_err());
        let _ = Keyring::parse(&s);
        let _ = keycustody::parse_api_key(&s);
    }

    #[test]
    fn backends_agree(
        owner in owner(),
        ctx in proptest::collection::vec(any::<u8>(), 0..64),
        pt in proptest::collection::vec(any::<u8>(), 0..1000),
        nonce in any::<[u8; 12]>(),
    ) {
        let kr = keyring();
        let native = keycustody::internal::dangerous_seal_with_backend(kr, Backend::AwsLc, &owner, &pt, &ctx, &nonce).unwrap();
        let rc = keycustody::internal::dangerous_seal_with_backend(kr, Backend::RustCrypto, &owner, &pt, &ctx, &nonce).unwrap();
        prop_assert_eq!(&native, &rc);
        prop_assert_eq!(&keycustody::internal::dangerous_seal_with_nonce(kr, &owner, &pt, &ctx, &nonce).unwrap(), &native);
        for (b, env) in [(Backend::AwsLc, &rc), (Backend::RustCrypto, &native)] {
            let p = keycustody::internal::open_with_backend(kr, b, &owner, env, &ctx).unwrap();
            prop_assert_eq!(p.expose_secret(), &pt[..]);
        }
        // Both refuse the same tampering with the same error.
        let mut bin = URL_SAFE_NO_PAD.decode(&native[4..]).unwrap();
        let last = bin.len() - 1;
        bin[last] ^= 1;
        let bad = format!("kc1.{}", URL_SAFE_NO_PAD.encode(&bin));
        for b in [Backend::AwsLc, Backend::RustCrypto] {
            prop_assert_eq!(keycustody::internal::open_with_backend(kr, b, &owner, &bad, &ctx).unwrap_err(), Error::DecryptFailed);
        }
    }

    #[test]
    fn debug_never_shows_secrets(secret in proptest::collection::vec(any::<u8>(), 32..64)) {
        let needles = |b: &[u8]| {
            let mut v = vec![
                hex::encode(b),
                hex::encode_upper(b),
                URL_SAFE_NO_PAD.encode(b),
                STANDARD.encode(b),
                format!("{b:?}"),
            ];
            // Any 12-byte window in hex or base64 would already be a leak.
            v.push(hex::encode(&b[..12]));
            v.push(URL_SAFE_NO_PAD.encode(&b[..12]));
            v
        };
        let check = |dbg: String, b: &[u8]| -> Result<(), TestCaseError> {
            for n in needles(b) {
                prop_assert!(!dbg.contains(&n), "{} leaks {}", dbg, n);
            }
            if let Ok(s) = std::str::from_utf8(b) {
                prop_assert!(!dbg.contains(s));
            }
            Ok(())
        };
        check(format!("{:?}", SecretBytes::new(secret.clone())), &secret)?;
        let kr = Keyring::from_secret(&secret, 3).unwrap();
        kr.add_key().unwrap();
        check(format!("{kr:?} {kr:#?} {:?}", kr.kids()), &secret)?;
        let exported = kr.export().unwrap();
        check(format!("{exported:?}"), exported.expose_secret().as_bytes())?;
        let text = hex::encode(&secret);
        check(format!("{:?}", SecretString::new(text.clone())), text.as_bytes())?;
        let derived = kr.derive_key("p", "o", 32).unwrap();
        check(format!("{derived:?}"), derived.expose_secret())?;
        let plain = kr.open("o", &kr.seal("o", &secret, b"").unwrap(), b"").unwrap();
        check(format!("{plain:?}"), &secret)?;
        let g = keycustody::generate_api_key("obee").unwrap();
        let key = g.key.expose_secret().to_owned();
        let body = &key[5..];
        let dbg = format!("{g:?} {:?} {:?}", keycustody::parse_api_key(&key).unwrap(), g.key);
        prop_assert!(!dbg.contains(&key) && !dbg.contains(body) && !dbg.contains(&body[4..32]), "{}", dbg);
    }
}
