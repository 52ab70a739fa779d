//! `AuditCheckpoint::parse` on arbitrary text, then verification under the vectors' keyring:
//! never a panic; every refusal a typed error; what parses writes back to the same text.
#![no_main]
use keycustody::{AuditChain, AuditCheckpoint, Error, Keyring, MalformedKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match AuditCheckpoint::parse(text) {
        Ok(cp) => {
            let out = cp.to_text();
            assert_eq!(out, text.trim_matches(|c: char| c.is_ascii_whitespace()));
            assert_eq!(AuditCheckpoint::parse(&out).expect("re-parse"), cp);
            let a: Vec<u8> = (0u8..32).collect();
            let kr = Keyring::from_secret(&a, 1).expect("fixed keyring");
            let c = AuditChain::new(&kr, cp.scope()).expect("a parsed scope is valid");
            match c.verify_checkpoint(&cp) {
                Ok(()) | Err(Error::AuditBroken { .. }) => {}
                Err(e) => panic!("unexpected verify error {e:?}"),
            }
        }
        Err(Error::Malformed(MalformedKind::AuditCheckpoint) | Error::TooLarge { .. }) => {}
        Err(e) => panic!("unexpected parse error {e:?}"),
    }
});
