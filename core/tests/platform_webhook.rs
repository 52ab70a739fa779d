//! Webhook signatures and the replay guard: behaviour and every failure path.
use keycustody::internal::{
    parse_standard_signature_header, parse_standard_webhook_secret, parse_stripe_signature_header,
    parse_timestamp, MAX_HEADER_LEN, MAX_PAYLOAD_LEN,
};
use keycustody::{
    generate_standard_webhook_secret, sign_standard_webhook, sign_stripe_payload,
    verify_standard_webhook_at, verify_standard_webhook_headers_at, verify_stripe_signature_at,
    verify_telegram_secret, Error, MalformedKind, ReplayGuard, ReplayStore, STANDARD_HEADER_NAMES,
};

const SECRET: &str = "whsec_test_secret_0123456789";
const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;
const T: i64 = 1_700_000_000;

#[test]
fn stripe_sign_then_verify() {
    let h = sign_stripe_payload(BODY, SECRET, T).unwrap();
    assert!(h.starts_with("t=1700000000,v1="));
    assert_eq!(h.len(), "t=1700000000,v1=".len() + 64);
    assert_eq!(verify_stripe_signature_at(BODY, &h, SECRET, 300, T), Ok(T));
}

#[test]
fn stripe_tolerance_is_two_sided_and_inclusive() {
    let h = sign_stripe_payload(BODY, SECRET, T).unwrap();
    assert_eq!(
        verify_stripe_signature_at(BODY, &h, SECRET, 300, T + 300),
        Ok(T)
    );
    assert_eq!(
        verify_stripe_signature_at(BODY, &h, SECRET, 300, T - 300),
        Ok(T)
    );
    assert_eq!(
        verify_stripe_signature_at(BODY, &h, SECRET, 300, T + 301),
        Err(Error::TimestampOutOfTolerance)
    );
    // A timestamp from the future is refused too (Stripe's libraries check one side only).
    assert_eq!(
        verify_stripe_signature_at(BODY, &h, SECRET, 300, T - 301),
        Err(Error::TimestampOutOfTolerance)
    );
    assert_eq!(
        verify_stripe_signature_at(BODY, &h, SECRET, 0, i64::MIN),
        Err(Error::TimestampOutOfTolerance)
    );
}

#[test]
fn stripe_any_matching_v1_passes_for_secret_rolling() {
    let old = sign_stripe_payload(BODY, "whsec_old", T).unwrap();
    let new = sign_stripe_payload(BODY, "whsec_new", T).unwrap();
    let v1_old = old.split(",v1=").nth(1).unwrap();
    let v1_new = new.split(",v1=").nth(1).unwrap();
    let both = format!("t={T},v1={v1_old},v1={v1_new},v0=deadbeef");
    assert_eq!(
        verify_stripe_signature_at(BODY, &both, "whsec_old", 300, T),
        Ok(T)
    );
    assert_eq!(
        verify_stripe_signature_at(BODY, &both, "whsec_new", 300, T),
        Ok(T)
    );
    assert_eq!(
        verify_stripe_signature_at(BODY, &both, "whsec_other", 300, T),
        Err(Error::SignatureInvalid)
    );
}

#[test]
fn stripe_tampering_fails() {
    let h = sign_stripe_payload(BODY, SECRET, T).unwrap();
    let mut body = BODY.to_vec();
    body[3] ^= 1;
    assert_eq!(
        verify_stripe_signature_at(&body, &h, SECRET, 300, T),
        Err(Error::SignatureInvalid)
    );
    // Moving the timestamp invalidates the signature (the signed string includes it).
    let moved = h.replacen("t=1700000000", "t=1700000001", 1);
    assert_eq!(
        verify_stripe_signature_at(BODY, &moved, SECRET, 300, T),
        Err(Error::SignatureInvalid)
    );
    // Upper-case hex is not what Stripe sends: never matches.
    let upper = format!(
        "t={T},v1={}",
        h.split(",v1=").nth(1).unwrap().to_uppercase()
    );
    assert_eq!(
        verify_stripe_signature_at(BODY, &upper, SECRET, 300, T),
        Err(Error::SignatureInvalid)
    );
    let short = &h[..h.len() - 2];
    assert_eq!(
        verify_stripe_signature_at(BODY, short, SECRET, 300, T),
        Err(Error::SignatureInvalid)
    );
}

