//! Test-vector generation for `tests/vectors/{envelope,keyring,api_keys}_v1.json`.
//!
//! Everything is derived from fixed root secrets and fixed nonces, so the output
//! is byte-for-byte deterministic; `cargo test -p xtask` fails when the committed
//! files differ from what [`vector_files`] produces.
//!
//! Expected values that can be computed independently of the core are computed
//! here independently (API-key checksums with a bitwise CRC-32, hashes with
//! `sha2`, tampering on the binary form); the rest comes from the core and is
//! checked against an independent Python implementation (tests/interop).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod api;
mod audit;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use keycustody::internal::dangerous_seal_with_nonce;
use keycustody::{Error, Keyring};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

mod strings;
mod wrapped;

/// The three vector files, as `(path relative to the repo root, content)`.
#[must_use]
pub fn vector_files() -> Vec<(&'static str, String)> {
    vec![
        ("tests/vectors/envelope_v1.json", to_text(&envelope_file())),
        ("tests/vectors/keyring_v1.json", to_text(&keyring_file())),
        ("tests/vectors/api_keys_v1.json", to_text(&api_keys_file())),
        ("tests/vectors/strings_v1.json", strings::strings_text()),
        (
            "tests/vectors/wrapped_keyring_v1.json",
            to_text(&wrapped::wrapped_file()),
        ),
        ("tests/vectors/audit_v1.json", to_text(&audit::audit_file())),
    ]
}

fn to_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("serialize");
    s.push('\n');
    s
}

fn file(description: &str, cases: Vec<Value>) -> Value {
    // Names must be unique within a file: runners report failures by name.
    let mut names = std::collections::BTreeSet::new();
    for c in &cases {
        let n = c["name"].as_str().expect("name").to_owned();
        assert!(names.insert(n.clone()), "duplicate case name {n}");
    }
    json!({"version": 1, "description": description, "cases": cases})
}

// ---------------------------------------------------------------------------
// Fixed keys

/// Root secret A: bytes 0x00..=0x1f.
fn root_a() -> Vec<u8> {
    (0u8..32).collect()
}
/// Root secret B: bytes 0x40..=0x5f.
fn root_b() -> Vec<u8> {
    (0x40u8..0x60).collect()
}
/// Root secret C (an unrelated key): bytes 0xa0..=0xbf.
fn root_c() -> Vec<u8> {
    (0xa0u8..0xc0).collect()
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// kid 1 active, secret A.
fn kr_single() -> String {
    format!(
        r#"{{"version":1,"primary":1,"keys":[{{"kid":1,"state":"active","secret":"{}"}}]}}"#,
        b64(&root_a())
    )
}
/// kid 1 active, secret C: a different platform.
fn kr_other() -> String {
    format!(
        r#"{{"version":1,"primary":1,"keys":[{{"kid":1,"state":"active","secret":"{}"}}]}}"#,
        b64(&root_c())
    )
}
/// kid 7 active, secret C.
fn kr_kid7() -> String {
    format!(
        r#"{{"version":1,"primary":7,"keys":[{{"kid":7,"state":"active","secret":"{}"}}]}}"#,
        b64(&root_c())
    )
}
/// After a rotation: kid 1 decrypt-only (A), kid 2 active (B).
fn kr_rotated() -> String {
    format!(
        r#"{{"version":1,"primary":2,"keys":[{{"kid":1,"state":"decrypt-only","secret":"{}"}},{{"kid":2,"state":"active","secret":"{}"}}]}}"#,
        b64(&root_a()),
        b64(&root_b())
    )
}
/// kid 1 retired, kid 2 active (B).
fn kr_retired() -> String {
    format!(
        r#"{{"version":1,"primary":2,"keys":[{{"kid":1,"state":"retired"}},{{"kid":2,"state":"active","secret":"{}"}}]}}"#,
        b64(&root_b())
    )
}
/// kid 1 removed: only kid 2 active (B).
fn kr_removed() -> String {
    format!(
        r#"{{"version":1,"primary":2,"keys":[{{"kid":2,"state":"active","secret":"{}"}}]}}"#,
        b64(&root_b())
    )
}

fn nonce(n: u8) -> [u8; 12] {
    let mut x = [0u8; 12];
    for (i, b) in x.iter_mut().enumerate() {
        *b = n.wrapping_mul(17).wrapping_add(u8::try_from(i).unwrap());
    }
    x
}

fn seal(kr: &str, owner: &str, plaintext: &[u8], ctx: &[u8], n: u8) -> String {
    dangerous_seal_with_nonce(
        &Keyring::parse(kr).unwrap(),
        owner,
        plaintext,
        ctx,
        &nonce(n),
    )
    .unwrap()
}

fn to_bin(envelope: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(envelope.strip_prefix("kc1.").unwrap())
        .unwrap()
}
fn to_env(bin: &[u8]) -> String {
    format!("kc1.{}", b64(bin))
}
fn flip(envelope: &str, byte: usize, bit: u8) -> String {
    let mut b = to_bin(envelope);
    b[byte] ^= 1 << bit;
    to_env(&b)
}

fn kind<T, E: core::borrow::Borrow<Error>>(r: Result<T, E>) -> String {
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.borrow().kind().to_owned(),
    }
}

// ---------------------------------------------------------------------------
// envelope_v1.json

struct Open<'a> {
    name: &'a str,
    comment: &'a str,
    keyring: String,
    owner: String,
    ctx: Vec<u8>,
    envelope: String,
    expect: &'a str,
    plaintext: Option<Vec<u8>>,
    nonce: Option<u8>,
}

