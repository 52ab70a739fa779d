//! `openssl enc -aes-256-cbc -pbkdf2` files: arbitrary bytes never panic; what decrypts is
//! shorter than the ciphertext (PKCS#7 padding removed).
#![no_main]
use keycustody::{decrypt_openssl_enc, Error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A random 16-byte-aligned ciphertext has ~1/256 chance of valid padding: Ok is legitimate.
    match decrypt_openssl_enc(data, b"password", 1) {
        Ok(pt) => {
            assert!(data.starts_with(b"Salted__"));
            assert!(pt.len() < data.len() - 16);
            assert_eq!((data.len() - 16) % 16, 0);
        }
        Err(Error::Malformed(_) | Error::DecryptFailed | Error::TooLarge { .. }) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
});
