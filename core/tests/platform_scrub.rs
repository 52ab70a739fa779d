//! scrub(), validate_slug/email and pseudonymize.
use keycustody::{generate_api_key, scrub, validate_email, validate_slug, Error, Keyring};

fn redacted(kind: &str) -> String {
    format!("[REDACTED:{kind}]")
}

#[test]
fn scrub_positive_cases() {
    let api = generate_api_key("obee").unwrap();
    let cases: Vec<(String, &str)> = vec![
        (format!("sk-ant-api03-{}AA", "a".repeat(90)), "anthropic"),
        (format!("sk-or-v1-{}", "0f".repeat(32)), "openrouter"),
        (format!("sk-proj-{}", "Ab1_".repeat(20)), "openai"),
        (format!("sk-{}", "A1b2".repeat(12)), "openai"),
        ("AIzaSyA1234567890abcdefghijklmnopqrstuv".to_owned(), "google"),
        (format!("ghp_{}", "a1B2".repeat(9)), "github"),
        (format!("github_pat_{}", "A".repeat(82)), "github"),
        (format!("sk_live_{}", "x".repeat(24)), "stripe"),
        (format!("rk_test_{}", "x".repeat(24)), "stripe"),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(), "stripe"),
        ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp".to_owned(), "slack"),
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX".to_owned(), "slack"),
        ("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1".to_owned(), "telegram"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned(),
            "jwt",
        ),
        ("-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----".to_owned(), "private_key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----".to_owned(), "private_key"),
        (format!("kcsk1.{}", "A".repeat(43)), "keycustody_private_key"),
        (api.key.expose_secret().to_owned(), "keycustody_api_key"),
    ];
    for (secret, kind) in cases {
        let line = format!("2026-11-23T10:00:00Z INFO got {secret} from upstream");
        let out = scrub(&line);
        assert_eq!(
            out,
            format!(
                "2026-11-23T10:00:00Z INFO got {} from upstream",
                redacted(kind)
            ),
            "{kind}: {secret}"
        );
        assert!(!out.contains(&secret));
    }
}

#[test]
fn scrub_truncated_pem_to_the_end() {
    assert_eq!(
        scrub("dump: -----BEGIN RSA PRIVATE KEY-----\nMIIE\ncut here"),
        "dump: [REDACTED:private_key]"
    );
}

