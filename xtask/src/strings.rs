//! `tests/vectors/strings_v1.json`: JavaScript strings that are not well-formed UTF-16.
//!
//! A lone surrogate (`\ud800` alone, `\udfff` alone, or a reversed pair `\udc00\ud800`) at
//! the start, middle or end of an owner, context, plaintext, purpose or secret must be
//! refused with `Malformed` (kind Utf8) by every JS and Python binding: a lossy conversion
//! would turn it into U+FFFD, so `"tenant-\ud800"` would open what was sealed for
//! `"tenant-\ufffd"`. The `open` cases' envelopes are sealed for exactly that lossy
//! string, so a binding that converts lossily *succeeds* where it must fail. Controls with
//! a genuine U+FFFD and a real surrogate pair must succeed.
//!
//! Rust strings cannot hold a lone surrogate (and serde_json cannot read one), so the
//! generator writes the strings with ASCII markers and turns them into JSON `\uXXXX`
//! escapes in the serialized text. The Rust vector runner does not read this file.

use super::{file, kr_single, seal};
use keycustody::Keyring;
use serde_json::{json, Map, Value};

/// The lone-surrogate shapes: name, marker text (replaced by JSON escapes), and how many
/// U+FFFD a lossy UTF-8 conversion makes of it.
const LONE: [(&str, &str, usize); 3] = [
    ("high", "<LONE-D800>", 1),
    ("low", "<LONE-DFFF>", 1),
    ("reversed_pair", "<LONE-DC00><LONE-D800>", 2),
];

/// Each marker and the JSON escape it stands for.
const ESCAPES: [(&str, &str); 3] = [
    ("<LONE-D800>", "\\ud800"),
    ("<LONE-DFFF>", "\\udfff"),
    ("<LONE-DC00>", "\\udc00"),
];

/// Where the lone surrogate goes.
const PLACES: [&str; 3] = ["start", "middle", "end"];

const OWNER: &str = "tenant-42";
const CONTEXT: &str = "openrouter_key";
const PLAINTEXT: &str = "sk-or-v1-plaintext";
const PURPOSE: &str = "search-index";
const SECRET: &str = "platform-secret-0123456789abcdefghij";

/// `base` with `lone` inserted at `place`.
fn with_lone(base: &str, lone: &str, place: &str) -> String {
    match place {
        "start" => format!("{lone}{base}"),
        "middle" => {
            let (a, b) = base.split_at(base.len() / 2);
            format!("{a}{lone}{b}")
        }
        _ => format!("{base}{lone}"),
    }
}

/// What a lossy conversion makes of a marked string: every lone surrogate becomes U+FFFD.
fn lossy(s: &str) -> String {
    ESCAPES
        .iter()
        .fold(s.to_owned(), |acc, (m, _)| acc.replace(m, "\u{FFFD}"))
}

fn case(name: String, op: &str, comment: &str, fields: Vec<(&str, Value)>, expect: &str) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("op".into(), json!(op));
    m.insert("comment".into(), json!(comment));
    for (k, v) in fields {
        m.insert(k.into(), v);
    }
    m.insert("expect".into(), json!(expect));
    Value::Object(m)
}

/// The strings of one op with `field` replaced by `value` (the others as given).
struct Args {
    owner: String,
    context: String,
    plaintext: String,
    purpose: String,
    secret: String,
}

impl Args {
    fn plain() -> Args {
        Args {
            owner: OWNER.into(),
            context: CONTEXT.into(),
            plaintext: PLAINTEXT.into(),
            purpose: PURPOSE.into(),
            secret: SECRET.into(),
        }
    }

    fn with(field: &str, value: &str) -> Args {
        let mut a = Args::plain();
        match field {
            "owner" => a.owner = value.into(),
            "context" => a.context = value.into(),
            "plaintext" => a.plaintext = value.into(),
            "purpose" => a.purpose = value.into(),
            _ => a.secret = value.into(),
        }
        a
    }
}

fn seal_case(name: String, comment: &str, a: &Args, expect: &str) -> Value {
    case(
        name,
        "seal",
        comment,
        vec![
            ("keyring", json!(kr_single())),
            ("owner", json!(a.owner)),
            ("plaintext", json!(a.plaintext)),
            ("context", json!(a.context)),
        ],
        expect,
    )
}

/// An open of the envelope sealed for the lossy form of the strings (nonce `n`).
fn open_case(name: String, comment: &str, a: &Args, n: u8, expect: &str) -> Value {
    let envelope = seal(
        &kr_single(),
        &lossy(&a.owner),
        a.plaintext.as_bytes(),
        lossy(&a.context).as_bytes(),
        n,
    );
    case(
        name,
        "open",
        comment,
        vec![
            ("keyring", json!(kr_single())),
            ("owner", json!(a.owner)),
            ("context", json!(a.context)),
            ("envelope", json!(envelope)),
            ("plaintext", json!(a.plaintext)),
        ],
        expect,
    )
}

