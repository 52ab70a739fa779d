//! Keyring lifecycle, key files, environment, tokens, constant-time compare and API keys.

use keycustody::{Error, KeyState, Keyring, MalformedKind};
use std::os::unix::fs::PermissionsExt;

fn states(kr: &Keyring) -> Vec<(u32, KeyState)> {
    kr.kids().iter().map(|k| (k.kid, k.state)).collect()
}

#[test]
fn add_promote_rotate_retire_remove() {
    let kr = Keyring::generate().unwrap();
    assert_eq!(kr.primary_kid(), 1);
    let v1 = kr.seal("t", b"one", b"c").unwrap();

    // add: decrypt-only, not used for sealing yet (Tink's rule).
    assert_eq!(kr.add_key().unwrap(), 2);
    assert_eq!(
        states(&kr),
        [(1, KeyState::Active), (2, KeyState::DecryptOnly)]
    );
    assert_eq!(
        keycustody::inspect(&kr.seal("t", b"x", b"").unwrap())
            .unwrap()
            .kid,
        1
    );

    // promote: 2 seals, 1 still opens.
    kr.promote(2).unwrap();
    assert_eq!(
        states(&kr),
        [(1, KeyState::DecryptOnly), (2, KeyState::Active)]
    );
    let v2 = kr.seal("t", b"two", b"c").unwrap();
    assert_eq!(keycustody::inspect(&v2).unwrap().kid, 2);
    assert_eq!(kr.open("t", &v1, b"c").unwrap().expose_secret(), b"one");
    assert!(kr.needs_rewrap(&v1).unwrap());
    assert!(!kr.needs_rewrap(&v2).unwrap());
    kr.promote(2).unwrap(); // promoting the primary is a no-op
    assert_eq!(kr.primary_kid(), 2);

    // rewrap moves v1 to kid 2; the current one is returned unchanged.
    let v1b = kr.rewrap("t", &v1, b"c").unwrap();
    assert_eq!(keycustody::inspect(&v1b).unwrap().kid, 2);
    assert_eq!(kr.rewrap("t", &v2, b"c").unwrap(), v2);

    // rotate = add + promote.
    assert_eq!(kr.rotate().unwrap(), 3);
    assert_eq!(kr.primary_kid(), 3);
    assert_eq!(kr.state_of(2).unwrap(), KeyState::DecryptOnly);

    // retire: refuses the primary; a retired key opens nothing and cannot be promoted.
    assert_eq!(kr.retire(3), Err(Error::PrimaryKey(3)));
    kr.retire(1).unwrap();
    assert_eq!(kr.open("t", &v1, b"c"), Err(Error::KeyRetired(1)));
    assert_eq!(kr.rewrap("t", &v1, b"c"), Err(Error::KeyRetired(1)));
    assert_eq!(kr.promote(1), Err(Error::KeyRetired(1)));
    assert_eq!(
        keycustody::internal::derive_labeled(&kr, Some(1), b"l", "t", 32).unwrap_err(),
        Error::KeyRetired(1)
    );
    assert_eq!(kr.retire(9), Err(Error::UnknownKey(9)));
    assert_eq!(kr.promote(9), Err(Error::UnknownKey(9)));

    // remove: refuses the primary; leaves a retired tombstone (its envelopes give
    // KeyRetired, as after retire), and is idempotent on it.
    assert_eq!(kr.remove(3), Err(Error::PrimaryKey(3)));
    kr.remove(1).unwrap();
    assert_eq!(kr.open("t", &v1, b"c"), Err(Error::KeyRetired(1)));
    assert_eq!(kr.remove(1), Ok(()));
    assert_eq!(kr.state_of(1), Ok(KeyState::Retired));
    assert_eq!(kr.remove(9), Err(Error::UnknownKey(9)));
    // kid = max + 1 even after removals: ids are never reused.
    assert_eq!(kr.add_key().unwrap(), 4);
    assert_eq!(kr.open("t", &v1b, b"c").unwrap().expose_secret(), b"one");
}

