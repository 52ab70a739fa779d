//! Runs every case of tests/vectors/{envelope,keyring,api_keys}_v1.json against the core.
//! An unknown op, a missing field or a count mismatch is a failure, never a skip.

use keycustody::{Error, Keyring};
use serde_json::Value;

fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/../tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 1, "{name}: version");
    let cases = v["cases"].as_array().unwrap().clone();
    assert!(!cases.is_empty(), "{name}: no cases");
    cases
}

fn s<'a>(c: &'a Value, field: &str) -> &'a str {
    c[field]
        .as_str()
        .unwrap_or_else(|| panic!("{}: missing string field {field}", c["name"]))
}
fn u(c: &Value, field: &str) -> u64 {
    c[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{}: missing integer field {field}", c["name"]))
}
fn h(c: &Value, field: &str) -> Vec<u8> {
    hex::decode(s(c, field)).unwrap_or_else(|e| panic!("{}: {field}: {e}", c["name"]))
}

/// Compares an outcome with `expect`, returning the value when ok was expected.
fn check<T>(c: &Value, got: Result<T, Error>) -> Option<T> {
    let name = s(c, "name");
    match (got, s(c, "expect")) {
        (Ok(v), "ok") => Some(v),
        (Ok(_), want) => panic!("{name}: succeeded, expected {want}"),
        (Err(e), want) => {
            assert_eq!(e.kind(), want, "{name}: got {e:?}");
            // Every error has a stable code and a message that names no input.
            assert!(e.code().starts_with("KC_"), "{name}");
            None
        }
    }
}

fn nonce(c: &Value) -> Option<[u8; 12]> {
    c.get("nonce_hex")
        .map(|_| h(c, "nonce_hex").try_into().expect("12-byte nonce"))
}

#[test]
fn envelope_vectors() {
    let cases = load("envelope_v1.json");
    let mut ran = 0;
    for c in &cases {
        let name = s(c, "name");
        match s(c, "op") {
            "open" => {
                let kr = Keyring::parse(s(c, "keyring")).unwrap();
                let ctx = h(c, "context_hex");
                let got = kr.open(s(c, "owner"), s(c, "envelope"), &ctx);
                if let Some(p) = check(c, got) {
                    assert_eq!(p.expose_secret(), h(c, "plaintext_hex"), "{name}");
                    // The binary form opens the same.
                    let bin = base64_decode(&s(c, "envelope")[4..]);
                    let p2 = kr.open_binary(s(c, "owner"), &bin, &ctx).unwrap();
                    assert_eq!(p2.expose_secret(), p.expose_secret(), "{name}");
                }
                if let Some(n) = nonce(c) {
                    let again = keycustody::internal::dangerous_seal_with_nonce(
                        &kr,
                        s(c, "owner"),
                        &h(c, "plaintext_hex"),
                        &ctx,
                        &n,
                    )
                    .unwrap();
                    assert_eq!(again, s(c, "envelope"), "{name}: re-seal differs");
                }
            }
            "inspect" => {
                if let Some(i) = check(c, keycustody::inspect(s(c, "envelope"))) {
                    assert_eq!(i.version, 1, "{name}");
                    assert_eq!(u64::from(i.kid), u(c, "kid"), "{name}");
                    assert_eq!(i.plaintext_len as u64, u(c, "plaintext_len"), "{name}");
                }
            }
            "needs_rewrap" => {
                let kr = Keyring::parse(s(c, "keyring")).unwrap();
                if let Some(r) = check(c, kr.needs_rewrap(s(c, "envelope"))) {
                    assert_eq!(Some(r), c["result"].as_bool(), "{name}");
                }
            }
            "rewrap" => {
                let kr = Keyring::parse(s(c, "keyring")).unwrap();
                let ctx = h(c, "context_hex");
                let owner = s(c, "owner");
                if let Some(out) = check(c, kr.rewrap(owner, s(c, "envelope"), &ctx)) {
                    let p = kr.open(owner, &out, &ctx).unwrap();
                    assert_eq!(p.expose_secret(), h(c, "plaintext_hex"), "{name}");
                    let kid = keycustody::inspect(&out).unwrap().kid;
                    assert_eq!(u64::from(kid), u(c, "primary_kid"), "{name}");
                    assert_eq!(kid, kr.primary_kid(), "{name}");
                    if keycustody::inspect(s(c, "envelope")).unwrap().kid == kid {
                        assert_eq!(out, s(c, "envelope"), "{name}: current envelope kept");
                    }
                }
            }
            op => panic!("{name}: unknown op {op}"),
        }
        ran += 1;
    }
    assert_eq!(ran, cases.len());
}

fn base64_decode(t: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .unwrap()
}

#[test]
fn keyring_vectors() {
    let cases = load("keyring_v1.json");
    for c in &cases {
        let name = s(c, "name");
        match s(c, "op") {
            "parse" => {
                if let Some(kr) = check(c, Keyring::parse(s(c, "text"))) {
                    assert_eq!(u64::from(kr.primary_kid()), u(c, "primary"), "{name}");
                    let got: Vec<(u64, &str)> = kr
                        .kids()
                        .iter()
                        .map(|k| (u64::from(k.kid), k.state.as_str()))
                        .collect();
                    let want: Vec<(u64, &str)> = c["keys"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|k| (u(k, "kid"), s(k, "state")))
                        .collect();
                    assert_eq!(got, want, "{name}");
                    // export -> parse keeps every key and state.
                    let again = Keyring::parse(kr.export().unwrap().expose_secret()).unwrap();
                    assert_eq!(again.kids(), kr.kids(), "{name}: export round trip");
                }
            }
            "derive_key" => {
                let kr = Keyring::parse(s(c, "keyring")).unwrap();
                let len = usize::try_from(u(c, "length")).unwrap();
                if let Some(k) = check(c, kr.derive_key(s(c, "purpose"), s(c, "owner"), len)) {
                    assert_eq!(k.expose_secret(), h(c, "key_hex"), "{name}");
                }
            }
            "from_secret" => {
                let kid = u32::try_from(u(c, "kid")).unwrap();
                if let Some(kr) = check(c, Keyring::from_secret(&h(c, "secret_hex"), kid)) {
                    assert_eq!(kr.primary_kid(), kid, "{name}");
                    let ctx = h(c, "context_hex");
                    let p = kr.open(s(c, "owner"), s(c, "envelope"), &ctx).unwrap();
                    assert_eq!(p.expose_secret(), h(c, "plaintext_hex"), "{name}");
                    if let Some(n) = nonce(c) {
                        let again = keycustody::internal::dangerous_seal_with_nonce(
                            &kr,
                            s(c, "owner"),
                            p.expose_secret(),
                            &ctx,
                            &n,
                        )
                        .unwrap();
                        assert_eq!(again, s(c, "envelope"), "{name}: re-seal differs");
                    }
                }
            }
            op => panic!("{name}: unknown op {op}"),
        }
    }
}

#[test]
fn api_key_vectors() {
    let cases = load("api_keys_v1.json");
    for c in &cases {
        let name = s(c, "name");
        match s(c, "op") {
            "parse" => {
                if let Some(k) = check(c, keycustody::parse_api_key(s(c, "key"))) {
                    assert_eq!(k.prefix(), s(c, "prefix"), "{name}");
                    assert_eq!(k.hint(), s(c, "hint"), "{name}");
                    assert_eq!(k.hash(), s(c, "hash"), "{name}");
                    assert_eq!(k.expose_secret(), s(c, "key"), "{name}");
                    // FromStr agrees with parse_api_key.
                    let k2: keycustody::ApiKey = s(c, "key").parse().unwrap();
                    assert_eq!(k2, k, "{name}");
                }
            }
            "hash" => {
                if let Some(hash) = check(c, keycustody::hash_api_key(s(c, "key"))) {
                    assert_eq!(hash, s(c, "hash"), "{name}");
                }
            }
            "verify" => {
                let got = keycustody::verify_api_key(s(c, "key"), s(c, "stored_hash"));
                if let Some(r) = check(c, got) {
                    assert_eq!(Some(r), c["result"].as_bool(), "{name}");
                }
            }
            op => panic!("{name}: unknown op {op}"),
        }
    }
}