fn derive_case(name: String, comment: &str, a: &Args, expect: &str) -> Value {
    let mut fields = vec![
        ("keyring", json!(kr_single())),
        ("purpose", json!(a.purpose)),
        ("owner", json!(a.owner)),
        ("length", json!(32)),
    ];
    if expect == "ok" {
        let k = Keyring::parse(&kr_single())
            .unwrap()
            .derive_key(&a.purpose, &a.owner, 32)
            .unwrap();
        fields.push(("key_hex", json!(hex::encode(k.expose_secret()))));
    }
    case(name, "derive_key", comment, fields, expect)
}

fn from_secret_case(name: String, comment: &str, a: &Args, n: u8, expect: &str) -> Value {
    // Sealed under the lossy secret: a lossy binding would accept the secret and open it.
    let kr = Keyring::from_secret(lossy(&a.secret).as_bytes(), 1).unwrap();
    let envelope = keycustody::internal::dangerous_seal_with_nonce(
        &kr,
        OWNER,
        PLAINTEXT.as_bytes(),
        CONTEXT.as_bytes(),
        &super::nonce(n),
    )
    .unwrap();
    case(
        name,
        "from_secret",
        comment,
        vec![
            ("secret", json!(a.secret)),
            ("kid", json!(1)),
            ("owner", json!(OWNER)),
            ("context", json!(CONTEXT)),
            ("envelope", json!(envelope)),
            ("plaintext", json!(PLAINTEXT)),
        ],
        expect,
    )
}

fn strings_file() -> Value {
    let mut cases = Vec::new();
    let mut n: u8 = 100;
    let positions: [(&str, &str, &str); 8] = [
        ("seal", "owner", OWNER),
        ("seal", "context", CONTEXT),
        ("seal", "plaintext", PLAINTEXT),
        ("open", "owner", OWNER),
        ("open", "context", CONTEXT),
        ("derive_key", "purpose", PURPOSE),
        ("derive_key", "owner", OWNER),
        ("from_secret", "secret", SECRET),
    ];
    for (op, field, base) in positions {
        for (shape, lone, _) in LONE {
            for place in PLACES {
                let name = format!("{op}_{field}_{shape}_{place}");
                let comment = format!("a lone surrogate ({shape}) at the {place} of the {field}");
                let a = Args::with(field, &with_lone(base, lone, place));
                n = n.wrapping_add(1);
                cases.push(match op {
                    "seal" => seal_case(name, &comment, &a, "Malformed"),
                    "open" => open_case(name, &comment, &a, n, "Malformed"),
                    "derive_key" => derive_case(name, &comment, &a, "Malformed"),
                    _ => from_secret_case(name, &comment, &a, n, "Malformed"),
                });
            }
        }
    }
    // Controls: a genuine U+FFFD and a real surrogate pair are well-formed and must work.
    let fffd = "tenant-\u{FFFD}42";
    let pair = "tenant-\u{1F600}42";
    let ok = "well-formed: must succeed";
    cases.push(seal_case(
        "seal_owner_fffd".into(),
        ok,
        &Args::with("owner", fffd),
        "ok",
    ));
    cases.push(seal_case(
        "seal_owner_surrogate_pair".into(),
        ok,
        &Args::with("owner", pair),
        "ok",
    ));
    cases.push(seal_case(
        "seal_context_fffd".into(),
        ok,
        &Args::with("context", "openrouter\u{FFFD}key"),
        "ok",
    ));
    cases.push(seal_case(
        "seal_plaintext_fffd".into(),
        ok,
        &Args::with("plaintext", "sk-\u{FFFD}-\u{1F600}"),
        "ok",
    ));
    cases.push(open_case(
        "open_owner_fffd".into(),
        ok,
        &Args::with("owner", fffd),
        240,
        "ok",
    ));
    cases.push(open_case(
        "open_context_surrogate_pair".into(),
        ok,
        &Args::with("context", "ctx-\u{1F600}"),
        241,
        "ok",
    ));
    cases.push(derive_case(
        "derive_key_purpose_fffd".into(),
        ok,
        &Args::with("purpose", "search\u{FFFD}index"),
        "ok",
    ));
    cases.push(derive_case(
        "derive_key_owner_surrogate_pair".into(),
        ok,
        &Args::with("owner", pair),
        "ok",
    ));
    cases.push(from_secret_case(
        "from_secret_fffd".into(),
        ok,
        &Args::with("secret", "platform-secret-\u{FFFD}-0123456789abcdefghij"),
        242,
        "ok",
    ));
    file(
        "JavaScript strings that are not well-formed UTF-16 (lone surrogates, written as JSON \\uXXXX escapes): every string argument refuses them with Malformed (kind Utf8); controls with U+FFFD and surrogate pairs succeed. Rust cannot hold these strings: JS and Python runners only.",
        cases,
    )
}

/// The file's text: serde_json for the structure, the markers then turned into escapes.
pub(crate) fn strings_text() -> String {
    let mut s = super::to_text(&strings_file());
    for (marker, escape) in ESCAPES {
        s = s.replace(marker, escape);
    }
    assert!(
        !s.contains("<LONE-"),
        "a marker was left in strings_v1.json"
    );
    s
}
