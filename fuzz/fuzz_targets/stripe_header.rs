//! `Stripe-Signature` parsing and verification on arbitrary headers; a signed header verifies.
#![no_main]
use keycustody::internal::parse_stripe_signature_header;
use keycustody::{sign_stripe_payload, verify_stripe_signature_at, Error};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_fuzz";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (header, payload) = text.split_once('\n').unwrap_or((text, "{}"));
    if let Ok(h) = parse_stripe_signature_header(header) {
        assert!(header.contains("t="));
        // A parsed header verifies only if one v1 is the real MAC, which a fuzzer cannot find.
        let r = verify_stripe_signature_at(payload.as_bytes(), header, SECRET, 300, h.timestamp);
        assert_eq!(r, Err(Error::SignatureInvalid));
    } else {
        let r = verify_stripe_signature_at(payload.as_bytes(), header, SECRET, 300, 0);
        assert!(
            matches!(r, Err(Error::Malformed(_) | Error::TooLarge { .. })),
            "{r:?}"
        );
    }
    // Round trip with the fuzz input as payload.
    let ts = 1_700_000_000;
    let signed = sign_stripe_payload(payload.as_bytes(), SECRET, ts).expect("sign");
    assert_eq!(
        verify_stripe_signature_at(payload.as_bytes(), &signed, SECRET, 300, ts),
        Ok(ts)
    );
});
