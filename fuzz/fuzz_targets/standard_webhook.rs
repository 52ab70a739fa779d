//! Standard Webhooks: arbitrary id / timestamp / signature / secret headers never panic, never
//! verify; a signed message verifies.
#![no_main]
use arbitrary::Arbitrary;
use keycustody::internal::{parse_standard_signature_header, parse_standard_webhook_secret};
use keycustody::{sign_standard_webhook, verify_standard_webhook_at, Error};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    payload: &'a [u8],
    msg_id: &'a str,
    timestamp: &'a str,
    signature: &'a str,
    secret: &'a str,
    now: i64,
}

const GOOD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fuzz_target!(|i: Input| {
    let _ = parse_standard_signature_header(i.signature);
    let _ = parse_standard_webhook_secret(i.secret);
    for secret in [i.secret, GOOD_SECRET] {
        match verify_standard_webhook_at(
            i.payload,
            i.msg_id,
            i.timestamp,
            i.signature,
            secret,
            300,
            i.now,
        ) {
            Ok(_) => panic!("a fuzzer-made signature verified"),
            Err(
                Error::Malformed(_)
                | Error::TooLarge { .. }
                | Error::InvalidArgument(_)
                | Error::SignatureInvalid,
            ) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    let ts = 1_700_000_000;
    if let Ok(sig) = sign_standard_webhook(i.payload, i.msg_id, ts, GOOD_SECRET) {
        assert_eq!(
            verify_standard_webhook_at(
                i.payload,
                i.msg_id,
                &ts.to_string(),
                &sig,
                GOOD_SECRET,
                300,
                ts
            ),
            Ok(ts)
        );
    }
});
