//! No secret in any output: every public function of the core is driven with secrets that carry
//! a marker — root keys, keyring text, plaintexts, API keys, stored hashes — through its success
//! and failure paths, and every error's `Display`/`Debug`/`kind`/`code`/`describe` and every
//! returned value's `Debug` is checked for the marker in raw, hex and base64 form.
//!
//! The test fails if it sees a marker, and also if it saw too few outputs (so it cannot pass by
//! checking nothing). Owned by the assurance issue (ASSURANCE.md).

use base64::Engine as _;
use keycustody::{
    constant_time_equal, generate_api_key, hash_api_key, inspect, inspect_binary, invite_code,
    parse_api_key, random_base62, random_token, verify_api_key, Error, Keyring, SecretBytes,
    SecretString,
};

const MARKER: &str = "ZQXMARKERQXZ";

/// Collects every string a caller could print, then checks them all.
struct Outputs {
    seen: Vec<(String, String)>,
    needles: Vec<String>,
}

impl Outputs {
    fn new() -> Self {
        let m = MARKER.as_bytes();
        let mut needles = vec![MARKER.to_owned(), MARKER.to_lowercase(), hex::encode(m)];
        // Base64 of the marker at each of the three alignments, trimmed to the stable middle.
        for pad in 0..3 {
            let mut b = vec![b'.'; pad];
            b.extend_from_slice(m);
            for eng in [
                base64::engine::general_purpose::STANDARD_NO_PAD,
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ] {
                let enc = eng.encode(&b);
                let start = pad.div_ceil(3) * 4;
                needles.push(enc[start..enc.len() - 4].to_owned());
            }
        }
        Outputs {
            seen: Vec::new(),
            needles,
        }
    }

    fn add(&mut self, what: &str, s: String) {
        self.seen.push((what.to_owned(), s));
    }

    fn err(&mut self, what: &str, e: &Error) {
        self.add(what, format!("{e}"));
        self.add(what, format!("{e:?}"));
        self.add(what, format!("{e:#?}"));
        self.add(what, e.kind().to_owned());
        self.add(what, e.code().to_owned());
        if let Error::Malformed(k) = e {
            self.add(what, k.describe().to_owned());
            self.add(what, format!("{k:?}"));
            self.add(what, k.name().to_owned());
        }
        if let Some(name) = e.env_var() {
            self.add(what, name.to_owned());
        }
    }

    /// Records the error of a call that must fail.
    #[track_caller]
    fn fail<T: std::fmt::Debug>(&mut self, what: &str, r: keycustody::Result<T>) -> Error {
        match r {
            Ok(v) => panic!("{what}: expected an error, got {v:?}"),
            Err(e) => {
                self.err(what, &e);
                e
            }
        }
    }

    /// Records the Debug of a value that is allowed to hold a secret (it must not show it).
    fn dbg<T: std::fmt::Debug>(&mut self, what: &str, v: &T) {
        self.add(what, format!("{v:?}"));
        self.add(what, format!("{v:#?}"));
    }

    fn check(&self, min: usize) {
        assert!(
            self.seen.len() >= min,
            "only {} outputs checked, expected at least {min}",
            self.seen.len()
        );
        for (what, s) in &self.seen {
            for n in &self.needles {
                assert!(
                    !s.contains(n.as_str()),
                    "{what}: marker {n:?} leaked in {s:?}"
                );
            }
        }
    }
}

fn root() -> Vec<u8> {
    format!("root-{MARKER}-0123456789abcdef-{MARKER}").into_bytes()
}