/// Finding 4: `remove` then `add_key` must not re-issue the removed kid with a new secret
/// (old envelopes would turn from an error naming the key into `DecryptFailed`, and
/// instances holding the old keyring would silently disagree with the new one).
#[test]
fn a_removed_kid_is_never_reissued() {
    let kr = Keyring::generate().unwrap();
    assert_eq!(kr.rotate().unwrap(), 2);
    let v2 = kr.seal("t", b"two", b"").unwrap();
    let before = kr.clone(); // another instance, still holding kid 2
    kr.promote(1).unwrap();
    kr.remove(2).unwrap(); // the highest kid
    assert_eq!(kr.add_key().unwrap(), 3, "kid 2 re-issued after remove");
    assert_eq!(kr.open("t", &v2, b""), Err(Error::KeyRetired(2)));
    assert_eq!(before.open("t", &v2, b"").unwrap().expose_secret(), b"two");
    // The tombstone survives the text form: a reloaded keyring goes above it too.
    let reloaded = Keyring::parse(kr.export().unwrap().expose_secret()).unwrap();
    assert_eq!(reloaded.kids(), kr.kids());
    assert_eq!(reloaded.state_of(2), Ok(KeyState::Retired));
    assert_eq!(reloaded.add_key().unwrap(), 4);
    assert_eq!(reloaded.open("t", &v2, b""), Err(Error::KeyRetired(2)));
    // The same with add_key_with_secret: the new secret never lands on kid 2.
    let kr = Keyring::generate().unwrap();
    assert_eq!(kr.add_key().unwrap(), 2);
    kr.remove(2).unwrap();
    let kid = kr
        .add_key_with_secret(keycustody::SecretBytes::new(vec![7; 32]))
        .unwrap();
    assert_eq!(kid, 3);
}

#[test]
fn export_parse_round_trip_keeps_keys_states_and_secrets() {
    let kr = Keyring::generate().unwrap();
    let v1 = kr.seal("owner", b"payload", b"").unwrap();
    kr.rotate().unwrap();
    kr.add_key().unwrap();
    let v2 = kr.seal("owner", b"payload2", b"").unwrap();
    kr.rotate().unwrap();
    kr.retire(2).unwrap();
    let text = kr.export().unwrap();
    // Secrets are base64url without padding; retired keys carry none.
    assert!(!text.expose_secret().contains('='));
    assert_eq!(text.expose_secret().matches("\"secret\"").count(), 3);
    let back = Keyring::parse(text.expose_secret()).unwrap();
    assert_eq!(back.kids(), kr.kids());
    assert_eq!(back.primary_kid(), 4);
    assert_eq!(
        back.open("owner", &v1, b"").unwrap().expose_secret(),
        b"payload"
    );
    assert_eq!(back.open("owner", &v2, b""), Err(Error::KeyRetired(2)));
    assert_eq!(back.export().unwrap(), text);
    // Fingerprints are public, stable and distinct per key.
    let fps: Vec<String> = back.kids().into_iter().map(|k| k.fingerprint).collect();
    assert_eq!(fps[0].len(), 16);
    assert_ne!(fps[0], fps[2]);
}

#[test]
fn generate_is_random() {
    let a = Keyring::generate().unwrap().export().unwrap();
    let b = Keyring::generate().unwrap().export().unwrap();
    assert_ne!(a, b);
}

#[test]
fn from_secret_errors_and_exact_bytes() {
    assert_eq!(
        Keyring::from_secret(&[1; 31], 1).unwrap_err().kind(),
        "InvalidArgument"
    );
    assert_eq!(
        Keyring::from_secret(&[1; 1025], 1).unwrap_err().kind(),
        "InvalidArgument"
    );
    assert_eq!(
        Keyring::from_secret(&[1; 32], 0).unwrap_err().kind(),
        "InvalidArgument"
    );
    // A string secret is its UTF-8 bytes: hex text is not decoded.
    let hex_text = "00".repeat(32);
    let a = Keyring::from_secret(hex_text.as_bytes(), 1).unwrap();
    let b = Keyring::from_secret(&[0; 32], 1).unwrap();
    let env = a.seal("o", b"x", b"").unwrap();
    assert_eq!(b.open("o", &env, b""), Err(Error::DecryptFailed));
    let kr = Keyring::from_secret(&[7; 32], 42).unwrap();
    assert_eq!(kr.primary_kid(), 42);
}

#[test]
fn add_key_with_secret_limits() {
    let kr = Keyring::generate().unwrap();
    let short = keycustody::SecretBytes::new(vec![0; 31]);
    assert_eq!(
        kr.add_key_with_secret(short).unwrap_err().kind(),
        "InvalidArgument"
    );
    assert_eq!(kr.kids().len(), 1);
}