fn open_case(o: Open<'_>) -> Value {
    // The expectation is stated by design above; check the core agrees.
    let kr = Keyring::parse(&o.keyring).unwrap();
    let got = kr.open(&o.owner, &o.envelope, &o.ctx);
    match (&got, o.expect) {
        (Ok(p), "ok") => assert_eq!(
            Some(p.expose_secret()),
            o.plaintext.as_deref(),
            "{}",
            o.name
        ),
        (Err(e), want) => assert_eq!(e.kind(), want, "{}", o.name),
        (Ok(_), want) => panic!("{}: opened, expected {want}", o.name),
    }
    let mut m = Map::new();
    m.insert("name".into(), json!(o.name));
    m.insert("op".into(), json!("open"));
    m.insert("comment".into(), json!(o.comment));
    m.insert("keyring".into(), json!(o.keyring));
    m.insert("owner".into(), json!(o.owner));
    m.insert("context_hex".into(), json!(hex::encode(&o.ctx)));
    m.insert("envelope".into(), json!(o.envelope));
    if let Some(n) = o.nonce {
        m.insert("nonce_hex".into(), json!(hex::encode(nonce(n))));
    }
    m.insert("expect".into(), json!(o.expect));
    if let Some(p) = o.plaintext {
        m.insert("plaintext_hex".into(), json!(hex::encode(p)));
    }
    Value::Object(m)
}