fn plaintext() -> Vec<u8> {
    format!("sk-ant-api03-{MARKER}-plaintext").into_bytes()
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn keyring_text(secret: &[u8]) -> String {
    format!(
        r#"{{"version":1,"primary":2,"keys":[{{"kid":1,"state":"decrypt-only","secret":"{}"}},{{"kid":2,"state":"active","secret":"{}"}}]}}"#,
        b64url(secret),
        b64url(&[secret, b"-two"].concat())
    )
}

/// CRC-32/IEEE, bitwise (independent of the library's crc32fast).
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A valid API key whose body carries the marker in its middle (the hint shows only 4+4 chars).
fn marker_api_key() -> String {
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let random = format!("abcd{MARKER}{}", "x".repeat(30 - 4 - MARKER.len()));
    assert_eq!(random.len(), 30);
    let head = format!("kc_{random}");
    let mut n = crc32(head.as_bytes());
    let mut sum = [b'0'; 6];
    for slot in sum.iter_mut().rev() {
        *slot = B62[(n % 62) as usize];
        n /= 62;
    }
    format!("{head}{}", std::str::from_utf8(&sum).unwrap())
}

#[test]
fn marker_helpers_detect_a_leak() {
    // The checker itself must see a marker in each encoding, or the real test proves nothing.
    for leaked in [
        format!("x{MARKER}y"),
        hex::encode(root()),
        b64url(&root()),
        base64::engine::general_purpose::STANDARD.encode(plaintext()),
        b64url(marker_api_key().as_bytes()),
    ] {
        let mut o = Outputs::new();
        o.add("probe", leaked.clone());
        let caught = std::panic::catch_unwind(|| o.check(1));
        assert!(caught.is_err(), "checker missed a leak in {leaked:?}");
    }
    assert!(parse_api_key(&marker_api_key()).is_ok());
}

#[test]
fn keyring_paths_never_print_a_secret() {
    let mut o = Outputs::new();
    let root = root();
    let pt = plaintext();

    // Construction: valid and failing.
    let kr = Keyring::from_secret(&root, 1).unwrap();
    o.dbg("from_secret", &kr);
    o.fail("from_secret short", Keyring::from_secret(&root[..20], 1));
    o.fail("from_secret kid 0", Keyring::from_secret(&root, 0));
    o.fail(
        "from_secret huge",
        Keyring::from_secret(&vec![b'Z'; 5000], 1),
    );
    let text = keyring_text(&root);
    let kr2 = Keyring::parse(&text).unwrap();
    o.dbg("parse", &kr2);
    o.dbg("kids", &kr2.kids());
    // Every way to break the keyring text, each keeping the secret in it.
    let bad_texts = [
        text.replace(r#""version":1"#, r#""version":2"#),
        text.replace(r#""primary":2"#, r#""primary":1"#),
        text.replace(r#""kid":1"#, r#""kid":2"#),
        text.replace(r#""kid":1"#, r#""kid":0"#),
        text.replace("decrypt-only", "bogus-state"),
        text.replacen(&b64url(&root), &format!("!!{MARKER}!!"), 1),
        text.replacen(&b64url(&root), &b64url(MARKER.as_bytes()), 1),
        text.replace('}', ""),
        format!("{text} trailing {MARKER}"),
        format!(
            r#"{{"version":1,"primary":1,"keys":[{{"kid":1,"state":"active","secret":{MARKER}}}]}}"#
        ),
        format!(r#"{{"{MARKER}":1}}"#),
        format!("{MARKER}{}", " ".repeat(2 << 20)),
    ];
    for (i, t) in bad_texts.iter().enumerate() {
        let e = o.fail(&format!("parse bad #{i}"), Keyring::parse(t));
        assert!(
            matches!(e, Error::Malformed(_) | Error::TooLarge { .. }),
            "parse bad #{i}: {e:?}"
        );
    }
    // from_env: unset, and set to a bad keyring carrying the secret.
    o.fail(
        "from_env unset",
        Keyring::from_env("KEYCUSTODY_NO_SUCH_VAR_FOR_TEST"),
    );
    std::env::set_var("KEYCUSTODY_ASSURANCE_BAD", &bad_texts[0]);
    o.fail(
        "from_env bad",
        Keyring::from_env("KEYCUSTODY_ASSURANCE_BAD"),
    );
    // from_file: missing, insecure, malformed.
    let dir = std::env::temp_dir().join(format!("kc-nosecret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    o.fail("from_file missing", Keyring::from_file(dir.join("missing")));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("open.json");
        std::fs::write(&p, &text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            o.fail("from_file 0644", Keyring::from_file(&p)),
            Error::InsecurePermissions
        );
        let q = dir.join("bad.json");
        std::fs::write(&q, &bad_texts[5]).unwrap();
        std::fs::set_permissions(&q, std::fs::Permissions::from_mode(0o600)).unwrap();
        o.fail("from_file malformed", Keyring::from_file(&q));
        let ok = dir.join("ok.json");
        std::fs::write(&ok, &text).unwrap();
        std::fs::set_permissions(&ok, std::fs::Permissions::from_mode(0o600)).unwrap();
        o.dbg("from_file ok", &Keyring::from_file(&ok).unwrap());
    }
    std::fs::remove_dir_all(&dir).unwrap();

    // Export is the one place a secret is meant to come out; its Debug must not show it.
    let exported = kr2.export().unwrap();
    assert!(exported.expose_secret().contains(&b64url(&root)));
    o.dbg("export", &exported);

    // Seal / open, success and every failure.
    let env = kr2.seal("tenant-a", &pt, b"llm_key").unwrap();
    let bin = kr2.seal_binary("tenant-a", &pt, b"llm_key").unwrap();
    let opened = kr2.open("tenant-a", &env, b"llm_key").unwrap();
    assert_eq!(opened.expose_secret(), &pt[..]);
    o.dbg("open ok", &opened);
    o.dbg(
        "open_binary ok",
        &kr2.open_binary("tenant-a", &bin, b"llm_key").unwrap(),
    );
    o.dbg(
        "open_text ok",
        &kr2.open_text("tenant-a", &env, b"llm_key").unwrap(),
    );
    o.dbg("inspect", &inspect(&env).unwrap());
    o.dbg("inspect_binary", &inspect_binary(&bin).unwrap());
    o.fail("seal no owner", kr2.seal("", &pt, b""));
    o.fail("seal long owner", kr2.seal(&"o".repeat(1025), &pt, b""));
    o.fail("seal_binary no owner", kr2.seal_binary("", &pt, b""));
    assert_eq!(
        o.fail("open wrong owner", kr2.open("tenant-b", &env, b"llm_key")),
        Error::DecryptFailed
    );
    assert_eq!(
        o.fail("open wrong ctx", kr2.open("tenant-a", &env, b"other")),
        Error::DecryptFailed
    );
    o.fail("open wrong key", kr.open("tenant-a", &env, b"llm_key"));
    let mut tampered = bin.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        o.fail(
            "open tampered",
            kr2.open_binary("tenant-a", &tampered, b"llm_key")
        ),
        Error::DecryptFailed
    );
    o.fail(
        "open not kc1",
        kr2.open("tenant-a", &format!("kc2.{MARKER}"), b""),
    );
    o.fail(
        "open bad b64",
        kr2.open("tenant-a", &format!("kc1.{MARKER}!"), b""),
    );
    o.fail(
        "open short",
        kr2.open(
            "tenant-a",
            &format!("kc1.{}", b64url(MARKER.as_bytes())),
            b"",
        ),
    );
    o.fail("inspect marker", inspect(&format!("kc1.{MARKER}")));
    o.fail("inspect_binary marker", inspect_binary(MARKER.as_bytes()));
    let mut v2 = bin.clone();
    v2[0] = 2;
    o.fail("inspect version", inspect_binary(&v2));
    let text_pt = kr2.seal("tenant-a", &[0xff, 0xfe, b'Z'], b"").unwrap();
    o.fail(
        "open_text non-utf8",
        kr2.open_text("tenant-a", &text_pt, b""),
    );
    o.fail(
        "needs_rewrap bad",
        kr2.needs_rewrap(&format!("kc1.{MARKER}")),
    );
    o.fail(
        "rewrap wrong owner",
        kr2.rewrap("tenant-b", &env, b"llm_key"),
    );
    o.fail("rewrap bad", kr2.rewrap("tenant-a", MARKER, b""));

    // Rotation paths.
    let old = kr2.seal("tenant-a", &pt, b"c").unwrap();
    let new_kid = kr2.rotate().unwrap();
    assert!(kr2.needs_rewrap(&old).unwrap());
    let re = kr2.rewrap("tenant-a", &old, b"c").unwrap();
    assert_eq!(inspect(&re).unwrap().kid, new_kid);
    o.fail("promote unknown", kr2.promote(99));
    o.fail("retire primary", kr2.retire(new_kid));
    kr2.retire(1).unwrap();
    let under1 = kr.seal("tenant-a", &pt, b"").unwrap();
    assert_eq!(
        o.fail("open retired", kr2.open("tenant-a", &under1, b"")),
        Error::KeyRetired(1)
    );
    o.fail("state_of unknown", kr2.state_of(42));
    o.fail("remove unknown", kr2.remove(42));
    o.fail(
        "add_key_with_secret short",
        kr2.add_key_with_secret(SecretBytes::new(MARKER.as_bytes().to_vec())),
    );
    o.dbg("after rotation", &kr2);
    o.dbg("kids after", &kr2.kids());

    // Derivation.
    o.dbg(
        "derive_key",
        &kr2.derive_key("webhook", "tenant-a", 32).unwrap(),
    );
    o.fail(
        "derive_key empty purpose",
        kr2.derive_key("", "tenant-a", 32),
    );
    o.fail("derive_key length 0", kr2.derive_key("p", "tenant-a", 0));
    o.fail("derive_key huge", kr2.derive_key("p", "tenant-a", 9000));
    o.fail("derive_key no owner", kr2.derive_key("p", "", 32));
    o.fail(
        "derive_labeled unknown",
        keycustody::internal::derive_labeled(&kr2, Some(77), b"x", "tenant-a", 32),
    );

    // Secret wrappers.
    o.dbg("SecretBytes", &SecretBytes::new(pt.clone()));
    o.dbg(
        "SecretString",
        &SecretString::new(String::from_utf8(pt.clone()).unwrap()),
    );
    o.fail(
        "into_string",
        SecretBytes::new(vec![0xff, b'Z']).into_string(),
    );

    o.check(150);
}

#[test]
fn api_key_and_token_paths_never_print_a_secret() {
    let mut o = Outputs::new();
    let key = marker_api_key();
    let parsed = parse_api_key(&key).unwrap();
    o.dbg("ApiKey", &parsed);
    o.add("hint", parsed.hint());
    let h = hash_api_key(&key).unwrap();
    assert!(verify_api_key(&key, &h).unwrap());
    let wrong = "0".repeat(64);
    assert!(!verify_api_key(&key, &wrong).unwrap());
    // Each failure keeps the marker in the input.
    let mut typo = key.clone().into_bytes();
    let i = typo.len() - 10;
    typo[i] = if typo[i] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    for (what, k) in [
        ("no underscore", MARKER.to_owned()),
        ("bad prefix", format!("K_{MARKER}")),
        ("short body", format!("kc_{MARKER}")),
        ("charset", key.replace('x', "-")),
        ("checksum", typo),
    ] {
        o.fail(&format!("parse_api_key {what}"), parse_api_key(&k));
        o.fail(&format!("hash_api_key {what}"), hash_api_key(&k));
        // A bad presentation is a plain `false` (issue 13 item 5): nothing to print.
        assert_eq!(verify_api_key(&k, &h), Ok(false), "verify_api_key {what}");
    }
    o.fail("verify_api_key bad hash", verify_api_key(&key, MARKER));
    o.fail(
        "verify_api_key upper hash",
        verify_api_key(&key, &h.to_uppercase()),
    );
    o.fail("parse via FromStr", MARKER.parse::<keycustody::ApiKey>());
    let g = generate_api_key("kc").unwrap();
    o.dbg("GeneratedApiKey", &g);
    assert!(!format!("{g:?}").contains(g.key.expose_secret()));
    o.fail("generate_api_key bad prefix", generate_api_key(MARKER));

    // Random tokens are secrets too: their Debug must not show them.
    let t = random_token(32).unwrap();
    assert!(!format!("{t:?}").contains(t.expose_secret()));
    o.dbg("random_token", &t);
    o.dbg("random_base62", &random_base62(20).unwrap());
    o.dbg("invite_code", &invite_code(8).unwrap());
    o.fail("random_token 0", random_token(0));
    assert!(!constant_time_equal(key.as_bytes(), MARKER.as_bytes()));

    o.check(60);
}

/// Issue 14 (DESIGN §7): passphrases, DEKs, tenant keyrings and KEK key references that carry
/// the marker never reach an error, a `Debug` or a returned value's `Debug`.
#[test]
fn custody_paths_never_print_a_secret() {
    use keycustody::internal::{dangerous_pending_wrap_with, dangerous_wrap_with_passphrase_fixed};
    use keycustody::{Argon2Params, PendingWrap, TenantKeyringCache, WrappedKeyring};
    let mut o = Outputs::new();
    let fast = Argon2Params {
        m_kib: 256,
        t: 1,
        p: 1,
    };
    let platform = Keyring::parse(&keyring_text(&root())).unwrap();
    let tenant = Keyring::parse(&keyring_text(&plaintext())).unwrap();
    let passphrase = format!("pass-{MARKER}-phrase").into_bytes();
    // A DEK whose bytes are the marker's (the fixed-DEK hook), and a key reference with a PIN.
    let mut dek = [0u8; 32];
    dek[..MARKER.len()].copy_from_slice(MARKER.as_bytes());
    let pin_uri = format!("pkcs11:token=t;object=o;pin-value={MARKER}");

    // Tenant keyrings under the platform keyring.
    let env = platform.seal_keyring("tenant-a", &tenant).unwrap();
    let opened = platform.open_keyring("tenant-a", &env).unwrap();
    o.dbg("open_keyring", &opened);
    o.fail(
        "open_keyring wrong tenant",
        platform.open_keyring("tenant-b", &env),
    );
    let junk = platform
        .seal(
            "tenant-a",
            &plaintext(),
            keycustody::KEYRING_CONTEXT.as_bytes(),
        )
        .unwrap();
    o.fail(
        "open_keyring not a keyring",
        platform.open_keyring("tenant-a", &junk),
    );
    o.fail("seal_keyring no tenant", platform.seal_keyring("", &tenant));

    // The cache.
    let cache = TenantKeyringCache::new(4, 60);
    cache.insert("tenant-a", opened, 0);
    o.dbg("cache", &cache);
    o.dbg("cache get", &cache.get("tenant-a", 1));
    o.fail(
        "get_or_load failure",
        cache.get_or_load("tenant-x", 1, || Err(Error::KekUnavailable("aws-kms"))),
    );

    // Two-step wrap.
    let p = dangerous_pending_wrap_with(&tenant, "pkcs11", &pin_uri, "tenant-a", &dek, &[3; 12])
        .unwrap();
    o.dbg("PendingWrap", &p);
    let w = p.finish(format!("wrapped-{MARKER}").as_bytes()).unwrap();
    o.dbg("WrappedKeyring", &w);
    o.fail("open_with_dek wrong", w.open_with_dek(&[9; 32]));
    o.fail("open_with_dek short", w.open_with_dek(&dek[..31]));
    o.fail(
        "open_with_passphrase on pkcs11",
        w.open_with_passphrase(&passphrase),
    );
    o.fail(
        "PendingWrap bad type",
        PendingWrap::new(&tenant, &format!("t-{MARKER}"), "k", ""),
    );
    o.fail(
        "PendingWrap passphrase type",
        PendingWrap::new(&tenant, "passphrase", &pin_uri, ""),
    );
    let text = w.to_text();
    for (what, t) in [
        (
            "parse unknown field",
            text.replacen("\"owner\"", &format!("\"{MARKER}\":1,\"owner\""), 1),
        ),
        (
            "parse version",
            text.replacen("\"version\":1", "\"version\":7", 1),
        ),
        ("parse truncated", text[..text.len() - 2].to_owned()),
        (
            "parse bad owner",
            text.replacen(
                "\"owner\":\"tenant-a\"",
                &format!("\"owner\":\"{}\"", MARKER.repeat(100)),
                1,
            ),
        ),
    ] {
        o.fail(what, WrappedKeyring::parse(&t));
    }

    // Passphrase wrap.
    let pw = dangerous_wrap_with_passphrase_fixed(
        &tenant,
        &passphrase,
        "tenant-a",
        fast,
        &[1; 16],
        &dek,
        &[4; 12],
        &[5; 12],
    )
    .unwrap();
    o.dbg("passphrase WrappedKeyring", &pw);
    o.fail("wrong passphrase", pw.open_with_passphrase(b"nope"));
    o.fail(
        "passphrase too long",
        pw.open_with_passphrase(&passphrase.repeat(6000)),
    );
    o.fail(
        "wrap empty passphrase",
        keycustody::wrap_with_passphrase(&tenant, b"", "", fast),
    );
    o.fail(
        "wrap bad params",
        keycustody::wrap_with_passphrase(
            &tenant,
            &passphrase,
            "",
            Argon2Params {
                m_kib: 1,
                t: 0,
                p: 99,
            },
        ),
    );
    let bad_key = pw.to_text().replacen("m=256,", "m=4294967295,", 1);
    o.fail("parse absurd argon2", WrappedKeyring::parse(&bad_key));
    o.check(40);
}
