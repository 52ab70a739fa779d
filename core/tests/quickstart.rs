//! The Rust quickstart of README.md (section `rust`), run as a test. A second test checks
//! that the README shows exactly the code between the markers below.

// BEGIN README
use keycustody::{Error, Keyring};

fn main() -> Result<(), Error> {
    // One keyring for the platform: Keyring::from_env("KEYCUSTODY_KEYRING"),
    // Keyring::from_file("/etc/app/keyring.json") (must be 0600), or generated once.
    let keyring = Keyring::generate()?;

    // Seal a tenant's LLM key, bound to the tenant and to the field it is stored in.
    let sealed = keyring.seal("tenant-42", b"sk-or-v1-abc123", b"openrouter_key")?;
    assert!(sealed.starts_with("kc1."));

    // Open it: the owner and context must match.
    let key = keyring.open("tenant-42", &sealed, b"openrouter_key")?;
    assert_eq!(key.expose_secret(), b"sk-or-v1-abc123");
    println!("{key:?}"); // SecretBytes([REDACTED; 15 bytes])

    // Another tenant, another field or a tampered envelope: one error, by design.
    let other = keyring.open("tenant-43", &sealed, b"openrouter_key");
    let err = other.unwrap_err();
    assert_eq!(err, Error::DecryptFailed);
    assert_eq!(err.code(), "KC_DECRYPT_FAILED");

    // Rotate: new envelopes use the new key, old ones still open and can be rewrapped.
    let kid = keyring.rotate()?;
    assert!(keyring.needs_rewrap(&sealed)?);
    let current = keyring.rewrap("tenant-42", &sealed, b"openrouter_key")?;
    assert_eq!(keycustody::inspect(&current)?.kid, kid);
    keyring.retire(1)?; // once nothing is sealed under kid 1 any more
    let old = keyring.open("tenant-42", &sealed, b"openrouter_key");
    assert_eq!(old.unwrap_err(), Error::KeyRetired(1));

    // The keyring's text form is itself a secret: store it in your secret manager.
    let text = keyring.export()?;
    let restored = Keyring::parse(text.expose_secret())?;
    assert_eq!(restored.primary_kid(), kid);

    // Per-tenant subkeys, derived (nothing stored per tenant).
    let webhook_key = keyring.derive_key("webhook-signing", "tenant-42", 32)?;
    assert_eq!(webhook_key.len(), 32);

    // API keys: show `key` once, store `hash`, display `hint`.
    let api = keycustody::generate_api_key("obee")?;
    let presented = api.key.expose_secret();
    assert!(keycustody::verify_api_key(presented, &api.hash)?);
    println!("{}", api.hint); // obee_Ab12…wXyZ
    Ok(())
}
// END README

#[test]
fn quickstart_runs() {
    main().unwrap();
}

#[test]
fn readme_shows_this_quickstart() {
    let me = include_str!("quickstart.rs");
    let code = me
        .split("// BEGIN README\n")
        .nth(1)
        .and_then(|s| s.split("// END README\n").next())
        .unwrap();
    let readme = include_str!("../../README.md");
    let section = readme
        .split("<!-- BEGIN rust -->")
        .nth(1)
        .and_then(|s| s.split("<!-- END rust -->").next())
        .unwrap();
    let block = section
        .split("```rust\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap();
    assert_eq!(
        block, code,
        "README.md section `rust` differs from core/tests/quickstart.rs"
    );
}