fn write_keyring(mode: u32) -> (std::path::PathBuf, Keyring) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("kc-lifecycle-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keyring.json");
    let kr = Keyring::generate().unwrap();
    std::fs::write(&path, kr.export().unwrap().expose_secret()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    (path, kr)
}

#[test]
fn from_file_checks_permissions() {
    for mode in [0o600, 0o400] {
        let (path, kr) = write_keyring(mode);
        assert_eq!(
            Keyring::from_file(&path).unwrap().kids(),
            kr.kids(),
            "{mode:o}"
        );
    }
    for mode in [0o644, 0o640, 0o604, 0o660, 0o620, 0o602] {
        let (path, _) = write_keyring(mode);
        assert_eq!(
            Keyring::from_file(&path).unwrap_err(),
            Error::InsecurePermissions,
            "{mode:o}"
        );
    }
    assert_eq!(
        Keyring::from_file("/nonexistent/keycustody/keyring.json").unwrap_err(),
        Error::Io(std::io::ErrorKind::NotFound)
    );
}

#[test]
fn from_file_refuses_bad_content() {
    let (path, _) = write_keyring(0o600);
    std::fs::write(&path, b"\xff\xfe not utf-8").unwrap();
    assert_eq!(
        Keyring::from_file(&path).unwrap_err(),
        Error::Malformed(MalformedKind::Utf8)
    );
    std::fs::write(&path, b"{}").unwrap();
    assert_eq!(
        Keyring::from_file(&path).unwrap_err(),
        Error::Malformed(MalformedKind::KeyringJson)
    );
    std::fs::write(&path, vec![b' '; 1024 * 1024 + 1]).unwrap();
    assert_eq!(Keyring::from_file(&path).unwrap_err().kind(), "TooLarge");
}

#[test]
fn from_env() {
    // Each test uses its own variable name: tests run in parallel threads.
    let kr = Keyring::generate().unwrap();
    std::env::set_var("KC_TEST_KEYRING_OK", kr.export().unwrap().expose_secret());
    assert_eq!(
        Keyring::from_env("KC_TEST_KEYRING_OK").unwrap().kids(),
        kr.kids()
    );
    std::env::set_var("KC_TEST_KEYRING_BAD", "{\"version\":2}");
    assert_eq!(
        Keyring::from_env("KC_TEST_KEYRING_BAD").unwrap_err().kind(),
        "Malformed"
    );
    assert_eq!(
        Keyring::from_env("KC_TEST_KEYRING_UNSET_XYZ").unwrap_err(),
        Error::MissingEnvVar(keycustody::EnvVarName::new("KC_TEST_KEYRING_UNSET_XYZ"))
    );
    assert_eq!(
        Keyring::from_env("KC_TEST_KEYRING_UNSET_XYZ")
            .unwrap_err()
            .to_string(),
        "environment variable KC_TEST_KEYRING_UNSET_XYZ is not set"
    );
    for odd in ["", "A=B", "A\0B"] {
        let e = Keyring::from_env(odd).unwrap_err();
        assert_eq!(e.kind(), "MissingEnvVar", "{odd:?}");
        assert_eq!(e.env_var(), Some(odd));
    }
}

#[test]
fn parse_limits_and_kinds() {
    assert_eq!(
        Keyring::parse(&" ".repeat(1024 * 1024 + 1))
            .unwrap_err()
            .kind(),
        "TooLarge"
    );
    let cases = [
        ("{", MalformedKind::KeyringJson),
        (
            r#"{"version":2,"primary":1,"keys":[]}"#,
            MalformedKind::KeyringVersion,
        ),
        (
            r#"{"version":1,"primary":1,"keys":[]}"#,
            MalformedKind::KeyringPrimary,
        ),
        (
            r#"{"version":1,"primary":1,"keys":[{"kid":0,"state":"active","secret":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}"#,
            MalformedKind::KeyringKid,
        ),
        (
            r#"{"version":1,"primary":1,"keys":[{"kid":1,"state":"active","secret":"AAAA"}]}"#,
            MalformedKind::KeyringSecret,
        ),
    ];
    for (text, kind) in cases {
        assert_eq!(
            Keyring::parse(text).unwrap_err(),
            Error::Malformed(kind),
            "{text}"
        );
    }
}