#[allow(clippy::too_many_lines)]
fn envelope_file() -> Value {
    let owner = "tenant-0001";
    let pt = b"sk-or-v1-0123456789abcdef0123456789abcdef".to_vec();
    let ctx = b"openrouter_key".to_vec();
    let single = kr_single();
    let rotated = kr_rotated();

    let basic = seal(&single, owner, &pt, b"", 1);
    let with_ctx = seal(&single, owner, &pt, &ctx, 2);
    let empty = seal(&single, owner, b"", b"", 3);
    let uni_owner = "Ünïcødé-租户-🔑";
    let unicode = seal(&single, uni_owner, &pt, &ctx, 4);
    let owner_1024 = "o".repeat(1024);
    let long_owner = seal(&single, &owner_1024, &pt, b"", 5);
    let long_ctx: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let long_context = seal(&single, owner, &pt, &long_ctx, 6);
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let binary = seal(&single, owner, &all_bytes, &[0x00, 0xff, 0x00], 7);
    let kid2 = seal(&rotated, owner, &pt, &ctx, 8);
    let kid7 = seal(&kr_kid7(), owner, &pt, b"", 9);
    let one_byte = seal(&single, owner, b"x", b"", 10);

    let mut cases = Vec::new();
    let mut open = |name: &str,
                    comment: &str,
                    keyring: &str,
                    own: &str,
                    c: &[u8],
                    envelope: &str,
                    expect: &str,
                    plaintext: Option<&[u8]>,
                    n: Option<u8>| {
        cases.push(open_case(Open {
            name,
            comment,
            keyring: keyring.to_owned(),
            owner: own.to_owned(),
            ctx: c.to_vec(),
            envelope: envelope.to_owned(),
            expect,
            plaintext: plaintext.map(<[u8]>::to_vec),
            nonce: n,
        }));
    };

    // Positive cases.
    open(
        "basic",
        "kid 1, no context",
        &single,
        owner,
        b"",
        &basic,
        "ok",
        Some(&pt),
        Some(1),
    );
    open(
        "with_context",
        "context binds the value to one field",
        &single,
        owner,
        &ctx,
        &with_ctx,
        "ok",
        Some(&pt),
        Some(2),
    );
    open(
        "empty_plaintext",
        "an empty secret is valid",
        &single,
        owner,
        b"",
        &empty,
        "ok",
        Some(b""),
        Some(3),
    );
    open(
        "one_byte_plaintext",
        "34-byte binary: base64 ends in 2 characters",
        &single,
        owner,
        b"",
        &one_byte,
        "ok",
        Some(b"x"),
        Some(10),
    );
    open(
        "unicode_owner",
        "owner is UTF-8; its byte length goes into the AAD",
        &single,
        uni_owner,
        &ctx,
        &unicode,
        "ok",
        Some(&pt),
        Some(4),
    );
    open(
        "owner_1024_bytes",
        "the longest owner",
        &single,
        &owner_1024,
        b"",
        &long_owner,
        "ok",
        Some(&pt),
        Some(5),
    );
    open(
        "long_context",
        "4096-byte context",
        &single,
        owner,
        &long_ctx,
        &long_context,
        "ok",
        Some(&pt),
        Some(6),
    );
    open(
        "binary_plaintext_and_context",
        "every byte value; context with NUL and 0xff",
        &single,
        owner,
        &[0x00, 0xff, 0x00],
        &binary,
        "ok",
        Some(&all_bytes),
        Some(7),
    );
    open(
        "rotated_kid2_primary",
        "sealed by the kid-2 primary of a rotated keyring",
        &rotated,
        owner,
        &ctx,
        &kid2,
        "ok",
        Some(&pt),
        Some(8),
    );
    open(
        "rotated_kid1_decrypt_only",
        "a kid-1 envelope still opens after rotation",
        &rotated,
        owner,
        &ctx,
        &with_ctx,
        "ok",
        Some(&pt),
        None,
    );
    open(
        "kid7",
        "kids need not start at 1",
        &kr_kid7(),
        owner,
        b"",
        &kid7,
        "ok",
        Some(&pt),
        Some(9),
    );

    // Authentication failures: one error by design.
    open(
        "wrong_owner",
        "another tenant's owner",
        &single,
        "tenant-0002",
        &ctx,
        &with_ctx,
        "DecryptFailed",
        None,
        None,
    );
    open(
        "owner_case_differs",
        "owners are compared as bytes",
        &single,
        "Tenant-0001",
        &ctx,
        &with_ctx,
        "DecryptFailed",
        None,
        None,
    );
    open(
        "owner_prefix",
        "an owner that is a prefix of the real one",
        &single,
        "tenant-000",
        &ctx,
        &with_ctx,
        "DecryptFailed",
        None,
        None,
    );
    open(
        "wrong_context",
        "a value swapped between fields of one owner",
        &single,
        owner,
        b"anthropic_key",
        &with_ctx,
        "DecryptFailed",
        None,
        None,
    );
    open(
        "context_missing",
        "sealed with a context, opened without",
        &single,
        owner,
        b"",
        &with_ctx,
        "DecryptFailed",
        None,
        None,
    );
    open(
        "context_added",
        "sealed without a context, opened with one",
        &single,
        owner,
        &ctx,
        &basic,
        "DecryptFailed",
        None,
        None,
    );
    open(
        "owner_context_boundary",
        "AAD length-prefixes the owner: moving bytes between owner and context fails",
        &single,
        "tenant-0001open",
        b"router_key",
        &with_ctx,
        "DecryptFailed",
        None,
        None,
    );
    open(
        "wrong_key",
        "same kid, different root secret",
        &kr_other(),
        owner,
        b"",
        &basic,
        "DecryptFailed",
        None,
        None,
    );
    open(
        "flip_nonce_bit",
        "bit 0 of nonce byte 0 (offset 5)",
        &single,
        owner,
        b"",
        &flip(&basic, 5, 0),
        "DecryptFailed",
        None,
        None,
    );
    open(
        "flip_nonce_last_bit",
        "bit 7 of the last nonce byte (offset 16)",
        &single,
        owner,
        b"",
        &flip(&basic, 16, 7),
        "DecryptFailed",
        None,
        None,
    );
    open(
        "flip_ciphertext_bit",
        "bit 3 of ciphertext byte 0 (offset 17)",
        &single,
        owner,
        b"",
        &flip(&basic, 17, 3),
        "DecryptFailed",
        None,
        None,
    );
    let last = to_bin(&basic).len() - 1;
    open(
        "flip_tag_bit",
        "bit 7 of the last tag byte",
        &single,
        owner,
        b"",
        &flip(&basic, last, 7),
        "DecryptFailed",
        None,
        None,
    );
    open(
        "flip_tag_first_bit",
        "bit 0 of the first tag byte",
        &single,
        owner,
        b"",
        &flip(&basic, last - 15, 0),
        "DecryptFailed",
        None,
        None,
    );
    let mut b = to_bin(&basic);
    b.pop();
    open(
        "truncated_one_byte",
        "one byte short: the tag no longer lines up",
        &single,
        owner,
        b"",
        &to_env(&b),
        "DecryptFailed",
        None,
        None,
    );
    let mut b = to_bin(&basic);
    b.push(0);
    open(
        "extended_one_byte",
        "one byte appended",
        &single,
        owner,
        b"",
        &to_env(&b),
        "DecryptFailed",
        None,
        None,
    );
    let b = to_bin(&basic);
    open(
        "truncated_below_minimum",
        "32 bytes: shorter than header + tag",
        &single,
        owner,
        b"",
        &to_env(&b[..32]),
        "Malformed",
        None,
        None,
    );
    open(
        "truncated_to_header",
        "17 bytes: header only",
        &single,
        owner,
        b"",
        &to_env(&b[..17]),
        "Malformed",
        None,
        None,
    );
    open(
        "empty_plaintext_tag_stripped",
        "empty-plaintext envelope without its tag",
        &single,
        owner,
        b"",
        &to_env(&to_bin(&empty)[..17]),
        "Malformed",
        None,
        None,
    );

    // Header: version and kid.
    open(
        "flip_version_bit",
        "version 0x01 -> 0x03: not a version we read",
        &single,
        owner,
        b"",
        &flip(&basic, 0, 1),
        "Malformed",
        None,
        None,
    );
    let mut b = to_bin(&basic);
    b[0] = 2;
    open(
        "version_2",
        "a future version is not guessed at",
        &single,
        owner,
        b"",
        &to_env(&b),
        "Malformed",
        None,
        None,
    );
    let mut b = to_bin(&basic);
    b[0] = 0;
    open(
        "version_0",
        "version byte zero",
        &single,
        owner,
        b"",
        &to_env(&b),
        "Malformed",
        None,
        None,
    );
    open(
        "flip_kid_bit",
        "kid 1 -> 3: the keyring has no kid 3",
        &single,
        owner,
        b"",
        &flip(&basic, 4, 1),
        "UnknownKey",
        None,
        None,
    );
    open(
        "flip_kid_high_bit",
        "kid 1 -> 0x80000001",
        &single,
        owner,
        b"",
        &flip(&basic, 1, 7),
        "UnknownKey",
        None,
        None,
    );
    let mut b = to_bin(&basic);
    b[4] = 0;
    open(
        "kid_zero",
        "kid 0 is never valid",
        &single,
        owner,
        b"",
        &to_env(&b),
        "Malformed",
        None,
        None,
    );
    open(
        "unknown_kid",
        "sealed under kid 7, keyring holds kid 1 only",
        &single,
        owner,
        b"",
        &kid7,
        "UnknownKey",
        None,
        None,
    );
    open(
        "retired_kid",
        "kid 1 retired after rotation",
        &kr_retired(),
        owner,
        &ctx,
        &with_ctx,
        "KeyRetired",
        None,
        None,
    );
    open(
        "removed_kid",
        "kid 1 removed after rotation",
        &kr_removed(),
        owner,
        &ctx,
        &with_ctx,
        "UnknownKey",
        None,
        None,
    );
    open(
        "kid2_under_old_keyring",
        "a kid-2 envelope under a keyring that never got kid 2",
        &single,
        owner,
        &ctx,
        &kid2,
        "UnknownKey",
        None,
        None,
    );

    // Text form.
    let body = basic.strip_prefix("kc1.").unwrap();
    open(
        "prefix_kc2",
        "a different version prefix",
        &single,
        owner,
        b"",
        &format!("kc2.{body}"),
        "Malformed",
        None,
        None,
    );
    open(
        "prefix_uppercase",
        "prefix is case-sensitive",
        &single,
        owner,
        b"",
        &format!("KC1.{body}"),
        "Malformed",
        None,
        None,
    );
    open(
        "prefix_missing",
        "bare base64url",
        &single,
        owner,
        b"",
        body,
        "Malformed",
        None,
        None,
    );
    open(
        "leading_space",
        "no whitespace is trimmed",
        &single,
        owner,
        b"",
        &format!(" {basic}"),
        "Malformed",
        None,
        None,
    );
    open(
        "trailing_newline",
        "no whitespace is trimmed",
        &single,
        owner,
        b"",
        &format!("{basic}\n"),
        "Malformed",
        None,
        None,
    );
    open(
        "bad_base64",
        "characters outside base64url",
        &single,
        owner,
        b"",
        "kc1.!!!!not*base64",
        "Malformed",
        None,
        None,
    );
    let one = one_byte.strip_prefix("kc1.").unwrap();
    open(
        "base64_padding",
        "padding is not accepted",
        &single,
        owner,
        b"",
        &format!("kc1.{one}=="),
        "Malformed",
        None,
        None,
    );
    // Non-canonical: set the unused low bits of the final character.
    let mut chars: Vec<char> = one.chars().collect();
    let lastc = chars.pop().unwrap();
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        .chars()
        .collect();
    let idx = alphabet.iter().position(|c| *c == lastc).unwrap();
    chars.push(alphabet[idx | 0x0f]);
    let noncanon: String = chars.into_iter().collect();
    open(
        "base64_noncanonical_trailing_bits",
        "unused trailing bits set: only canonical base64url is accepted",
        &single,
        owner,
        b"",
        &format!("kc1.{noncanon}"),
        "Malformed",
        None,
        None,
    );
    let std_alpha = format!(
        "kc1.{}",
        STANDARD.encode(to_bin(&basic)).trim_end_matches('=')
    );
    if std_alpha != basic {
        open(
            "base64_standard_alphabet",
            "'+' and '/' instead of '-' and '_'",
            &single,
            owner,
            b"",
            &std_alpha,
            "Malformed",
            None,
            None,
        );
    }
    open(
        "empty_string",
        "",
        &single,
        owner,
        b"",
        "",
        "Malformed",
        None,
        None,
    );
    open(
        "prefix_only",
        "no binary at all",
        &single,
        owner,
        b"",
        "kc1.",
        "Malformed",
        None,
        None,
    );

    // Owner limits.
    open(
        "owner_1025_bytes",
        "one byte over the limit",
        &single,
        &"o".repeat(1025),
        b"",
        &long_owner,
        "InvalidOwner",
        None,
        None,
    );
    open(
        "owner_empty",
        "the owner is mandatory",
        &single,
        "",
        b"",
        &basic,
        "InvalidOwner",
        None,
        None,
    );

    // inspect
    let mut inspect = |name: &str, envelope: &str, expect: &str| {
        let got = keycustody::inspect(envelope);
        assert_eq!(kind(got), expect, "{name}");
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("op".into(), json!("inspect"));
        m.insert("envelope".into(), json!(envelope));
        m.insert("expect".into(), json!(expect));
        if let Ok(i) = got {
            m.insert("kid".into(), json!(i.kid));
            m.insert("plaintext_len".into(), json!(i.plaintext_len));
        }
        cases.push(Value::Object(m));
    };
    inspect("inspect_basic", &basic, "ok");
    inspect("inspect_empty_plaintext", &empty, "ok");
    inspect("inspect_kid2", &kid2, "ok");
    inspect("inspect_kid7", &kid7, "ok");
    inspect("inspect_binary_plaintext", &binary, "ok");
    inspect(
        "inspect_tampered_tag_reads_header",
        &flip(&basic, last, 7),
        "ok",
    );
    inspect("inspect_version_2", &flip(&basic, 0, 1), "Malformed");
    inspect(
        "inspect_kid_zero",
        &{
            let mut b = to_bin(&basic);
            b[4] = 0;
            to_env(&b)
        },
        "Malformed",
    );
    inspect(
        "inspect_truncated",
        &to_env(&to_bin(&basic)[..20]),
        "Malformed",
    );
    inspect("inspect_bad_prefix", &format!("kc2.{body}"), "Malformed");
    inspect("inspect_empty", "", "Malformed");

    // needs_rewrap
    let mut needs = |name: &str, keyring: &str, envelope: &str, expect: &str| {
        let got = Keyring::parse(keyring).unwrap().needs_rewrap(envelope);
        assert_eq!(kind(got), expect, "{name}");
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("op".into(), json!("needs_rewrap"));
        m.insert("keyring".into(), json!(keyring));
        m.insert("envelope".into(), json!(envelope));
        m.insert("expect".into(), json!(expect));
        if let Ok(r) = got {
            m.insert("result".into(), json!(r));
        }
        cases.push(Value::Object(m));
    };
    needs(
        "needs_rewrap_kid1_after_rotation",
        &rotated,
        &with_ctx,
        "ok",
    );
    needs("needs_rewrap_kid2_current", &rotated, &kid2, "ok");
    needs("needs_rewrap_single_current", &single, &basic, "ok");
    needs("needs_rewrap_unknown_kid_header_only", &single, &kid7, "ok");
    needs("needs_rewrap_malformed", &rotated, "kc1.AAAA", "Malformed");
    needs(
        "needs_rewrap_bad_prefix",
        &rotated,
        &format!("kc2.{body}"),
        "Malformed",
    );

    // rewrap
    let mut rewrap = |name: &str,
                      keyring: &str,
                      own: &str,
                      c: &[u8],
                      envelope: &str,
                      expect: &str,
                      plaintext: Option<&[u8]>| {
        let kr = Keyring::parse(keyring).unwrap();
        let got = kr.rewrap(own, envelope, c);
        assert_eq!(kind(got.as_ref()), expect, "{name}");
        if let Ok(out) = &got {
            assert_eq!(
                kr.open(own, out, c).unwrap().expose_secret(),
                plaintext.unwrap()
            );
            assert_eq!(keycustody::inspect(out).unwrap().kid, kr.primary_kid());
        }
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("op".into(), json!("rewrap"));
        m.insert("keyring".into(), json!(keyring));
        m.insert("owner".into(), json!(own));
        m.insert("context_hex".into(), json!(hex::encode(c)));
        m.insert("envelope".into(), json!(envelope));
        m.insert("expect".into(), json!(expect));
        if let Some(p) = plaintext {
            m.insert("plaintext_hex".into(), json!(hex::encode(p)));
            m.insert("primary_kid".into(), json!(kr.primary_kid()));
        }
        cases.push(Value::Object(m));
    };
    rewrap(
        "rewrap_kid1_to_kid2",
        &rotated,
        owner,
        &ctx,
        &with_ctx,
        "ok",
        Some(&pt),
    );
    rewrap(
        "rewrap_already_current",
        &rotated,
        owner,
        &ctx,
        &kid2,
        "ok",
        Some(&pt),
    );
    rewrap(
        "rewrap_empty_plaintext",
        &rotated,
        owner,
        b"",
        &empty,
        "ok",
        Some(b""),
    );
    rewrap(
        "rewrap_wrong_owner",
        &rotated,
        "tenant-0002",
        &ctx,
        &with_ctx,
        "DecryptFailed",
        None,
    );
    rewrap(
        "rewrap_wrong_context",
        &rotated,
        owner,
        b"",
        &with_ctx,
        "DecryptFailed",
        None,
    );
    rewrap(
        "rewrap_current_but_wrong_owner",
        &rotated,
        "tenant-0002",
        &ctx,
        &kid2,
        "DecryptFailed",
        None,
    );
    rewrap(
        "rewrap_retired",
        &kr_retired(),
        owner,
        &ctx,
        &with_ctx,
        "KeyRetired",
        None,
    );
    rewrap(
        "rewrap_unknown_kid",
        &kr_removed(),
        owner,
        &ctx,
        &with_ctx,
        "UnknownKey",
        None,
    );
    rewrap(
        "rewrap_tampered",
        &rotated,
        owner,
        b"",
        &flip(&basic, 17, 0),
        "DecryptFailed",
        None,
    );
    rewrap(
        "rewrap_malformed",
        &rotated,
        owner,
        b"",
        "kc1.",
        "Malformed",
        None,
    );
    rewrap(
        "rewrap_owner_1025",
        &rotated,
        &"o".repeat(1025),
        b"",
        &basic,
        "InvalidOwner",
        None,
    );

    file(
        "kc1 envelopes (docs/kc1.md). Root secrets: A = 00..1f, B = 40..5f, C = a0..bf. \
         op open: Keyring.parse(keyring).open(owner, envelope, context) -> plaintext_hex or the error kind; \
         nonce_hex (when present): re-sealing with that nonce must give envelope byte for byte. \
         op inspect: header only. op needs_rewrap: header kid != primary. \
         op rewrap: the result opens to plaintext_hex and its kid is primary_kid.",
        cases,
    )
}

