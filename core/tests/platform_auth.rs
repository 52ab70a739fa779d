//! Per-tenant JWT, one-time codes and TOTP.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use keycustody::internal::{
    base32_encode, dangerous_code_record_for, parse_jwt, parse_totp_secret,
    MAX_JWT_LEN as MAX_TOKEN_LEN,
};
use keycustody::{
    generate_totp_secret, totp_at, totp_uri, verify_totp_at, CodeStatus, Error, JwtVerifyOptions,
    Keyring, MalformedKind,
};
use keycustody::{totp_raw_at, CodeRecord, MAX_ATTEMPTS};

const T: i64 = 1_700_000_000;

fn ring() -> Keyring {
    Keyring::from_secret(b"0123456789abcdef0123456789abcdef", 1).unwrap()
}

fn opts() -> JwtVerifyOptions {
    JwtVerifyOptions::default()
}

fn b64(x: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(x)
}

/// Signs arbitrary header/payload JSON with the tenant's real secret (an attacker
/// who knows the secret, or a different library), so the checks after the MAC are tested.
fn forge(k: &Keyring, tenant: &str, header: &str, payload: &str, key: Option<&[u8]>) -> String {
    let (_, secret) = k.jwt_secret(tenant).unwrap();
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let mut m =
        Hmac::<sha2::Sha256>::new_from_slice(key.unwrap_or(secret.expose_secret())).unwrap();
    m.update(input.as_bytes());
    format!("{input}.{}", b64(&m.finalize().into_bytes()))
}

const H: &str = r#"{"alg":"HS256","typ":"JWT","kid":"1"}"#;