#[test]
fn stripe_malformed_headers() {
    let m = |h: &str| verify_stripe_signature_at(BODY, h, SECRET, 300, T);
    let sh = Err(Error::Malformed(MalformedKind::SignatureHeader));
    let ts = Err(Error::Malformed(MalformedKind::Timestamp));
    assert_eq!(m(""), sh);
    assert_eq!(m("v1=00"), sh);
    assert_eq!(m("t=1700000000"), sh);
    assert_eq!(m("t=1700000000,v0=00"), sh);
    assert_eq!(m("t=1,t=2,v1=00"), sh);
    assert_eq!(m("garbage"), sh);
    assert_eq!(m("t=abc,v1=00"), ts);
    assert_eq!(m("t=-5,v1=00"), ts);
    assert_eq!(m("t=+5,v1=00"), ts);
    assert_eq!(m("t=,v1=00"), ts);
    assert_eq!(m("t=99999999999999999999999,v1=00"), ts);
    assert_eq!(m("t=1e9,v1=00"), ts);
    assert_eq!(
        m(&"t=1,".repeat(3000)),
        Err(Error::TooLarge {
            limit: MAX_HEADER_LEN
        })
    );
}

#[test]
fn stripe_bad_arguments() {
    let h = sign_stripe_payload(BODY, SECRET, T).unwrap();
    assert!(matches!(
        verify_stripe_signature_at(BODY, &h, "", 300, T),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        sign_stripe_payload(BODY, "", T),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        sign_stripe_payload(BODY, SECRET, -1),
        Err(Error::InvalidArgument(_))
    ));
    let big = vec![b'a'; MAX_PAYLOAD_LEN + 1];
    assert_eq!(
        verify_stripe_signature_at(&big, &h, SECRET, 300, T),
        Err(Error::TooLarge {
            limit: MAX_PAYLOAD_LEN
        })
    );
    assert_eq!(
        sign_stripe_payload(&big, SECRET, T),
        Err(Error::TooLarge {
            limit: MAX_PAYLOAD_LEN
        })
    );
}

#[test]
fn stripe_header_parser() {
    let p = parse_stripe_signature_header(" t=12 , v1=zz, v1=").unwrap();
    assert_eq!(p.timestamp, 12);
    assert!(p.v1.is_empty(), "non-hex v1 values are dropped");
    assert_eq!(parse_timestamp("000123"), Ok(123));
    assert_eq!(
        parse_timestamp("999999999999999999"),
        Ok(999_999_999_999_999_999)
    );
    assert!(parse_timestamp("1000000000000000000").is_err());
}

const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn standard_webhook_roundtrip_and_rolling() {
    let sig = sign_standard_webhook(BODY, "msg_1", T, SW_SECRET).unwrap();
    assert!(sig.starts_with("v1,"));
    assert_eq!(
        verify_standard_webhook_at(BODY, "msg_1", "1700000000", &sig, SW_SECRET, 300, T),
        Ok(T)
    );
    let other = generate_standard_webhook_secret().unwrap();
    let sig2 = sign_standard_webhook(BODY, "msg_1", T, other.expose_secret()).unwrap();
    let both = format!("v1a,ignored {sig2} {sig}");
    assert_eq!(
        verify_standard_webhook_at(BODY, "msg_1", "1700000000", &both, SW_SECRET, 300, T),
        Ok(T)
    );
    // The secret prefix is optional, as in the reference libraries.
    let bare = SW_SECRET.strip_prefix("whsec_").unwrap();
    assert_eq!(
        verify_standard_webhook_at(BODY, "msg_1", "1700000000", &sig, bare, 300, T),
        Ok(T)
    );
}

