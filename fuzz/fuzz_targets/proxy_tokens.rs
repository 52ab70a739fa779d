//! The proxy tokens-file parser (`Tokens::parse`) on arbitrary bytes: never a panic;
//! what parses round-trips through `to_text` and every entry is found by its hash.
#![no_main]
use keycustody_cli::proxy::tokens::Tokens;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Tokens::parse(data) {
        Ok(t) => {
            let back = Tokens::parse(t.to_text().as_bytes()).expect("to_text re-parses");
            assert_eq!(back, t, "round trip");
            for e in t.entries() {
                assert_eq!(t.by_hash(&e.hash).map(|x| &x.agent), Some(&e.agent));
            }
        }
        Err(e) => assert!(!e.0.is_empty()),
    }
});