#[test]
fn owner_limits_on_every_entry_point() {
    let kr = Keyring::generate().unwrap();
    let env = kr.seal("o", b"x", b"").unwrap();
    let long = "x".repeat(1025);
    for owner in ["", long.as_str()] {
        assert_eq!(kr.seal(owner, b"x", b"").unwrap_err(), Error::InvalidOwner);
        assert_eq!(kr.open(owner, &env, b"").unwrap_err(), Error::InvalidOwner);
        assert_eq!(
            kr.rewrap(owner, &env, b"").unwrap_err(),
            Error::InvalidOwner
        );
        assert_eq!(
            kr.derive_key("p", owner, 32).unwrap_err(),
            Error::InvalidOwner
        );
    }
    assert!(kr.seal(&"é".repeat(512), b"x", b"").is_ok());
    assert_eq!(
        kr.seal(&"é".repeat(513), b"x", b"").unwrap_err(),
        Error::InvalidOwner
    );
}

#[test]
fn open_text_requires_utf8() {
    let kr = Keyring::generate().unwrap();
    let ok = kr.seal("o", "héllo".as_bytes(), b"").unwrap();
    assert_eq!(
        kr.open_text("o", &ok, b"").unwrap().expose_secret(),
        "héllo"
    );
    let bad = kr.seal("o", &[0xff, 0xfe], b"").unwrap();
    assert_eq!(
        kr.open_text("o", &bad, b"").unwrap_err(),
        Error::Malformed(MalformedKind::Utf8)
    );
}

#[test]
fn plaintext_limit() {
    let kr = Keyring::generate().unwrap();
    let big = vec![0u8; 64 * 1024 * 1024 + 1];
    assert_eq!(
        kr.seal("o", &big, b"").unwrap_err(),
        Error::TooLarge {
            limit: 64 * 1024 * 1024
        }
    );
}

#[test]
fn derive_key_separates_purpose_owner_and_length_prefix() {
    let kr = Keyring::from_secret(&[3; 32], 1).unwrap();
    let a = kr.derive_key("a", "t1", 32).unwrap();
    assert_ne!(a, kr.derive_key("b", "t1", 32).unwrap());
    assert_ne!(a, kr.derive_key("a", "t2", 32).unwrap());
    // HKDF output of a shorter length is a prefix of the longer one.
    let long = kr.derive_key("a", "t1", 64).unwrap();
    assert_eq!(&long.expose_secret()[..32], a.expose_secret());
    // The custom label cannot collide with a built-in one.
    let (_, env_key) = keycustody::internal::derive_labeled(
        &kr,
        None,
        keycustody::internal::LABEL_ENVELOPE,
        "t1",
        32,
    )
    .unwrap();
    assert_ne!(env_key, kr.derive_key("envelope", "t1", 32).unwrap());
    assert_eq!(
        kr.derive_key(&"p".repeat(257), "t1", 32)
            .unwrap_err()
            .kind(),
        "InvalidArgument"
    );
}

#[test]
fn keyring_is_shared_across_threads() {
    let kr = std::sync::Arc::new(Keyring::generate().unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let kr = std::sync::Arc::clone(&kr);
            std::thread::spawn(move || {
                let owner = format!("tenant-{i}");
                for _ in 0..50 {
                    let env = kr.seal(&owner, b"s", b"").unwrap();
                    assert_eq!(kr.open(&owner, &env, b"").unwrap().expose_secret(), b"s");
                }
            })
        })
        .collect();
    kr.rotate().unwrap();
    for h in handles {
        h.join().unwrap();
    }
}

// ---- tokens, constant-time compare, API keys

#[test]
fn tokens_have_the_right_shape() {
    let t = keycustody::random_token(32).unwrap();
    assert_eq!(t.len(), 64);
    assert!(t
        .expose_secret()
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    assert_ne!(t, keycustody::random_token(32).unwrap());
    assert_eq!(keycustody::random_token(1).unwrap().len(), 2);
    for n in [0, 1025] {
        assert_eq!(
            keycustody::random_token(n).unwrap_err().kind(),
            "InvalidArgument"
        );
        assert_eq!(
            keycustody::random_base62(n).unwrap_err().kind(),
            "InvalidArgument"
        );
        assert_eq!(
            keycustody::invite_code(n).unwrap_err().kind(),
            "InvalidArgument"
        );
    }
    let b = keycustody::random_base62(1024).unwrap();
    assert_eq!(b.len(), 1024);
    assert!(b.expose_secret().bytes().all(|c| c.is_ascii_alphanumeric()));
    let code = keycustody::invite_code(12).unwrap();
    assert_eq!(code.len(), 12);
    assert!(code
        .expose_secret()
        .bytes()
        .all(|c| b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(&c)));
}

#[test]
fn token_symbols_all_occur() {
    // 62 symbols over 64 KiB draws: each is expected ~1057 times. P(a symbol is
    // missing) < 62 * (61/62)^65536, far below 1e-400: this cannot flake, yet a
    // sampler that never emits some symbol (an off-by-one) fails.
    let s = keycustody::random_base62(1024).unwrap();
    let mut seen = [0u32; 128];
    for _ in 0..64 {
        for c in keycustody::random_base62(1024)
            .unwrap()
            .expose_secret()
            .bytes()
        {
            seen[usize::from(c)] += 1;
        }
    }
    drop(s);
    for c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" {
        let n = seen[usize::from(*c)];
        // Binomial(65536, 1/62): mean 1057, sd 32; the bounds are > 15 sd away.
        assert!(
            (500..1600).contains(&n),
            "{} seen {n} times",
            char::from(*c)
        );
    }
}

