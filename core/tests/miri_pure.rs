//! Pure-Rust paths of the core, small enough to run under Miri (`make miri`:
//! `cargo +nightly miri test -p keycustody --test miri_pure`). ring's assembly cannot run under
//! Miri, so AES-GCM goes through the RustCrypto backend (`aes-gcm`, which under Miri takes its
//! software AES and GHASH, as on wasm32) here; everything else (HKDF, HMAC,
//! SHA-256, base64, envelope parsing, API keys, webhooks, scrub, validation) is the code the
//! library really runs. The same tests run natively in `cargo test`.

use keycustody::internal::{aes256gcm_open, aes256gcm_seal, Backend};
use keycustody::{
    constant_time_equal, inspect, inspect_binary, parse_api_key, scrub, sign_standard_webhook,
    sign_stripe_payload, validate_email, validate_slug, verify_api_key, verify_standard_webhook_at,
    verify_stripe_signature_at, Error, Keyring, MalformedKind,
};

#[test]
fn rustcrypto_gcm_round_trip_and_tamper() {
    let key = [7u8; 32];
    let nonce = [1u8; 12];
    let ct = aes256gcm_seal(Backend::RustCrypto, &key, &nonce, b"aad", b"hello miri").unwrap();
    assert_eq!(ct.len(), 10 + 16);
    let pt = aes256gcm_open(Backend::RustCrypto, &key, &nonce, b"aad", &ct).unwrap();
    assert_eq!(pt, b"hello miri");
    let mut bad = ct.clone();
    bad[0] ^= 1;
    assert_eq!(
        aes256gcm_open(Backend::RustCrypto, &key, &nonce, b"aad", &bad),
        Err(Error::DecryptFailed)
    );
    assert_eq!(
        aes256gcm_open(Backend::RustCrypto, &key, &nonce, b"aad", &ct[..15]),
        Err(Error::DecryptFailed)
    );
}

#[test]
fn keyring_seal_open_with_rustcrypto_backend() {
    let kr = Keyring::from_secret(&[9u8; 32], 3).unwrap();
    let env = keycustody::internal::dangerous_seal_with_backend(
        &kr,
        Backend::RustCrypto,
        "tenant",
        b"secret",
        b"ctx",
        &[2u8; 12],
    )
    .unwrap();
    let info = inspect(&env).unwrap();
    assert_eq!((info.version, info.kid, info.plaintext_len), (1, 3, 6));
    let pt =
        keycustody::internal::open_with_backend(&kr, Backend::RustCrypto, "tenant", &env, b"ctx")
            .unwrap();
    assert_eq!(pt.expose_secret(), b"secret");
    assert_eq!(
        keycustody::internal::open_with_backend(&kr, Backend::RustCrypto, "other", &env, b"ctx")
            .unwrap_err(),
        Error::DecryptFailed
    );
    let exported = kr.export().unwrap();
    let again = Keyring::parse(exported.expose_secret()).unwrap();
    assert_eq!(again.primary_kid(), 3);
}

#[test]
fn envelope_parsers_reject_garbage() {
    assert_eq!(
        inspect("kc2.AAAA").unwrap_err(),
        Error::Malformed(MalformedKind::EnvelopePrefix)
    );
    assert_eq!(
        inspect("kc1.!!!").unwrap_err(),
        Error::Malformed(MalformedKind::Base64)
    );
    assert_eq!(
        inspect_binary(&[1u8; 10]).unwrap_err(),
        Error::Malformed(MalformedKind::EnvelopeLength)
    );
    let mut bin = vec![1u8, 0, 0, 0, 0];
    bin.extend_from_slice(&[0u8; 28]);
    assert_eq!(
        inspect_binary(&bin).unwrap_err(),
        Error::Malformed(MalformedKind::EnvelopeKid)
    );
}

#[test]
fn api_keys_and_constant_time_equal() {
    // A key from the format's definition: CRC-32 checksum in base62.
    let g = keycustody::generate_api_key("kc");
    // getrandom works under Miri through its shims.
    let g = g.unwrap();
    let k = parse_api_key(g.key.expose_secret()).unwrap();
    assert_eq!(k.prefix(), "kc");
    assert!(verify_api_key(g.key.expose_secret(), &g.hash).unwrap());
    assert!(!verify_api_key(g.key.expose_secret(), &"0".repeat(64)).unwrap());
    assert_eq!(
        parse_api_key("kc_short").unwrap_err(),
        Error::Malformed(MalformedKind::ApiKeyLength)
    );
    assert!(constant_time_equal(b"abc", b"abc"));
    assert!(!constant_time_equal(b"abc", b"abd"));
    assert!(!constant_time_equal(b"abc", b"ab"));
}

#[test]
fn webhooks_sign_and_verify() {
    let h = sign_stripe_payload(b"{}", "whsec_x", 1000).unwrap();
    assert_eq!(
        verify_stripe_signature_at(b"{}", &h, "whsec_x", 300, 1000),
        Ok(1000)
    );
    assert_eq!(
        verify_stripe_signature_at(b"{ }", &h, "whsec_x", 300, 1000),
        Err(Error::SignatureInvalid)
    );
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let s = sign_standard_webhook(b"{}", "msg_1", 1000, secret).unwrap();
    assert_eq!(
        verify_standard_webhook_at(b"{}", "msg_1", "1000", &s, secret, 300, 1000),
        Ok(1000)
    );
    assert_eq!(
        verify_standard_webhook_at(b"{}", "msg_2", "1000", &s, secret, 300, 1000),
        Err(Error::SignatureInvalid)
    );
}

// scrub builds its regular expressions on first use, which takes minutes under Miri's
// interpreter; it is covered natively and by the `scrub` fuzz target.
#[test]
#[cfg_attr(miri, ignore)]
fn scrub_natively() {
    let out = scrub("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 end");
    assert!(
        !out.contains("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        "{out}"
    );
}

#[test]
fn validate_slugs_and_emails() {
    assert!(validate_slug("acme-corp").is_ok());
    assert!(validate_slug("-bad").is_err());
    assert!(validate_email("a@example.com").is_ok());
    assert!(validate_email("not an email").is_err());
}
