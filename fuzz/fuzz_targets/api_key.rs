//! `parse_api_key` / `verify_api_key` on arbitrary text.
#![no_main]
use keycustody::{hash_api_key, parse_api_key, verify_api_key, Error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Split the input into a candidate key and a candidate stored hash.
    let (key, stored) = text.split_once('\n').unwrap_or((text, ""));
    match parse_api_key(key) {
        Ok(k) => {
            assert_eq!(k.expose_secret(), key);
            assert!(key.starts_with(k.prefix()));
            let h = hash_api_key(key).expect("hash of a parsed key");
            assert_eq!(h.len(), 64);
            assert_eq!(h, k.hash());
            assert!(verify_api_key(key, &h).expect("verify"));
            assert!(!format!("{k:?}").contains(&key[key.len() - 8..]));
        }
        Err(e) => assert!(matches!(e, Error::Malformed(_)), "{e:?}"),
    }
    match verify_api_key(key, stored) {
        Ok(_) | Err(Error::Malformed(_)) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
});