#[test]
fn constant_time_equal_semantics() {
    use keycustody::constant_time_equal as eq;
    assert!(eq(b"", b""));
    assert!(eq(b"abc", b"abc"));
    assert!(!eq(b"abc", b"abd"));
    assert!(!eq(b"abc", b"bbc"));
    assert!(!eq(b"abc", b"ab"));
    assert!(!eq(b"", b"a"));
    assert!(!eq(b"abc", b"abcd"));
    let a = vec![0u8; 4096];
    let mut b = a.clone();
    assert!(eq(&a, &b));
    b[4095] = 1;
    assert!(!eq(&a, &b));
}

#[test]
fn api_keys_generate_parse_verify() {
    let g = keycustody::generate_api_key("obee").unwrap();
    let key = g.key.expose_secret();
    assert_eq!(key.len(), 4 + 1 + 36);
    assert!(key.starts_with("obee_"));
    assert!(key[5..].bytes().all(|c| c.is_ascii_alphanumeric()));
    let parsed = keycustody::parse_api_key(key).unwrap();
    assert_eq!(parsed.prefix(), "obee");
    assert_eq!(parsed.hint(), g.hint);
    assert_eq!(
        g.hint,
        format!("obee_{}…{}", &key[5..9], &key[key.len() - 4..])
    );
    assert_eq!(g.hash.len(), 64);
    assert_eq!(keycustody::hash_api_key(key).unwrap(), g.hash);
    assert_eq!(keycustody::verify_api_key(key, &g.hash), Ok(true));
    let other = keycustody::generate_api_key("obee").unwrap();
    assert_eq!(
        keycustody::verify_api_key(other.key.expose_secret(), &g.hash),
        Ok(false)
    );
    assert_ne!(other.key, g.key);
    for bad in ["", "O", "1a", "a", "a_b", "abcdefghijklmnopq", "ab-c"] {
        assert_eq!(
            keycustody::generate_api_key(bad).unwrap_err(),
            Error::Malformed(MalformedKind::ApiKeyPrefix),
            "{bad}"
        );
    }
    assert!(keycustody::generate_api_key("abcdefghijklmnop").is_ok());
    // Each malformation is told apart.
    let body = &key[5..];
    let cases = [
        (format!("obee{body}"), MalformedKind::ApiKeyPrefix),
        (format!("obee_{}", &body[1..]), MalformedKind::ApiKeyLength),
        (
            format!("obee_{}!", &body[1..]),
            MalformedKind::ApiKeyCharset,
        ),
        (
            format!(
                "obee_{}{}",
                &body[..35],
                if body.ends_with('0') { '1' } else { '0' }
            ),
            MalformedKind::ApiKeyChecksum,
        ),
    ];
    for (k, kind) in cases {
        assert_eq!(
            keycustody::parse_api_key(&k).unwrap_err(),
            Error::Malformed(kind),
            "{k}"
        );
        // A presented key with a typo is a failed login (false), not an error.
        assert_eq!(keycustody::verify_api_key(&k, &g.hash), Ok(false), "{k}");
    }
    assert_eq!(
        keycustody::verify_api_key(key, &g.hash.to_uppercase()).unwrap_err(),
        Error::Malformed(MalformedKind::ApiKeyHash)
    );
}