// ---------------------------------------------------------------------------
// keyring_v1.json

fn parse_case(name: &str, comment: &str, text: &str, expect: &str) -> Value {
    let got = Keyring::parse(text);
    assert_eq!(kind(got.as_ref()), expect, "{name}");
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("op".into(), json!("parse"));
    m.insert("comment".into(), json!(comment));
    m.insert("text".into(), json!(text));
    m.insert("expect".into(), json!(expect));
    if let Ok(kr) = got {
        m.insert("primary".into(), json!(kr.primary_kid()));
        let keys: Vec<Value> = kr
            .kids()
            .iter()
            .map(|k| json!({"kid": k.kid, "state": k.state.as_str()}))
            .collect();
        m.insert("keys".into(), json!(keys));
    }
    Value::Object(m)
}

fn derive_case(
    name: &str,
    keyring: &str,
    purpose: &str,
    owner: &str,
    length: usize,
    expect: &str,
) -> Value {
    let got = Keyring::parse(keyring)
        .unwrap()
        .derive_key(purpose, owner, length);
    assert_eq!(kind(got.as_ref()), expect, "{name}");
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("op".into(), json!("derive_key"));
    m.insert("keyring".into(), json!(keyring));
    m.insert("purpose".into(), json!(purpose));
    m.insert("owner".into(), json!(owner));
    m.insert("length".into(), json!(length));
    m.insert("expect".into(), json!(expect));
    if let Ok(k) = got {
        m.insert("key_hex".into(), json!(hex::encode(k.expose_secret())));
    }
    Value::Object(m)
}

