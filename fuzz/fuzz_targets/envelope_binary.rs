//! `inspect_binary` and `Keyring::open_binary` on arbitrary bytes.
#![no_main]
use keycustody::{inspect_binary, Error, Keyring};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match inspect_binary(data) {
        Ok(info) => {
            assert_eq!(data[0], 1);
            assert_eq!(info.plaintext_len + 1 + 4 + 12 + 16, data.len());
            assert_eq!(
                info.kid,
                u32::from_be_bytes([data[1], data[2], data[3], data[4]])
            );
        }
        Err(e) => assert!(matches!(e, Error::Malformed(_)), "{e:?}"),
    }
    let kr = Keyring::from_secret(&[7u8; 32], 1).expect("fixed keyring");
    match kr.open_binary("tenant", data, b"") {
        Ok(_) => panic!("a fuzzer-made envelope opened"),
        Err(Error::Malformed(_) | Error::DecryptFailed | Error::UnknownKey(_)) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
});
