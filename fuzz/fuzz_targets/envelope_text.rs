//! `inspect` and `Keyring::open` on arbitrary text: never a panic; a header that parses is consistent;
//! nothing forged opens.
#![no_main]
use keycustody::{inspect, Error, Keyring};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match inspect(text) {
        Ok(info) => {
            assert_eq!(info.version, 1);
            assert_ne!(info.kid, 0);
            assert!(info.plaintext_len <= 64 * 1024 * 1024);
        }
        Err(e) => assert!(matches!(e, Error::Malformed(_)), "{e:?}"),
    }
    let kr = Keyring::from_secret(&[7u8; 32], 1).expect("fixed keyring");
    match kr.open("tenant", text, b"ctx") {
        Ok(_) => panic!("a fuzzer-made envelope opened"),
        Err(Error::Malformed(_) | Error::DecryptFailed | Error::UnknownKey(_)) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
});
