//! `Keyring::open_keyring` (a tenant keyring sealed under the platform keyring, DESIGN §7):
//! a fuzzed envelope never opens; a fuzzed plaintext sealed authentically under the keyring
//! context opens exactly when it is a keyring; every refusal a typed error.
#![no_main]
use keycustody::{Error, Keyring, KEYRING_CONTEXT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let platform = Keyring::from_secret(&[7u8; 32], 1).expect("fixed keyring");
    if let Ok(text) = std::str::from_utf8(data) {
        match platform.open_keyring("tenant", text) {
            Ok(_) => panic!("a fuzzer-made envelope opened as a tenant keyring"),
            Err(Error::Malformed(_) | Error::DecryptFailed | Error::UnknownKey(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    // Authentic envelope, fuzzed plaintext.
    let env = platform
        .seal("tenant", data, KEYRING_CONTEXT.as_bytes())
        .expect("seal");
    let direct = std::str::from_utf8(data)
        .map_err(|_| ())
        .and_then(|t| Keyring::parse(t).map_err(|_| ()));
    match (platform.open_keyring("tenant", &env), direct) {
        (Ok(k), Ok(d)) => assert_eq!(
            k.export().expect("export").expose_secret(),
            d.export().expect("export").expose_secret()
        ),
        (Err(Error::Malformed(_) | Error::TooLarge { .. }), Err(())) => {}
        (r, d) => panic!("open_keyring {:?} but parse {}", r.map(|_| ()), d.is_ok()),
    }
    // Another tenant never opens it.
    assert_eq!(
        platform
            .open_keyring("tenant2", &env)
            .map(|_| ())
            .unwrap_err(),
        Error::DecryptFailed
    );
});