#[test]
fn standard_webhook_failures() {
    let sig = sign_standard_webhook(BODY, "msg_1", T, SW_SECRET).unwrap();
    let v = |body: &[u8], id: &str, ts: &str, s: &str, secret: &str, now: i64| {
        verify_standard_webhook_at(body, id, ts, s, secret, 300, now)
    };
    assert_eq!(
        v(b"{}", "msg_1", "1700000000", &sig, SW_SECRET, T),
        Err(Error::SignatureInvalid)
    );
    assert_eq!(
        v(BODY, "msg_2", "1700000000", &sig, SW_SECRET, T),
        Err(Error::SignatureInvalid)
    );
    assert_eq!(
        v(BODY, "msg_1", "1700000001", &sig, SW_SECRET, T),
        Err(Error::SignatureInvalid)
    );
    assert_eq!(
        v(BODY, "msg_1", "1700000000", &sig, SW_SECRET, T + 301),
        Err(Error::TimestampOutOfTolerance)
    );
    assert_eq!(
        v(BODY, "msg_1", "1700000000", &sig, SW_SECRET, T - 301),
        Err(Error::TimestampOutOfTolerance)
    );
    assert_eq!(
        v(BODY, "msg_1", "17e8", &sig, SW_SECRET, T),
        Err(Error::Malformed(MalformedKind::Timestamp))
    );
    assert_eq!(
        v(BODY, "msg_1", "1700000000", "nocomma", SW_SECRET, T),
        Err(Error::Malformed(MalformedKind::SignatureHeader))
    );
    assert_eq!(
        v(BODY, "msg_1", "1700000000", "v2,abc", SW_SECRET, T),
        Err(Error::Malformed(MalformedKind::SignatureHeader))
    );
    assert_eq!(
        v(BODY, "msg_1", "1700000000", "v1,!!!", SW_SECRET, T),
        Err(Error::SignatureInvalid)
    );
    assert_eq!(
        v(BODY, "", "1700000000", &sig, SW_SECRET, T),
        Err(Error::Malformed(MalformedKind::SignatureHeader))
    );
    assert_eq!(
        v(BODY, "a\nb", "1700000000", &sig, SW_SECRET, T),
        Err(Error::Malformed(MalformedKind::SignatureHeader))
    );
    assert_eq!(
        v(BODY, "msg_1", "1700000000", &sig, "whsec_!!notbase64", T),
        Err(Error::Malformed(MalformedKind::Base64))
    );
    assert!(matches!(
        v(BODY, "msg_1", "1700000000", &sig, "whsec_", T),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        sign_standard_webhook(BODY, "msg_1", -1, SW_SECRET),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(
        parse_standard_webhook_secret("whsec_%%%").map(|_| ()),
        Err(Error::Malformed(MalformedKind::Base64))
    );
    assert_eq!(
        parse_standard_signature_header("v1,AAAA v1a,x")
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn generated_secret_shape() {
    let s = generate_standard_webhook_secret().unwrap();
    assert!(s.expose_secret().starts_with("whsec_"));
    assert_eq!(
        parse_standard_webhook_secret(s.expose_secret())
            .unwrap()
            .len(),
        32
    );
    assert_ne!(s, generate_standard_webhook_secret().unwrap());
}

#[test]
fn telegram_secret() {
    assert_eq!(verify_telegram_secret("abc_DEF-123", "abc_DEF-123"), Ok(()));
    assert_eq!(
        verify_telegram_secret("abc_DEF-124", "abc_DEF-123"),
        Err(Error::SignatureInvalid)
    );
    assert_eq!(
        verify_telegram_secret("", "abc_DEF-123"),
        Err(Error::SignatureInvalid)
    );
    assert_eq!(
        verify_telegram_secret("abc_DEF-1234", "abc_DEF-123"),
        Err(Error::SignatureInvalid)
    );
    assert!(matches!(
        verify_telegram_secret("", ""),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        verify_telegram_secret("a b", "a b"),
        Err(Error::InvalidArgument(_))
    ));
    let long = "a".repeat(257);
    assert!(matches!(
        verify_telegram_secret(&long, &long),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn replay_guard_accepts_once_until_expiry() {
    let g = ReplayGuard::new(10, 600).unwrap();
    assert_eq!(g.check_and_record_at("evt_1", T), Ok(()));
    assert_eq!(
        g.check_and_record_at("evt_1", T + 599),
        Err(Error::Replayed)
    );
    assert_eq!(g.check_and_record_at("evt_2", T), Ok(()));
    // Held through T + ttl inclusive, forgotten after.
    assert_eq!(
        g.check_and_record_at("evt_1", T + 600),
        Err(Error::Replayed)
    );
    assert_eq!(g.check_and_record_at("evt_1", T + 601), Ok(()));
    assert_eq!(
        g.check_and_record_at("evt_1", T + 602),
        Err(Error::Replayed)
    );
    assert_eq!(g.len(), 2);
}

#[test]
fn replay_guard_is_bounded_and_fails_closed() {
    let g = ReplayGuard::new(3, 100).unwrap();
    for id in ["a", "b", "c"] {
        g.check_and_record_at(id, T).unwrap();
    }
    assert_eq!(
        g.check_and_record_at("d", T + 1),
        Err(Error::InvalidArgument("replay guard is full"))
    );
    // A known id is still reported as a replay, not as "full".
    assert_eq!(g.check_and_record_at("a", T + 1), Err(Error::Replayed));
    // Once entries expire (after T + ttl), room is made.
    assert_eq!(
        g.check_and_record_at("d", T + 100),
        Err(Error::InvalidArgument("replay guard is full"))
    );
    assert_eq!(g.check_and_record_at("d", T + 101), Ok(()));
    assert!(g.len() <= 3);
    for i in 0..1000 {
        g.check_and_record_at(&format!("x{i}"), T + 1000 + i * 100)
            .unwrap();
    }
    assert!(g.len() <= 3);
}

#[test]
fn replay_guard_bad_arguments() {
    assert!(matches!(
        ReplayGuard::new(0, 1),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        ReplayGuard::new(1, 0),
        Err(Error::InvalidArgument(_))
    ));
    let g = ReplayGuard::new(1, 1).unwrap();
    assert!(matches!(
        g.check_and_record_at("", T),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        g.check_and_record_at(&"x".repeat(1025), T),
        Err(Error::InvalidArgument(_))
    ));
    let store: &dyn ReplayStore = &g;
    assert_eq!(store.check_and_record_at("k", T), Ok(()));
    assert_eq!(store.check_and_record_at("k", T), Err(Error::Replayed));
    assert!(!format!("{g:?}").contains('k'));
}

// ---- verify_standard_webhook_headers_at: the request's header mapping as it comes ----

/// Every `standard_verify` case of the committed vectors, through the header-mapping form:
/// the same result with the names lowercase, uppercase and mixed, in any order, among
/// other headers.
#[test]
fn standard_webhook_headers_match_the_vectors_in_any_case_and_order() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/webhook_v1.json"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut n = 0;
    for c in doc["cases"].as_array().unwrap() {
        if c["op"] != "standard_verify" {
            continue;
        }
        let payload = hex::decode(c["payload_hex"].as_str().unwrap()).unwrap();
        let (id, ts, sig) = (
            c["msg_id"].as_str().unwrap(),
            c["timestamp"].as_str().unwrap(),
            c["signature"].as_str().unwrap(),
        );
        let secret = c["secret"].as_str().unwrap();
        let tolerance = c["tolerance"].as_u64().unwrap();
        let now = c["now"].as_i64().unwrap();
        let want = verify_standard_webhook_at(&payload, id, ts, sig, secret, tolerance, now);
        match c["expect"].as_str().unwrap() {
            "ok" => assert_eq!(want, Ok(c["result_timestamp"].as_i64().unwrap())),
            kind => assert_eq!(want.unwrap_err().kind(), kind),
        }
        let spellings: [[&str; 3]; 3] = [
            ["webhook-id", "webhook-timestamp", "webhook-signature"],
            ["WEBHOOK-ID", "WEBHOOK-TIMESTAMP", "WEBHOOK-SIGNATURE"],
            ["Webhook-Id", "webhook-TimeStamp", "Webhook-signature"],
        ];
        for names in spellings {
            let headers = [
                ("content-type", "application/json"),
                (names[2], sig),
                ("x-webhook-id", "not this one"),
                (names[0], id),
                ("user-agent", "test"),
                (names[1], ts),
            ];
            let got = verify_standard_webhook_headers_at(
                &payload,
                headers.iter().copied(),
                secret,
                tolerance,
                now,
            );
            assert_eq!(got, want, "{} {names:?}", c["name"]);
            // Owned pairs (what a binding collects from a host mapping) work the same.
            let owned: Vec<(String, String)> = headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let got = verify_standard_webhook_headers_at(&payload, owned, secret, tolerance, now);
            assert_eq!(got, want, "{} owned", c["name"]);
        }
        n += 1;
    }
    assert!(n >= 10, "only {n} standard_verify cases");
}

fn signed_headers() -> (Vec<u8>, String, Vec<(String, String)>) {
    let secret = generate_standard_webhook_secret().unwrap();
    let secret = secret.expose_secret().to_owned();
    let body = BODY.to_vec();
    let sig = sign_standard_webhook(&body, "msg_1", T, &secret).unwrap();
    let headers = vec![
        ("webhook-id".to_owned(), "msg_1".to_owned()),
        ("webhook-timestamp".to_owned(), T.to_string()),
        ("webhook-signature".to_owned(), sig),
    ];
    (body, secret, headers)
}

#[test]
fn standard_webhook_headers_missing_each_name_is_a_typed_error() {
    let (body, secret, headers) = signed_headers();
    assert_eq!(
        verify_standard_webhook_headers_at(&body, headers.clone(), &secret, 300, T),
        Ok(T)
    );
    for missing in STANDARD_HEADER_NAMES {
        let without: Vec<_> = headers
            .iter()
            .filter(|(k, _)| k != missing)
            .cloned()
            .collect();
        assert_eq!(without.len(), 2);
        assert_eq!(
            verify_standard_webhook_headers_at(&body, without, &secret, 300, T),
            Err(Error::Malformed(MalformedKind::WebhookHeaderMissing)),
            "{missing}"
        );
    }
    let none: [(&str, &str); 0] = [];
    assert_eq!(
        verify_standard_webhook_headers_at(&body, none, &secret, 300, T),
        Err(Error::Malformed(MalformedKind::WebhookHeaderMissing))
    );
    // A name that only looks like one (prefix, suffix, spaces, non-ASCII fold) is not it.
    for lookalike in [
        "webhook-id ",
        " webhook-id",
        "webhook-ids",
        "x-webhook-id",
        "webhook_id",
        "webhook\u{2010}id",
    ] {
        let mut h = headers.clone();
        h[0].0 = lookalike.to_owned();
        assert_eq!(
            verify_standard_webhook_headers_at(&body, h, &secret, 300, T),
            Err(Error::Malformed(MalformedKind::WebhookHeaderMissing)),
            "{lookalike:?}"
        );
    }
}

#[test]
fn standard_webhook_headers_repeated_names_are_refused_even_with_equal_values() {
    let (body, secret, headers) = signed_headers();
    for (i, name) in STANDARD_HEADER_NAMES.iter().enumerate() {
        for twin_name in [name.to_string(), name.to_uppercase()] {
            // The same value twice, and a different one, before or after the original.
            for value in [headers[i].1.clone(), "other".to_owned()] {
                for at in [0, headers.len()] {
                    let mut h = headers.clone();
                    h.insert(at, (twin_name.clone(), value.clone()));
                    assert_eq!(
                        verify_standard_webhook_headers_at(&body, h, &secret, 300, T),
                        Err(Error::Malformed(MalformedKind::WebhookHeaderRepeated)),
                        "{twin_name} at {at}"
                    );
                }
            }
        }
    }
}

#[test]
fn standard_webhook_headers_values_are_checked_as_before() {
    let (body, secret, headers) = signed_headers();
    let with = |i: usize, v: &str| {
        let mut h = headers.clone();
        h[i].1 = v.to_owned();
        verify_standard_webhook_headers_at(&body, h, &secret, 300, T)
    };
    assert_eq!(
        with(0, ""),
        Err(Error::Malformed(MalformedKind::SignatureHeader))
    );
    assert_eq!(with(0, "msg_2"), Err(Error::SignatureInvalid));
    assert_eq!(with(1, ""), Err(Error::Malformed(MalformedKind::Timestamp)));
    assert_eq!(
        with(1, " 1700000000"),
        Err(Error::Malformed(MalformedKind::Timestamp))
    );
    assert_eq!(
        with(2, ""),
        Err(Error::Malformed(MalformedKind::SignatureHeader))
    );
    assert_eq!(with(2, "v1,AAAA"), Err(Error::SignatureInvalid));
    assert_eq!(
        verify_standard_webhook_headers_at(&body, headers.clone(), &secret, 300, T + 301),
        Err(Error::TimestampOutOfTolerance)
    );
    assert_eq!(
        verify_standard_webhook_headers_at(&body, headers, "whsec_not*base64", 300, T),
        Err(Error::Malformed(MalformedKind::Base64))
    );
}
