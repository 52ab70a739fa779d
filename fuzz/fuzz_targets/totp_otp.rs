//! TOTP secrets / URIs and stored one-time-code records on arbitrary text.
#![no_main]
use keycustody::internal::parse_totp_secret;
use keycustody::{totp_at, verify_totp_at, CodeRecord, CodeStatus, Keyring};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = text.split_once('\n').unwrap_or((text, "123456"));
    if parse_totp_secret(a).is_ok() {
        let code = totp_at(a, 1_700_000_000).expect("code of a parsed secret");
        assert!(verify_totp_at(a, code.expose_secret(), 1_700_000_000, None).is_ok());
    }
    let _ = verify_totp_at(a, b, 1_700_000_000, None);
    if let Ok(r) = CodeRecord::parse(a) {
        let again = CodeRecord::parse(&r.to_json().expect("json")).expect("re-parse");
        assert_eq!(format!("{r:?}"), format!("{again:?}"));
    }
    // A record the fuzzer wrote never accepts a code it did not issue... unless it wrote the
    // HMAC itself, which it cannot: any outcome but a panic is fine here.
    let kr = Keyring::from_secret(&[3u8; 32], 1).expect("keyring");
    let _ = kr.verify_code_at("subject", b, a, 1_700_000_000);
    // An issued code verifies once against its own record.
    let now = 1_700_000_000;
    let issued = kr.issue_code_at("subject", now).expect("issue");
    let code = issued.code.expose_secret();
    if let Ok(c) = kr.verify_code_at("subject", b, &issued.record, now) {
        assert!(b == code || c.status != CodeStatus::Valid);
    }
    let c = kr
        .verify_code_at("subject", code, &issued.record, now)
        .expect("verify");
    assert_eq!(c.status, CodeStatus::Valid);
    let c2 = kr
        .verify_code_at("subject", code, &c.record, now)
        .expect("verify again");
    assert_eq!(c2.status, CodeStatus::Used);
});
