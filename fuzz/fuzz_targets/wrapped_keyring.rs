//! `WrappedKeyring::parse` on arbitrary text, then `open_with_dek` with a fuzzed DEK: never a
//! panic; every refusal a typed error; what parses writes back to a text that parses to the
//! same value; nothing forged opens.
#![no_main]
use keycustody::{Error, MalformedKind, WrappedKeyring};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the DEK length (0..=63), then the DEK, then the text.
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 64).min(rest.len());
    let (dek, text) = rest.split_at(n);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    match WrappedKeyring::parse(text) {
        Ok(w) => {
            let out = w.to_text();
            let again = WrappedKeyring::parse(&out).expect("re-parse of to_text");
            assert_eq!(again, w);
            assert_eq!(again.to_text(), out);
            assert!(w.header().starts_with(b"keycustody/v1/wrapped-keyring\0"));
            // Debug shows no key reference (a PKCS#11 URI may carry a PIN).
            if w.kek_key().len() > 8 {
                let dbg = format!("{w:?}");
                assert!(!dbg.contains(w.kek_key()), "{dbg}");
            }
            match w.open_with_dek(dek) {
                Ok(_) => panic!("a fuzzer-made wrapped keyring opened"),
                Err(Error::DecryptFailed) => {}
                Err(e) => panic!("unexpected open error {e:?}"),
            }
        }
        Err(Error::Malformed(
            MalformedKind::WrappedKeyring
            | MalformedKind::WrappedKeyringVersion
            | MalformedKind::KekType,
        ))
        | Err(Error::TooLarge { .. })
        | Err(Error::InvalidOwner)
        | Err(Error::InvalidArgument(_)) => {}
        Err(e) => panic!("unexpected parse error {e:?}"),
    }
});