#[test]
fn jwt_roundtrip_and_header() {
    let k = ring();
    let tok = k
        .sign_jwt_at("acme", r#"{"sub":"u1","aud":"api"}"#, 600, T)
        .unwrap();
    let header = URL_SAFE_NO_PAD
        .decode(tok.split('.').next().unwrap())
        .unwrap();
    assert_eq!(header, H.as_bytes());
    let o = opts().with_audience(Some("api"));
    let claims = k.verify_jwt_at("acme", &tok, &o, T + 10).unwrap();
    let v: serde_json::Value = serde_json::from_str(&claims).unwrap();
    assert_eq!(v["sub"], "u1");
    assert_eq!(v["iat"], T);
    assert_eq!(v["exp"], T + 600);
}

#[test]
fn jwt_is_per_tenant_and_survives_rotation() {
    let k = ring();
    let tok = k.sign_jwt_at("acme", "{}", 600, T).unwrap();
    assert_eq!(
        k.verify_jwt_at("globex", &tok, &opts(), T),
        Err(Error::SignatureInvalid)
    );
    let new = k.rotate().unwrap();
    assert_eq!(
        k.verify_jwt_at("acme", &tok, &opts(), T).map(|_| ()),
        Ok(())
    );
    let tok2 = k.sign_jwt_at("acme", "{}", 600, T).unwrap();
    assert!(parse_jwt(&tok2).unwrap().kid == new);
    k.retire(1).unwrap();
    assert_eq!(
        k.verify_jwt_at("acme", &tok, &opts(), T),
        Err(Error::KeyRetired(1))
    );
    let bad_kid = forge(
        &k,
        "acme",
        r#"{"alg":"HS256","kid":"9"}"#,
        r#"{"exp":9999999999}"#,
        None,
    );
    assert_eq!(
        k.verify_jwt_at("acme", &bad_kid, &opts(), T),
        Err(Error::UnknownKey(9))
    );
}

#[test]
fn jwt_time_claims_with_leeway() {
    let k = ring();
    let tok = k.sign_jwt_at("acme", "{}", 600, T).unwrap();
    assert_eq!(
        k.verify_jwt_at("acme", &tok, &opts(), T + 600),
        Err(Error::Expired)
    );
    assert!(k.verify_jwt_at("acme", &tok, &opts(), T + 599).is_ok());
    let lee = opts().with_leeway(30);
    assert!(k.verify_jwt_at("acme", &tok, &lee, T + 629).is_ok());
    assert_eq!(
        k.verify_jwt_at("acme", &tok, &lee, T + 630),
        Err(Error::Expired)
    );
    // iat in the future
    assert_eq!(
        k.verify_jwt_at("acme", &tok, &opts(), T - 1),
        Err(Error::NotYetValid)
    );
    assert!(k.verify_jwt_at("acme", &tok, &lee, T - 30).is_ok());
    let nbf = k
        .sign_jwt_at("acme", &format!(r#"{{"nbf":{}}}"#, T + 100), 600, T)
        .unwrap();
    assert_eq!(
        k.verify_jwt_at("acme", &nbf, &opts(), T + 99),
        Err(Error::NotYetValid)
    );
    assert!(k.verify_jwt_at("acme", &nbf, &opts(), T + 100).is_ok());
    let no_exp = forge(&k, "acme", H, r#"{"sub":"x"}"#, None);
    assert_eq!(
        k.verify_jwt_at("acme", &no_exp, &opts(), T),
        Err(Error::ClaimMismatch("exp"))
    );
    let str_exp = forge(&k, "acme", H, r#"{"exp":"soon"}"#, None);
    assert_eq!(
        k.verify_jwt_at("acme", &str_exp, &opts(), T),
        Err(Error::ClaimMismatch("exp"))
    );
    let float_exp = forge(&k, "acme", H, &format!(r#"{{"exp":{}.5}}"#, T + 5), None);
    assert!(k.verify_jwt_at("acme", &float_exp, &opts(), T).is_ok());
    assert!(matches!(
        k.verify_jwt_at("acme", &tok, &opts().with_leeway(86_401), T),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn jwt_audience_and_issuer() {
    let k = ring();
    let tok = k
        .sign_jwt_at("acme", r#"{"aud":["a","b"],"iss":"kc"}"#, 600, T)
        .unwrap();
    let o = |aud: Option<&str>, iss: Option<&str>| {
        JwtVerifyOptions::default()
            .with_audience(aud)
            .with_issuer(iss)
    };
    assert!(k
        .verify_jwt_at("acme", &tok, &o(Some("b"), Some("kc")), T)
        .is_ok());
    assert_eq!(
        k.verify_jwt_at("acme", &tok, &o(Some("c"), None), T),
        Err(Error::ClaimMismatch("aud"))
    );
    assert_eq!(
        k.verify_jwt_at("acme", &tok, &o(None, None), T),
        Err(Error::ClaimMismatch("aud"))
    );
    assert_eq!(
        k.verify_jwt_at("acme", &tok, &o(Some("a"), Some("x")), T),
        Err(Error::ClaimMismatch("iss"))
    );
    let plain = k.sign_jwt_at("acme", "{}", 600, T).unwrap();
    assert_eq!(
        k.verify_jwt_at("acme", &plain, &o(Some("a"), None), T),
        Err(Error::ClaimMismatch("aud"))
    );
    assert_eq!(
        k.verify_jwt_at("acme", &plain, &o(None, Some("kc")), T),
        Err(Error::ClaimMismatch("iss"))
    );
}

#[test]
fn jwt_alg_pinned_and_tampering_refused() {
    let k = ring();
    let p = format!(r#"{{"exp":{}}}"#, T + 60);
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","kid":"1"}"#),
        b64(p.as_bytes())
    );
    assert_eq!(
        k.verify_jwt_at("acme", &none, &opts(), T),
        Err(Error::SignatureInvalid)
    );
    // HS512 signed with the right secret is still refused: alg is pinned.
    let (_, secret) = k.jwt_secret("acme").unwrap();
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS512","kid":"1"}"#),
        b64(p.as_bytes())
    );
    let mut m = Hmac::<sha2::Sha512>::new_from_slice(secret.expose_secret()).unwrap();
    m.update(input.as_bytes());
    let hs512 = format!("{input}.{}", b64(&m.finalize().into_bytes()));
    assert_eq!(
        k.verify_jwt_at("acme", &hs512, &opts(), T),
        Err(Error::SignatureInvalid)
    );
    // Key confusion: RS256 header with an HMAC over a "public key" is refused.
    let rs = forge(
        &k,
        "acme",
        r#"{"alg":"RS256","kid":"1"}"#,
        &p,
        Some(b"-----BEGIN PUBLIC KEY-----"),
    );
    assert_eq!(
        k.verify_jwt_at("acme", &rs, &opts(), T),
        Err(Error::SignatureInvalid)
    );
    let lower = forge(&k, "acme", r#"{"alg":"hs256","kid":"1"}"#, &p, None);
    assert_eq!(
        k.verify_jwt_at("acme", &lower, &opts(), T),
        Err(Error::SignatureInvalid)
    );
    // Tampered payload
    let tok = k.sign_jwt_at("acme", r#"{"role":"user"}"#, 600, T).unwrap();
    let parts: Vec<&str> = tok.split('.').collect();
    let evil = b64(format!(r#"{{"role":"admin","iat":{T},"exp":{}}}"#, T + 600).as_bytes());
    let tampered = format!("{}.{}.{}", parts[0], evil, parts[2]);
    assert_eq!(
        k.verify_jwt_at("acme", &tampered, &opts(), T),
        Err(Error::SignatureInvalid)
    );
    // Wrong secret entirely
    let wrong = forge(&k, "acme", H, &p, Some(b"guess"));
    assert_eq!(
        k.verify_jwt_at("acme", &wrong, &opts(), T),
        Err(Error::SignatureInvalid)
    );
    // Truncated signature
    let short = &tok[..tok.len() - 3];
    assert_eq!(
        k.verify_jwt_at("acme", short, &opts(), T),
        Err(Error::SignatureInvalid)
    );
}

#[test]
fn jwt_garbage_tokens() {
    let k = ring();
    let m = Err(Error::Malformed(MalformedKind::Jwt));
    for t in [
        "",
        "a",
        "a.b",
        "a.b.c.d",
        "...",
        "!!.!!.!!",
        "eyJ.eyJ.x",
        "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", // no kid
    ] {
        assert_eq!(k.verify_jwt_at("acme", t, &opts(), T).map(|_| ()), m, "{t}");
    }
    let p = r#"{"exp":9999999999}"#;
    for h in [
        r#"{"alg":"HS256","kid":1}"#,
        r#"{"alg":"HS256","kid":"0"}"#,
        r#"{"alg":"HS256","kid":"99999999999"}"#,
        r#"{"alg":"HS256","kid":"1","crit":["b64"]}"#,
        r#"{"kid":"1"}"#,
        r#"[1]"#,
    ] {
        let t = forge(&k, "acme", h, p, None);
        assert_eq!(
            k.verify_jwt_at("acme", &t, &opts(), T).map(|_| ()),
            m,
            "{h}"
        );
    }
    let not_json = forge(&k, "acme", H, "not json", None);
    assert_eq!(
        k.verify_jwt_at("acme", &not_json, &opts(), T).map(|_| ()),
        m
    );
    let padded = format!("{}=", k.sign_jwt_at("acme", "{}", 60, T).unwrap());
    assert_eq!(k.verify_jwt_at("acme", &padded, &opts(), T).map(|_| ()), m);
    let big = "a".repeat(MAX_TOKEN_LEN + 1);
    assert_eq!(
        k.verify_jwt_at("acme", &big, &opts(), T),
        Err(Error::TooLarge {
            limit: MAX_TOKEN_LEN
        })
    );
    assert_eq!(
        k.verify_jwt_at("", "a.b.c", &opts(), T),
        Err(Error::InvalidOwner)
    );
}

#[test]
fn jwt_sign_arguments() {
    let k = ring();
    for (claims, ttl) in [
        ("[]", 60),
        ("nope", 60),
        (r#"{"exp":1}"#, 60),
        (r#"{"iat":1}"#, 60),
        ("{}", 0),
    ] {
        assert!(
            matches!(
                k.sign_jwt_at("acme", claims, ttl, T),
                Err(Error::InvalidArgument(_))
            ),
            "{claims}"
        );
    }
    assert!(matches!(
        k.sign_jwt_at("acme", "{}", 60, i64::MAX),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(k.sign_jwt_at("", "{}", 60, T), Err(Error::InvalidOwner));
}

/// Finding 8: serde_json keeps the last of two equal keys, so `{"sub":"user","sub":"admin"}`
/// was signed as given and read as "admin" here, while a first-wins reader sees "user".
/// Both sides now refuse an object that repeats a key, at any depth and after unescaping.
#[test]
fn jwt_duplicate_keys_refused() {
    let k = ring();
    let dup = Err(Error::InvalidArgument("claims must not repeat a key"));
    for claims in [
        r#"{"sub":"user","sub":"admin"}"#,
        r#"{"sub":"user","\u0073ub":"admin"}"#,
        r#"{"ctx":{"role":"user","role":"admin"}}"#,
        r#"{"list":[{"a":1,"a":1}]}"#,
    ] {
        assert_eq!(k.sign_jwt_at("acme", claims, 60, T), dup, "{claims}");
    }
    // Equal values under different keys, and equal keys in different objects, are fine.
    let ok = k
        .sign_jwt_at("acme", r#"{"a":{"x":1},"b":{"x":1},"c":[1,1]}"#, 60, T)
        .unwrap();
    assert!(k.verify_jwt_at("acme", &ok, &opts(), T).is_ok());

    let m = Err(Error::Malformed(MalformedKind::Jwt));
    let exp = T + 60;
    for payload in [
        format!(r#"{{"sub":"user","sub":"admin","exp":{exp}}}"#),
        format!(r#"{{"exp":{T},"exp":{exp}}}"#),
        format!(r#"{{"sub":"u","\u0073ub":"a","exp":{exp}}}"#),
        format!(r#"{{"ctx":{{"r":1,"r":2}},"exp":{exp}}}"#),
    ] {
        let t = forge(&k, "acme", H, &payload, None);
        assert_eq!(
            k.verify_jwt_at("acme", &t, &opts(), T).map(|_| ()),
            m,
            "{payload}"
        );
    }
    let p = format!(r#"{{"exp":{exp}}}"#);
    for header in [
        r#"{"alg":"none","alg":"HS256","typ":"JWT","kid":"1"}"#,
        r#"{"alg":"HS256","typ":"JWT","kid":"1","kid":"1"}"#,
    ] {
        let t = forge(&k, "acme", header, &p, None);
        assert_eq!(
            k.verify_jwt_at("acme", &t, &opts(), T).map(|_| ()),
            m,
            "{header}"
        );
        assert_eq!(parse_jwt(&t).map(|_| ()), m, "{header}");
    }
}

// ---- one-time codes ----

#[test]
fn otp_issue_and_verify_once() {
    let k = ring();
    let issued = k.issue_code_at("user@example.com", T).unwrap();
    let code = issued.code.expose_secret().to_owned();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    assert!(
        !issued.record.contains(&code),
        "record must not hold the code"
    );
    assert!(!format!("{issued:?}").contains(&code));
    let r = CodeRecord::parse(&issued.record).unwrap();
    assert_eq!((r.attempts, r.used, r.expires_at), (0, false, T + 900));
    let ok = k
        .verify_code_at("user@example.com", &code, &issued.record, T + 899)
        .unwrap();
    assert_eq!(ok.status, CodeStatus::Valid);
    assert_eq!(ok.into_result(), Ok(()));
    assert!(ok.changed);
    let again = k
        .verify_code_at("user@example.com", &code, &ok.record, T + 900 - 1)
        .unwrap();
    assert_eq!(again.status, CodeStatus::Used);
    assert_eq!(again.into_result(), Err(Error::Replayed));
    assert!(!again.changed);
}

#[test]
fn otp_expired_wrong_locked() {
    let k = ring();
    let rec = dangerous_code_record_for(&k, "u1", "123456", T).unwrap();
    let exp = k.verify_code_at("u1", "123456", &rec, T + 900).unwrap();
    assert_eq!((exp.status, exp.changed), (CodeStatus::Expired, false));
    assert_eq!(exp.into_result(), Err(Error::Expired));
    // The code is bound to its subject.
    let other = k.verify_code_at("u2", "123456", &rec, T).unwrap();
    assert_eq!(other.status, CodeStatus::Wrong);
    let mut rec = rec;
    for left in (1..MAX_ATTEMPTS).rev() {
        let c = k.verify_code_at("u1", "654321", &rec, T).unwrap();
        assert_eq!((c.status, c.attempts_left), (CodeStatus::Wrong, left));
        assert_eq!(c.into_result(), Err(Error::SignatureInvalid));
        rec = c.record;
    }
    let last = k.verify_code_at("u1", "12345x", &rec, T).unwrap();
    assert_eq!((last.status, last.attempts_left), (CodeStatus::Locked, 0));
    assert_eq!(last.into_result(), Err(Error::Locked));
    // Even the right code is refused now.
    let after = k.verify_code_at("u1", "123456", &last.record, T).unwrap();
    assert_eq!(after.status, CodeStatus::Locked);
    assert_eq!(CodeStatus::Locked.as_str(), "locked");
}

#[test]
fn otp_bad_inputs() {
    let k = ring();
    let rec = dangerous_code_record_for(&k, "u1", "000000", T).unwrap();
    for bad in [
        "",
        "{}",
        "nope",
        r#"{"v":2,"kid":1,"hash":"00","expires_at":0,"attempts":0,"used":false}"#,
    ] {
        assert_eq!(
            k.verify_code_at("u1", "000000", bad, T).map(|_| ()),
            Err(Error::Malformed(MalformedKind::Other)),
            "{bad}"
        );
    }
    let extra = rec.replacen('{', r#"{"x":1,"#, 1);
    assert!(matches!(
        k.verify_code_at("u1", "000000", &extra, T),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        k.verify_code_at("", "000000", &rec, T),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        k.verify_code_at("a\0b", "000000", &rec, T),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        k.issue_code_at("u1", i64::MAX),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        dangerous_code_record_for(&k, "u1", "12345", T),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        k.verify_code_at("u1", "000000", &"x".repeat(2000), T),
        Err(Error::TooLarge { .. })
    ));
    // After the key is removed the record cannot be checked.
    k.rotate().unwrap();
    k.retire(1).unwrap();
    assert_eq!(
        k.verify_code_at("u1", "000000", &rec, T).map(|_| ()),
        Err(Error::KeyRetired(1))
    );
}

#[test]
fn otp_codes_are_uniform_enough() {
    // 2000 codes: every first digit appears (a biased generator would skew this).
    let k = ring();
    let mut counts = [0u32; 10];
    for _ in 0..2000 {
        let c = k.issue_code_at("u", T).unwrap();
        counts[usize::from(c.code.expose_secret().as_bytes()[0] - b'0')] += 1;
    }
    assert!(
        counts.iter().all(|&n| (120..=280).contains(&n)),
        "{counts:?}"
    );
}

// ---- TOTP ----

#[test]
fn totp_rfc6238_appendix_b() {
    // RFC 6238 Appendix B: seeds are the ASCII strings below, 8 digits, 30 s.
    let sha1 = b"12345678901234567890".as_slice();
    let sha256 = b"12345678901234567890123456789012".as_slice();
    let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".as_slice();
    let table: [(i64, &str, &str, &str); 6] = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ];
    for (t, a, b, c) in table {
        assert_eq!(
            totp_raw_at(sha1, t, 30, 8, "SHA1").unwrap().expose_secret(),
            a
        );
        assert_eq!(
            totp_raw_at(sha256, t, 30, 8, "SHA256")
                .unwrap()
                .expose_secret(),
            b
        );
        assert_eq!(
            totp_raw_at(sha512, t, 30, 8, "SHA512")
                .unwrap()
                .expose_secret(),
            c
        );
    }
    assert!(matches!(
        totp_raw_at(sha1, 59, 30, 8, "MD5"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        totp_raw_at(sha1, 59, 0, 8, "SHA1"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        totp_raw_at(sha1, 59, 30, 9, "SHA1"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        totp_raw_at(sha1, -1, 30, 6, "SHA1"),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn totp_window_and_replay() {
    let secret = base32_encode(b"12345678901234567890");
    assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    let now = 1_234_567_890;
    let step = (now / 30) as u64;
    let code = totp_at(&secret, now).unwrap();
    assert_eq!(code.expose_secret(), "005924");
    assert_eq!(verify_totp_at(&secret, "005924", now, None), Ok(step));
    assert_eq!(
        verify_totp_at(&secret, "005924", now, Some(step)),
        Err(Error::Replayed)
    );
    assert_eq!(
        verify_totp_at(&secret, "005924", now, Some(step - 1)),
        Ok(step)
    );
    // ±1 step
    assert_eq!(verify_totp_at(&secret, "005924", now + 30, None), Ok(step));
    assert_eq!(verify_totp_at(&secret, "005924", now - 30, None), Ok(step));
    assert_eq!(
        verify_totp_at(&secret, "005924", now + 60, None),
        Err(Error::SignatureInvalid)
    );
    let next = totp_at(&secret, now + 30).unwrap();
    assert_eq!(
        verify_totp_at(&secret, next.expose_secret(), now, Some(step)),
        Ok(step + 1)
    );
    for bad in ["", "00592", "0059240", "00592a", "005925"] {
        assert_eq!(
            verify_totp_at(&secret, bad, now, None),
            Err(Error::SignatureInvalid),
            "{bad}"
        );
    }
    assert!(matches!(
        verify_totp_at(&secret, "005924", -1, None),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn totp_secret_and_uri() {
    let s = generate_totp_secret().unwrap();
    assert_eq!(s.expose_secret().len(), 32);
    assert_eq!(parse_totp_secret(s.expose_secret()).unwrap().len(), 20);
    let lower = s.expose_secret().to_lowercase();
    assert_eq!(parse_totp_secret(&lower).unwrap().len(), 20);
    let m = Err(Error::Malformed(MalformedKind::Totp));
    for bad in [
        "",
        "GEZDGNBV",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ!",
        "GEZDGNBVGY3TQOJQGEZDGNBVGZ",
    ] {
        assert_eq!(parse_totp_secret(bad).map(|_| ()), m, "{bad}");
    }
    assert_eq!(totp_at("x", 0).map(|_| ()), m);
    let uri = totp_uri(
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "alice@example.com",
        "Acme Co",
    )
    .unwrap();
    assert_eq!(
        uri.expose_secret(),
        "otpauth://totp/Acme%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30"
    );
    for (acct, iss) in [
        ("", "x"),
        ("a", ""),
        ("a:b", "x"),
        ("a", "x:y"),
        ("a\n", "x"),
    ] {
        assert!(matches!(
            totp_uri("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", acct, iss),
            Err(Error::InvalidArgument(_))
        ));
    }
    assert_eq!(totp_uri("bad", "a", "b").map(|_| ()), m);
}

/// The otpauth URI's percent-encoding (now the `percent-encoding` crate) leaves exactly
/// RFC 3986's unreserved characters and writes upper-case `%XX` for every other byte, as
/// the hand-written encoder did (reference: Python's `urllib.parse.quote(s, safe="")`).
#[test]
fn totp_uri_percent_encoding_is_unchanged() {
    let uri = totp_uri(
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "a b+c/é~._-@!*'()",
        "Ä&Co?=#%[]",
    )
    .unwrap();
    let issuer = "%C3%84%26Co%3F%3D%23%25%5B%5D";
    assert_eq!(
        uri.expose_secret(),
        format!(
            "otpauth://totp/{issuer}:a%20b%2Bc%2F%C3%A9~._-%40%21%2A%27%28%29?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer={issuer}&algorithm=SHA1&digits=6&period=30"
        )
    );
}

/// Base32 (now `data-encoding`) keeps the leniency of the hand-written decoder: any case,
/// up to six trailing `=` whether or not they are the right padding; and its strictness:
/// non-canonical trailing bits, impossible lengths, `=` inside, other characters.
#[test]
fn totp_base32_round_trip_and_leniency() {
    for n in [16usize, 17, 18, 19, 20, 21, 32, 127, 128] {
        let raw: Vec<u8> = (0..n).map(|i| (i * 37 + n) as u8).collect();
        let text = base32_encode(&raw);
        assert!(!text.contains('='));
        for variant in [
            text.clone(),
            text.to_lowercase(),
            format!("{text}="),
            format!("{text}======"),
        ] {
            assert_eq!(
                parse_totp_secret(&variant).unwrap().expose_secret(),
                &raw[..],
                "{variant}"
            );
        }
        let m = Err(Error::Malformed(MalformedKind::Totp));
        assert_eq!(parse_totp_secret(&format!("{text}=======")).map(|_| ()), m);
        assert_eq!(parse_totp_secret(&format!("{text} ")).map(|_| ()), m);
        assert_eq!(parse_totp_secret(&format!("={text}")).map(|_| ()), m);
    }
    let m = Err(Error::Malformed(MalformedKind::Totp));
    // 16 bytes are 26 characters whose last one carries 2 unused bits: "A" (0) is canonical, "B" is not.
    let canonical = base32_encode(&[0u8; 16]);
    assert_eq!(canonical, "A".repeat(26));
    assert!(parse_totp_secret(&canonical).is_ok());
    assert_eq!(
        parse_totp_secret(&format!("{}B", "A".repeat(25))).map(|_| ()),
        m
    );
    // 27 characters (an impossible length) and 129 bytes (too long) are refused.
    assert_eq!(parse_totp_secret(&"A".repeat(27)).map(|_| ()), m);
    assert_eq!(
        parse_totp_secret(&base32_encode(&[1u8; 129])).map(|_| ()),
        m
    );
    assert_eq!(parse_totp_secret(&base32_encode(&[1u8; 15])).map(|_| ()), m);
}