#[test]
fn every_typo_in_many_keys_is_caught_by_the_checksum() {
    // A single-character substitution always changes CRC-32 (it detects every burst
    // error of up to 32 bits), and 6 base62 digits hold all of its 32 bits
    // (62^6 > 2^32), so a substitution within the random part must never parse.
    for _ in 0..20 {
        let g = keycustody::generate_api_key("kc").unwrap();
        let key = g.key.expose_secret().as_bytes().to_vec();
        for i in 3..3 + 30 {
            let mut k = key.clone();
            k[i] = if k[i] == b'a' { b'b' } else { b'a' };
            let s = String::from_utf8(k).unwrap();
            assert_eq!(
                keycustody::parse_api_key(&s).unwrap_err(),
                Error::Malformed(MalformedKind::ApiKeyChecksum)
            );
        }
    }
}

#[test]
fn from_file_refuses_a_file_owned_by_another_user() {
    use std::os::unix::fs::MetadataExt;
    let (path, _) = write_keyring(0o600);
    let me = std::fs::metadata("/proc/self").unwrap().uid();
    let other = if me == 0 { 1 } else { 0 };
    match std::os::unix::fs::chown(&path, Some(other), None) {
        // Only root can give a file away; then the file must be refused.
        Ok(()) => assert_eq!(
            Keyring::from_file(&path).unwrap_err(),
            Error::InsecurePermissions
        ),
        Err(e) => {
            assert_ne!(me, 0, "root could not chown: {e}");
            assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
        }
    }
}

#[test]
fn oversized_envelope_text_is_refused_before_decoding() {
    let kr = Keyring::generate().unwrap();
    // One character over the longest possible kc1 text (64 MiB plaintext).
    let max_bin: usize = 17 + 64 * 1024 * 1024 + 16;
    let text = format!("kc1.{}", "A".repeat((max_bin * 4).div_ceil(3) + 1));
    assert_eq!(
        kr.open("o", &text, b"").unwrap_err(),
        Error::Malformed(MalformedKind::EnvelopeLength)
    );
    assert_eq!(
        keycustody::inspect(&text).unwrap_err(),
        Error::Malformed(MalformedKind::EnvelopeLength)
    );
}

/// The RustCrypto backend (the wasm32 build's) keeps expanded ciphers of recent owners per
/// root key. Through more owners than it holds, revisited in a shuffled order, it must agree
/// byte for byte with AWS-LC (the native backend), refuse every wrong owner, and stop at a retired key.
#[test]
fn rustcrypto_owner_cache_agrees_with_aws_lc_and_follows_rotation() {
    use keycustody::internal::Backend;
    let kr = Keyring::generate().unwrap();
    let nonce = [7u8; 12];
    let mut sealed = Vec::new();
    for round in 0..3usize {
        for i in 0..48usize {
            let owner = format!("tenant-{}", (i * 7 + round) % 40);
            let soft = keycustody::internal::dangerous_seal_with_backend(
                &kr,
                Backend::RustCrypto,
                &owner,
                b"v",
                b"ctx",
                &nonce,
            )
            .unwrap();
            let native = keycustody::internal::dangerous_seal_with_backend(
                &kr,
                Backend::AwsLc,
                &owner,
                b"v",
                b"ctx",
                &nonce,
            )
            .unwrap();
            assert_eq!(soft, native, "owner {owner}");
            let open = |o: &str| {
                keycustody::internal::open_with_backend(&kr, Backend::RustCrypto, o, &soft, b"ctx")
            };
            assert_eq!(open(&owner).unwrap().expose_secret(), b"v");
            assert_eq!(
                open(&format!("{owner}x")).unwrap_err(),
                Error::DecryptFailed
            );
            sealed.push((owner, soft));
        }
    }
    // Rotate: kid 2 is new, kid 1 still opens (decrypt-only), then is retired.
    let kid2 = kr.add_key().unwrap();
    kr.promote(kid2).unwrap();
    let (owner, env) = &sealed[0];
    let fresh = keycustody::internal::dangerous_seal_with_backend(
        &kr,
        Backend::RustCrypto,
        owner,
        b"v",
        b"ctx",
        &nonce,
    )
    .unwrap();
    assert_ne!(&fresh, env, "sealed under the new primary");
    assert_eq!(
        keycustody::internal::open_with_backend(&kr, Backend::RustCrypto, owner, env, b"ctx")
            .unwrap()
            .expose_secret(),
        b"v"
    );
    kr.retire(1).unwrap();
    assert_eq!(
        keycustody::internal::open_with_backend(&kr, Backend::RustCrypto, owner, env, b"ctx")
            .unwrap_err(),
        Error::KeyRetired(1)
    );
}