fn from_secret_case(
    name: &str,
    comment: &str,
    secret: &[u8],
    kid: u32,
    expect: &str,
    n: u8,
) -> Value {
    let got = Keyring::from_secret(secret, kid);
    assert_eq!(kind(got.as_ref()), expect, "{name}");
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("op".into(), json!("from_secret"));
    m.insert("comment".into(), json!(comment));
    m.insert("secret_hex".into(), json!(hex::encode(secret)));
    m.insert("kid".into(), json!(kid));
    m.insert("expect".into(), json!(expect));
    if let Ok(kr) = got {
        let owner = "legacy-tenant";
        let ctx = b"telegram_bot_token";
        let pt = b"123456789:AAHfakeTelegramBotTokenForVectors";
        let env = dangerous_seal_with_nonce(&kr, owner, pt, ctx, &nonce(n)).unwrap();
        assert_eq!(keycustody::inspect(&env).unwrap().kid, kid);
        m.insert("owner".into(), json!(owner));
        m.insert("context_hex".into(), json!(hex::encode(ctx)));
        m.insert("envelope".into(), json!(env));
        m.insert("nonce_hex".into(), json!(hex::encode(nonce(n))));
        m.insert("plaintext_hex".into(), json!(hex::encode(pt)));
    }
    Value::Object(m)
}

