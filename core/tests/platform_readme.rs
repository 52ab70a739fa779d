//! The platform example of README.md (section `platform`), run as a test; a second test
//! checks that the README shows exactly the code between the markers below.
#![allow(clippy::unwrap_used)]

use keycustody::*;

#[test]
fn readme_platform_example() -> Result<()> {
    // BEGIN README
    use keycustody::*;
    let (body, now) = (br#"{"id":"evt_1"}"#.as_slice(), 1_700_000_000);

    // Webhooks: Stripe (two-sided 300 s tolerance, any matching v1 passes while secrets roll) ...
    let header = sign_stripe_payload(body, "whsec_abc", now)?;
    assert_eq!(
        verify_stripe_signature_at(body, &header, "whsec_abc", 300, now)?,
        now
    );
    // ... Standard Webhooks, Telegram's secret token, and a replay guard (fails closed when full).
    let secret = generate_standard_webhook_secret()?;
    let sig = sign_standard_webhook(body, "msg_1", now, secret.expose_secret())?;
    verify_standard_webhook_at(
        body,
        "msg_1",
        "1700000000",
        &sig,
        secret.expose_secret(),
        300,
        now,
    )?;
    let guard = ReplayGuard::new(100_000, 600)?;
    guard.check_and_record_at("msg_1", now)?;
    assert_eq!(
        guard.check_and_record_at("msg_1", now + 1),
        Err(Error::Replayed)
    );

    let keyring = Keyring::generate()?;
    // One-time codes: 6 uniform digits, 15 min, 5 attempts; you store only the record (an HMAC).
    let issued = keyring.issue_code_at("alice@example.com", now)?; // send issued.code, store issued.record
    let check = keyring.verify_code_at(
        "alice@example.com",
        issued.code.expose_secret(),
        &issued.record,
        now + 60,
    )?;
    assert_eq!(check.status, CodeStatus::Valid); // store check.record (now "used")

    // TOTP (RFC 6238) with replay prevention: keep the returned step, pass it back next time.
    let totp = generate_totp_secret()?;
    let uri = totp_uri(totp.expose_secret(), "alice@example.com", "Acme")?; // for the QR code
    let code = totp_at(totp.expose_secret(), now)?;
    let step = verify_totp_at(totp.expose_secret(), code.expose_secret(), now, None)?;
    assert_eq!(
        verify_totp_at(totp.expose_secret(), code.expose_secret(), now, Some(step)),
        Err(Error::Replayed)
    );

    // Per-tenant HS256 JWT: secret derived per tenant, kid in the header, alg pinned.
    let token = keyring.sign_jwt_at("acme", r#"{"sub":"u1","aud":"api"}"#, 600, now)?;
    let opts = JwtVerifyOptions::default().with_audience(Some("api"));
    let claims = keyring.verify_jwt_at("acme", &token, &opts, now + 5)?;
    assert!(keyring
        .verify_jwt_at("globex", &token, &opts, now + 5)
        .is_err());

    // Browser-direct delivery (HPKE, RFC 9180): the browser seals to the VM, the control plane relays.
    // The control plane serves the public key and could serve its own: the VM shows its
    // fingerprint, the user carries it to the browser, and the pinned seal refuses any other key.
    let vm = generate_delivery_keypair()?; // vm.public_key = "kcpk1..."
    let pin = delivery_key_fingerprint(&vm.public_key)?; // "kcfp1.XXXX-XXXX-...", 8 groups
    let blob = seal_for_delivery_pinned(&vm.public_key, "acme", b"sk-ant-...", &pin)?; // "kcd1..."
    assert_eq!(
        open_delivery(vm.private_key.expose_secret(), "acme", &blob)?.expose_secret(),
        b"sk-ant-..."
    );

    // Logs, identifiers, personal data.
    assert_eq!(
        scrub("Authorization: Bearer abc.def"),
        "Authorization: [REDACTED:authorization]"
    );
    validate_slug("acme-corp")?;
    validate_email("alice@example.com")?;
    let ip_pseudonym = keyring.pseudonymize("203.0.113.7")?; // 64 hex, HMAC with a derived key
                                                             // END README
    let _ = (uri, claims, ip_pseudonym);
    Ok(())
}

#[test]
fn readme_shows_this_code() {
    let src = include_str!("platform_readme.rs");
    let a = src.find("// BEGIN README\n").unwrap() + "// BEGIN README\n".len();
    let b = src.find("    // END README").unwrap();
    let code: String = src[a..b]
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let readme = include_str!("../../README.md");
    let sec = &readme[readme.find("<!-- BEGIN platform -->").unwrap()
        ..readme.find("<!-- END platform -->").unwrap()];
    let block = &sec[sec.find("```rust\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    assert_eq!(
        block.trim_end(),
        code.trim_end(),
        "README platform example differs from core/tests/platform_readme.rs"
    );
}
