//! `Keyring::parse` on arbitrary text; what parses exports and re-parses to the same keyring.
#![no_main]
use keycustody::{Error, Keyring};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Keyring::parse(text) {
        Ok(kr) => {
            let exported = kr.export().expect("export of a parsed keyring");
            let again = Keyring::parse(exported.expose_secret()).expect("re-parse of export");
            assert_eq!(kr.primary_kid(), again.primary_kid());
            assert_eq!(format!("{:?}", kr.kids()), format!("{:?}", again.kids()));
            assert_eq!(
                exported.expose_secret(),
                again.export().expect("export").expose_secret()
            );
            // Debug never shows the text it came from (secrets live there).
            let dbg = format!("{kr:?}");
            assert!(!dbg.contains("secret\":"), "{dbg}");
        }
        Err(Error::Malformed(_) | Error::TooLarge { .. }) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
});