#[test]
fn scrub_keeps_labels() {
    assert_eq!(
        scrub("Authorization: Bearer abc.def.ghi"),
        "Authorization: [REDACTED:authorization]"
    );
    assert_eq!(
        scrub(r#"{"authorization":"Basic dXNlcjpwYXNz","x":1}"#),
        r#"{"authorization":"[REDACTED:authorization]","x":1}"#
    );
    assert_eq!(
        scrub("proxy-authorization=token123\nnext"),
        "proxy-authorization=[REDACTED:authorization]\nnext"
    );
    assert_eq!(
        scrub("x-api-key: 0123456789abcdef"),
        "x-api-key: [REDACTED:api_key]"
    );
    assert_eq!(
        scrub("GET /v1?api_key=abcdefgh12345&q=1"),
        "GET /v1?api_key=[REDACTED:api_key]&q=1"
    );
    assert_eq!(
        scrub("curl -H 'bearer abcdefghijklmnop1234'"),
        "curl -H 'bearer [REDACTED:bearer]'"
    );
    assert_eq!(
        scrub(r#"{"kid":1,"secret":"c2VjcmV0c2VjcmV0c2VjcmV0"}"#),
        r#"{"kid":1,"secret":"[REDACTED:keyring_secret]"}"#
    );
    assert_eq!(
        scrub("postgres://app:hunter2@db:5432/x"),
        "postgres://app:[REDACTED:url_password]@db:5432/x"
    );
}

#[test]
fn scrub_no_false_positives() {
    let k = Keyring::generate().unwrap();
    let env = k
        .seal("tenant", b"sk-ant-api03-this-is-inside-ciphertext", b"")
        .unwrap();
    let fine = [
        "550e8400-e29b-41d4-a716-446655440000".to_owned(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_owned(),
        "da39a3ee5e6b4b0d3255bfef95601890afd80709".to_owned(),
        env.clone(),
        "task-list-management-and-scheduling-system".to_owned(),
        "user_profile_settings_page_component_id".to_owned(),
        format!("obee_{}", "A".repeat(36)), // our key shape, wrong checksum
        "12:34:56.789 request took 123ms".to_owned(),
        "sk-short".to_owned(),
        "The author is ask-ant-like.".to_owned(),
        "[REDACTED:openai]".to_owned(),
        "https://example.com/path?x=1".to_owned(),
        "ghp_short".to_owned(),
        "AIza too short".to_owned(),
        "eyJhbGciOi alone".to_owned(),
        "bearer short".to_owned(),
        "café ünïcödé ✓ 🙂 text".to_owned(),
    ];
    for text in fine {
        assert_eq!(scrub(&text), text, "{text}");
    }
    assert_eq!(scrub(""), "");
}

/// Only what `inspect()` accepts as a kc1 envelope is kept: a secret glued after `kc1.`
/// used to hide behind the keep-rule (issue 12 §3.2).
#[test]
fn scrub_kc1_keep_rule_needs_a_real_envelope() {
    let k = Keyring::generate().unwrap();
    let env = k.seal("tenant", b"x", b"").unwrap();
    assert_eq!(scrub(&format!("v={env} ok")), format!("v={env} ok"));
    let key = format!("sk-ant-api03-{}", "a".repeat(60));
    assert_eq!(
        scrub(&format!("value=kc1.{key}")),
        "value=kc1.[REDACTED:anthropic]"
    );
    assert_eq!(scrub(&format!("kc1.x {key}")), "kc1.x [REDACTED:anthropic]");
}

/// Single-quoted and bare-key forms (issue 12 §3.2: these passed through).
#[test]
fn scrub_quoted_and_bare_forms() {
    for (input, want) in [
        (
            "{'Authorization': 'Basic dXNlcjpwYXNzd29yZA=='}",
            "{'Authorization': '[REDACTED:authorization]'}",
        ),
        (
            "{'x-api-key': 'custom-provider-key-1234567890'}",
            "{'x-api-key': '[REDACTED:api_key]'}",
        ),
        (
            "new Client({ apiKey: 'abcdefghijklmnop1234' })",
            "new Client({ apiKey: '[REDACTED:api_key]' })",
        ),
        (
            "api_key='abcdefghijklmnop1234'",
            "api_key='[REDACTED:api_key]'",
        ),
        (
            "curl -H 'Authorization: Bearer abcdefghijklmnop' x",
            "curl -H 'Authorization: [REDACTED:authorization]' x",
        ),
        (
            r#"{"password": "correct horse battery staple", "user": "a"}"#,
            r#"{"password": "[REDACTED:password]", "user": "a"}"#,
        ),
        (
            "password=hunter2&next=1",
            "password=[REDACTED:password]&next=1",
        ),
        ("PASSWD: s3cr3t more", "PASSWD: [REDACTED:password] more"),
        ("db_password='x y'", "db_password='[REDACTED:password]'"),
        (
            "Cookie: session=abc123; theme=dark\r\nHost: x",
            "Cookie: [REDACTED:cookie]\r\nHost: x",
        ),
        (
            "set-cookie: sid=s%3Aabc; Path=/; HttpOnly",
            "set-cookie: [REDACTED:cookie]",
        ),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = [REDACTED:aws_secret_key]",
        ),
        (
            "{'secret': 'c2VjcmV0c2VjcmV0c2VjcmV0'}",
            "{'secret': '[REDACTED:keyring_secret]'}",
        ),
    ] {
        assert_eq!(scrub(input), want, "{input}");
        assert_eq!(scrub(want), want, "idempotent: {want}");
    }
}

/// Shapes added by issue 12, and the Telegram token ending in `-` (a trailing `\b` let
/// about 1 in 64 through).
#[test]
fn scrub_new_shapes() {
    let pgp = concat!(
        "-----BEGIN PGP PRIVATE",
        " KEY BLOCK-----\n\nlQOYBF\n=abcd\n-----END PGP PRIVATE",
        " KEY BLOCK-----"
    );
    let cases: Vec<(String, &str)> = vec![
        (
            "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-".to_owned(),
            "telegram",
        ),
        (
            "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsa_-".to_owned(),
            "telegram",
        ),
        ("AKIAIOSFODNN7EXAMPLE".to_owned(), "aws_access_key"),
        ("ASIAY34FZKBOKMUTVV7A".to_owned(), "aws_access_key"),
        (format!("hf_{}", "aB3".repeat(12)), "huggingface"),
        (format!("gsk_{}", "x9Y".repeat(18)), "groq"),
        (format!("xai-{}", "Q7r".repeat(27)), "xai"),
        (pgp.to_owned(), "pgp_private_key"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0".to_owned(), "jwt"),
    ];
    for (secret, kind) in cases {
        let line = format!("got {secret} from upstream");
        assert_eq!(
            scrub(&line),
            format!("got {} from upstream", redacted(kind)),
            "{kind}: {secret}"
        );
    }
}

#[test]
fn scrub_new_shapes_no_false_positives() {
    for text in [
        "Click the password reset link",
        "passwords: 3 changed; password_hash stored",
        "no cookies here, cookie jar empty",
        "AKIA is a prefix; AKIAIOSFODNN7EXAMPL too short",
        "hf_model_name gsk_short xai-grok",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "550e8400-e29b-41d4-a716-446655440000",
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1x",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----",
        "-----BEGIN PGP SIGNATURE-----",
    ] {
        assert_eq!(scrub(text), text, "{text}");
    }
}

/// A private-key block is looked at for its END line at most 16 KiB on; past that the
/// base64 lines still go, and the first ordinary line stays.
#[test]
fn scrub_long_private_key_block() {
    let begin = concat!("-----BEGIN RSA PRIVATE", " KEY-----\n");
    let end = concat!("-----END RSA PRIVATE", " KEY-----");
    let body = format!("{}\n", "A".repeat(64)).repeat(400); // 26 KB
    let text = format!("a {begin}{body}{end}\nINFO next line");
    assert_eq!(scrub(&text), "a [REDACTED:private_key]\nINFO next line");
    let text = format!(
        "a {begin}{body}INFO next line {}",
        "sk-ant-".to_owned() + &"b".repeat(40)
    );
    assert_eq!(
        scrub(&text),
        "a [REDACTED:private_key]INFO next line [REDACTED:anthropic]"
    );
    // Short blocks end at their END line.
    let text = format!("{begin}MIIE\n{end}\nafter");
    assert_eq!(scrub(&text), "[REDACTED:private_key]\nafter");
}

#[test]
fn scrub_many_in_one_line_and_idempotent() {
    let line = format!(
        "a=sk-{} b=ghp_{} c=AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "x1".repeat(20),
        "Z9".repeat(18)
    );
    let out = scrub(&line);
    assert_eq!(
        out,
        "a=[REDACTED:openai] b=[REDACTED:github] c=[REDACTED:google]"
    );
    assert_eq!(scrub(&out), out);
}

#[test]
fn scrub_is_linear_on_adversarial_input() {
    // Near-misses repeated: a backtracking engine would blow up here.
    let evil = "-----BEGIN PRIVATE KEY-----".repeat(20_000)
        + &"Authorization:".repeat(20_000)
        + &"sk-".repeat(50_000)
        + &"eyJa.eyJa.".repeat(20_000);
    let out = scrub(&evil);
    assert!(out.starts_with("[REDACTED:private_key]"));
}

#[test]
fn slugs() {
    for ok in ["abc", "a-b", "acme-corp-2", "0x1", &"a".repeat(32)] {
        assert_eq!(validate_slug(ok), Ok(()), "{ok}");
    }
    for bad in [
        "",
        "ab",
        "-ab",
        "ab-",
        "Abc",
        "a_b",
        "a b",
        "a.b",
        "ünï",
        &"a".repeat(33),
        "ab\n",
        "a\u{0}b",
    ] {
        assert!(
            matches!(validate_slug(bad), Err(Error::InvalidArgument(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn emails() {
    for ok in [
        "a@b.co",
        "first.last+tag@example.com",
        "o'brien@mail.example.org",
        "x_y-z@sub-domain.example.io",
        "A!#$%&*=?^`{|}~@ex.com",
    ] {
        assert_eq!(validate_email(ok), Ok(()), "{ok}");
    }
    let long_local = format!("{}@example.com", "a".repeat(65));
    let long_all = format!("a@{}.com", "b".repeat(250));
    for bad in [
        "",
        "a",
        "@b.co",
        "a@",
        "a@b",
        "a@@b.co",
        "a..b@c.co",
        ".a@b.co",
        "a.@b.co",
        "\"a\"@b.co",
        "a b@c.co",
        "a@b.co\n",
        "a\r\n@b.co",
        "a@b.co\r\nBcc: x@y.z",
        "a@-b.co",
        "a@b-.co",
        "a@b..co",
        "a@[127.0.0.1]",
        "a@b_c.co",
        "a\u{7}@b.co",
        "ü@b.co",
        "a@ü.co",
        "a(comment)@b.co",
        &long_local,
        &long_all,
    ] {
        assert!(
            matches!(validate_email(bad), Err(Error::InvalidArgument(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn pseudonyms() {
    let k = Keyring::from_secret(b"0123456789abcdef0123456789abcdef", 1).unwrap();
    let a = k.pseudonymize("203.0.113.7").unwrap();
    assert_eq!(a.len(), 64);
    assert!(a
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(a, k.pseudonymize("203.0.113.7").unwrap());
    assert_ne!(a, k.pseudonymize("203.0.113.8").unwrap());
    assert_ne!(a, k.pseudonymize_for("tenant", "203.0.113.7").unwrap());
    let other = Keyring::from_secret(b"1123456789abcdef0123456789abcdef", 1).unwrap();
    assert_ne!(a, other.pseudonymize("203.0.113.7").unwrap());
    assert!(matches!(
        k.pseudonymize(&"x".repeat(64 * 1024 + 1)),
        Err(Error::TooLarge { .. })
    ));
    assert_eq!(k.pseudonymize_for("", "x"), Err(Error::InvalidOwner));
}

/// The fuzz target's properties on mixtures of the vector inputs (deterministic): scrub is
/// idempotent and a planted key never survives, bare, after `kc1.` or single-quoted.
#[test]
fn scrub_idempotent_on_mixtures() {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/vectors/scrub_v1.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let pieces: Vec<String> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["input"].as_str().unwrap().to_owned())
        .chain(["'", "\"", ":", "=", " ", "kc1.", "\n", "x"].map(str::to_owned))
        .collect();
    let planted = format!("sk-ant-api03-{}-ABCDEF", "AbCdEf0123".repeat(8));
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..1000 {
        let mut text = String::new();
        for _ in 0..4 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let p = &pieces[(x >> 33) as usize % pieces.len()];
            let cut = (x >> 20) as usize % (p.len() + 1);
            text.push_str(p.get(..cut).unwrap_or(p));
        }
        let once = scrub(&text);
        assert_eq!(scrub(&once), once, "not idempotent: {text:?}");
        for t in [
            format!("{text} {planted} {text}"),
            format!("{text} kc1.{planted} {text}"),
            format!("{text} {{'x-api-key': '{planted}'}} {text}"),
        ] {
            assert!(!scrub(&t).contains(&planted), "{t:?}");
        }
    }
}

/// fuzz/regressions/scrub-not-idempotent-crash-52debe3f…: a URL password, an already
/// redacted `[REDACTED:url_pcssword]` and a keyring `"secret":"…"` in one text.
#[test]
fn scrub_idempotent_on_fuzz_regression() {
    let data = include_bytes!(
        "../../fuzz/regressions/scrub-not-idempotent-crash-52debe3f449f972bd0c0613b9f6b0e96ad9837c1"
    );
    let text = std::str::from_utf8(data).unwrap();
    let once = scrub(text);
    assert_eq!(scrub(&once), once, "not idempotent: {text:?}");
}

/// One sample of every shape, labels cut short, separators, and redaction markers (the
/// pieces whose joins made a second scrub differ from the first).
fn idempotence_pieces() -> Vec<String> {
    let a = |n: usize| "A".repeat(n);
    let mut p: Vec<String> = [
        "[REDACTED:url_password]",
        "[REDACTED:keyring_secret]",
        "[REDACTED:github]",
        "[REDACTED:",
        "]",
        "postgres://app:",
        "https://",
        "x://u:",
        "@db:5432/app",
        "@",
        "\"secret\":\"",
        "'secret':'",
        "\"api_key\":\"",
        "api_key=",
        "x-api-key: ",
        "aws_secret_key=\"",
        "password=",
        "'password': '",
        "Authorization: ",
        "Bearer ",
        "cookie: ",
        "-----BEGIN PRIVATE KEY-----\n",
        "-----END PRIVATE KEY-----",
        "kc1.",
        "eyJhbGciOi",
        ".eyJzdWIi",
        "not base64!",
        "\"",
        "'",
        " ",
        "\n",
        ":",
        "=",
        "-",
        "_",
        "/",
        "x",
    ]
    .map(str::to_owned)
    .to_vec();
    p.extend([
        format!("ghp_{}", a(36)),
        format!("ghp_{}", a(300)),
        format!("AIza{}", a(35)),
        format!("12345678:A{}", a(34)),
        format!("12345678:A{}-", a(33)),
        format!("AKIA{}", a(16)),
        format!("sk-ant-api03-{}", a(40)),
        "xoxb-1234567890".to_owned(),
        format!("kcsk1.{}", a(43)),
        format!("hf_{}", a(34)),
        generate_api_key("obee")
            .unwrap()
            .key
            .expose_secret()
            .to_owned(),
    ]);
    p
}

/// Joins of shape samples and markers found by hand: each made scrub(scrub(x)) differ
/// before markers became barriers (a replacement formed a new match or a new `\b`).
#[test]
fn scrub_idempotent_on_joins() {
    let a = |n: usize| "A".repeat(n);
    for text in [
        // The fuzz input's shape: a URL password broken by a space inside a keyring secret.
        "postgres://apw:\"secret\":\"not base64!\"@db".to_owned(),
        // The redacted secret was too long for a URL password, its marker is not.
        format!("x://u:\"secret\":\"{}\"@h", a(300)),
        // A quoted api_key value broken by a quote inside a URL password.
        "\"api_key\":\"a://u:\"bcdefgh@h".to_owned(),
        // aws_secret_key needs 16 bytes; the Slack token had 15, its marker has more.
        "aws_secret_key=\"xoxb-1234567890\"".to_owned(),
        // A token cut at its longest run, or an exact shape, glued to another token.
        format!("ghp_{}AKIA{}", a(255), a(16)),
        format!("AIza{}ghp_{}", a(35), a(36)),
        // A Telegram token refused for the token byte after it, which is then redacted.
        format!("12345678:A{}-ghp_{}", a(33), a(36)),
        // A chain of them: each refused for the next one's first digit (a proptest find).
        format!("12345678:A{}-12345678:A{}-ghp_{}", a(33), a(33), a(36)),
        format!(
            "12345678:A{0}-123456789:A{0}-1234567890:A{0}-ghp_{1}",
            a(33),
            a(36)
        ),
        format!("x 12345678:A{0}-12345678:A{0}-12345678:A{0}", a(33)),
        format!("12345678:A{}------BEGIN PRIVATE KEY-----\nx", a(33)),
        // A token used as a URL's user name.
        format!("https://ghp_{}:pw@h", a(36)),
        // A JWT glued to a redacted secret, with a later JWT-like run already looked at (the
        // later run's verdict answered for the first: a proptest find).
        format!("AIza{}eyJhbGciOi.eyJzdWIi", a(35)),
        format!("-----END PRIVATE KEY-----AIza{}eyJhbGciOi.eyJzdWIi", a(35)),
        format!("AIza{}eyJhbGciOi.eyJzdWIi.sig x eyJhbGciOi", a(35)),
    ] {
        let once = scrub(&text);
        assert_eq!(scrub(&once), once, "not idempotent: {text:?}");
    }
    // What the joins become (the secrets are gone, the rest is kept).
    assert_eq!(
        scrub(&format!("AIza{}eyJhbGciOi.eyJzdWIi", a(35))),
        format!("{}{}", redacted("google"), redacted("jwt"))
    );
    assert_eq!(
        scrub(&format!("12345678:A{}-ghp_{}", a(33), a(36))),
        format!("{}{}", redacted("telegram"), redacted("github"))
    );
    assert_eq!(
        scrub(&format!(
            "12345678:A{0}-12345678:A{0}-ghp_{1}",
            a(33),
            a(36)
        )),
        format!(
            "{}{}{}",
            redacted("telegram"),
            redacted("telegram"),
            redacted("github")
        )
    );
    assert_eq!(
        scrub(&format!("https://ghp_{}:pw@h", a(36))),
        format!(
            "https://{}:{}@h",
            redacted("github"),
            redacted("url_password")
        )
    );
    assert_eq!(
        scrub("postgres://apw:\"secret\":\"not base64!\"@db"),
        format!(
            "postgres://apw:\"secret\":\"{}\"@db",
            redacted("keyring_secret")
        )
    );
    // A marker already in the text is kept as it is and is a barrier.
    assert_eq!(
        scrub("password=[REDACTED:password] x://u:[REDACTED:x]y@h"),
        "password=[REDACTED:password] x://u:[REDACTED:x]y@h"
    );
}

proptest::proptest! {
    // 2000 random cases a run; PROPTEST_CASES=N runs N (a longer hunt, by hand).
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        ..proptest::prelude::ProptestConfig::default()
    })]
    /// scrub(scrub(x)) == scrub(x) on concatenations of shape samples and markers.
    #[test]
    fn scrub_is_idempotent_on_concatenations(
        picks in proptest::collection::vec((0usize..1000, 0usize..1000), 1..8)
    ) {
        let pieces = idempotence_pieces();
        let mut text = String::new();
        for (i, cut) in picks {
            let p = &pieces[i % pieces.len()];
            // Whole pieces mostly, sometimes a prefix.
            let cut = if cut % 3 == 0 { cut % (p.len() + 1) } else { p.len() };
            text.push_str(p.get(..cut).unwrap_or(p));
        }
        let once = scrub(&text);
        proptest::prop_assert_eq!(scrub(&once), once.clone(), "text: {:?}", text);
    }
}
