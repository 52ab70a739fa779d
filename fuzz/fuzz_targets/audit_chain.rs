//! The audit entry parser and chain verifier (core/src/audit.rs) on arbitrary lines: never a
//! panic; every refusal a typed error; a parsed entry serializes back to exactly its line;
//! a run that verifies is linked and contiguous and grows by `next`. The keyring and scope are
//! those of tests/vectors/audit_v1.json, so seeded valid chains reach the verifier's deep end.
#![no_main]
use keycustody::{AuditChain, AuditEntry, AuditEvent, Error, Keyring, MalformedKind};
use libfuzzer_sys::fuzz_target;

fn chain() -> AuditChain {
    let a: Vec<u8> = (0u8..32).collect();
    let b: Vec<u8> = (0x40u8..0x60).collect();
    let kr = Keyring::from_secret(&a, 1).expect("fixed keyring");
    kr.add_key_with_secret(keycustody::SecretBytes::new(b))
        .expect("kid 2");
    kr.promote(2).expect("promote");
    AuditChain::new(&kr, "vm-7f3a").expect("chain")
}

fuzz_target!(|data: &[u8]| {
    let c = chain();
    let mut entries = Vec::new();
    for line in data.split(|b| *b == b'\n') {
        match AuditEntry::parse(line) {
            Ok(e) => {
                let text = e.to_json();
                assert_eq!(text.as_bytes(), line, "round trip is byte for byte");
                assert_eq!(AuditEntry::parse(text.as_bytes()).expect("re-parse"), e);
                let _ = c.verify_entry(&e);
                entries.push(e);
            }
            Err(Error::Malformed(MalformedKind::AuditEntry) | Error::TooLarge { .. }) => {}
            Err(e) => panic!("unexpected parse error {e:?}"),
        }
    }
    let after = entries.first().cloned();
    for (run, after) in [(&entries[..], None), (entries.get(1..).unwrap_or(&[]), after.as_ref())] {
        match c.verify_run(run, after) {
            Ok(r) => {
                assert_eq!(r.entries, run.len() as u64);
                for w in run.windows(2) {
                    assert_eq!(w[1].seq(), w[0].seq() + 1);
                    assert_eq!(w[1].prev(), w[0].mac());
                }
                if let Some(last) = run.last() {
                    assert_eq!((r.last_seq, r.head_mac.as_str()), (last.seq(), last.mac()));
                    match c.next(Some(last), &AuditEvent::new("fuzz").name("N"), 1) {
                        Ok(next) => {
                            c.verify_run(std::slice::from_ref(&next), Some(last))
                                .expect("the next entry links");
                        }
                        // Only at seq u64::MAX.
                        Err(Error::InvalidArgument(_)) => assert_eq!(last.seq(), u64::MAX),
                        Err(e) => panic!("next on a verified head: {e:?}"),
                    }
                }
            }
            Err(Error::AuditBroken { seq, reason }) => {
                assert!(!reason.is_empty());
                let start = after.map_or(0, AuditEntry::seq);
                assert!(seq >= start && seq <= start.saturating_add(run.len() as u64), "{seq}");
            }
            Err(e) => panic!("unexpected verify error {e:?}"),
        }
    }
});