#[allow(clippy::too_many_lines)]
fn keyring_file() -> Value {
    let a = b64(&root_a());
    let b = b64(&root_b());
    let padded = STANDARD
        .encode(root_a())
        .replace('+', "-")
        .replace('/', "_");
    assert!(padded.ends_with('='));
    let urlchars: Vec<u8> = vec![0xfb; 32];
    let url_b64 = b64(&urlchars);
    assert!(url_b64.contains('-') && url_b64.contains('_'));
    let std_b64 = STANDARD.encode(&urlchars);
    let short = b64(&[7u8; 31]);
    let long64 = b64(&[9u8; 64]);
    let k1 = |state: &str, s: &str| format!(r#"{{"kid":1,"state":"{state}","secret":"{s}"}}"#);
    let ring = |primary: u32, keys: &[String]| {
        format!(
            r#"{{"version":1,"primary":{primary},"keys":[{}]}}"#,
            keys.join(",")
        )
    };
    let key = |kid: u32, state: &str, s: &str| {
        format!(r#"{{"kid":{kid},"state":"{state}","secret":"{s}"}}"#)
    };

    let mut cases = vec![
        parse_case("single_active", "", &kr_single(), "ok"),
        parse_case(
            "rotated",
            "kid 1 decrypt-only, kid 2 active",
            &kr_rotated(),
            "ok",
        ),
        parse_case(
            "retired_without_secret",
            "a retired key carries no secret",
            &kr_retired(),
            "ok",
        ),
        parse_case(
            "three_states",
            "",
            &ring(
                3,
                &[
                    key(1, "decrypt-only", &a),
                    r#"{"kid":2,"state":"retired"}"#.to_owned(),
                    key(3, "active", &b),
                ],
            ),
            "ok",
        ),
        parse_case(
            "keys_out_of_order",
            "keys may be listed in any order",
            &ring(1, &[key(5, "decrypt-only", &b), key(1, "active", &a)]),
            "ok",
        ),
        parse_case(
            "secret_padded_base64url",
            "padding is accepted in keyring secrets",
            &ring(1, &[k1("active", &padded)]),
            "ok",
        ),
        parse_case(
            "secret_unpadded_base64url",
            "",
            &ring(1, &[k1("active", &a)]),
            "ok",
        ),
        parse_case(
            "secret_urlsafe_chars",
            "'-' and '_' decode",
            &ring(1, &[k1("active", &url_b64)]),
            "ok",
        ),
        parse_case(
            "secret_64_bytes",
            "longer secrets are fine",
            &ring(1, &[k1("active", &long64)]),
            "ok",
        ),
        parse_case(
            "whitespace_between_tokens",
            "it is JSON",
            &format!(
                "{{ \"version\" : 1 ,\n \"primary\": 1, \"keys\": [ {} ] }}\n",
                k1("active", &a)
            ),
            "ok",
        ),
        parse_case(
            "kid_max_u32",
            "",
            &ring(4294967295, &[key(4294967295, "active", &a)]),
            "ok",
        ),
        // Negatives.
        parse_case("bad_json", "", "{\"version\":1,", "Malformed"),
        parse_case("empty_text", "", "", "Malformed"),
        parse_case("not_an_object", "", "[]", "Malformed"),
        parse_case(
            "version_2",
            "",
            &kr_single().replace("\"version\":1", "\"version\":2"),
            "Malformed",
        ),
        parse_case(
            "version_missing",
            "",
            &kr_single().replace("\"version\":1,", ""),
            "Malformed",
        ),
        parse_case(
            "primary_not_active",
            "primary names a decrypt-only key",
            &ring(1, &[key(1, "decrypt-only", &a), key(2, "active", &b)]),
            "Malformed",
        ),
        parse_case(
            "primary_missing_kid",
            "primary names no key",
            &ring(9, &[key(1, "active", &a)]),
            "Malformed",
        ),
        parse_case(
            "two_active",
            "exactly one key is active",
            &ring(2, &[key(1, "active", &a), key(2, "active", &b)]),
            "Malformed",
        ),
        parse_case(
            "no_active",
            "",
            &ring(1, &[key(1, "decrypt-only", &a)]),
            "Malformed",
        ),
        parse_case("no_keys", "", &ring(1, &[]), "Malformed"),
        parse_case(
            "kid_zero",
            "",
            &ring(0, &[key(0, "active", &a)]),
            "Malformed",
        ),
        parse_case(
            "kid_negative",
            "",
            &ring(
                1,
                &[
                    key(1, "active", &a),
                    key(2, "decrypt-only", &b).replace("\"kid\":2", "\"kid\":-2"),
                ],
            ),
            "Malformed",
        ),
        parse_case(
            "kid_over_u32",
            "",
            &ring(
                1,
                &[
                    key(1, "active", &a),
                    key(2, "decrypt-only", &b).replace("\"kid\":2", "\"kid\":4294967296"),
                ],
            ),
            "Malformed",
        ),
        parse_case(
            "kid_as_string",
            "",
            &ring(
                1,
                &[key(1, "active", &a).replace("\"kid\":1", "\"kid\":\"1\"")],
            ),
            "Malformed",
        ),
        parse_case(
            "duplicate_kid",
            "",
            &ring(1, &[key(1, "active", &a), key(1, "decrypt-only", &b)]),
            "Malformed",
        ),
        parse_case(
            "short_secret",
            "31 bytes",
            &ring(1, &[k1("active", &short)]),
            "Malformed",
        ),
        parse_case(
            "bad_base64_secret",
            "",
            &ring(1, &[k1("active", "not base64!")]),
            "Malformed",
        ),
        parse_case(
            "standard_base64_alphabet",
            "'+' and '/' are not base64url",
            &ring(1, &[k1("active", &std_b64)]),
            "Malformed",
        ),
        parse_case(
            "unknown_state",
            "",
            &ring(1, &[k1("active", &a), key(2, "disabled", &b)]),
            "Malformed",
        ),
        parse_case(
            "state_uppercase",
            "",
            &ring(1, &[k1("ACTIVE", &a)]),
            "Malformed",
        ),
        parse_case(
            "active_without_secret",
            "",
            &ring(1, &[r#"{"kid":1,"state":"active"}"#.to_owned()]),
            "Malformed",
        ),
        parse_case(
            "decrypt_only_without_secret",
            "",
            &ring(
                2,
                &[
                    r#"{"kid":1,"state":"decrypt-only"}"#.to_owned(),
                    key(2, "active", &b),
                ],
            ),
            "Malformed",
        ),
        parse_case(
            "unknown_field",
            "unknown fields are refused, not ignored",
            &kr_single().replace("\"version\":1", "\"version\":1,\"extra\":true"),
            "Malformed",
        ),
        parse_case(
            "unknown_key_field",
            "",
            &ring(
                1,
                &[k1("active", &a).replace("\"kid\":1", "\"kid\":1,\"note\":\"x\"")],
            ),
            "Malformed",
        ),
    ];

    let single = kr_single();
    let rotated = kr_rotated();
    cases.extend([
        derive_case(
            "derive_32",
            &single,
            "webhook-signing",
            "tenant-0001",
            32,
            "ok",
        ),
        derive_case(
            "derive_other_owner",
            &single,
            "webhook-signing",
            "tenant-0002",
            32,
            "ok",
        ),
        derive_case(
            "derive_other_purpose",
            &single,
            "session",
            "tenant-0001",
            32,
            "ok",
        ),
        derive_case(
            "derive_1",
            &single,
            "webhook-signing",
            "tenant-0001",
            1,
            "ok",
        ),
        derive_case(
            "derive_64_prefix_of_longer",
            &single,
            "webhook-signing",
            "tenant-0001",
            64,
            "ok",
        ),
        derive_case(
            "derive_8160_max",
            &single,
            "bulk",
            "tenant-0001",
            8160,
            "ok",
        ),
        derive_case(
            "derive_unicode",
            &single,
            "zwölf/☃",
            "Ünïcødé-租户-🔑",
            32,
            "ok",
        ),
        derive_case(
            "derive_uses_primary_kid2",
            &rotated,
            "webhook-signing",
            "tenant-0001",
            32,
            "ok",
        ),
        derive_case(
            "derive_length_0",
            &single,
            "webhook-signing",
            "tenant-0001",
            0,
            "InvalidArgument",
        ),
        derive_case(
            "derive_length_8161",
            &single,
            "webhook-signing",
            "tenant-0001",
            8161,
            "InvalidArgument",
        ),
        derive_case(
            "derive_empty_purpose",
            &single,
            "",
            "tenant-0001",
            32,
            "InvalidArgument",
        ),
        derive_case(
            "derive_empty_owner",
            &single,
            "webhook-signing",
            "",
            32,
            "InvalidOwner",
        ),
        derive_case(
            "derive_owner_1025",
            &single,
            "webhook-signing",
            &"o".repeat(1025),
            32,
            "InvalidOwner",
        ),
        // A NUL in the purpose would make ("p\0a", "b") and ("p", "a\0b") one HKDF info.
        derive_case(
            "derive_purpose_nul",
            &single,
            "p\0a",
            "b",
            32,
            "InvalidArgument",
        ),
        derive_case(
            "derive_owner_nul_is_not_a_purpose",
            &single,
            "p",
            "a\0b",
            32,
            "ok",
        ),
    ]);

    let text_secret = b"legacy-platform-secret-0123456789ABCDEF";
    cases.extend([
        from_secret_case("from_secret_32_bytes", "", &root_a(), 1, "ok", 20),
        from_secret_case(
            "from_secret_utf8_text",
            "a text secret is taken as its UTF-8 bytes, not decoded",
            text_secret,
            1,
            "ok",
            21,
        ),
        from_secret_case(
            "from_secret_hex_text_not_decoded",
            "64 hex characters are 64 bytes of key, not 32",
            b"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            1,
            "ok",
            22,
        ),
        from_secret_case("from_secret_kid_5", "", &root_b(), 5, "ok", 23),
        from_secret_case("from_secret_1024_bytes", "", &[0x5a; 1024], 1, "ok", 24),
        from_secret_case(
            "from_secret_31_bytes",
            "",
            &[1u8; 31],
            1,
            "InvalidArgument",
            0,
        ),
        from_secret_case("from_secret_empty", "", b"", 1, "InvalidArgument", 0),
        from_secret_case(
            "from_secret_1025_bytes",
            "",
            &[0x5a; 1025],
            1,
            "InvalidArgument",
            0,
        ),
        from_secret_case("from_secret_kid_0", "", &root_a(), 0, "InvalidArgument", 0),
    ]);

    file(
        "Keyring text form (DESIGN §2), derive_key and from_secret. Root secrets: A = 00..1f, B = 40..5f. \
         op parse: Keyring.parse(text) -> primary and keys (kid, state) in kid order, or the error kind. \
         op derive_key: HKDF-Expand(PRK_primary, \"keycustody/v1/custom/\" || purpose || 0x00 || owner, length). \
         op from_secret: Keyring.from_secret(secret bytes, kid); when ok the envelope opens under it to plaintext_hex.",
        cases,
    )
}

// ---------------------------------------------------------------------------
// api_keys_v1.json — the checksum and hash are computed here independently of the core.

/// CRC-32/IEEE (reflected, polynomial 0xEDB88320), bit by bit.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62_6(mut n: u32) -> String {
    let mut out = vec![b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = B62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).unwrap()
}

fn make_key(prefix: &str, random: &str) -> String {
    assert_eq!(random.len(), 30);
    let head = format!("{prefix}_{random}");
    format!("{head}{}", base62_6(crc32(head.as_bytes())))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[allow(clippy::too_many_lines)]
fn api_keys_file() -> Value {
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926, "CRC-32 check value");
    let k1 = make_key("obee", "Ab12Cd34Ef56Gh78Ij90KlMnOpQrSt");
    let k2 = make_key("kc", "000000000000000000000000000000");
    let k3 = make_key("a234567890abcdef", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    let k4 = make_key("live2", "9Zy8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg");
    let mut cases = Vec::new();
    let mut parse = |name: &str, comment: &str, key: &str, expect: &str| {
        let got = keycustody::parse_api_key(key);
        assert_eq!(kind(got.as_ref()), expect, "{name}");
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("op".into(), json!("parse"));
        m.insert("comment".into(), json!(comment));
        m.insert("key".into(), json!(key));
        m.insert("expect".into(), json!(expect));
        if let Ok(k) = got {
            let (prefix, body) = key.split_once('_').unwrap();
            let hint = format!("{prefix}_{}…{}", &body[..4], &body[32..]);
            assert_eq!(k.prefix(), prefix);
            assert_eq!(k.hint(), hint);
            assert_eq!(k.hash(), sha256_hex(key));
            m.insert("prefix".into(), json!(prefix));
            m.insert("hint".into(), json!(hint));
            m.insert("hash".into(), json!(sha256_hex(key)));
        }
        cases.push(Value::Object(m));
    };
    parse("valid_obee", "", &k1, "ok");
    parse("valid_two_char_prefix", "shortest prefix", &k2, "ok");
    parse("valid_sixteen_char_prefix", "longest prefix", &k3, "ok");
    parse("valid_prefix_with_digit", "", &k4, "ok");
    let body1 = k1.split_once('_').unwrap().1.to_owned();
    parse("empty", "", "", "Malformed");
    parse("no_underscore", "", &k1.replace('_', ""), "Malformed");
    parse(
        "prefix_uppercase",
        "",
        &format!("Obee_{body1}"),
        "Malformed",
    );
    parse(
        "prefix_starts_with_digit",
        "",
        &format!("1bee_{body1}"),
        "Malformed",
    );
    parse("prefix_one_char", "", &format!("o_{body1}"), "Malformed");
    parse(
        "prefix_seventeen_chars",
        "",
        &format!("a234567890abcdefg_{body1}"),
        "Malformed",
    );
    parse(
        "prefix_with_dash",
        "",
        &format!("ob-e_{body1}"),
        "Malformed",
    );
    parse("body_35_chars", "", &k1[..k1.len() - 1], "Malformed");
    parse("body_37_chars", "", &format!("{k1}0"), "Malformed");
    parse(
        "body_charset_dash",
        "",
        &format!("obee_{}-{}", &body1[..10], &body1[11..]),
        "Malformed",
    );
    parse(
        "body_charset_non_ascii",
        "",
        &format!("obee_{}é", &body1[..34]),
        "Malformed",
    );
    parse(
        "second_underscore",
        "",
        &format!("obee_{}_{}", &body1[..10], &body1[11..]),
        "Malformed",
    );
    let mut typo = k1.clone().into_bytes();
    typo[7] = if typo[7] == b'x' { b'y' } else { b'x' };
    parse(
        "checksum_typo_in_random",
        "one changed character",
        std::str::from_utf8(&typo).unwrap(),
        "Malformed",
    );
    let mut swapped = k1.clone().into_bytes();
    swapped.swap(6, 7);
    parse(
        "checksum_transposition",
        "two adjacent characters swapped",
        std::str::from_utf8(&swapped).unwrap(),
        "Malformed",
    );
    let mut bad_sum = k1.clone().into_bytes();
    let l = bad_sum.len() - 1;
    bad_sum[l] = if bad_sum[l] == b'0' { b'1' } else { b'0' };
    parse(
        "checksum_last_char",
        "",
        std::str::from_utf8(&bad_sum).unwrap(),
        "Malformed",
    );
    parse(
        "checksum_of_other_prefix",
        "the prefix is covered by the checksum",
        &format!("obex_{body1}"),
        "Malformed",
    );

    let mut hash = |name: &str, key: &str, expect: &str| {
        let got = keycustody::hash_api_key(key);
        assert_eq!(kind(got.as_ref()), expect, "{name}");
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("op".into(), json!("hash"));
        m.insert("key".into(), json!(key));
        m.insert("expect".into(), json!(expect));
        if let Ok(h) = got {
            assert_eq!(h, sha256_hex(key));
            m.insert("hash".into(), json!(h));
        }
        cases.push(Value::Object(m));
    };
    hash("hash_obee", &k1, "ok");
    hash("hash_kc", &k2, "ok");
    hash("hash_malformed_key", &k1[..k1.len() - 1], "Malformed");

    let mut verify = |name: &str, key: &str, stored: &str, expect: &str| {
        let got = keycustody::verify_api_key(key, stored);
        assert_eq!(kind(got), expect, "{name}");
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("op".into(), json!("verify"));
        m.insert("key".into(), json!(key));
        m.insert("stored_hash".into(), json!(stored));
        m.insert("expect".into(), json!(expect));
        if let Ok(r) = got {
            // Only the one matching case verifies; every other presentation is false.
            assert_eq!(r, name == "verify_match", "{name}");
            m.insert("result".into(), json!(r));
        }
        cases.push(Value::Object(m));
    };
    let h1 = sha256_hex(&k1);
    verify("verify_match", &k1, &h1, "ok");
    verify("verify_other_key", &k2, &h1, "ok");
    verify(
        "verify_last_hash_char_differs",
        &k1,
        &format!("{}{}", &h1[..63], if h1.ends_with('0') { '1' } else { '0' }),
        "ok",
    );
    verify(
        "verify_hash_uppercase",
        &k1,
        &h1.to_uppercase(),
        "Malformed",
    );
    verify("verify_hash_63_chars", &k1, &h1[..63], "Malformed");
    verify("verify_hash_65_chars", &k1, &format!("{h1}0"), "Malformed");
    verify(
        "verify_hash_not_hex",
        &k1,
        &format!("{}g", &h1[..63]),
        "Malformed",
    );
    verify("verify_hash_empty", &k1, "", "Malformed");
    // A presented key that does not parse does not verify: false, never an error
    // (issue 13 item 5; this case expected Malformed before).
    verify("verify_malformed_key", &k1[..k1.len() - 1], &h1, "ok");
    verify(
        "verify_key_checksum_typo",
        std::str::from_utf8(&typo).unwrap(),
        &h1,
        "ok",
    );
    verify("verify_key_empty", "", &h1, "ok");
    verify("verify_key_no_underscore", "obee", &h1, "ok");
    verify("verify_key_bad_prefix", &format!("OBEE_{body1}"), &h1, "ok");
    verify("verify_key_37_chars", &format!("{k1}0"), &h1, "ok");
    verify(
        "verify_key_non_base62",
        &format!("obee_{}-{}", &body1[..10], &body1[11..]),
        &h1,
        "ok",
    );
    verify(
        "verify_key_non_ascii",
        &format!("obee_{}é", &body1[..34]),
        &h1,
        "ok",
    );
    verify(
        "verify_hash_of_malformed_text",
        "not a key",
        &sha256_hex("not a key"),
        "ok",
    );
    verify(
        "verify_malformed_key_and_bad_hash",
        "obee",
        &h1.to_uppercase(),
        "Malformed",
    );

    file(
        "Daemon/API keys (DESIGN §5): <prefix>_<30 base62><6 base62 CRC-32/IEEE of \"<prefix>_<random>\">. \
         op parse: prefix, hint (prefix_ + first 4 + '…' + last 4 of the body), hash (lowercase SHA-256 hex of the key). \
         op hash: hash_api_key(key). op verify: verify_api_key(key, stored_hash) -> result.",
        cases,
    )
}
